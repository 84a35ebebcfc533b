//! Where room membership lives and which sockets a broadcast reaches.
//!
//! [`LocalAdapter`] keeps rooms in this process. An adapter for many nodes (Redis) implements
//! the same [`Adapter`] trait, so user code does not change when an app scales out.
//!
//! ```
//! use tether_core::adapter::{Adapter, BroadcastOptions, LocalAdapter};
//! use tether_core::engine::Sid;
//! let adapter = LocalAdapter::default();
//! let (a, b) = (Sid::random(), Sid::random());
//! adapter.add(a, &["lobby".into()]);
//! adapter.add(b, &["lobby".into(), "vip".into()]);
//! let opts = BroadcastOptions { rooms: vec!["lobby".into()], except: vec!["vip".into()], ..Default::default() };
//! assert_eq!(adapter.targets(&opts), vec![a]);
//! ```

mod local;

pub use local::LocalAdapter;

use bytestring::ByteString;

use crate::engine::Sid;

/// A room name.
pub type Room = ByteString;

/// Which sockets of a namespace a broadcast reaches.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BroadcastOptions {
    /// Sockets in any of these rooms; every socket of the namespace when empty.
    pub rooms: Vec<Room>,
    /// Minus sockets in any of these rooms.
    pub except: Vec<Room>,
    /// Minus this socket (a broadcast from a socket excludes its sender).
    pub except_sid: Option<Sid>,
}

/// Room membership and broadcast targeting for one namespace.
pub trait Adapter: Send + Sync + 'static {
    /// Adds a socket to rooms (a socket is known to the adapter once it is in any room; every
    /// socket is in the room named by its own id).
    fn add(&self, sid: Sid, rooms: &[Room]);
    /// Removes a socket from rooms.
    fn remove(&self, sid: Sid, rooms: &[Room]);
    /// Removes a socket from every room (it left the namespace).
    fn remove_all(&self, sid: Sid);
    /// The rooms a socket is in.
    fn rooms_of(&self, sid: Sid) -> Vec<Room>;
    /// Every room with at least one socket.
    fn rooms(&self) -> Vec<Room>;
    /// The sockets a broadcast with these options reaches.
    fn targets(&self, opts: &BroadcastOptions) -> Vec<Sid>;
}
