//! The WebSocket transport: one task per connection, reader and writer multiplexed in one loop.
//! The HTTP framework supplies the connection through [`WsConnection`].

use bytes::Bytes;
use std::future::Future;

use super::close::CloseReason;
use super::packet::{Frame, Packet, decode_text_bytes};
use super::request::{RequestError, TransportKind};
use super::server::{Engine, EngineHandler};
use super::session::{Session, UpgradeStep};
use super::sid::Sid;
use super::socket::{EngineSocket, Handshake, now};
use std::collections::VecDeque;

/// What a WebSocket connection delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WsEvent {
    /// A text frame (its bytes, UTF-8 checked by the WebSocket layer).
    Text(Bytes),
    /// A binary frame.
    Binary(Bytes),
    /// A message larger than `maxPayload`.
    TooLarge,
    /// The peer closed the connection, or it ended.
    Closed,
    /// The connection failed.
    Error,
}

/// The WebSocket close code for a message that is too big.
pub const CLOSE_TOO_BIG: u16 = 1009;

/// A WebSocket connection as the engine needs it. Implemented by `tether-axum` for axum's
/// `WebSocket`; control frames (ping/pong/close) stay inside the implementation.
pub trait WsConnection: Send {
    /// The next data frame or the end of the connection. Must be cancel-safe.
    fn recv(&mut self) -> impl Future<Output = WsEvent> + Send;
    /// Writes a frame (it may stay buffered until [`WsConnection::flush`]).
    fn send(&mut self, frame: Frame) -> impl Future<Output = Result<(), ()>> + Send;
    /// Flushes written frames.
    fn flush(&mut self) -> impl Future<Output = Result<(), ()>> + Send;
    /// Sends a close frame (with a code, or none) and ends the connection.
    fn close(self, code: Option<u16>) -> impl Future<Output = ()> + Send;
}

impl<H: EngineHandler> Engine<H> {
    /// Checks, before accepting the HTTP upgrade, that a WebSocket for `sid` (an upgrade) or for
    /// a new session may proceed, so a refusal is a plain 400 rather than an opened socket.
    pub fn check_websocket(&self, sid: Option<Sid>) -> Result<(), RequestError> {
        match sid {
            None => self.check_capacity(),
            Some(sid) => {
                let socket = self.session(sid)?;
                socket.with_session(|s| {
                    if !s.is_open() {
                        Err(RequestError::UnknownSid)
                    } else if s.transport() != TransportKind::Polling || s.is_upgrading() {
                        Err(RequestError::BadRequest)
                    } else {
                        Ok(())
                    }
                })
            }
        }
    }

    /// Runs an accepted WebSocket to its end: a new session when `sid` is `None`, otherwise the
    /// upgrade of that polling session. The handshake comes boxed because this future lives as
    /// long as the connection and keeps its arguments for all of that time: pass a small `conn`
    /// too (a box around a large connection type).
    pub async fn run_websocket<C: WsConnection>(
        &self,
        mut conn: C,
        sid: Option<Sid>,
        handshake: Box<Handshake>,
    ) {
        let socket = match sid {
            None => {
                let Ok((socket, open)) = self.open(TransportKind::WebSocket, *handshake) else {
                    return conn.close(None).await;
                };
                if conn.send(open).await.is_err() || conn.flush().await.is_err() {
                    socket.close_with(CloseReason::TransportError);
                    return;
                }
                self.connected(&socket);
                socket
            }
            Some(sid) => {
                let Ok(socket) = self.session(sid) else {
                    return conn.close(None).await;
                };
                if socket.with_session(|s| s.upgrade_begin(now())).is_err()
                    || !upgrade(&socket, &mut conn).await
                {
                    socket.with_session(|s| s.abort_upgrade());
                    return conn.close(None).await;
                }
                socket
            }
        };
        self.drive(&socket, conn).await;
    }

    /// The main loop: write what the session queued, read what the peer sends.
    async fn drive<C: WsConnection>(&self, socket: &EngineSocket, mut conn: C) {
        loop {
            let (batch, open) = socket.with_session(|s| (s.take_outbox(), s.is_open()));
            if !batch.is_empty() {
                if write(&mut conn, batch).await.is_err() {
                    return socket.close_with(CloseReason::TransportError);
                }
                // Let the tasks that are queueing (a broadcast to many sockets) run once, then
                // take what they added: one flush, one system call, for all of it.
                tokio::task::yield_now().await;
                let more = socket.with_session(Session::take_outbox);
                if write(&mut conn, more).await.is_err() || conn.flush().await.is_err() {
                    return socket.close_with(CloseReason::TransportError);
                }
            }
            if !open {
                return conn.close(None).await;
            }
            tokio::select! {
                biased;
                () = socket.0.ws_wake.notified() => {}
                event = conn.recv() => match event {
                    WsEvent::Text(bytes) => match decode_text_bytes(bytes) {
                        Ok(packet) => self.deliver(socket, packet),
                        Err(_) => socket.with_session(|s| s.parse_error(now())),
                    },
                    WsEvent::Binary(data) => self.deliver(socket, Packet::Binary(data)),
                    WsEvent::TooLarge => {
                        socket.close_with(CloseReason::MessageTooLarge);
                        return conn.close(Some(CLOSE_TOO_BIG)).await;
                    }
                    WsEvent::Closed => return socket.close_with(CloseReason::TransportClose),
                    WsEvent::Error => return socket.close_with(CloseReason::TransportError),
                },
            }
        }
    }

    fn deliver(&self, socket: &EngineSocket, packet: Packet) {
        if let Some(message) = socket.with_session(|s| s.receive(packet, now())) {
            self.inner.handler.on_message(socket, message);
        }
    }
}

/// Writes frames without flushing them.
async fn write<C: WsConnection>(conn: &mut C, frames: VecDeque<Frame>) -> Result<(), ()> {
    for frame in frames {
        conn.send(frame).await?;
    }
    Ok(())
}

/// Runs the probe on an upgrading WebSocket; true once the session has moved onto it.
async fn upgrade<C: WsConnection>(socket: &EngineSocket, conn: &mut C) -> bool {
    loop {
        tokio::select! {
            () = socket.0.ws_wake.notified() => {
                if !socket.with_session(|s| s.is_upgrading()) {
                    return false;
                }
            }
            event = conn.recv() => {
                let packet = match event {
                    WsEvent::Text(bytes) => decode_text_bytes(bytes).ok(),
                    _ => None,
                };
                let step = match packet {
                    Some(packet) => socket.with_session(|s| s.upgrade_packet(&packet, now())),
                    None => UpgradeStep::Abort,
                };
                match step {
                    UpgradeStep::SendProbeReply => {
                        let reply = Frame::encode(&Packet::Pong { probe: true });
                        if conn.send(reply).await.is_err() || conn.flush().await.is_err() {
                            return false;
                        }
                    }
                    UpgradeStep::Upgraded => return true,
                    UpgradeStep::Abort => return false,
                }
            }
        }
    }
}
