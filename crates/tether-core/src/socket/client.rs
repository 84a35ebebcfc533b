//! One Engine.IO connection seen from Socket.IO: which namespaces it joined, the binary packet
//! it is assembling, and the routing of every packet it sends.
//!
//! Layer: above the socket core and the registry (where a CONNECT finds its namespace); the
//! server handle above it owns the clients.

use bytes::Bytes;
use bytestring::ByteString;
use futures_util::FutureExt;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};

use super::emit::ConnectError;
use super::facade;
use super::reason::DisconnectReason;
use super::registry::Registry;
use super::setup::NsSetup;
use super::socket::{EventCtx, Ns, Server, Socket, SocketEvent};
use crate::adapter::{AdapterError, EventPacket, Restore, SessionState, recovery_auth};
use crate::engine::{CloseReason, EngineSocket, Message, Sid};
use crate::protocol::{Encoded, Packet, PacketKind, decode, encode_object, json_string};

/// What a recovered socket is sent once it joins: the missed packets the restore found, and
/// the offset they end at (what came after is asked for at the join).
type Replay = (Vec<EventPacket>, ByteString);

/// A packet whose attachments are still arriving.
struct Partial {
    packet: Packet,
    attachments: Vec<Bytes>,
}

#[derive(Default)]
struct State {
    /// The sockets it joined; one that left on the server's word is pruned when next seen.
    sockets: Vec<Socket>,
    connecting: Vec<ByteString>,
    partial: Option<Partial>,
    /// The connection closed: nothing joins any more.
    closed: bool,
}

impl State {
    /// `nsp` is no longer connecting. The list's allocation goes once it is empty: it lives
    /// as long as the connection, which is mostly done connecting.
    fn connected(&mut self, nsp: &str) {
        self.connecting.retain(|n| n != nsp);
        if self.connecting.is_empty() {
            self.connecting = Vec::new();
        }
    }
}

/// The connection's lifecycle lock is `state`: joining a namespace and the connection's close
/// are decided under it, so a connect finishing while the connection closes either joins
/// before the close (and leaves with it) or not at all.
pub(crate) struct Client {
    engine: EngineSocket,
    server: Arc<dyn Server>,
    registry: Arc<Registry>,
    state: Mutex<State>,
}

impl Client {
    pub(crate) fn new(
        engine: EngineSocket,
        server: Arc<dyn Server>,
        registry: Arc<Registry>,
    ) -> Client {
        Client {
            engine,
            server,
            registry,
            state: Mutex::new(State::default()),
        }
    }

    /// The state, with the sockets that left pruned.
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.sockets.retain(Socket::connected);
        state
    }

    /// An Engine.IO message from this connection.
    pub(crate) fn on_message(self: &Arc<Self>, message: Message) {
        let complete = {
            let mut state = self.state();
            match (message, state.partial.take()) {
                (Message::Binary(data), Some(mut partial)) => {
                    partial.attachments.push(data);
                    if partial.attachments.len() < partial.packet.attachments {
                        state.partial = Some(partial);
                        return;
                    }
                    Some((partial.packet, partial.attachments))
                }
                (Message::Text(text), None) => match decode(text) {
                    Ok(packet) if packet.attachments > 0 => {
                        state.partial = Some(Partial {
                            attachments: Vec::with_capacity(packet.attachments),
                            packet,
                        });
                        return;
                    }
                    Ok(packet) => Some((packet, Vec::new())),
                    Err(err) => {
                        tracing::debug!(sid = %self.engine.sid(), %err, "invalid socket.io packet");
                        None
                    }
                },
                // Text while attachments are due, or binary with none due.
                _ => None,
            }
        };
        match complete {
            Some((packet, attachments)) => self.route(packet, attachments),
            None => self.engine.close_for(CloseReason::ParseError),
        }
    }

    fn socket(&self, nsp: &str) -> Option<Socket> {
        self.state().sockets.iter().find(|s| s.ns() == nsp).cloned()
    }

    fn route(self: &Arc<Self>, packet: Packet, attachments: Vec<Bytes>) {
        if packet.kind == PacketKind::Connect {
            return self.connect(packet);
        }
        let Some(socket) = self.socket(&packet.nsp) else {
            // Anything but CONNECT for a namespace not joined breaks the protocol.
            return self.engine.close_for(CloseReason::ParseError);
        };
        match packet.kind {
            PacketKind::Event | PacketKind::BinaryEvent => {
                let mut args = packet.args;
                if args.is_empty() {
                    return self.engine.close_for(CloseReason::ParseError);
                }
                let first = args.remove(0);
                // A string name unescaped, or a number as written.
                let name = json_string(&first).unwrap_or(first);
                socket.on_event(&name, args, attachments, packet.id);
            }
            PacketKind::Ack | PacketKind::BinaryAck => {
                if let Some(id) = packet.id {
                    socket.on_ack(id, packet.args, attachments);
                }
            }
            PacketKind::Disconnect => {
                let reason = DisconnectReason::ClientNamespaceDisconnect;
                // A tether.WebSocket's close(code, reason); anything else there breaks the
                // protocol.
                match packet.args.first().map(|json| facade::close_frame(json)) {
                    None => {
                        socket.leave_ns(reason);
                    }
                    Some(Ok(frame)) => {
                        socket.leave_ns_closing(reason, false, frame);
                    }
                    Some(Err(_)) => self.engine.close_for(CloseReason::ParseError),
                }
            }
            PacketKind::ConnectError | PacketKind::Connect => {}
        }
    }

    /// Sends a CONNECT_ERROR for `nsp`.
    fn connect_error(&self, nsp: &str, json: &str) {
        let reply = encode_object(PacketKind::ConnectError, nsp, Some(json));
        let _ = self.engine.send_frames(Encoded::text(reply).frames());
    }

    fn connect(self: &Arc<Self>, packet: Packet) {
        let nsp = packet.nsp;
        let config = self.server.config();
        if nsp.len() > config.max_namespace_len {
            return self.connect_error(&nsp, INVALID_NAMESPACE);
        }
        {
            let mut state = self.state();
            if state.closed {
                return;
            }
            if state.sockets.iter().any(|s| s.ns() == &*nsp) || state.connecting.contains(&nsp) {
                drop(state);
                // A second CONNECT to a namespace already joined: the reference closes.
                return self.engine.close_for(CloseReason::ParseError);
            }
            if state.sockets.len() + state.connecting.len() >= config.max_namespaces_per_connection
            {
                drop(state);
                return self.connect_error(&nsp, r#"{"message":"Too many namespaces"}"#);
            }
            state.connecting.push(nsp.clone());
        }
        let Some((ns, setup)) = self.registry.namespace_for_connect(&nsp) else {
            self.forget_connecting(&nsp);
            return self.connect_error(&nsp, INVALID_NAMESPACE);
        };
        let auth = packet
            .args
            .into_iter()
            .next()
            .unwrap_or_else(|| ByteString::from_static("{}"));
        if let Err(err) = facade::offer(&auth) {
            ns.stats.refused();
            self.forget_connecting(&nsp);
            let refusal = ConnectError::new(err.connect_error_message());
            return self.connect_error(&nsp, &refusal.to_json());
        }
        let Some((pid, offset)) = ns.recovery.as_ref().and_then(|_| recovery_auth(&auth)) else {
            let socket = Socket::new(ns.clone(), self.engine.clone(), self.server.clone(), auth);
            return self.run_middlewares(ns, setup, socket, None);
        };
        let mut restore = ns.adapter.restore_session(pid, offset);
        let restore = match (&mut restore).now_or_never() {
            Some(found) => found,
            None => {
                let client = self.clone();
                tokio::spawn(async move {
                    let found = restore.await;
                    client.recover(ns, setup, auth, pid, found);
                });
                return;
            }
        };
        self.recover(ns, setup, auth, pid, restore);
    }

    /// A reconnecting client's session was looked up: the socket takes it over, or starts
    /// afresh when it cannot be recovered.
    fn recover(
        self: &Arc<Self>,
        ns: Arc<Ns>,
        setup: NsSetup,
        auth: ByteString,
        pid: Sid,
        found: Result<Option<Restore>, AdapterError>,
    ) {
        let (engine, server) = (self.engine.clone(), self.server.clone());
        let (state, missed, through) = match found {
            Ok(Some(Restore::Disconnected {
                state,
                missed,
                through,
            })) => (state, missed, through),
            Ok(Some(Restore::Live { sid, through })) => match ns.socket(sid) {
                Some(old) if old.pid() == Some(pid) => {
                    let state = SessionState {
                        sid,
                        pid,
                        rooms: old.rooms(),
                        data: old.data_value(),
                    };
                    // Evicted before the new socket joins a room: they share an id.
                    old.evict();
                    (state, Vec::new(), through)
                }
                _ => {
                    let socket = Socket::new(ns.clone(), engine, server, auth);
                    return self.run_middlewares(ns, setup, socket, None);
                }
            },
            Ok(None) => {
                let socket = Socket::new(ns.clone(), engine, server, auth);
                return self.run_middlewares(ns, setup, socket, None);
            }
            Err(err) => {
                tracing::warn!(sid = %self.engine.sid(), ns = &*ns.path, %err, "session not recovered: the adapter failed");
                let socket = Socket::new(ns.clone(), engine, server, auth);
                return self.run_middlewares(ns, setup, socket, None);
            }
        };
        let socket = Socket::restored(ns.clone(), engine, server, auth, state);
        self.run_middlewares(ns, setup, socket, Some((missed, through)));
    }

    /// Runs the namespace's middleware (skipped for a recovered socket unless the server says
    /// otherwise), then connects the socket.
    fn run_middlewares(
        self: &Arc<Self>,
        ns: Arc<Ns>,
        setup: NsSetup,
        socket: Socket,
        replay: Option<Replay>,
    ) {
        if let Err(refusal) = socket.choose_protocol(setup.select_protocol.as_ref()) {
            return self.refuse(&ns, &socket, &refusal);
        }
        let skip = socket.recovered()
            && self
                .server
                .config()
                .connection_state_recovery
                .as_ref()
                .is_some_and(|r| r.skip_middlewares);
        if setup.middlewares.is_empty() || skip {
            return self.finish_connect(&ns, &setup, socket, replay);
        }
        let client = self.clone();
        tokio::spawn(async move {
            for middleware in &setup.middlewares {
                let verdict = AssertUnwindSafe(middleware(socket.clone()))
                    .catch_unwind()
                    .await;
                let refusal = match verdict {
                    Ok(Ok(())) => continue,
                    Ok(Err(err)) => err,
                    Err(panic) => {
                        let message = crate::panic::message(&*panic);
                        tracing::error!(socket = %socket.id(), ns = &*ns.path, panic = message, "middleware panicked");
                        ConnectError::new("Internal server error")
                    }
                };
                return client.refuse(&ns, &socket, &refusal);
            }
            client.finish_connect(&ns, &setup, socket, replay);
        });
    }

    fn refuse(&self, ns: &Ns, socket: &Socket, err: &ConnectError) {
        ns.stats.refused();
        // Rooms a middleware joined before refusing are left; later joins do nothing.
        socket.abandon();
        self.forget_connecting(&ns.path);
        self.connect_error(&ns.path, &err.to_json());
    }

    fn finish_connect(
        &self,
        ns: &Arc<Ns>,
        setup: &NsSetup,
        socket: Socket,
        replay: Option<Replay>,
    ) {
        {
            // With recovery on, joining and the replay happen in offset order with every
            // recorded emit of the namespace (see `Namespace::recovery`).
            let order = ns.order();
            let mut state = self.state();
            state.connected(&ns.path);
            if state.closed {
                drop(state);
                return socket.abandon();
            }
            // What a recovered socket missed: what the restore found, then what was stored
            // since, up to this moment.
            let missed = match replay {
                Some((mut missed, through)) => {
                    let Some(since) = ns.adapter.replay(&through, &socket.rooms()) else {
                        drop((state, order));
                        tracing::warn!(socket = %socket.id(), ns = &*ns.path, "recovery failed: missed packets were dropped meanwhile");
                        socket.abandon();
                        return self.engine.close_for(CloseReason::ServerClose);
                    };
                    missed.extend(since);
                    missed
                }
                None => Vec::new(),
            };
            let reply = connect_reply(&socket);
            let reply = encode_object(PacketKind::Connect, &ns.path, Some(&reply));
            if self
                .engine
                .send_frames(Encoded::text(reply).frames())
                .is_err()
                || !socket.joined()
            {
                drop(state);
                return socket.abandon();
            }
            state.sockets.push(socket.clone());
            drop(state);
            for packet in &missed {
                let encoded = packet.payload.encode_event(&ns.path, &packet.event, None);
                if socket.send(&encoded).is_err() {
                    tracing::warn!(socket = %socket.id(), ns = &*ns.path, "recovery: the missed packets do not fit the connection's outbox");
                    drop(order);
                    self.engine.abort(CloseReason::ProtocolViolation(
                        crate::engine::ProtocolViolation::SlowConsumer,
                    ));
                    return;
                }
            }
            drop(order);
        }
        self.registry.accepted(ns, setup);
        self.engine.set_close_deadline(None);
        tracing::debug!(sid = %self.engine.sid(), socket = %socket.id(), ns = &*ns.path, "socket connected");
        if let Some(observer) = socket.observer() {
            observer.observe(SocketEvent::Connected(&socket));
        }
        let ctx = EventCtx {
            args: vec![ByteString::from(socket.auth_raw())],
            socket,
            attachments: Vec::new(),
            ack_id: None,
            connect: true,
        };
        setup
            .on_connect
            .call(ctx, &ByteString::from_static("connection"));
    }

    fn forget_connecting(&self, nsp: &str) {
        self.state().connected(nsp);
    }

    /// The connection's sockets, one per namespace joined.
    pub(crate) fn sockets(&self) -> Vec<Socket> {
        self.state().sockets.clone()
    }

    /// Acknowledgements awaited from this connection's sockets.
    pub(crate) fn pending_acks(&self) -> usize {
        self.state().sockets.iter().map(Socket::pending_acks).sum()
    }

    /// Every socket of the connection leaves its namespace on the server's word (each gets a
    /// DISCONNECT), then the connection closes.
    pub(crate) fn disconnect_all_and_close(&self) {
        let sockets = self.state().sockets.clone();
        for socket in sockets {
            socket.disconnect();
        }
        self.engine.close();
    }

    /// The connection closed: every socket leaves with the matching reason, and nothing joins
    /// any more.
    pub(crate) fn on_close(&self, reason: CloseReason) {
        let sockets = {
            let mut state = self.state();
            state.closed = true;
            state.connecting.clear();
            state.partial = None;
            std::mem::take(&mut state.sockets)
        };
        let reason = DisconnectReason::from(reason);
        for socket in sockets {
            socket.leave_ns(reason);
        }
    }
}

/// The CONNECT reply's JSON: the socket id, the private id with recovery on, and for a
/// `tether.WebSocket` the subprotocol picked (`""` for none; a token, so no escaping).
fn connect_reply(socket: &Socket) -> String {
    let mut reply = format!(r#"{{"sid":"{}""#, socket.id());
    if let Some(pid) = socket.pid() {
        reply.push_str(&format!(r#","pid":"{pid}""#));
    }
    if socket.is_websocket_api() {
        let protocol = socket.protocol().unwrap_or("");
        reply.push_str(&format!(r#","protocol":"{protocol}""#));
    }
    reply.push('}');
    reply
}

const INVALID_NAMESPACE: &str = r#"{"message":"Invalid namespace"}"#;
