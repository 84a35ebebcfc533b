//! [`BroadcastOptions`]: which sockets an operation reaches, and how.

use std::time::Duration;

use super::Room;

/// Which sockets of a namespace a broadcast or a cluster operation reaches, on every node.
///
/// A socket is in the room named by its own id, so `except: vec![sid]` leaves one socket out
/// (that is how `socket.broadcast()` leaves out its sender, as in Socket.IO).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BroadcastOptions {
    /// Sockets in any of these rooms; every socket of the namespace when empty. A socket in
    /// several of them is reached once.
    pub rooms: Vec<Room>,
    /// Minus sockets in any of these rooms.
    pub except: Vec<Room>,
    /// How the operation runs.
    pub flags: BroadcastFlags,
}

/// The flags of a broadcast (Socket.IO's `volatile`, `local`, `timeout`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BroadcastFlags {
    /// A recipient that is not keeping up misses the packet instead of being disconnected.
    pub volatile: bool,
    /// This node only: nothing is sent to the other nodes.
    pub local: bool,
    /// How long answers are awaited (acknowledgements, and the other nodes' replies); the
    /// server's default when `None`.
    pub timeout: Option<Duration>,
}

impl BroadcastOptions {
    /// Options reaching the sockets in `rooms`.
    pub fn to(rooms: impl IntoIterator<Item = impl Into<Room>>) -> BroadcastOptions {
        BroadcastOptions {
            rooms: rooms.into_iter().map(Into::into).collect(),
            ..BroadcastOptions::default()
        }
    }
}
