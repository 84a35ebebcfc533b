//! One Engine.IO connection seen from Socket.IO: which namespaces it joined, the binary packet
//! it is assembling, and the routing of every packet it sends.

use bytes::Bytes;
use bytestring::ByteString;
use std::sync::{Arc, Mutex};

use super::emit::ConnectError;
use super::extract::EventCtx;
use super::io::IoInner;
use super::namespace::Namespace;
use super::packet::{Packet, PacketKind, decode, encode_object, json_string};
use super::payload::Encoded;
use super::reason::DisconnectReason;
use super::socket::Socket;
use crate::engine::{CloseReason, EngineSocket, Message};

/// A packet whose attachments are still arriving.
struct Partial {
    packet: Packet,
    attachments: Vec<Bytes>,
}

#[derive(Default)]
struct State {
    sockets: Vec<Socket>,
    connecting: Vec<ByteString>,
    partial: Option<Partial>,
}

pub(crate) struct Client {
    engine: EngineSocket,
    state: Mutex<State>,
}

impl Client {
    pub(crate) fn new(engine: EngineSocket) -> Client {
        Client {
            engine,
            state: Mutex::new(State::default()),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// An Engine.IO message from this connection.
    pub(crate) fn on_message(self: &Arc<Self>, io: &Arc<IoInner>, message: Message) {
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
            Some((packet, attachments)) => self.route(io, packet, attachments),
            None => self.engine.close_for(CloseReason::ParseError),
        }
    }

    fn socket(&self, nsp: &str) -> Option<Socket> {
        self.state().sockets.iter().find(|s| s.ns() == nsp).cloned()
    }

    fn route(self: &Arc<Self>, io: &Arc<IoInner>, packet: Packet, attachments: Vec<Bytes>) {
        if packet.kind == PacketKind::Connect {
            return self.connect(io, packet);
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
                self.forget(socket.ns());
                socket.leave_ns(DisconnectReason::ClientNamespaceDisconnect);
            }
            PacketKind::ConnectError | PacketKind::Connect => {}
        }
    }

    fn connect(self: &Arc<Self>, io: &Arc<IoInner>, packet: Packet) {
        let nsp = packet.nsp;
        {
            let mut state = self.state();
            if state.sockets.iter().any(|s| s.ns() == &*nsp) || state.connecting.contains(&nsp) {
                drop(state);
                // A second CONNECT to a namespace already joined: the reference closes.
                return self.engine.close_for(CloseReason::ParseError);
            }
            state.connecting.push(nsp.clone());
        }
        let Some(ns) = io.namespace(&nsp) else {
            self.forget_connecting(&nsp);
            let reply = encode_object(
                PacketKind::ConnectError,
                &nsp,
                Some(r#"{"message":"Invalid namespace"}"#),
            );
            let _ = self.engine.send_frames(Encoded::text(reply).frames());
            return;
        };
        let auth = packet
            .args
            .into_iter()
            .next()
            .unwrap_or_else(|| ByteString::from_static("{}"));
        let socket = Socket::new(ns.clone(), self.engine.clone(), io.clone(), auth);
        if ns.setup.middlewares.is_empty() {
            return self.finish_connect(&ns, socket);
        }
        let client = self.clone();
        tokio::spawn(async move {
            for middleware in &ns.setup.middlewares {
                if let Err(err) = middleware(socket.clone()).await {
                    // A middleware may have joined rooms before refusing.
                    ns.adapter.remove_all(socket.id());
                    client.refuse(&ns, &err);
                    return;
                }
            }
            client.finish_connect(&ns, socket);
        });
    }

    fn refuse(&self, ns: &Namespace, err: &ConnectError) {
        self.forget_connecting(&ns.path);
        let reply = encode_object(PacketKind::ConnectError, &ns.path, Some(&err.to_json()));
        let _ = self.engine.send_frames(Encoded::text(reply).frames());
    }

    fn finish_connect(&self, ns: &Arc<Namespace>, socket: Socket) {
        {
            let mut state = self.state();
            state.connecting.retain(|n| n != &ns.path);
            state.sockets.push(socket.clone());
        }
        let reply = format!(r#"{{"sid":"{}"}}"#, socket.id());
        let reply = encode_object(PacketKind::Connect, &ns.path, Some(&reply));
        if self
            .engine
            .send_frames(Encoded::text(reply).frames())
            .is_err()
        {
            self.forget(&ns.path);
            return;
        }
        self.engine.set_close_deadline(None);
        socket.joined();
        let ctx = EventCtx {
            args: vec![ByteString::from(socket.auth_raw())],
            socket,
            attachments: Vec::new(),
            ack_id: None,
        };
        ns.setup
            .on_connect
            .call(ctx, &ByteString::from_static("connection"));
    }

    fn forget_connecting(&self, nsp: &str) {
        self.state().connecting.retain(|n| n != nsp);
    }

    /// Drops the socket of namespace `nsp` from this connection (it left).
    pub(crate) fn forget(&self, nsp: &str) {
        self.state().sockets.retain(|s| s.ns() != nsp);
    }

    /// Acknowledgements awaited from this connection's sockets.
    pub(crate) fn pending_acks(&self) -> usize {
        self.state().sockets.iter().map(Socket::pending_acks).sum()
    }

    /// The connection closed: every socket leaves with the matching reason.
    pub(crate) fn on_close(&self, reason: CloseReason) {
        let sockets = std::mem::take(&mut self.state().sockets);
        let reason = DisconnectReason::from(reason);
        for socket in sockets {
            socket.leave_ns(reason);
        }
    }
}
