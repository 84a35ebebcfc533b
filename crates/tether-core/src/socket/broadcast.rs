//! [`BroadcastOperator`]: chooses the sockets an operation reaches, on every node of the
//! cluster, then runs it: emit (encoded once), emit with acknowledgements, fetch, join, leave,
//! disconnect, server-side emit.
//!
//! Every local recipient's outbox gets a reference to the same encoded frames. A recipient
//! whose outbox is full (it is not reading) is handled by the slow-consumer policy: a
//! `volatile` broadcast skips it; any other closes its connection with the reason "slow
//! consumer", so a stalled client can neither grow server memory nor silently miss messages.
//!
//! Layer: the user-facing operator; it only picks options and calls [`super::ops`].

use bytestring::ByteString;
use serde::Serialize;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::ack_stream::AckStream;
use super::emit::EmitError;
use super::ops;
use super::remote::RemoteSocket;
use super::socket::{Ns, Socket};
use crate::adapter::{AdapterError, BroadcastOptions, EventPacket, Room};
use crate::protocol::{AckResponse, Payload};

/// Chooses the recipients of a broadcast, then emits. Cheap to clone.
///
/// ```
/// use std::time::Duration;
/// use tether_core::socket::{Socket, SocketIo};
///
/// let io = SocketIo::builder().build();
/// io.ns("/", |socket: Socket| async move {
///     // Everyone in "lobby" but this socket, on every node.
///     let _ = socket.to("lobby").emit("joined", &socket.id().to_string());
///     // Everyone in "lobby" on every node answers within a second.
///     let acks = socket.io().to("lobby").timeout(Duration::from_secs(1)).emit_with_ack("ping", &1);
///     if let Ok(acks) = acks {
///         for answer in acks.await {
///             let _ = answer; // Ok(AckResponse) per client, then Err(Timeout) if any was late
///         }
///     }
///     // Move every socket of "lobby" to "hall", wherever it is.
///     let _ = socket.io().to("lobby").sockets_join(["hall"]).await;
/// });
/// ```
#[derive(Clone)]
#[must_use = "nothing is sent until emit is called"]
pub struct BroadcastOperator {
    ns: Arc<Ns>,
    opts: BroadcastOptions,
}

impl fmt::Debug for BroadcastOperator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BroadcastOperator")
            .field("ns", &&*self.ns.path)
            .field("opts", &self.opts)
            .finish_non_exhaustive()
    }
}

impl BroadcastOperator {
    pub(crate) fn new(ns: Arc<Ns>) -> BroadcastOperator {
        BroadcastOperator {
            ns,
            opts: BroadcastOptions::default(),
        }
    }

    /// Adds a room to the recipients (sockets in any of the rooms named receive it, once).
    pub fn to(mut self, room: impl Into<Room>) -> Self {
        self.opts.rooms.push(room.into());
        self
    }

    /// Same as [`BroadcastOperator::to`] (Socket.IO's `in`).
    pub fn within(self, room: impl Into<Room>) -> Self {
        self.to(room)
    }

    /// Leaves out the sockets in `room` (a socket id is a room too).
    pub fn except(mut self, room: impl Into<Room>) -> Self {
        self.opts.except.push(room.into());
        self
    }

    /// Marks the broadcast droppable: a recipient that is not keeping up misses it instead of
    /// being disconnected.
    pub fn volatile(mut self) -> Self {
        self.opts.flags.volatile = true;
        self
    }

    /// This node only: the other nodes of the cluster are not told.
    pub fn local(mut self) -> Self {
        self.opts.flags.local = true;
        self
    }

    /// How long answers are awaited: clients' acknowledgements (default: the server's
    /// `ack_timeout`) and the other nodes' replies (default: the adapter's own timeout).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.opts.flags.timeout = Some(timeout);
        self
    }

    /// The options chosen so far.
    pub fn options(&self) -> &BroadcastOptions {
        &self.opts
    }

    /// Every room of the namespace that has a socket of this node in it.
    pub fn rooms(&self) -> Vec<Room> {
        self.ns.adapter.local_rooms()
    }

    /// Every room of the namespace on every node.
    pub async fn all_rooms(&self) -> Result<Vec<Room>, AdapterError> {
        if self.opts.flags.local {
            return Ok(self.rooms());
        }
        self.ns.adapter.all_rooms().await
    }

    /// The sockets of this node this broadcast reaches.
    pub fn sockets(&self) -> Vec<Socket> {
        ops::targets(&self.ns, &self.opts).collect()
    }

    /// Emits `event` with one argument to every recipient.
    pub fn emit<T: Serialize + ?Sized>(&self, event: &str, data: &T) -> Result<(), EmitError> {
        let packet = EventPacket {
            event: ByteString::from(event),
            payload: Payload::from_value(data)?,
        };
        ops::emit(&self.ns, &packet, &self.opts)
    }

    /// Emits `event` with any arguments to every recipient. Fails when the message can reach
    /// no one (it does not serialize, or it is larger than a connection's outbox:
    /// [`EmitError::TooLarge`], and nothing is sent), or when the other nodes could not be
    /// told ([`EmitError::Adapter`]; this node's recipients got it).
    pub fn emit_payload(&self, event: &str, payload: &Payload) -> Result<(), EmitError> {
        let packet = EventPacket {
            event: ByteString::from(event),
            payload: payload.clone(),
        };
        ops::emit(&self.ns, &packet, &self.opts)
    }

    /// Emits with an acknowledgement request to every recipient on every node. The answers
    /// stream in ([`AckStream`]): each client's, an error for each local socket the event
    /// could not be sent to (too many pending acks, dropped as volatile, disconnected), and
    /// `Err(AckError::Timeout)` last if some were still missing at the timeout. The emit
    /// happens now; the stream only gathers answers.
    pub fn emit_with_ack<T: Serialize + ?Sized>(
        &self,
        event: &str,
        data: &T,
    ) -> Result<AckStream, EmitError> {
        self.emit_payload_with_ack(event, &Payload::from_value(data)?)
    }

    /// [`BroadcastOperator::emit_with_ack`] with any arguments.
    pub fn emit_payload_with_ack(
        &self,
        event: &str,
        payload: &Payload,
    ) -> Result<AckStream, EmitError> {
        let packet = EventPacket {
            event: ByteString::from(event),
            payload: payload.clone(),
        };
        ops::emit_with_ack(&self.ns, &packet, &self.opts)
    }

    /// The recipients, on every node (Socket.IO's `fetchSockets`).
    pub async fn fetch_sockets(&self) -> Result<Vec<RemoteSocket>, AdapterError> {
        let all = ops::fetch_sockets(&self.ns, &self.opts).await?;
        Ok(all
            .into_iter()
            .map(|data| RemoteSocket::new(self.ns.clone(), data))
            .collect())
    }

    /// Makes every recipient, on every node, join `rooms`.
    pub async fn sockets_join(
        &self,
        rooms: impl IntoIterator<Item = impl Into<Room>>,
    ) -> Result<(), AdapterError> {
        let rooms: Vec<Room> = rooms.into_iter().map(Into::into).collect();
        ops::sockets_join(&self.ns, &self.opts, &rooms).await
    }

    /// Makes every recipient, on every node, leave `rooms`.
    pub async fn sockets_leave(
        &self,
        rooms: impl IntoIterator<Item = impl Into<Room>>,
    ) -> Result<(), AdapterError> {
        let rooms: Vec<Room> = rooms.into_iter().map(Into::into).collect();
        ops::sockets_leave(&self.ns, &self.opts, &rooms).await
    }

    /// Makes every recipient, on every node, leave the namespace (each receives a
    /// DISCONNECT). With `close`, each recipient's whole connection closes too, after a
    /// DISCONNECT for every namespace on it (see [`Socket::close`]). This node's recipients
    /// are gone when it returns, whatever the other nodes do.
    pub async fn disconnect_sockets(&self, close: bool) -> Result<(), AdapterError> {
        ops::disconnect_sockets(&self.ns, &self.opts, close).await
    }

    /// Emits `event` to the server-side handlers of the other nodes (rooms do not apply).
    pub async fn server_side_emit<T: Serialize + ?Sized>(
        &self,
        event: &str,
        data: &T,
    ) -> Result<(), EmitError> {
        let packet = EventPacket {
            event: ByteString::from(event),
            payload: Payload::from_value(data)?,
        };
        Ok(self.ns.adapter.server_side_emit(&packet).await?)
    }

    /// Emits `event` to the other nodes' server-side handlers and gathers one answer from each
    /// node within the timeout (default: the server's `ack_timeout`).
    pub async fn server_side_emit_with_ack<T: Serialize + ?Sized>(
        &self,
        event: &str,
        data: &T,
    ) -> Result<Vec<AckResponse>, EmitError> {
        let packet = EventPacket {
            event: ByteString::from(event),
            payload: Payload::from_value(data)?,
        };
        let timeout = self.opts.flags.timeout.unwrap_or(self.ns.ack_timeout);
        Ok(self
            .ns
            .adapter
            .server_side_emit_with_ack(&packet, timeout)
            .await?)
    }

    /// How many nodes serve this namespace, this one included.
    pub async fn server_count(&self) -> Result<usize, AdapterError> {
        self.ns.adapter.server_count().await
    }
}

impl Socket {
    /// A broadcast to `room`, from this socket (the sender is left out).
    pub fn to(&self, room: impl Into<Room>) -> BroadcastOperator {
        self.broadcast().to(room)
    }

    /// An emitter to this socket alone whose emits may be dropped: when the client is not
    /// keeping up (its outbox is full), the message is skipped instead of failing.
    pub fn volatile(&self) -> BroadcastOperator {
        BroadcastOperator::new(self.0.ns.clone())
            .to(self.id().as_str())
            .volatile()
            .local()
    }

    /// Every socket of this socket's namespace, on every node, this one included (Socket.IO's
    /// `socket.nsp`): the handle for the cluster operations from a handler.
    pub fn namespace(&self) -> BroadcastOperator {
        BroadcastOperator::new(self.0.ns.clone())
    }

    /// A broadcast to every socket of the namespace but this one, on every node.
    pub fn broadcast(&self) -> BroadcastOperator {
        BroadcastOperator::new(self.0.ns.clone()).except(self.id().as_str())
    }
}
