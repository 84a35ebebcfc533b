//! [`Socket`]: one client in one namespace, as handlers see it.

use bytes::Bytes;
use bytestring::ByteString;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use tokio::sync::oneshot;

use super::ack::{AckFuture, AckResponse};
use super::broadcast::BroadcastOperator;
use super::emit::EmitError;
use super::extract::EventCtx;
use super::handler::{ErasedHandler, Handler, Origin, erase, run};
use super::io::IoInner;
use super::namespace::Namespace;
use super::packet::{PacketKind, encode_object};
use super::payload::{Encoded, Payload};
use super::reason::DisconnectReason;
use crate::adapter::Room;
use crate::engine::{EngineSocket, Handshake, Sid, TransportKind};

type DisconnectFn = Box<dyn FnOnce(Socket, DisconnectReason) + Send>;

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
    pub(crate) ns: Arc<Namespace>,
    pub(crate) engine: EngineSocket,
    io: Arc<IoInner>,
    auth: ByteString,
    handlers: RwLock<HashMap<ByteString, Arc<dyn ErasedHandler>>>,
    lifecycle: Mutex<Lifecycle>,
    acks: Mutex<HashMap<u64, oneshot::Sender<AckResponse>>>,
    /// Whether emits reach the client: true while `Connected` (read without the lock).
    connected: AtomicBool,
    data: Mutex<HashMap<TypeId, Box<dyn Any + Send + Sync>>>,
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
    pub(crate) fn new(
        ns: Arc<Namespace>,
        engine: EngineSocket,
        io: Arc<IoInner>,
        auth: ByteString,
    ) -> Socket {
        Socket(Arc::new(SocketInner {
            id: Sid::random(),
            ns,
            engine,
            io,
            auth,
            handlers: RwLock::new(HashMap::new()),
            lifecycle: Mutex::new(Lifecycle {
                phase: Phase::Connecting,
                on_disconnecting: Vec::new(),
                on_disconnect: Vec::new(),
            }),
            acks: Mutex::new(HashMap::new()),
            connected: AtomicBool::new(false),
            data: Mutex::new(HashMap::new()),
        }))
    }

    fn lifecycle(&self) -> std::sync::MutexGuard<'_, Lifecycle> {
        self.0.lifecycle.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The socket id (distinct from the connection's session id, which stays secret).
    pub fn id(&self) -> Sid {
        self.0.id
    }

    /// The server this socket belongs to. Use this (or a `SocketIo` handler argument) rather
    /// than capturing the server in a handler it is registered on: that would be a reference
    /// cycle, and the server would never be freed.
    pub fn io(&self) -> super::io::SocketIo {
        super::io::SocketIo(self.0.io.clone())
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

    /// Registers the handler of `event`, replacing any earlier one.
    pub fn on<H: Handler<T>, T: 'static>(&self, event: impl Into<ByteString>, handler: H) {
        self.0
            .handlers
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(event.into(), erase(handler));
    }

    /// Runs `f` once when the socket leaves its namespace, with the reason, after it has left
    /// its rooms. Registered after the socket left, `f` runs at once (with the reason it left
    /// for), so a hook cannot be missed by a disconnect racing its registration.
    pub fn on_disconnect<F, Fut>(&self, f: F)
    where
        F: FnOnce(Socket, DisconnectReason) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let f: DisconnectFn = Box::new(move |socket, reason| {
            let origin_socket = socket.clone();
            run(f(socket, reason), &origin_socket, Origin::Disconnect);
        });
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

    /// Runs `f` once when the socket starts to leave its namespace (Socket.IO's
    /// `disconnecting`): it no longer receives anything, but [`Socket::rooms`] still answers as
    /// before, until `f`'s first await. Registered once the socket is leaving, `f` never runs.
    pub fn on_disconnecting<F, Fut>(&self, f: F)
    where
        F: FnOnce(Socket, DisconnectReason) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let f: DisconnectFn = Box::new(move |socket, reason| {
            let origin_socket = socket.clone();
            run(f(socket, reason), &origin_socket, Origin::Disconnecting);
        });
        let mut lifecycle = self.lifecycle();
        if matches!(lifecycle.phase, Phase::Connecting | Phase::Connected) {
            lifecycle.on_disconnecting.push(f);
        }
    }

    /// Emits `event` with one argument to this client.
    pub fn emit<T: Serialize + ?Sized>(&self, event: &str, data: &T) -> Result<(), EmitError> {
        self.emit_payload(event, &Payload::from_value(data)?)
    }

    /// Emits `event` with any arguments, binary included.
    pub fn emit_payload(&self, event: &str, payload: &Payload) -> Result<(), EmitError> {
        self.send(&payload.encode_event(&self.0.ns.path, event, None))
    }

    /// Emits `event` with one argument and waits for the client's acknowledgement, for
    /// `ack_timeout` unless [`AckFuture::timeout`] says otherwise.
    pub fn emit_with_ack<T: Serialize + ?Sized>(
        &self,
        event: &str,
        data: &T,
    ) -> Result<AckFuture, EmitError> {
        self.emit_payload_with_ack(event, &Payload::from_value(data)?)
    }

    /// [`Socket::emit_with_ack`] with any arguments.
    pub fn emit_payload_with_ack(
        &self,
        event: &str,
        payload: &Payload,
    ) -> Result<AckFuture, EmitError> {
        let id = self.0.ns.next_ack_id();
        let packet = payload.encode_event(&self.0.ns.path, event, Some(id));
        let rx = self.expect_ack(id)?;
        if let Err(err) = self.send(&packet) {
            self.forget_ack(id);
            return Err(err);
        }
        Ok(AckFuture::new(
            rx,
            self.0.io.config.ack_timeout,
            self.clone(),
            id,
        ))
    }

    /// Registers a pending ack `id`; its answer comes through the receiver.
    pub(crate) fn expect_ack(&self, id: u64) -> Result<oneshot::Receiver<AckResponse>, EmitError> {
        let mut acks = self.0.acks.lock().unwrap_or_else(|e| e.into_inner());
        if acks.len() >= self.0.io.config.max_pending_acks {
            return Err(EmitError::TooManyPendingAcks);
        }
        let (tx, rx) = oneshot::channel();
        acks.insert(id, tx);
        Ok(rx)
    }

    pub(crate) fn pending_acks(&self) -> usize {
        self.0.acks.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    pub(crate) fn forget_ack(&self, id: u64) {
        self.0
            .acks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&id);
    }

    pub(crate) fn send(&self, packet: &Encoded) -> Result<(), EmitError> {
        if !self.connected() {
            return Err(EmitError::Disconnected);
        }
        Ok(self.0.engine.send_frames(packet.frames())?)
    }

    pub(crate) fn send_ack(&self, id: u64, payload: &Payload) -> Result<(), EmitError> {
        self.send(&payload.encode_ack(&self.0.ns.path, id))
    }

    /// Joins rooms. Once the socket is leaving or has left, this does nothing.
    pub fn join(&self, room: impl Into<Room>) {
        let lifecycle = self.lifecycle();
        if matches!(lifecycle.phase, Phase::Connecting | Phase::Connected) {
            self.0.ns.adapter.add(self.0.id, &[room.into()]);
        }
    }

    /// Leaves a room.
    pub fn leave(&self, room: impl Into<Room>) {
        self.0.ns.adapter.remove(self.0.id, &[room.into()]);
    }

    /// The rooms this socket is in (its own id among them).
    pub fn rooms(&self) -> Vec<Room> {
        self.0.ns.adapter.rooms_of(self.0.id)
    }

    /// A broadcast to `room`, from this socket (the sender is left out).
    pub fn to(&self, room: impl Into<Room>) -> BroadcastOperator {
        self.broadcast().to(room)
    }

    /// An emitter to this socket alone whose emits may be dropped: when the client is not
    /// keeping up (its outbox is full), the message is skipped instead of failing.
    pub fn volatile(&self) -> BroadcastOperator {
        BroadcastOperator::new(self.0.ns.clone())
            .to(self.0.id.as_str())
            .volatile()
    }

    /// A broadcast to every socket of the namespace but this one.
    pub fn broadcast(&self) -> BroadcastOperator {
        BroadcastOperator::new(self.0.ns.clone()).except_socket(self.0.id)
    }

    /// Stores a value of type `T` on the socket (one per type), replacing any earlier one.
    pub fn insert<T: Send + Sync + 'static>(&self, value: T) {
        self.0
            .data
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(TypeId::of::<T>(), Box::new(value));
    }

    /// A clone of the value of type `T` stored on the socket.
    pub fn get<T: Clone + Send + Sync + 'static>(&self) -> Option<T> {
        self.0
            .data
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&TypeId::of::<T>())
            .and_then(|v| v.downcast_ref::<T>())
            .cloned()
    }

    pub(crate) fn io_state<T: Clone + Send + Sync + 'static>(&self) -> Option<T> {
        self.0.io.state.get::<T>()
    }

    /// Makes the client leave this namespace (it receives a DISCONNECT; the connection stays).
    pub fn disconnect(&self) {
        self.disconnect_for(DisconnectReason::ServerNamespaceDisconnect);
    }

    /// [`Socket::disconnect`] with another reason for the server's hooks.
    pub(crate) fn disconnect_for(&self, reason: DisconnectReason) {
        if self.leave_ns_telling(reason, true) {
            self.0.io.client_left(&self.0.engine, &self.0.ns.path);
        }
    }

    /// Closes the client's whole connection: every namespace on it first gets a DISCONNECT (so
    /// official clients report "io server disconnect" and do not reconnect by themselves), as
    /// the reference server does; then the connection closes.
    pub fn close(&self) {
        self.0.io.close_client(&self.0.engine);
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
        self.0.ns.insert(self.clone());
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

    /// Leaves the namespace: the `disconnecting` hooks (still in the rooms), then rooms and
    /// pending acks, then the `disconnect` hooks. Once only; false if it was not connected.
    pub(crate) fn leave_ns(&self, reason: DisconnectReason) -> bool {
        self.leave_ns_telling(reason, false)
    }

    fn leave_ns_telling(&self, reason: DisconnectReason, tell_client: bool) -> bool {
        let disconnecting = {
            let mut lifecycle = self.lifecycle();
            if !matches!(lifecycle.phase, Phase::Connected) {
                return false;
            }
            if tell_client {
                let packet =
                    Encoded::text(encode_object(PacketKind::Disconnect, &self.0.ns.path, None));
                let _ = self.0.engine.send_frames(packet.frames());
            }
            lifecycle.phase = Phase::Leaving;
            self.0.connected.store(false, Ordering::Release);
            std::mem::take(&mut lifecycle.on_disconnecting)
        };
        for f in disconnecting {
            f(self.clone(), reason);
        }
        let disconnect = {
            let mut lifecycle = self.lifecycle();
            lifecycle.phase = Phase::Left(Some(reason));
            self.0.ns.remove(self.0.id);
            self.0.ns.adapter.remove_all(self.0.id);
            std::mem::take(&mut lifecycle.on_disconnect)
        };
        // Awaited acks end with `AckError::Disconnected`.
        self.0
            .acks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
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
        let tx = self
            .0
            .acks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&id);
        if let Some(tx) = tx {
            let _ = tx.send(AckResponse { args, attachments });
        }
    }
}
