//! Sharded mode: the protocol of `@socket.io/redis-adapter`'s `createShardedAdapter`
//! (Redis 7's SPUBLISH / SSUBSCRIBE, on one Redis or a Redis Cluster). A protocol of its own:
//! a sharded fleet cannot share a namespace with classic nodes, and the emitter (which
//! PUBLISHes) does not reach it.
//!
//! - [`message`]: the messages, tested byte for byte against what Node's adapter publishes.
//! - `adapter.rs`, `dispatch.rs`: a namespace on Redis in this protocol, chosen with
//!   `RedisConfig { mode: Mode::Sharded(..), .. }`.
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

mod adapter;
mod dispatch;
pub mod message;

pub(crate) use adapter::ShardedAdapter;
pub use message::{Envelope, Message, decode, encode};

/// An id as socket.io-adapter's `randomId()` makes one: 8 random bytes in hex (node ids and
/// request ids alike).
pub(crate) fn random_id() -> String {
    let mut bytes = [0u8; 8];
    // The system's generator; should it fail, a socket id's randomness in hex serves.
    if getrandom::fill(&mut bytes).is_err() {
        bytes.copy_from_slice(&tether_core::engine::Sid::random().as_str().as_bytes()[..8]);
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
