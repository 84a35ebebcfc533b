//! [`Engine`]: the table of sessions, the handler, the shared heartbeat ticker and handshakes.

use bytes::Bytes;
use dashmap::DashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;
use tokio::sync::Notify;

use super::close::CloseReason;
use super::config::EngineConfig;
use super::packet::Frame;
use super::request::{RequestError, TransportKind};
use super::session::{Message, Session};
use super::sid::Sid;
use super::socket::{EngineSocket, Handshake, Owner, now};

/// What an application does with raw Engine.IO sessions. Called from the transports' tasks:
/// keep each call short and hand long work to a task of your own.
pub trait EngineHandler: Send + Sync + 'static {
    /// A session opened.
    fn on_connect(&self, socket: EngineSocket);
    /// A message arrived, in order.
    fn on_message(&self, socket: &EngineSocket, message: Message);
    /// The session closed; called once per session, after its last `on_message`.
    fn on_disconnect(&self, socket: &EngineSocket, reason: CloseReason);

    /// Work under way that a graceful shutdown should let finish before closing sessions
    /// (Socket.IO: acknowledgements the server still awaits). Default: none.
    fn in_flight(&self) -> usize {
        0
    }
}

/// An Engine.IO server without HTTP: the transports in `tether-axum` (or your own) feed it
/// requests and WebSocket frames. Cloning is cheap and shares the same sessions.
pub struct Engine<H> {
    pub(crate) inner: Arc<Inner<H>>,
}

pub(crate) struct Inner<H> {
    pub(crate) config: EngineConfig,
    pub(crate) handler: H,
    sessions: DashMap<Sid, EngineSocket>,
    ticker_started: AtomicBool,
    shutting_down: AtomicBool,
    emptied: Notify,
}

impl<H> Clone for Engine<H> {
    fn clone(&self) -> Self {
        Engine {
            inner: self.inner.clone(),
        }
    }
}

impl<H> fmt::Debug for Engine<H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Engine")
            .field("config", &self.inner.config)
            .field("sessions", &self.inner.sessions.len())
            .finish_non_exhaustive()
    }
}

impl<H: EngineHandler> Owner for Inner<H> {
    fn closed(&self, socket: &EngineSocket, reason: Option<CloseReason>, remove: bool) {
        if let Some(reason) = reason {
            tracing::debug!(sid = %socket.sid(), %reason, "session closed");
            self.handler.on_disconnect(socket, reason);
        }
        if remove {
            self.sessions
                .remove_if(&socket.sid(), |_, s| s.ptr_eq(socket));
            if self.sessions.is_empty() {
                self.emptied.notify_waiters();
            }
        }
    }
}

impl<H: EngineHandler> Engine<H> {
    /// An engine with these settings and this handler.
    pub fn new(config: EngineConfig, handler: H) -> Engine<H> {
        Engine {
            inner: Arc::new(Inner {
                config,
                handler,
                sessions: DashMap::new(),
                ticker_started: AtomicBool::new(false),
                shutting_down: AtomicBool::new(false),
                emptied: Notify::new(),
            }),
        }
    }

    /// The settings.
    pub fn config(&self) -> &EngineConfig {
        &self.inner.config
    }

    /// The handler.
    pub fn handler(&self) -> &H {
        &self.inner.handler
    }

    /// How many sessions are open (or flushing their close).
    pub fn session_count(&self) -> usize {
        self.inner.sessions.len()
    }

    /// The session with this id, if it is open.
    pub fn socket(&self, sid: Sid) -> Option<EngineSocket> {
        self.inner.sessions.get(&sid).map(|s| s.value().clone())
    }

    pub(crate) fn session(&self, sid: Sid) -> Result<EngineSocket, RequestError> {
        self.socket(sid).ok_or(RequestError::UnknownSid)
    }

    /// Checks that a new session may open (used before accepting a WebSocket handshake).
    pub fn check_capacity(&self) -> Result<(), RequestError> {
        if self.inner.shutting_down.load(Ordering::Acquire) {
            return Err(RequestError::ShuttingDown);
        }
        if self.inner.sessions.len() >= self.inner.config.max_sessions {
            return Err(RequestError::TooManySessions);
        }
        Ok(())
    }

    /// Opens a session and returns it with its `open` packet. The handler's `on_connect` runs
    /// after the caller has written that packet: call [`Engine::connected`].
    pub(crate) fn open(
        &self,
        transport: TransportKind,
        handshake: Handshake,
    ) -> Result<(EngineSocket, Frame), RequestError> {
        self.check_capacity()?;
        self.start_ticker();
        let sid = Sid::random();
        let session = Session::new(transport, &self.inner.config, now());
        let owner: Weak<dyn Owner> = Arc::downgrade(&self.inner) as Weak<dyn Owner>;
        let socket = EngineSocket::new(sid, session, handshake, owner);
        self.inner.sessions.insert(sid, socket.clone());
        let frame = Frame::Text(open_packet(sid, transport, &self.inner.config).into());
        tracing::debug!(%sid, transport = transport.as_str(), "session opened");
        Ok((socket, frame))
    }

    /// Tells the handler a session opened.
    pub(crate) fn connected(&self, socket: &EngineSocket) {
        self.inner.handler.on_connect(socket.clone());
    }

    /// Opens a polling session: the body of the handshake response.
    pub fn polling_handshake(&self, handshake: Handshake) -> Result<Bytes, RequestError> {
        let (socket, frame) = self.open(TransportKind::Polling, handshake)?;
        self.connected(&socket);
        Ok(match frame {
            Frame::Text(s) => s.into_bytes(),
            Frame::Binary(b) => b,
        })
    }

    /// Shuts down gracefully within `deadline`: new handshakes are refused (503), work in
    /// flight (the handler's [`EngineHandler::in_flight`], e.g. awaited acks) gets up to half
    /// the deadline to finish, then every session is closed with reason "server shutting
    /// down" after flushing what it has queued. Returns how many sessions were still open when
    /// the deadline passed (0 when all closed cleanly).
    pub async fn shutdown(&self, deadline: Duration) -> usize {
        let end = tokio::time::Instant::now() + deadline;
        self.inner.shutting_down.store(true, Ordering::Release);
        let drain_until = tokio::time::Instant::now() + deadline / 2;
        while self.inner.handler.in_flight() > 0 && tokio::time::Instant::now() < drain_until {
            tokio::time::sleep(self.inner.config.tick().min(Duration::from_millis(20))).await;
        }
        let sockets: Vec<EngineSocket> = self
            .inner
            .sessions
            .iter()
            .map(|s| s.value().clone())
            .collect();
        for socket in &sockets {
            socket.close_with(CloseReason::ServerShutdown);
        }
        let wait = async {
            loop {
                let emptied = self.inner.emptied.notified();
                if self.inner.sessions.is_empty() {
                    return;
                }
                emptied.await;
            }
        };
        let _ = tokio::time::timeout_at(end, wait).await;
        self.inner.sessions.len()
    }

    /// Starts the one ticker that drives every session's deadlines, on first use.
    fn start_ticker(&self) {
        if self.inner.ticker_started.swap(true, Ordering::AcqRel) {
            return;
        }
        let weak = Arc::downgrade(&self.inner);
        let period = self.inner.config.tick();
        tokio::spawn(async move {
            let mut interval = tokio::time::interval(period);
            interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut batch: Vec<EngineSocket> = Vec::new();
            loop {
                interval.tick().await;
                let Some(inner) = weak.upgrade() else { return };
                batch.extend(inner.sessions.iter().map(|s| s.value().clone()));
                drop(inner);
                let now = now();
                for socket in batch.drain(..) {
                    socket.with_session(|s| {
                        if s.next_deadline().is_some_and(|d| d <= now) {
                            s.tick(now);
                        }
                    });
                }
            }
        });
    }
}

/// The JSON of the `open` packet, with exactly the five keys the protocol names.
fn open_packet(sid: Sid, transport: TransportKind, config: &EngineConfig) -> String {
    let upgrades =
        if transport == TransportKind::Polling && config.allow_upgrades && config.websocket {
            r#"["websocket"]"#
        } else {
            "[]"
        };
    format!(
        r#"0{{"sid":"{sid}","upgrades":{upgrades},"pingInterval":{},"pingTimeout":{},"maxPayload":{}}}"#,
        config.ping_interval.as_millis(),
        config.ping_timeout.as_millis(),
        config.max_payload
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_packet_has_exactly_the_five_keys() {
        let config = EngineConfig::default();
        let sid = Sid::random();
        let text = open_packet(sid, TransportKind::Polling, &config);
        assert!(text.starts_with('0'));
        let json: serde_json::Value = serde_json::from_str(&text[1..]).expect("json");
        let obj = json.as_object().expect("object");
        let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "maxPayload",
                "pingInterval",
                "pingTimeout",
                "sid",
                "upgrades"
            ]
        );
        assert_eq!(obj["sid"], sid.as_str());
        assert_eq!(obj["upgrades"], serde_json::json!(["websocket"]));
        assert_eq!(obj["pingInterval"], 25000);
        assert_eq!(obj["pingTimeout"], 20000);
        assert_eq!(obj["maxPayload"], 1_000_000);
        let ws = open_packet(sid, TransportKind::WebSocket, &config);
        assert!(ws.contains(r#""upgrades":[]"#));
        let no_up = open_packet(sid, TransportKind::Polling, &config.allow_upgrades(false));
        assert!(no_up.contains(r#""upgrades":[]"#));
    }
}
