//! tether-redis: tether nodes sharing rooms and broadcasts through Redis, speaking the wire of
//! Node's `@socket.io/redis-adapter` 8.3.0 so Node and tether nodes can share one fleet, and
//! reading what `@socket.io/redis-emitter` 5.1.0 publishes.
//!
//! - [`RedisNode`]: a node's one RESP3 connection to Redis ([`RedisNode::connect`]) or to a
//!   Redis Cluster ([`RedisNode::connect_cluster`]), reconnected and resubscribed by the
//!   `redis` crate, with its dispatcher and its ordered publisher; [`RedisNode::adapter`] is the
//!   factory for `SocketIoBuilder::adapter`, [`RedisNode::ready`] waits for a namespace's
//!   subscriptions.
//! - [`RedisAdapter`]: every operation of the adapter trait, in the protocol [`RedisConfig`]'s
//!   [`Mode`] names: classic (`createAdapter`: PUBLISH / PSUBSCRIBE, request and response
//!   channels) or sharded (`createShardedAdapter`: SPUBLISH / SSUBSCRIBE, in each
//!   [`SubscriptionMode`]). Both pass the adapter kit's suite through a real redis-server and a
//!   three-master Redis Cluster.
//! - [`notepack`], [`broadcast`], [`requests`], [`responses`], [`channels`], [`sharded`]: the
//!   wire, tested byte for byte against what Node's adapter writes.
//! - When Redis fails ([`RedisNode::is_connected`], `health.rs`): emits to the other nodes
//!   fail at once with `AdapterError::Unavailable` while it is unreachable (this node's clients
//!   still get them), one warning says so, the `tether_redis_*` metrics count it, and the node
//!   heals by itself once Redis answers (resubscribed before it counts as back).
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
pub mod msgpack;
mod node;
pub mod notepack;
mod pending;
mod recovery;
pub mod recovery_wire;
pub mod requests;
pub mod responses;
mod sessions;
pub mod sharded;

pub use either::RedisAdapter;
pub use link::{Mode, RedisConfig, SubscriptionMode};
pub use node::RedisNode;
