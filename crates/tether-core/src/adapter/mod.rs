//! Where room membership lives, and how an operation reaches the sockets of other nodes.
//!
//! An [`Adapter`] serves one namespace on one node. It has two halves:
//! - **this node's rooms** ([`Adapter::add`], [`Adapter::targets`], ...): synchronous and cheap,
//!   on the hot path of every join and every broadcast;
//! - **the other nodes** ([`Adapter::broadcast`], [`Adapter::fetch_sockets`], ...): the cluster
//!   operations of Socket.IO's adapter (broadcast with options, broadcast with acks, fetch,
//!   remote join / leave / disconnect, server-side emit, the node count, every room). Those that
//!   wait for answers are async and fail with an [`AdapterError`] a caller can handle.
//!
//! The socket layer does the local half of every operation itself and asks the adapter only
//! for the rest, so an adapter never holds a socket. When another node's request arrives, the
//! adapter applies it here through the [`LocalNamespace`] it was given when it was made
//! ([`AdapterCtx`]).
//!
//! [`LocalAdapter`] is the default: one node, so the other-nodes half has nothing to do. An
//! adapter for many nodes (Redis) implements the same trait, and user code does not change
//! when an app scales out.
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
//! # let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
//! assert_eq!(rt.block_on(adapter.server_count()), Ok(1));
//! ```
//!
//! Layer: names the engine (socket ids, handshakes) and the protocol (payloads) only.

mod error;
mod local;
mod members;
mod options;
mod recovery;
mod rooms;
mod socket_data;
mod store;

pub use error::AdapterError;
pub use local::LocalAdapter;
pub use options::{BroadcastFlags, BroadcastOptions};
pub use recovery::{RecoveryConfig, Restore, SessionState, missed_by, recovery_auth};
pub use rooms::Rooms;
pub use socket_data::{HandshakeData, SocketData, js_date_string, js_iso_string};
pub use store::SessionStore;

use bytestring::ByteString;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

use crate::engine::Sid;
use crate::protocol::{AckResponse, Payload};

/// A room name.
pub type Room = ByteString;

/// A boxed future, as the adapter's async operations return them.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// An event that crosses nodes: its name and arguments, as `emit(event, ...)` gave them. A
/// broadcast is encoded for the clients once per node, by the node that delivers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventPacket {
    /// The event name.
    pub event: ByteString,
    /// The arguments, binary included.
    pub payload: Payload,
}

/// What a broadcast with acknowledgement reports, from each node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AckEvent {
    /// A node sent the event to this many clients (each node reports once, zero included).
    Reached(usize),
    /// One client's answer.
    Answer(AckResponse),
}

/// Where the counts and answers of a broadcast with acknowledgement go. Cheap to clone; the
/// requester stops listening at its timeout, after which reports are dropped.
#[derive(Debug, Clone)]
pub struct AckSink(mpsc::UnboundedSender<AckEvent>);

impl AckSink {
    /// A sink and the receiver its reports arrive on. Unbounded: what arrives is bounded by the
    /// clients a broadcast reached, and by the requester's timeout.
    pub fn channel() -> (AckSink, mpsc::UnboundedReceiver<AckEvent>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (AckSink(tx), rx)
    }

    /// Reports that a node sent the event to `clients` clients.
    pub fn reached(&self, clients: usize) {
        let _ = self.0.send(AckEvent::Reached(clients));
    }

    /// Reports a client's answer.
    pub fn answer(&self, answer: AckResponse) {
        let _ = self.0.send(AckEvent::Answer(answer));
    }

    /// Whether the requester stopped listening.
    pub fn is_closed(&self) -> bool {
        self.0.is_closed()
    }

    /// Resolves when the requester stops listening.
    pub async fn closed(&self) {
        self.0.closed().await;
    }
}

/// The answer slot of a server-side emit that asked for one.
#[derive(Debug)]
pub struct Reply(oneshot::Sender<AckResponse>);

impl Reply {
    /// A reply slot and the receiver its answer arrives on.
    pub fn channel() -> (Reply, oneshot::Receiver<AckResponse>) {
        let (tx, rx) = oneshot::channel();
        (Reply(tx), rx)
    }

    /// Answers (once).
    pub fn send(self, answer: AckResponse) {
        let _ = self.0.send(answer);
    }
}

/// One namespace's sockets on this node, as an adapter reaches them to apply what another node
/// asked. The socket layer implements it; an adapter gets it in its [`AdapterCtx`].
pub trait LocalNamespace: Send + Sync + 'static {
    /// Delivers `packet` to the local sockets `opts` selects (encoded once for all of them);
    /// how many it reached. The slow-consumer policy applies as for a local broadcast.
    fn broadcast(&self, packet: &EventPacket, opts: &BroadcastOptions) -> usize;
    /// Connection state recovery: [`broadcast`](Self::broadcast), but `admit` runs first, under
    /// the lock that orders a recovered socket's join and replay with live packets, and the
    /// packet is delivered only when it returns true. An adapter that keeps recent packets
    /// for the seam of a replay records the arrival in `admit`: then a recovered socket gets
    /// the packet once, in its replay (it arrived before the join) or live (after), never
    /// both and never neither. `admit` runs exactly once; it must not call back into this
    /// namespace.
    fn broadcast_admitted(
        &self,
        packet: &EventPacket,
        opts: &BroadcastOptions,
        admit: &mut dyn FnMut() -> bool,
    ) -> usize;
    /// Delivers `packet` with an acknowledgement request: reports `sink.reached(n)` once, then
    /// each answer as it comes, until `opts.flags.timeout` (or the server's `ack_timeout`).
    fn broadcast_with_ack(&self, packet: &EventPacket, opts: &BroadcastOptions, sink: AckSink);
    /// The local sockets `opts` selects.
    fn fetch_sockets(&self, opts: &BroadcastOptions) -> Vec<SocketData>;
    /// Makes the local sockets `opts` selects join `rooms`.
    fn add_sockets(&self, opts: &BroadcastOptions, rooms: &[Room]);
    /// Makes the local sockets `opts` selects leave `rooms`.
    fn del_sockets(&self, opts: &BroadcastOptions, rooms: &[Room]);
    /// Disconnects the local sockets `opts` selects from the namespace; with `close`, closes
    /// their whole connections.
    fn disconnect_sockets(&self, opts: &BroadcastOptions, close: bool);
    /// Runs the namespace's server-side handler of `packet.event` (in a task of its own);
    /// `reply` takes its answer. False when there is no such handler: then nobody answers, as
    /// with Node.
    fn server_side_emit(&self, packet: EventPacket, reply: Option<Reply>) -> bool;
    /// Connection state recovery: another node recovered the session of local socket `sid`
    /// (its connection here is dead, unnoticed yet): it leaves its namespace with the reason
    /// "replaced by a recovered connection", keeping no session. False if it is not here.
    fn evict(&self, sid: Sid) -> bool;
}

/// What an adapter is made with: the namespace it serves.
#[derive(Clone)]
pub struct AdapterCtx {
    /// The namespace path (`/`, `/chat`, ...).
    pub nsp: ByteString,
    /// The namespace's sockets on this node.
    pub local: Arc<dyn LocalNamespace>,
    /// Connection state recovery's settings, when the server turned it on.
    pub recovery: Option<RecoveryConfig>,
}

impl fmt::Debug for AdapterCtx {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AdapterCtx")
            .field("nsp", &self.nsp)
            .finish_non_exhaustive()
    }
}

/// Room membership on this node, and the way to the other nodes, for one namespace.
///
/// The methods on the other nodes leave this node's sockets alone: the socket layer has done
/// the local part of the operation already. `server_count` and `all_rooms` count this node too.
pub trait Adapter: Send + Sync + 'static {
    /// This node's rooms. The membership methods below use them; an adapter that must act on
    /// membership (a sharded adapter subscribing to a room's channel) overrides those.
    fn members(&self) -> &Rooms;
    /// Adds a local socket to rooms (every socket is in the room named by its own id).
    fn add(&self, sid: Sid, rooms: &[Room]) {
        self.members().add(sid, rooms);
    }
    /// Removes a local socket from rooms.
    fn remove(&self, sid: Sid, rooms: &[Room]) {
        self.members().remove(sid, rooms);
    }
    /// Removes a local socket from every room (it left the namespace).
    fn remove_all(&self, sid: Sid) {
        self.members().remove_all(sid);
    }
    /// The rooms a local socket is in.
    fn rooms_of(&self, sid: Sid) -> Vec<Room> {
        self.members().rooms_of(sid)
    }
    /// Every room with a local socket in it.
    fn local_rooms(&self) -> Vec<Room> {
        self.members().rooms()
    }
    /// The local sockets `opts` selects, each once.
    fn targets(&self, opts: &BroadcastOptions) -> Vec<Sid> {
        self.members().targets(opts)
    }

    /// Sends a broadcast to the other nodes. Does not wait for them: an error means it could
    /// not be sent at all.
    fn broadcast(&self, packet: &EventPacket, opts: &BroadcastOptions) -> Result<(), AdapterError>;
    /// Sends a broadcast with acknowledgement to the other nodes: each reports, through
    /// `sink`, how many clients it reached, then their answers, for `opts.flags.timeout`.
    fn broadcast_with_ack(
        &self,
        packet: &EventPacket,
        opts: &BroadcastOptions,
        sink: AckSink,
    ) -> Result<(), AdapterError>;
    /// The sockets `opts` selects on the other nodes, within `opts.flags.timeout` (or the
    /// adapter's own request timeout).
    fn fetch_sockets(
        &self,
        opts: &BroadcastOptions,
    ) -> BoxFuture<Result<Vec<SocketData>, AdapterError>>;
    /// Makes the sockets `opts` selects on the other nodes join `rooms`.
    fn add_sockets(
        &self,
        opts: &BroadcastOptions,
        rooms: &[Room],
    ) -> BoxFuture<Result<(), AdapterError>>;
    /// Makes the sockets `opts` selects on the other nodes leave `rooms`.
    fn del_sockets(
        &self,
        opts: &BroadcastOptions,
        rooms: &[Room],
    ) -> BoxFuture<Result<(), AdapterError>>;
    /// Disconnects the sockets `opts` selects on the other nodes (with `close`, their whole
    /// connections).
    fn disconnect_sockets(
        &self,
        opts: &BroadcastOptions,
        close: bool,
    ) -> BoxFuture<Result<(), AdapterError>>;
    /// Emits an event to the server-side handlers of the other nodes.
    fn server_side_emit(&self, packet: &EventPacket) -> BoxFuture<Result<(), AdapterError>>;
    /// Emits an event to the other nodes' server-side handlers and gathers one answer per
    /// node within `timeout`.
    fn server_side_emit_with_ack(
        &self,
        packet: &EventPacket,
        timeout: Duration,
    ) -> BoxFuture<Result<Vec<AckResponse>, AdapterError>>;
    /// How many nodes serve this namespace, this one included.
    fn server_count(&self) -> BoxFuture<Result<usize, AdapterError>>;
    /// Every room of the namespace on every node, this one's included.
    fn all_rooms(&self) -> BoxFuture<Result<Vec<Room>, AdapterError>>;

    /// Connection state recovery: stores a recoverable packet (an event with no ack, not
    /// volatile) broadcast with `opts` (see [`Recorded`]). The default stores nothing: the
    /// packet goes out as it is, and no client can recover. An error means it could not be
    /// stored: the caller delivers it here without an offset and reports the error.
    fn record(
        &self,
        _packet: &EventPacket,
        _opts: &BroadcastOptions,
    ) -> Result<Recorded, AdapterError> {
        Ok(Recorded::Not)
    }
    /// Connection state recovery: a socket with private session id `pid` joined.
    fn open_session(&self, _pid: Sid, _sid: Sid) {}
    /// Connection state recovery: the data of session `pid`'s socket changed
    /// (`Socket::set_data`), for an adapter that keeps sessions up to date while they live.
    fn session_data(&self, _pid: Sid, _data: &serde_json::Value) {}
    /// Connection state recovery: the socket of session `pid` left. With a `state` (it left
    /// for a reason a client recovers from), the session is kept for
    /// `max_disconnection_duration`; without, it is forgotten.
    fn close_session(&self, _pid: Sid, _state: Option<SessionState>) {}
    /// Connection state recovery: the session `pid` of a client that got every packet up to
    /// `offset` (`None`: it got none yet). `Ok(None)` when it cannot be recovered: no such
    /// session, expired, or some of what it missed is gone. The default never recovers.
    fn restore_session(
        &self,
        _pid: Sid,
        _offset: Option<ByteString>,
    ) -> BoxFuture<Result<Option<Restore>, AdapterError>> {
        Box::pin(std::future::ready(Ok(None)))
    }
    /// Connection state recovery: the stored packets after `offset` meant for `rooms`, asked
    /// for at the moment a recovered socket becomes a recipient (so nothing falls between the
    /// restore and live traffic); `None` when some are gone.
    fn replay(&self, _offset: &str, _rooms: &[Room]) -> Option<Vec<EventPacket>> {
        Some(Vec::new())
    }
}

/// What [`Adapter::record`] did with a packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recorded {
    /// Not stored: it goes out as it is.
    Not,
    /// Stored: this is the packet to send (its offset appended as last argument), here and
    /// to the other nodes.
    Now(EventPacket),
    /// Taken over: the adapter stores it and delivers it on every node, this one included
    /// (through [`LocalNamespace::broadcast_admitted`]), in the order the cluster stored it;
    /// the caller sends nothing.
    Relayed,
}

/// Makes the adapter of each namespace (see `SocketIoBuilder::adapter`).
pub type AdapterFactory = Arc<dyn Fn(AdapterCtx) -> Arc<dyn Adapter> + Send + Sync>;
