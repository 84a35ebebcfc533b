//! tether-redis: tether nodes sharing rooms and broadcasts through Redis, speaking the wire of
//! Node's `@socket.io/redis-adapter` 8.3.0 (classic mode) so Node and tether nodes can share
//! one fleet, and reading what `@socket.io/redis-emitter` 5.1.0 publishes.
//!
//! Built so far: the wire codec, tested byte for byte against what Node's encoder writes.
//! - [`notepack`]: JSON arguments and binary attachments to and from msgpack values the way
//!   notepack.io 3.0.1 writes and reads them (text as str, bytes as bin, Dates as ISO strings);
//! - [`broadcast`]: the broadcast message `[uid, packet, opts]` of the classic channels;
//! - [`requests`]: the requests (types 0-7) and responses (types 8 and 9, and the answers to
//!   fetch, all rooms and server-side emits), JSON or msgpack as Node sends each;
//! - [`channels`]: the channel names per namespace and prefix.
//!
//! The adapter over Redis pub/sub comes next (see the crate's README section in the workspace
//! README once it lands).
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

pub mod broadcast;
pub mod channels;
pub mod notepack;
pub mod requests;
