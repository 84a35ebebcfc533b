//! tether-core: the protocol core of tether, with no HTTP framework inside.
//!
//! - [`engine`]: Engine.IO v4 (packets, payloads, the sans-IO session, the transports' drivers).
//! - [`socket`]: Socket.IO v5 (packets, namespaces, sockets, handlers, acks, broadcast).
//! - [`adapter`]: rooms and broadcast targeting ([`adapter::LocalAdapter`]; Redis later).
//!
//! Most users depend on `tether-axum`, which mounts this core on an axum app and re-exports it.

pub mod adapter;
pub mod engine;
mod lazy;
pub mod socket;
