//! [`Socket`]: one client in one namespace, the per-socket core every higher layer builds on.
//!
//! This module owns the socket's state and its lifecycle (joining, leaving, its rooms, its
//! pending acknowledgements, its data) and sends its packets. What needs higher layers is
//! implemented there, on this same type: `on`/`on_disconnect` (handlers), `to`/`broadcast`
//! (broadcast operators), `io` (the server handle).
//!
//! Layer: names the protocol, the engine, the adapter trait, and the socket layer's lower
//! modules (errors, reasons, the ack table, the namespace). It reaches the server through the
//! [`Server`] trait and handlers through [`ErasedHandler`], which the layers above implement.

use bytes::Bytes;
use bytestring::ByteString;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::any::Any;
use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use super::ack::{AckFuture, AckOwner, AckTable};
use super::config::SocketIoConfig;
use super::emit::EmitError;
use super::facade::{CloseFrame, FacadeState};
use super::namespace::Namespace;
use super::reason::DisconnectReason;
use super::typemap::TypeMap;

#[path = "socket_emit.rs"]
mod emits;
#[path = "socket_observer.rs"]
mod observer;
use crate::adapter::{BroadcastFlags, BroadcastOptions, EventPacket, Recorded, Room, SessionState};
use crate::engine::{EngineSocket, Handshake, Sid, TransportKind};
use crate::protocol::{AckResponse, Encoded, PacketKind, Payload, encode_object};
pub use observer::{Observer, SocketEvent};

/// A namespace of this node's sockets.
pub(crate) type Ns = Namespace<Socket>;

/// What a socket needs of the server it belongs to. The server handle implements it.
pub(crate) trait Server: Any + Send + Sync {
    /// The Socket.IO settings.
    fn config(&self) -> &SocketIoConfig;
    /// The app state handlers extract.
    fn state(&self) -> &TypeMap;
    /// Disconnects every socket of `engine`'s connection (each gets a DISCONNECT), then
    /// closes it.
    fn close_connection(&self, engine: &EngineSocket);
    /// The observer of what sockets do, when one is installed.
    fn observer(&self) -> Option<&dyn Observer>;
}

/// Everything one event brings: the socket, the arguments, the attachments and the ack id.
#[derive(Debug)]
pub struct EventCtx {
    pub(crate) socket: Socket,
    pub(crate) args: Vec<ByteString>,
    pub(crate) attachments: Vec<Bytes>,
    pub(crate) ack_id: Option<u64>,
    /// True for a namespace's connect handler, false for an event handler.
    pub(crate) connect: bool,
}

/// A handler of events, type-erased (the handler layer implements it for every `Handler`).
pub(crate) trait ErasedHandler: Send + Sync + 'static {
    fn call(&self, ctx: EventCtx, event: &ByteString);
}

/// A `disconnecting` or `disconnect` hook.
pub(crate) type DisconnectFn = Box<dyn FnOnce(Socket, DisconnectReason) + Send>;

/// Where a socket is in its life. Membership changes and the hooks are decided under one lock,
/// so a `join` racing the socket's departure, or a close racing its connect, can leave no room
/// entry and no hook behind.
enum Phase {
    /// Middleware is deciding (it may join rooms already).
    Connecting,
    /// In the namespace.
    Connected,
    /// Its `disconnecting` hooks run: still in its rooms, but no longer a recipient.
    Leaving,
    /// Gone, for this reason (none when it never connected).
    Left(Option<DisconnectReason>),
}

struct Lifecycle {
    phase: Phase,
    on_disconnecting: Vec<DisconnectFn>,
    on_disconnect: Vec<DisconnectFn>,
}

pub(crate) struct SocketInner {
    id: Sid,
    /// The private session id, with connection state recovery on.
    pid: Option<Sid>,
    /// Whether this socket took over a session (connection state recovery).
    recovered: bool,
    pub(crate) ns: Arc<Ns>,
    pub(crate) engine: EngineSocket,
    pub(crate) server: Arc<dyn Server>,
    auth: ByteString,
    /// For a `tether.WebSocket` (its auth has `subprotocols`): the offer, the choice, the
    /// close frame. Boxed: most sockets have none.
    pub(crate) facade: Option<Box<FacadeState>>,
    handlers: RwLock<HashMap<ByteString, Arc<dyn ErasedHandler>>>,
    lifecycle: Mutex<Lifecycle>,
    acks: AckTable,
    /// Whether emits reach the client: true while `Connected` (read without the lock).
    connected: AtomicBool,
    extensions: Mutex<TypeMap>,
    data: Mutex<serde_json::Value>,
}

impl AckOwner for SocketInner {
    fn forget_ack(&self, id: u64) {
        self.acks.forget(id);
    }
}

/// One client connected to one namespace. Cheap to clone; handlers take it as an argument.
#[derive(Clone)]
pub struct Socket(pub(crate) Arc<SocketInner>);

impl fmt::Debug for Socket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Socket")
            .field("id", &self.0.id)
            .field("ns", &&*self.0.ns.path)
            .finish_non_exhaustive()
    }
}

impl Socket {
    /// A new socket; with recovery on, it gets a private session id.
    pub(crate) fn new(
        ns: Arc<Ns>,
        engine: EngineSocket,
        server: Arc<dyn Server>,
        auth: ByteString,
    ) -> Socket {
        let pid = ns.recovery.is_some().then(Sid::random);
        Socket::build(ns, engine, server, auth, Sid::random(), pid, false)
    }

    /// A socket that takes over a recovered session: its id, private id, rooms and data.
    pub(crate) fn restored(
        ns: Arc<Ns>,
        engine: EngineSocket,
        server: Arc<dyn Server>,
        auth: ByteString,
        state: SessionState,
    ) -> Socket {
        let socket = Socket::build(ns, engine, server, auth, state.sid, Some(state.pid), true);
        *socket.0.data.lock().unwrap_or_else(|e| e.into_inner()) = state.data;
        socket.join_all(&state.rooms);
        socket
    }

    fn build(
        ns: Arc<Ns>,
        engine: EngineSocket,
        server: Arc<dyn Server>,
        auth: ByteString,
        id: Sid,
        pid: Option<Sid>,
        recovered: bool,
    ) -> Socket {
        let facade = FacadeState::from_auth(&auth).map(Box::new);
        Socket(Arc::new(SocketInner {
            id,
            pid,
            recovered,
            ns,
            engine,
            server,
            auth,
            facade,
            handlers: RwLock::new(HashMap::new()),
            lifecycle: Mutex::new(Lifecycle {
                phase: Phase::Connecting,
                on_disconnecting: Vec::new(),
                on_disconnect: Vec::new(),
            }),
            acks: AckTable::new(),
            connected: AtomicBool::new(false),
            extensions: Mutex::new(TypeMap::default()),
            data: Mutex::new(serde_json::Value::Null),
        }))
    }

    fn lifecycle(&self) -> std::sync::MutexGuard<'_, Lifecycle> {
        self.0.lifecycle.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The socket id (distinct from the connection's session id, which stays secret).
    pub fn id(&self) -> Sid {
        self.0.id
    }

    /// Whether this socket recovered the state of an earlier one (connection state recovery):
    /// same id, rooms and data, and the events it missed were sent first.
    pub fn recovered(&self) -> bool {
        self.0.recovered
    }

    /// The private session id (connection state recovery on), sent only to this client.
    pub(crate) fn pid(&self) -> Option<Sid> {
        self.0.pid
    }

    /// The namespace path, e.g. `/` or `/admin`.
    pub fn ns(&self) -> &str {
        &self.0.ns.path
    }

    /// The HTTP request that opened the connection.
    pub fn handshake(&self) -> &Handshake {
        self.0.engine.handshake()
    }

    /// The Engine.IO connection under this socket (Socket.IO's `socket.conn`). Closing it
    /// ends every namespace of the connection without a DISCONNECT, so the client takes it
    /// for a lost connection and reconnects by itself (unlike [`Socket::close`]).
    pub fn conn(&self) -> &EngineSocket {
        &self.0.engine
    }

    /// The transport the connection uses now.
    pub fn transport(&self) -> TransportKind {
        self.0.engine.transport()
    }

    /// The raw JSON of the `auth` object the client sent with its CONNECT (`{}` if none).
    pub fn auth_raw(&self) -> &str {
        &self.0.auth
    }

    /// The `auth` object deserialized.
    pub fn auth<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_str(&self.0.auth)
    }

    /// Whether the socket is still in its namespace.
    pub fn connected(&self) -> bool {
        self.0.connected.load(Ordering::Acquire)
    }

    /// Joins a room. Once the socket is leaving or has left, this does nothing.
    pub fn join(&self, room: impl Into<Room>) {
        self.join_all(&[room.into()]);
    }

    /// Joins rooms (see [`Socket::join`]).
    pub fn join_all(&self, rooms: &[Room]) {
        let lifecycle = self.lifecycle();
        if !matches!(lifecycle.phase, Phase::Connecting | Phase::Connected) {
            return;
        }
        let Some(observer) = self.observer() else {
            return self.0.ns.adapter.add(self.0.id, rooms);
        };
        let before = self.rooms();
        self.0.ns.adapter.add(self.0.id, rooms);
        drop(lifecycle);
        for room in rooms {
            if !before.contains(room) {
                observer.observe(SocketEvent::Joined(self, room));
            }
        }
    }

    /// The server's observer, if one is installed.
    pub(crate) fn observer(&self) -> Option<&dyn Observer> {
        self.0.server.observer()
    }

    /// Leaves a room.
    pub fn leave(&self, room: impl Into<Room>) {
        self.leave_all(&[room.into()]);
    }

    /// Leaves rooms.
    pub fn leave_all(&self, rooms: &[Room]) {
        let Some(observer) = self.observer() else {
            return self.0.ns.adapter.remove(self.0.id, rooms);
        };
        let before = self.rooms();
        self.0.ns.adapter.remove(self.0.id, rooms);
        for room in rooms {
            if before.contains(room) {
                observer.observe(SocketEvent::Left(self, room));
            }
        }
    }

    /// The rooms this socket is in (its own id among them).
    pub fn rooms(&self) -> Vec<Room> {
        self.0.ns.adapter.rooms_of(self.0.id)
    }

    /// Stores a value of type `T` on the socket (one per type), replacing any earlier one.
    /// These typed extensions stay on this node; see [`Socket::set_data`] for data the other
    /// nodes of a cluster can read.
    pub fn insert<T: Send + Sync + 'static>(&self, value: T) {
        self.0
            .extensions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(value);
    }

    /// A clone of the value of type `T` stored on the socket.
    pub fn get<T: Clone + Send + Sync + 'static>(&self) -> Option<T> {
        self.0
            .extensions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get::<T>()
    }

    /// Sets the socket's data (Socket.IO's `socket.data`): any serializable value, which
    /// `fetch_sockets` returns from whichever node asks.
    pub fn set_data<T: Serialize + ?Sized>(&self, data: &T) -> Result<(), serde_json::Error> {
        let value = serde_json::to_value(data)?;
        if let Some(pid) = self.0.pid {
            self.0.ns.adapter.session_data(pid, &value);
        }
        *self.0.data.lock().unwrap_or_else(|e| e.into_inner()) = value;
        if let Some(observer) = self.observer() {
            observer.observe(SocketEvent::DataChanged(self));
        }
        Ok(())
    }

    /// The socket's data deserialized (`null` until [`Socket::set_data`], so `Option<T>`
    /// reads an unset value as `None`).
    pub fn data<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_value(self.data_value())
    }

    /// The socket's data as JSON.
    pub fn data_value(&self) -> serde_json::Value {
        self.0
            .data
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Makes the client leave this namespace (it receives a DISCONNECT; the connection stays).
    pub fn disconnect(&self) {
        self.disconnect_for(DisconnectReason::ServerNamespaceDisconnect);
    }

    /// [`Socket::disconnect`] with another reason for the server's hooks.
    pub(crate) fn disconnect_for(&self, reason: DisconnectReason) {
        self.leave_ns_telling(reason, true, None);
    }

    /// Closes the client's whole connection: every namespace on it first gets a DISCONNECT (so
    /// official clients report "io server disconnect" and do not reconnect by themselves), as
    /// the reference server does; then the connection closes.
    pub fn close(&self) {
        self.0.server.close_connection(&self.0.engine);
    }

    /// Replaces the handler of `event`.
    pub(crate) fn set_handler(&self, event: ByteString, handler: Arc<dyn ErasedHandler>) {
        self.0
            .handlers
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(event, handler);
    }

    /// Keeps a `disconnect` hook; one registered after the socket left runs at once (with the
    /// reason it left for), so a hook cannot be missed by a disconnect racing its registration.
    pub(crate) fn push_disconnect_hook(&self, f: DisconnectFn) {
        let mut lifecycle = self.lifecycle();
        match lifecycle.phase {
            Phase::Left(Some(reason)) => {
                drop(lifecycle);
                f(self.clone(), reason);
            }
            Phase::Left(None) => {}
            _ => lifecycle.on_disconnect.push(f),
        }
    }

    /// Keeps a `disconnecting` hook, unless the socket is leaving already.
    pub(crate) fn push_disconnecting_hook(&self, f: DisconnectFn) {
        let mut lifecycle = self.lifecycle();
        if matches!(lifecycle.phase, Phase::Connecting | Phase::Connected) {
            lifecycle.on_disconnecting.push(f);
        }
    }

    /// A value of the server's app state.
    pub(crate) fn io_state<T: Clone + Send + Sync + 'static>(&self) -> Option<T> {
        self.0.server.state().get::<T>()
    }

    /// Marks the socket joined (its CONNECT reply is queued): it is in the namespace, in the
    /// room of its own id, a recipient. False if it was abandoned first.
    pub(crate) fn joined(&self) -> bool {
        let mut lifecycle = self.lifecycle();
        if !matches!(lifecycle.phase, Phase::Connecting) {
            return false;
        }
        lifecycle.phase = Phase::Connected;
        self.0
            .ns
            .adapter
            .add(self.0.id, &[self.0.id.as_str().into()]);
        self.0.ns.insert(self.0.id, self.clone());
        if let Some(pid) = self.0.pid {
            self.0.ns.adapter.open_session(pid, self.0.id);
        }
        self.0.ns.stats.joined();
        self.0.connected.store(true, Ordering::Release);
        true
    }

    /// The socket will never join (refused, its reply could not be sent, the connection
    /// closed first): undoes what middleware did to rooms, and later joins do nothing.
    pub(crate) fn abandon(&self) {
        let mut lifecycle = self.lifecycle();
        if matches!(lifecycle.phase, Phase::Connecting) {
            lifecycle.phase = Phase::Left(None);
            lifecycle.on_disconnecting.clear();
            lifecycle.on_disconnect.clear();
            self.0.ns.adapter.remove_all(self.0.id);
        }
    }

    /// Leaves the namespace because a reconnecting client took over its session: its hooks see
    /// [`DisconnectReason::Replaced`], and its session is not kept (the new socket has it).
    pub(crate) fn evict(&self) -> bool {
        self.leave_ns(DisconnectReason::Replaced)
    }

    /// Leaves the namespace: the `disconnecting` hooks (still in the rooms), then rooms and
    /// pending acks, then the `disconnect` hooks. Once only; false if it was not connected.
    pub(crate) fn leave_ns(&self, reason: DisconnectReason) -> bool {
        self.leave_ns_telling(reason, false, None)
    }

    /// Leaves the namespace with a close frame (a `tether.WebSocket`'s), kept for the hooks
    /// ([`Socket::close_frame`]); told to the client when `tell_client`, in the DISCONNECT.
    pub(crate) fn leave_ns_closing(
        &self,
        reason: DisconnectReason,
        tell_client: bool,
        frame: CloseFrame,
    ) -> bool {
        self.leave_ns_telling(reason, tell_client, Some(frame))
    }

    fn leave_ns_telling(
        &self,
        reason: DisconnectReason,
        tell_client: bool,
        frame: Option<CloseFrame>,
    ) -> bool {
        let disconnecting = {
            let mut lifecycle = self.lifecycle();
            if !matches!(lifecycle.phase, Phase::Connected) {
                return false;
            }
            // Only a tether.WebSocket keeps (and is told) a close frame: an official client
            // would take a DISCONNECT payload for a parse error.
            let payload = match (&self.0.facade, frame) {
                (Some(facade), Some(frame)) => {
                    let json = frame.to_json();
                    let _ = facade.close.set(frame);
                    Some(json)
                }
                _ => None,
            };
            if tell_client {
                let packet = Encoded::text(encode_object(
                    PacketKind::Disconnect,
                    &self.0.ns.path,
                    payload.as_deref(),
                ));
                let _ = self.0.engine.send_frames(packet.frames());
            }
            lifecycle.phase = Phase::Leaving;
            self.0.connected.store(false, Ordering::Release);
            self.0.ns.stats.left(reason);
            tracing::debug!(socket = %self.0.id, ns = &*self.0.ns.path, %reason, "socket disconnected");
            std::mem::take(&mut lifecycle.on_disconnecting)
        };
        for f in disconnecting {
            f(self.clone(), reason);
        }
        if let Some(pid) = self.0.pid {
            let state = reason.is_recoverable().then(|| SessionState {
                sid: self.0.id,
                pid,
                rooms: self.rooms(),
                data: self.data_value(),
            });
            self.0.ns.adapter.close_session(pid, state);
        }
        let observer = self.observer();
        let rooms = observer.map(|_| self.rooms()).unwrap_or_default();
        let disconnect = {
            let mut lifecycle = self.lifecycle();
            lifecycle.phase = Phase::Left(Some(reason));
            self.0.ns.remove(self.0.id);
            self.0.ns.adapter.remove_all(self.0.id);
            std::mem::take(&mut lifecycle.on_disconnect)
        };
        if let Some(observer) = observer {
            observer.observe(SocketEvent::Disconnected(self, reason));
            for room in &rooms {
                observer.observe(SocketEvent::Left(self, room));
            }
        }
        // Awaited acks end with `AckError::Disconnected`.
        self.0.acks.clear();
        for f in disconnect {
            f(self.clone(), reason);
        }
        self.0
            .handlers
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        true
    }

    /// An event for this socket.
    pub(crate) fn on_event(
        &self,
        name: &ByteString,
        args: Vec<ByteString>,
        attachments: Vec<Bytes>,
        ack_id: Option<u64>,
    ) {
        self.0.ns.stats.received();
        tracing::debug!(socket = %self.0.id, ns = &*self.0.ns.path, event = &**name, "event");
        if let Some(observer) = self.observer() {
            let payload = Payload::from_raw(args.clone(), attachments.clone());
            observer.observe(SocketEvent::Received(self, name, &payload));
        }
        let handler = self
            .0
            .handlers
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(name)
            .cloned();
        if let Some(handler) = handler {
            let ctx = EventCtx {
                socket: self.clone(),
                args,
                attachments,
                ack_id,
                connect: false,
            };
            handler.call(ctx, name);
        }
    }

    /// An acknowledgement from the client; unknown ids are ignored.
    pub(crate) fn on_ack(&self, id: u64, args: Vec<ByteString>, attachments: Vec<Bytes>) {
        if let Some(took) = self.0.acks.resolve(id, AckResponse { args, attachments }) {
            self.0.ns.stats.acked(took);
        }
    }
}
