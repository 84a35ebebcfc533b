//! Sharded mode: the protocol of `@socket.io/redis-adapter`'s `createShardedAdapter`
//! (Redis 7's SPUBLISH / SSUBSCRIBE, on one Redis or a Redis Cluster). A protocol of its own:
//! a sharded fleet cannot share a namespace with classic nodes, and the emitter (which
//! PUBLISHes) does not reach it.
//!
//! - [`message`]: the messages, tested byte for byte against what Node's adapter publishes.
//!
//! ```
//! use tether_redis::sharded::{Message, decode, encode};
//!
//! let bytes = encode("4d19c4212807ee4b", "/", &Message::ClientCount {
//!     request_id: "d37d7f91183bcb42".into(),
//!     count: 1,
//! }).unwrap();
//! assert!(bytes.starts_with(br#"{"type":11,"#));
//! assert_eq!(decode(&bytes).unwrap().uid, "4d19c4212807ee4b");
//! ```

pub mod message;

pub use message::{Envelope, Message, decode, encode};
