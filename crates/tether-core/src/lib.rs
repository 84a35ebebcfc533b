//! tether-core: the protocol core of tether, with no HTTP framework inside.
//!
//! - [`engine`]: Engine.IO v4 (packets, payloads, the sans-IO session, the transports' drivers).
//! - [`protocol`]: Socket.IO v5 on the wire (the packet codec, payloads).
//! - [`adapter`]: rooms, and the way to the other nodes of a cluster ([`adapter::LocalAdapter`]
//!   for one node; `tether-redis` for many).
//! - [`socket`]: Socket.IO v5 (namespaces, sockets, handlers, acks, broadcast, cluster
//!   operations).
//!
//! The modules import in that order: a module never names one listed after it.
//!
//! Most users depend on `tether-axum`, which mounts this core on an axum app and re-exports it.

pub mod adapter;
pub mod engine;
mod lazy;
pub mod metrics;
mod panic;
pub mod protocol;
pub mod socket;
