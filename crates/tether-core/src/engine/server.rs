//! [`Engine`]: the table of sessions, the handler, the shared heartbeat ticker and handshakes.

use bytes::Bytes;
use dashmap::DashMap;
use std::fmt;
use std::net::SocketAddr;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock, Weak};
use std::time::{Duration, Instant};
use tokio::runtime::Handle;
use tokio::sync::Notify;

use super::address::AddressKey;
use super::close::CloseReason;
use super::config::EngineConfig;
use super::deadlines::Deadlines;
use super::packet::Frame;
use super::request::{RequestError, TransportKind};
use super::session::{Message, Session};
use super::sid::{Sid, SidHash};
use super::socket::{EngineSocket, Handshake, Owner, now};
use super::stats::EngineStats;

/// What an application does with raw Engine.IO sessions.
///
/// The engine promises, for each session: `on_connect` first, then each `on_message` in order,
/// then `on_disconnect` once, after the last `on_message` has returned (also when the session
/// closes while a message is being handled). `on_connect` and `on_message` run on the
/// session's own transport task: keep them short and hand long work to a task of your own.
/// `on_disconnect` runs in a task of its own, never on the engine's shared heartbeat ticker.
/// A panic in `on_connect` or `on_message` is caught and logged and closes that session
/// (reason "handler panic"); a panic in `on_disconnect` is caught and logged.
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

    /// The session moved onto WebSocket (after its upgrade). Runs where the upgrade
    /// completed (the new WebSocket's task): keep it short. Default: nothing.
    fn on_upgrade(&self, _socket: &EngineSocket) {}

    /// The engine made with this handler hands it its counters, once. Default: ignored.
    fn attach(&self, _stats: Arc<EngineStats>) {}
}

/// An Engine.IO server without HTTP: the transports in `tether-axum` (or your own) feed it
/// requests and WebSocket frames. Cloning is cheap and shares the same sessions.
pub struct Engine<H> {
    pub(crate) inner: Arc<Inner<H>>,
}

pub(crate) struct Inner<H> {
    pub(crate) config: EngineConfig,
    pub(crate) handler: H,
    sessions: DashMap<Sid, EngineSocket, SidHash>,
    /// Sessions per remote address, when `max_sessions_per_address` is set.
    per_address: DashMap<AddressKey, usize>,
    /// Every session's next deadline, for the ticker.
    deadlines: Deadlines<Sid>,
    /// Woken when a deadline earlier than all others is scheduled (or the engine goes away).
    deadline_moved: Arc<Notify>,
    ticker_started: AtomicBool,
    /// The runtime the engine runs on, where disconnect handlers are spawned.
    runtime: OnceLock<Handle>,
    /// Disconnect handlers spawned and not finished.
    notifying: AtomicUsize,
    shutting_down: AtomicBool,
    /// Woken when the last session leaves or the last disconnect handler ends.
    emptied: Notify,
    /// The counters (sessions, upgrades, closes, packets and bytes).
    pub(crate) stats: Arc<EngineStats>,
    /// Sessions the ticker has visited (for tests of its cost).
    #[cfg(test)]
    visits: std::sync::atomic::AtomicU64,
}

impl<H> Drop for Inner<H> {
    fn drop(&mut self) {
        // The ticker holds only a weak reference: wake it so it sees the engine is gone.
        self.deadline_moved.notify_one();
    }
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

impl<H> Inner<H> {
    fn settled(&self) -> bool {
        self.sessions.is_empty() && self.notifying.load(Ordering::Acquire) == 0
    }

    /// The key a session from `addr` counts under, when sessions are counted per address.
    fn address_key(&self, addr: Option<SocketAddr>) -> Option<AddressKey> {
        self.config.max_sessions_per_address?;
        addr.map(|addr| AddressKey::of(addr.ip()))
    }

    /// Counts a new session from the handshake's address, or refuses it at the limit.
    fn count(&self, handshake: &Handshake) -> Result<(), RequestError> {
        let (Some(limit), Some(key)) = (
            self.config.max_sessions_per_address,
            self.address_key(handshake.remote_addr),
        ) else {
            return Ok(());
        };
        let mut count = self.per_address.entry(key).or_insert(0);
        if *count >= limit {
            return Err(RequestError::TooManySessionsFromAddress);
        }
        *count += 1;
        Ok(())
    }

    /// A counted session left the table.
    fn uncount(&self, handshake: &Handshake) {
        if let Some(key) = self.address_key(handshake.remote_addr) {
            self.per_address.remove_if_mut(&key, |_, count| {
                *count = count.saturating_sub(1);
                *count == 0
            });
        }
    }
}

impl<H: EngineHandler> Owner for Inner<H> {
    fn closed(self: Arc<Self>, socket: &EngineSocket, reason: Option<CloseReason>, remove: bool) {
        if remove {
            let removed = self
                .sessions
                .remove_if(&socket.sid(), |_, s| s.ptr_eq(socket))
                .is_some();
            if removed {
                self.uncount(socket.handshake());
            }
            if self.settled() {
                self.emptied.notify_waiters();
            }
        }
        let Some(reason) = reason else { return };
        self.stats.session_closed(socket.transport(), reason);
        // A limit or a broken rule is worth an operator's look; the rest is routine.
        match reason {
            CloseReason::MessageTooLarge
            | CloseReason::WriteTimeout
            | CloseReason::ProtocolViolation(_) => {
                tracing::warn!(sid = %socket.sid(), %reason, "session closed");
            }
            _ => tracing::debug!(sid = %socket.sid(), %reason, "session closed"),
        }
        // Never in the caller's context: that may be the shared ticker, or another session's
        // task (a broadcast closing a slow consumer). The handler's panic or blocking stays in
        // a task of its own.
        self.notifying.fetch_add(1, Ordering::AcqRel);
        let socket = socket.clone();
        let inner = self.clone();
        let notify = move || {
            let call = catch_unwind(AssertUnwindSafe(|| {
                inner.handler.on_disconnect(&socket, reason);
            }));
            if let Err(panic) = call {
                report_panic("on_disconnect", socket.sid(), panic.as_ref());
            }
            inner.notifying.fetch_sub(1, Ordering::AcqRel);
            if inner.settled() {
                inner.emptied.notify_waiters();
            }
        };
        match self.runtime.get() {
            Some(runtime) => drop(runtime.spawn(async move { notify() })),
            None => notify(),
        }
    }

    fn upgraded(&self, socket: &EngineSocket) {
        let call = catch_unwind(AssertUnwindSafe(|| self.handler.on_upgrade(socket)));
        if let Err(panic) = call {
            report_panic("on_upgrade", socket.sid(), panic.as_ref());
        }
    }

    fn schedule(&self, sid: Sid, at: Instant) {
        if self.deadlines.schedule(at, sid) {
            self.deadline_moved.notify_one();
        }
    }
}

/// Logs a panic caught in application code.
pub(crate) fn report_panic(what: &str, sid: Sid, panic: &(dyn std::any::Any + Send)) {
    let message = crate::panic::message(panic);
    tracing::error!(%sid, handler = what, panic = message, "handler panicked");
}

impl<H: EngineHandler> Engine<H> {
    /// An engine with these settings and this handler.
    pub fn new(config: EngineConfig, handler: H) -> Engine<H> {
        let stats: Arc<EngineStats> = Arc::default();
        handler.attach(stats.clone());
        Engine {
            inner: Arc::new(Inner {
                config,
                handler,
                sessions: DashMap::default(),
                per_address: DashMap::new(),
                deadlines: Deadlines::default(),
                deadline_moved: Arc::new(Notify::new()),
                ticker_started: AtomicBool::new(false),
                runtime: OnceLock::new(),
                notifying: AtomicUsize::new(0),
                shutting_down: AtomicBool::new(false),
                emptied: Notify::new(),
                stats,
                #[cfg(test)]
                visits: std::sync::atomic::AtomicU64::new(0),
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

    /// The counters: sessions by transport, upgrades, closes by reason, packets and bytes.
    pub fn stats(&self) -> &EngineStats {
        &self.inner.stats
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

    /// Checks that a new session may open, from `remote` if it is known (used before
    /// accepting a WebSocket handshake): not shutting down, under `max_sessions`, and under
    /// `max_sessions_per_address` for that address.
    pub fn check_capacity(&self, remote: Option<SocketAddr>) -> Result<(), RequestError> {
        if self.inner.shutting_down.load(Ordering::Acquire) {
            return Err(RequestError::ShuttingDown);
        }
        if self.inner.sessions.len() >= self.inner.config.max_sessions {
            return Err(RequestError::TooManySessions);
        }
        if let (Some(limit), Some(key)) = (
            self.inner.config.max_sessions_per_address,
            self.inner.address_key(remote),
        ) && self
            .inner
            .per_address
            .get(&key)
            .is_some_and(|n| *n >= limit)
        {
            return Err(RequestError::TooManySessionsFromAddress);
        }
        Ok(())
    }

    /// How many sessions the address `ip` holds, when `max_sessions_per_address` is set.
    pub fn sessions_from(&self, ip: std::net::IpAddr) -> usize {
        self.inner
            .per_address
            .get(&AddressKey::of(ip))
            .map_or(0, |n| *n)
    }

    /// Opens a session and returns it with its `open` packet. The handler's `on_connect` runs
    /// after the caller has written that packet: call [`Engine::connected`], always, also when
    /// writing failed (the session's close is reported after `on_connect`).
    pub(crate) fn open(
        &self,
        transport: TransportKind,
        handshake: Handshake,
    ) -> Result<(EngineSocket, Frame), RequestError> {
        self.check_capacity(handshake.remote_addr)?;
        self.inner.count(&handshake)?;
        self.start_ticker();
        let sid = Sid::random();
        let mut session = Session::new(transport, &self.inner.config, now());
        // `on_connect` counts as a delivery: a close before it has run is reported after it.
        session.delivering();
        let owner: Weak<dyn Owner> = Arc::downgrade(&self.inner) as Weak<dyn Owner>;
        let socket = EngineSocket::new(sid, session, handshake, owner, self.inner.stats.clone());
        self.inner.sessions.insert(sid, socket.clone());
        self.inner.stats.session_opened(transport);
        // Puts the first deadline (the first ping) in the ticker's heap.
        socket.with_session(|_| ());
        let frame = Frame::Text(open_packet(sid, transport, &self.inner.config).into());
        tracing::debug!(%sid, transport = transport.as_str(), "session opened");
        Ok((socket, frame))
    }

    /// Tells the handler a session opened (catching its panic), then lets a close that
    /// happened meanwhile be reported.
    pub(crate) fn connected(&self, socket: &EngineSocket) {
        let call = catch_unwind(AssertUnwindSafe(|| {
            self.inner.handler.on_connect(socket.clone());
        }));
        if let Err(panic) = call {
            report_panic("on_connect", socket.sid(), panic.as_ref());
            socket.close_with(CloseReason::HandlerPanic);
        }
        socket.with_session(Session::delivered);
    }

    /// Hands a message from [`Session::receive`] on `transport` to the handler (catching its
    /// panic), then reports it delivered.
    pub(crate) fn deliver_message(
        &self,
        socket: &EngineSocket,
        message: Message,
        transport: TransportKind,
    ) {
        let len = match &message {
            Message::Text(text) => text.len(),
            Message::Binary(data) => data.len(),
        };
        self.inner.stats.received(transport, len);
        let call = catch_unwind(AssertUnwindSafe(|| {
            self.inner.handler.on_message(socket, message);
        }));
        if let Err(panic) = call {
            report_panic("on_message", socket.sid(), panic.as_ref());
            socket.close_with(CloseReason::HandlerPanic);
        }
        socket.with_session(Session::delivered);
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
    /// down" after flushing what it has queued, and the disconnect handlers run. Returns how
    /// many sessions were still open when the deadline passed (0 when all closed cleanly).
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
                if self.inner.settled() {
                    return;
                }
                emptied.await;
            }
        };
        let _ = tokio::time::timeout_at(end, wait).await;
        self.inner.sessions.len()
    }

    /// Starts the one ticker that drives every session's deadlines, on first use. It sleeps
    /// until the earliest deadline in the heap and visits only the sessions that are due. It
    /// runs no application code (disconnect handlers are spawned), and a panic while visiting
    /// a session is caught, so it cannot die while the engine lives.
    fn start_ticker(&self) {
        if self.inner.ticker_started.swap(true, Ordering::AcqRel) {
            return;
        }
        let _ = self.inner.runtime.set(Handle::current());
        let weak = Arc::downgrade(&self.inner);
        let moved = self.inner.deadline_moved.clone();
        tokio::spawn(async move {
            loop {
                let next = match weak.upgrade() {
                    Some(inner) => inner.deadlines.next(),
                    None => return,
                };
                let Some(next) = next else {
                    moved.notified().await;
                    continue;
                };
                let wake = tokio::time::Instant::from_std(next);
                tokio::select! {
                    () = tokio::time::sleep_until(wake) => {}
                    () = moved.notified() => continue,
                }
                let Some(inner) = weak.upgrade() else { return };
                let now = now();
                for (at, sid) in inner.deadlines.pop_due(now) {
                    let Some(socket) = inner.sessions.get(&sid).map(|s| s.value().clone()) else {
                        continue;
                    };
                    #[cfg(test)]
                    inner.visits.fetch_add(1, Ordering::Relaxed);
                    let fired = catch_unwind(AssertUnwindSafe(|| socket.fire(at, now)));
                    if fired.is_err() {
                        tracing::error!(%sid, "panic in the heartbeat ticker; session closed");
                        socket.close_with(CloseReason::TransportError);
                    }
                }
            }
        });
    }
}

/// The JSON of the `open` packet, with exactly the five keys the protocol names.
fn open_packet(sid: Sid, transport: TransportKind, config: &EngineConfig) -> String {
    let upgrades =
        if transport != TransportKind::WebSocket && config.allow_upgrades && config.websocket {
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

    struct Quiet;
    impl EngineHandler for Quiet {
        fn on_connect(&self, _socket: EngineSocket) {}
        fn on_message(&self, _socket: &EngineSocket, _message: Message) {}
        fn on_disconnect(&self, _socket: &EngineSocket, _reason: CloseReason) {}
    }

    fn open_polling(engine: &Engine<Quiet>) {
        let uri = "/engine.io/?EIO=4&transport=polling".parse().expect("uri");
        let handshake = Handshake::new(&http::HeaderMap::new(), &uri, None).expect("fits");
        engine.polling_handshake(handshake).expect("handshake");
    }

    #[tokio::test(start_paused = true)]
    async fn the_ticker_visits_only_the_sessions_that_are_due() {
        let engine = Engine::new(EngineConfig::default(), Quiet);
        for _ in 0..1000 {
            open_polling(&engine);
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
        for _ in 0..10 {
            open_polling(&engine);
        }
        let visits = || engine.inner.visits.load(Ordering::Relaxed);
        // Nearly a whole ping interval with nothing due: no session was looked at.
        tokio::time::sleep(Duration::from_millis(23_900)).await;
        assert_eq!(visits(), 0);
        // The first thousand pings are due at 25 s, the other ten at 26 s.
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(visits(), 1000);
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert_eq!(visits(), 1010);
        assert_eq!(engine.session_count(), 1010);
    }

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
        let streaming = open_packet(sid, TransportKind::Streaming, &config);
        assert!(streaming.contains(r#""upgrades":["websocket"]"#));
        let ws = open_packet(sid, TransportKind::WebSocket, &config);
        assert!(ws.contains(r#""upgrades":[]"#));
        let no_up = open_packet(sid, TransportKind::Polling, &config.allow_upgrades(false));
        assert!(no_up.contains(r#""upgrades":[]"#));
    }
}
