//! [`RemoteSocket`]: a socket of the namespace on any node, as `fetch_sockets` returns it.
//!
//! Layer: above the namespace operations ([`super::ops`]); it names no operator.

use bytestring::ByteString;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::fmt;
use std::sync::Arc;

use super::emit::EmitError;
use super::ops;
use super::socket::Ns;
use crate::adapter::{
    AdapterError, BroadcastOptions, EventPacket, HandshakeData, Room, SocketData,
};
use crate::engine::Sid;
use crate::protocol::Payload;

/// A socket of the namespace, on this node or another (Socket.IO's `RemoteSocket`): what it
/// was when fetched (id, handshake, rooms, data), and the way to reach it wherever it is.
#[derive(Clone)]
pub struct RemoteSocket {
    ns: Arc<Ns>,
    data: SocketData,
}

impl fmt::Debug for RemoteSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RemoteSocket")
            .field("id", &self.data.id)
            .field("ns", &&*self.ns.path)
            .field("rooms", &self.data.rooms)
            .finish_non_exhaustive()
    }
}

impl RemoteSocket {
    pub(crate) fn new(ns: Arc<Ns>, data: SocketData) -> RemoteSocket {
        RemoteSocket { ns, data }
    }

    fn only_me(&self) -> BroadcastOptions {
        BroadcastOptions::to([ByteString::from(self.data.id.as_str())])
    }

    /// The socket id.
    pub fn id(&self) -> Sid {
        self.data.id
    }

    /// The namespace path.
    pub fn ns(&self) -> &str {
        &self.ns.path
    }

    /// The handshake of its connection, with its `auth`.
    pub fn handshake(&self) -> &HandshakeData {
        &self.data.handshake
    }

    /// Its rooms when it was fetched (its own id among them).
    pub fn rooms(&self) -> &[Room] {
        &self.data.rooms
    }

    /// Its data (see `Socket::set_data`) deserialized.
    pub fn data<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        T::deserialize(&self.data.data)
    }

    /// Its data as JSON.
    pub fn data_value(&self) -> &serde_json::Value {
        &self.data.data
    }

    /// Whether it is on this node.
    pub fn is_local(&self) -> bool {
        self.ns.socket(self.data.id).is_some()
    }

    /// Emits `event` to it, wherever it is.
    pub fn emit<T: Serialize + ?Sized>(&self, event: &str, data: &T) -> Result<(), EmitError> {
        self.emit_payload(event, Payload::from_value(data)?)
    }

    /// Emits `event` with any arguments to it, wherever it is.
    pub fn emit_payload(&self, event: &str, payload: Payload) -> Result<(), EmitError> {
        let packet = EventPacket {
            event: event.into(),
            payload,
        };
        ops::emit(&self.ns, &packet, &self.only_me())
    }

    /// Makes it join `rooms`, wherever it is.
    pub async fn join(
        &self,
        rooms: impl IntoIterator<Item = impl Into<Room>>,
    ) -> Result<(), AdapterError> {
        let rooms: Vec<Room> = rooms.into_iter().map(Into::into).collect();
        ops::sockets_join(&self.ns, &self.only_me(), &rooms).await
    }

    /// Makes it leave `rooms`, wherever it is.
    pub async fn leave(
        &self,
        rooms: impl IntoIterator<Item = impl Into<Room>>,
    ) -> Result<(), AdapterError> {
        let rooms: Vec<Room> = rooms.into_iter().map(Into::into).collect();
        ops::sockets_leave(&self.ns, &self.only_me(), &rooms).await
    }

    /// Disconnects it from the namespace (with `close`, closes its whole connection),
    /// wherever it is.
    pub async fn disconnect(&self, close: bool) -> Result<(), AdapterError> {
        ops::disconnect_sockets(&self.ns, &self.only_me(), close).await
    }
}
