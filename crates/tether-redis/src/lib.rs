//! tether-redis: tether nodes sharing rooms and broadcasts through Redis, speaking the wire of
//! Node's `@socket.io/redis-adapter` 8.3.0 (classic mode) so Node and tether nodes can share
//! one fleet, and reading what `@socket.io/redis-emitter` 5.1.0 publishes.
//!
//! Built so far (issue 11 goes on): the classic mode.
//! - [`RedisNode`]: a node's one RESP3 connection to Redis (reconnected and resubscribed by the
//!   `redis` crate), its dispatcher and its ordered publisher; [`RedisNode::adapter`] is the
//!   factory for `SocketIoBuilder::adapter`, [`RedisNode::ready`] waits for a namespace's
//!   subscriptions.
//! - [`RedisAdapter`]: every operation of the adapter trait on the classic channels; it passes
//!   the adapter kit's suite on three nodes through a real redis-server.
//! - [`notepack`], [`broadcast`], [`requests`], [`responses`], [`channels`]: the wire, tested byte for byte
//!   against what Node's encoder writes (arguments as notepack.io 3.0.1 writes them, the
//!   broadcast message, requests 0-7 and answers 8-9, the channel names).
//!
//! - When Redis fails ([`RedisNode::is_connected`], `health.rs`): emits to the other nodes
//!   fail at once with `AdapterError::Unavailable` while it is unreachable (this node's clients
//!   still get them), one warning says so, the `tether_redis_*` metrics count it, and the node
//!   heals by itself once Redis answers (resubscribed before it counts as back).
//!
//! Not yet: the mixed fleet in sharded mode, sharded mode itself.
//!
//! ```
//! use tether_core::adapter::{BroadcastOptions, EventPacket};
//! use tether_core::socket::Payload;
//! use tether_redis::broadcast::{decode, encode};
//!
//! let packet = EventPacket { event: "news".into(), payload: Payload::from_value(&1).unwrap() };
//! let bytes = encode("0AhEXa", "/", &packet, &BroadcastOptions::to(["room"])).unwrap();
//! let back = decode(&bytes).unwrap();
//! assert_eq!((back.uid.as_str(), &*back.nsp), ("0AhEXa", "/"));
//! assert_eq!(back.packet, packet);
//! assert_eq!(back.opts.rooms, ["room"]);
//! ```

mod adapter;
pub mod broadcast;
pub mod channels;
mod conn;
mod dispatch;
mod either;
mod health;
mod link;
mod node;
pub mod notepack;
mod pending;
pub mod requests;
pub mod responses;
pub mod sharded;

pub use either::RedisAdapter;
pub use link::{Mode, RedisConfig, SubscriptionMode};
pub use node::RedisNode;
