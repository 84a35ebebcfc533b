//! What a socket did, for an observer of the whole server (the Admin UI's live view): the
//! events and the trait. A part of [`super`]; the socket core calls the observer.
//!
//! Layer: a child of the socket core.

use super::{DisconnectReason, Payload, Room, Socket};

/// What a socket did, as an [`Observer`] sees it (the Admin UI's live view is one).
#[derive(Debug)]
#[non_exhaustive]
pub enum SocketEvent<'a> {
    /// It joined its namespace (in its own room only, so far).
    Connected(&'a Socket),
    /// It left, for this reason; its rooms are left after this, each reported.
    Disconnected(&'a Socket, DisconnectReason),
    /// It joined a room it was not in.
    Joined(&'a Socket, &'a Room),
    /// It left a room it was in.
    Left(&'a Socket, &'a Room),
    /// An event arrived from its client: the name and the arguments.
    Received(&'a Socket, &'a str, &'a Payload),
    /// An event was queued for its client.
    Sent(&'a Socket, &'a str, &'a Payload),
    /// Its connection moved onto WebSocket.
    Upgraded(&'a Socket),
    /// Its data changed ([`Socket::set_data`]).
    DataChanged(&'a Socket),
}

/// Sees what every socket of a server does ([`SocketIo::observe`](crate::socket::SocketIo::observe)).
/// It runs inline, on the path of what it observes (a broadcast reports each recipient): keep
/// it quick, never block, and hand anything slow to a task of its own.
pub trait Observer: Send + Sync + 'static {
    /// One event.
    fn observe(&self, event: SocketEvent<'_>);
}
