//! The WebSocket transport: one task per connection, reader and writer multiplexed in one loop.
//! The HTTP framework supplies the connection through [`WsConnection`].

use bytes::Bytes;
use futures_util::FutureExt;
use std::collections::VecDeque;
use std::future::Future;
use std::time::Duration;
use tokio::time::timeout;
use tracing::Instrument;

use super::close::CloseReason;
use super::packet::{Frame, Packet, decode_text_bytes};
use super::request::{RequestError, TransportKind};
use super::server::{Engine, EngineHandler};
use super::session::{Session, UpgradeId, UpgradeStep};
use super::sid::Sid;
use super::socket::{EngineSocket, Handshake, now};

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
    /// a new session may proceed, so a refusal is a plain HTTP error. A WebSocket for a known
    /// session that cannot be upgraded now (it is on WebSocket already, another WebSocket is
    /// upgrading it, it is closing) is accepted and then closed, as the reference server does:
    /// the client sees a WebSocket close, and the session is left as it was.
    pub fn check_websocket(
        &self,
        sid: Option<Sid>,
        remote: Option<std::net::SocketAddr>,
    ) -> Result<(), RequestError> {
        match sid {
            None => self.check_capacity(remote),
            Some(sid) => self.session(sid).map(drop),
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
        let deadline = self.inner.config.write_timeout;
        // Out of its box at once: a box moved out of is freed only when its binding goes out
        // of scope, which for an argument is the end of the connection.
        let handshake = {
            let boxed = handshake;
            *boxed
        };
        let socket = match sid {
            None => {
                let Ok((socket, open)) = self.open(TransportKind::WebSocket, handshake) else {
                    return closed(conn, deadline).await;
                };
                // Boxed, as every write path below is: the future of this function lives as
                // long as the connection and is as large as its largest state, so what runs
                // only now and then waits on the heap, for the time it runs.
                let sent = Box::pin(timeout(deadline, async {
                    conn.send(open).await?;
                    conn.flush().await
                }))
                .await;
                if !matches!(sent, Ok(Ok(()))) {
                    socket.close_with(CloseReason::TransportError);
                    // `on_connect` still runs, then the close is reported: the handler always
                    // hears of a session it is told has closed.
                    self.connected(&socket);
                    return;
                }
                self.connected(&socket);
                socket
            }
            Some(sid) => {
                drop(handshake); // the polling request that opened the session made its own
                let Ok(socket) = self.session(sid) else {
                    return closed(conn, deadline).await;
                };
                let Ok(id) = socket.with_session(|s| s.upgrade_begin(now())) else {
                    // Already upgraded, upgrading or closing: this WebSocket only is closed.
                    return closed(conn, deadline).await;
                };
                if !Box::pin(upgrade(&socket, id, &mut conn, deadline)).await {
                    socket.with_session(|s| s.abort_upgrade(id));
                    return closed(conn, deadline).await;
                }
                socket
            }
        };
        let span = tracing::debug_span!("session", sid = %socket.sid(), transport = "websocket");
        self.drive(&socket, conn).instrument(span).await;
    }

    /// The main loop: write what the session queued, read what the peer sends. Every write
    /// races the session's close and the write deadline, so a peer that stops reading cannot
    /// keep this task, its connection and its buffers alive after its session has ended.
    async fn drive<C: WsConnection>(&self, socket: &EngineSocket, mut conn: C) {
        let deadline = self.inner.config.write_timeout;
        loop {
            let (batch, open) = socket.with_session(|s| (s.take_outbox(), s.is_open()));
            if !batch.is_empty() {
                let written = Box::pin(write_batch(socket, &mut conn, batch, deadline)).await;
                if let Err(reason) = written {
                    // The connection is dropped unflushed: its peer is gone or not reading.
                    return socket.close_with(reason);
                }
                // The writes may have taken the wake-ups of frames queued meanwhile: look at
                // the outbox again before waiting.
                continue;
            }
            if !open {
                return closed(conn, deadline).await;
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
                        let _ = Box::pin(timeout(deadline, conn.close(Some(CLOSE_TOO_BIG)))).await;
                        return;
                    }
                    WsEvent::Closed => return socket.close_with(CloseReason::TransportClose),
                    WsEvent::Error => return socket.close_with(CloseReason::TransportError),
                },
            }
        }
    }

    fn deliver(&self, socket: &EngineSocket, packet: Packet) {
        if let Some(message) = socket.with_session(|s| s.receive(packet, now())) {
            self.deliver_message(socket, message, TransportKind::WebSocket);
        }
    }
}

/// Sends a close frame (within the write deadline) and ends the connection. Boxed (see
/// [`Engine::run_websocket`]): the connection's future stays the size of its idle state.
async fn closed<C: WsConnection>(conn: C, deadline: Duration) {
    let _ = Box::pin(timeout(deadline, conn.close(None))).await;
}

/// Writes a batch, lets the tasks that are queueing (a broadcast to many sockets) run once,
/// writes what they added, and flushes it all: one system call for the burst. Then the
/// session's outbox bound releases those bytes.
async fn write_batch<C: WsConnection>(
    socket: &EngineSocket,
    conn: &mut C,
    batch: VecDeque<Frame>,
    deadline: Duration,
) -> Result<(), CloseReason> {
    write(socket, conn, batch, deadline).await?;
    tokio::task::yield_now().await;
    let more = socket.with_session(Session::take_outbox);
    write(socket, conn, more, deadline).await?;
    guarded(socket, conn.flush(), deadline).await?;
    socket.with_session(Session::written);
    Ok(())
}

/// Writes frames without flushing them, each write guarded.
async fn write<C: WsConnection>(
    socket: &EngineSocket,
    conn: &mut C,
    frames: VecDeque<Frame>,
    deadline: Duration,
) -> Result<(), CloseReason> {
    for frame in frames {
        guarded(socket, conn.send(frame), deadline).await?;
    }
    Ok(())
}

/// Runs one write: it fails after `deadline`, or as soon as the session closes for a reason
/// that makes writing pointless (the peer is gone or not reading; see
/// [`CloseReason::flushes`]). A server close lets the write go on, within the deadline.
async fn guarded<F: Future<Output = Result<(), ()>>>(
    socket: &EngineSocket,
    op: F,
    deadline: Duration,
) -> Result<(), CloseReason> {
    let mut op = std::pin::pin!(op);
    // Most writes complete at once (into the connection's buffer): those need no timer. A
    // timer costs a clock read and the runtime handle (shared by every connection's task),
    // once per frame of every recipient of a broadcast.
    if let Some(done) = (&mut op).now_or_never() {
        return done.map_err(|()| CloseReason::TransportError);
    }
    let mut expiry = std::pin::pin!(tokio::time::sleep(deadline));
    loop {
        tokio::select! {
            biased;
            done = &mut op => return done.map_err(|()| CloseReason::TransportError),
            () = &mut expiry => return Err(CloseReason::WriteTimeout),
            () = socket.0.ws_wake.notified() => {
                if let Some(reason) = socket.with_session(|s| s.close_reason())
                    && !reason.flushes()
                {
                    return Err(reason);
                }
            }
        }
    }
}

/// Runs the probe on an upgrading WebSocket; true once the session has moved onto it.
async fn upgrade<C: WsConnection>(
    socket: &EngineSocket,
    id: UpgradeId,
    conn: &mut C,
    deadline: Duration,
) -> bool {
    loop {
        tokio::select! {
            () = socket.0.ws_wake.notified() => {
                if !socket.with_session(|s| s.is_upgrading(id)) {
                    return false;
                }
            }
            event = conn.recv() => {
                let packet = match event {
                    WsEvent::Text(bytes) => decode_text_bytes(bytes).ok(),
                    _ => None,
                };
                let step = match packet {
                    Some(packet) => socket.with_session(|s| s.upgrade_packet(id, &packet, now())),
                    None => UpgradeStep::Abort,
                };
                match step {
                    UpgradeStep::SendProbeReply => {
                        let reply = Frame::encode(&Packet::Pong { probe: true });
                        let sent = timeout(deadline, async {
                            conn.send(reply).await?;
                            conn.flush().await
                        })
                        .await;
                        if !matches!(sent, Ok(Ok(()))) {
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
