//! [`EngineSocket`]: the shared handle of one session, used by its transports and by the user.
//!
//! It wraps the sans-IO [`Session`] in a mutex that is never held across an `.await`, with two
//! wakers (the held long-poll and the WebSocket task). Every call on the session goes through
//! [`EngineSocket::with_session`], which applies the session's [`Effects`] after the lock is
//! released: wake a transport, tell the handler the session closed, drop it from the table.
//! Sends take a shorter way with the same effects (`EngineSocket::queue`): a send moves no
//! deadline, so it leaves the engine's deadline heap alone.

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Uri};
use std::fmt;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Instant, SystemTime};
use tokio::sync::Notify;

use super::close::CloseReason;
use super::packet::Frame;
use super::request::{RequestError, TransportKind};
use super::session::{Effects, SendError, Session};
use super::sid::Sid;
use super::stats::{EngineStats, SentTally, data_len};

/// What the client sent when it opened the session.
#[derive(Debug, Clone)]
pub struct Handshake {
    /// The request headers.
    pub headers: HeaderMap,
    /// The request URI (path and query).
    pub uri: Uri,
    /// The peer's address, when the server was started with connect info.
    pub remote_addr: Option<SocketAddr>,
    /// When the session opened.
    pub issued: SystemTime,
}

/// The most bytes of headers (names and values) and URI a handshake keeps for its session:
/// 32 KiB. A larger handshake is refused with 431 (`RequestError::HeadersTooLarge`).
pub const MAX_HANDSHAKE_BYTES: usize = 32 * 1024;

/// Headers of the WebSocket handshake itself, which say nothing about the client and are
/// not kept.
const TRANSPORT_HEADERS: [HeaderName; 5] = [
    http::header::CONNECTION,
    http::header::UPGRADE,
    http::header::SEC_WEBSOCKET_KEY,
    http::header::SEC_WEBSOCKET_VERSION,
    http::header::SEC_WEBSOCKET_EXTENSIONS,
];

impl Handshake {
    /// A handshake record for a request: its headers (but for the WebSocket handshake's own:
    /// `Connection`, `Upgrade`, `Sec-WebSocket-Key`, `-Version`, `-Extensions`), URI and peer
    /// address, at most [`MAX_HANDSHAKE_BYTES`] of them. Header values and the URI are copied
    /// into fresh allocations: an HTTP server hands out slices of its connection read buffer,
    /// and holding one would keep that whole buffer (8 KiB or more) alive as long as the
    /// session.
    pub fn new(
        headers: &HeaderMap,
        uri: &Uri,
        remote_addr: Option<SocketAddr>,
    ) -> Result<Handshake, RequestError> {
        let uri_text = uri.to_string();
        let kept = || {
            headers
                .iter()
                .filter(|(name, _)| !TRANSPORT_HEADERS.contains(name))
        };
        let size: usize = kept()
            .map(|(name, value)| name.as_str().len() + value.len())
            .sum();
        if uri_text.len() + size > MAX_HANDSHAKE_BYTES {
            return Err(RequestError::HeadersTooLarge);
        }
        let mut copy = HeaderMap::with_capacity(kept().count());
        for (name, value) in kept() {
            if let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(name.as_str().as_bytes()),
                HeaderValue::from_bytes(value.as_bytes()),
            ) {
                copy.append(name, value);
            }
        }
        Ok(Handshake {
            headers: copy,
            uri: Uri::try_from(uri_text).unwrap_or_default(),
            remote_addr,
            issued: SystemTime::now(),
        })
    }

    /// A query parameter of the opening request.
    pub fn query(&self, name: &str) -> Option<&str> {
        super::request::query_param(self.uri.query().unwrap_or(""), name)
    }
}

/// The engine as its sessions see it: told when a session closes, so it can be forgotten and
/// its handler told, and when a session's next deadline moves earlier.
pub(crate) trait Owner: Send + Sync {
    /// The session closed for `reason` (tell the handler) and/or may leave the table.
    fn closed(self: Arc<Self>, socket: &EngineSocket, reason: Option<CloseReason>, remove: bool);
    /// Session `sid` has something to do at `at`, earlier than anything it scheduled before.
    fn schedule(&self, sid: Sid, at: Instant);
    /// The session moved onto WebSocket.
    fn upgraded(&self, socket: &EngineSocket);
}

/// A session and the deadline it has in the engine's heap. The session first (`repr(C)`),
/// right behind the lock's word: see [`Session`] on its order.
#[repr(C)]
struct Slot {
    session: Session,
    scheduled: Option<Instant>,
}

impl Slot {
    /// The session's next deadline, if the heap must hear of it: it is earlier than the one
    /// scheduled (or none is).
    fn reschedule(&mut self) -> Option<Instant> {
        let next = self.session.next_deadline()?;
        if self.scheduled.is_some_and(|at| at <= next) {
            return None;
        }
        self.scheduled = Some(next);
        Some(next)
    }
}

/// What sends to a session touch comes first (`repr(C)`): the counters, the WebSocket
/// task's waker, then the lock and the session's hot fields, within three cache lines
/// (measured: the fields a send read were spread over six). No padding is added (624 bytes
/// either way).
#[repr(C)]
pub(crate) struct Shared {
    stats: Arc<EngineStats>,
    pub(crate) ws_wake: Notify,
    slot: Mutex<Slot>,
    pub(crate) poll_wake: Notify,
    owner: Weak<dyn Owner>,
    handshake: Handshake,
    sid: Sid,
}

/// One Engine.IO session as the user sees it: its id, transport and handshake; send text and
/// binary; close it. Cloning is cheap (an `Arc`).
#[derive(Clone)]
pub struct EngineSocket(pub(crate) Arc<Shared>);

impl EngineSocket {
    pub(crate) fn new(
        sid: Sid,
        session: Session,
        handshake: Handshake,
        owner: Weak<dyn Owner>,
        stats: Arc<EngineStats>,
    ) -> EngineSocket {
        EngineSocket(Arc::new(Shared {
            sid,
            slot: Mutex::new(Slot {
                session,
                scheduled: None,
            }),
            poll_wake: Notify::new(),
            ws_wake: Notify::new(),
            handshake,
            owner,
            stats,
        }))
    }

    /// The session id.
    pub fn sid(&self) -> Sid {
        self.0.sid
    }

    /// The opening request.
    pub fn handshake(&self) -> &Handshake {
        &self.0.handshake
    }

    /// The transport in use now.
    pub fn transport(&self) -> TransportKind {
        self.with_session(|s| s.transport())
    }

    /// Whether the session is still open.
    pub fn is_open(&self) -> bool {
        self.with_session(|s| s.is_open())
    }

    /// Whether a long-poll GET is held, waiting for something to send (a diagnostic: a
    /// polling client normally has one held between its requests).
    pub fn poll_held(&self) -> bool {
        self.with_session(|s| s.poll_held())
    }

    /// Bytes queued for the peer and not yet written.
    pub fn buffered_bytes(&self) -> usize {
        self.with_session(|s| s.buffered_bytes())
    }

    /// Sends a text message.
    pub fn send_text(&self, text: &str) -> Result<(), SendError> {
        self.send_frame(Frame::message(text))
    }

    /// Sends a binary message.
    pub fn send_binary(&self, data: impl Into<Bytes>) -> Result<(), SendError> {
        self.send_frame(Frame::binary(data.into()))
    }

    /// Sends an already encoded frame: the way to fan one encoding out to many sessions.
    pub fn send_frame(&self, frame: Frame) -> Result<(), SendError> {
        let bytes = data_len(&frame);
        let sent = self.queue(|s| s.send(frame));
        self.count(sent, 1, bytes)
    }

    /// Sends several frames as one unit, contiguous in the outbox, or none of them.
    pub fn send_frames(&self, frames: &[Frame]) -> Result<(), SendError> {
        let sent = self.queue(|s| s.send_all(frames));
        self.count(sent, frames.len(), frames.iter().map(data_len).sum())
    }

    /// [`EngineSocket::send_frames`], counted in `tally` rather than in the engine's counters
    /// at once: for a broadcast, whose recipients are counted together when it is done.
    pub fn send_frames_tallied(
        &self,
        frames: &[Frame],
        tally: &mut SentTally,
    ) -> Result<(), SendError> {
        match self.queue(|s| s.send_all(frames)) {
            Ok(transport) => {
                tally.add(&self.0.stats, transport, frames);
                Ok(())
            }
            Err(err) => self.count(Err(err), 0, 0),
        }
    }

    /// Runs a send on the session under its lock and applies its effects. A send moves no
    /// deadline (a session test holds it to that), so unlike [`EngineSocket::with_session`]
    /// it does not look at the deadline heap: every recipient of a broadcast comes this way,
    /// and the deadline read touched the session's colder fields.
    fn queue(
        &self,
        send: impl FnOnce(&mut Session) -> Result<(), SendError>,
    ) -> Result<TransportKind, SendError> {
        let (sent, effects) = {
            let mut slot = self.0.slot.lock().unwrap_or_else(|e| e.into_inner());
            let transport = slot.session.transport();
            let sent = send(&mut slot.session).map(|()| transport);
            (sent, slot.session.take_effects())
        };
        self.apply(effects);
        sent
    }

    /// Counts what a send queued, or a refusal for a full outbox.
    fn count(
        &self,
        sent: Result<TransportKind, SendError>,
        packets: usize,
        bytes: usize,
    ) -> Result<(), SendError> {
        match sent {
            Ok(transport) => {
                self.0.stats.sent(transport, packets, bytes);
                Ok(())
            }
            Err(err) => {
                if err == SendError::OutboxFull {
                    self.0.stats.refused_full();
                }
                Err(err)
            }
        }
    }

    /// Closes the session with `reason` at `at` unless called again with `None` first.
    pub fn set_close_deadline(&self, deadline: Option<(Instant, CloseReason)>) {
        self.with_session(|s| s.set_close_deadline(deadline));
    }

    /// Closes the session on the server's decision for `reason` (a layer above names its
    /// own, e.g. a Socket.IO parse error): what is queued is flushed first, and a polling
    /// client gets a `close` packet with its next poll.
    pub fn close_for(&self, reason: CloseReason) {
        self.with_session(|s| s.close_by_server(reason, now()));
    }

    /// Closes the session at once for `reason`, dropping what is queued: for a peer that is
    /// gone or not reading (a slow consumer), where flushing would only hold memory.
    pub fn abort(&self, reason: CloseReason) {
        self.close_with(reason);
    }

    /// Closes the session; what is queued is flushed first. The handler's `on_disconnect` is
    /// called with [`CloseReason::ServerClose`].
    pub fn close(&self) {
        self.close_for(CloseReason::ServerClose);
    }

    pub(crate) fn close_with(&self, reason: CloseReason) {
        self.with_session(|s| s.close(reason, now()));
    }

    /// Runs `f` on the session under its lock, then applies the effects with the lock released.
    pub(crate) fn with_session<R>(&self, f: impl FnOnce(&mut Session) -> R) -> R {
        self.with_slot(|slot| f(&mut slot.session))
    }

    /// The deadline this session scheduled at `at` has come (the ticker calls this at `now`):
    /// applies what is due, unless the entry is stale (the session scheduled another since).
    pub(crate) fn fire(&self, at: Instant, now: Instant) {
        self.with_slot(|slot| {
            if slot.scheduled == Some(at) {
                slot.scheduled = None;
                slot.session.tick(now);
            }
        });
    }

    fn with_slot<R>(&self, f: impl FnOnce(&mut Slot) -> R) -> R {
        let (result, effects, schedule) = {
            let mut slot = self.0.slot.lock().unwrap_or_else(|e| e.into_inner());
            let result = f(&mut slot);
            let effects = slot.session.take_effects();
            (result, effects, slot.reschedule())
        };
        if let Some(at) = schedule
            && let Some(owner) = self.0.owner.upgrade()
        {
            owner.schedule(self.0.sid, at);
        }
        self.apply(effects);
        result
    }

    fn apply(&self, effects: Effects) {
        if let Some(from) = effects.upgraded_from {
            self.0.stats.upgraded(from);
            tracing::debug!(sid = %self.0.sid, from = from.as_str(), "upgraded to websocket");
            if let Some(owner) = self.0.owner.upgrade() {
                owner.upgraded(self);
            }
        }
        if effects.wake_poll {
            self.0.poll_wake.notify_one();
        }
        if effects.wake_ws {
            self.0.ws_wake.notify_one();
        }
        if (effects.closed.is_some() || effects.remove)
            && let Some(owner) = self.0.owner.upgrade()
        {
            owner.closed(self, effects.closed, effects.remove);
        }
    }

    pub(crate) fn ptr_eq(&self, other: &EngineSocket) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl fmt::Debug for EngineSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EngineSocket")
            .field("sid", &self.0.sid)
            .finish_non_exhaustive()
    }
}

/// The engine's clock: tokio's, so tests can pause it.
pub(crate) fn now() -> Instant {
    tokio::time::Instant::now().into_std()
}

#[cfg(test)]
mod layout {
    use super::super::config::EngineConfig;
    use super::*;
    use std::mem::{offset_of, size_of};

    /// What a send touches (the counters' pointer, the WebSocket waker, the lock's word, the
    /// session's hot fields) spans at most 144 bytes from the start of `Shared`: three cache
    /// lines wherever the 16-byte-aligned allocation falls.
    #[test]
    fn what_a_send_touches_sits_in_three_cache_lines() {
        let session = Session::new(
            TransportKind::WebSocket,
            &EngineConfig::default(),
            Instant::now(),
        );
        let slot = Mutex::new(Slot {
            session,
            scheduled: None,
        });
        let data = {
            let guard = slot.lock().expect("a new lock is not poisoned");
            std::ptr::from_ref::<Slot>(&guard) as usize - std::ptr::from_ref(&slot) as usize
        };
        assert!(offset_of!(Shared, stats) + size_of::<Arc<EngineStats>>() <= 64);
        assert!(offset_of!(Shared, ws_wake) + size_of::<Notify>() <= 64);
        let hot_end = offset_of!(Shared, slot) + data + Session::hot_end();
        assert!(
            hot_end <= 3 * 64 - 48,
            "the hot fields end at byte {hot_end}"
        );
    }

    /// The order adds no padding: every idle connection holds one of each.
    #[test]
    #[cfg(target_pointer_width = "64")]
    fn the_order_costs_no_memory() {
        assert_eq!(size_of::<Session>(), 256);
        assert_eq!(size_of::<Shared>(), 624);
    }
}
