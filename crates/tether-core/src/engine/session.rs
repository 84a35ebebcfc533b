//! The Engine.IO session as a sans-IO state machine.
//!
//! Every input (a decoded packet, a poll arriving, a poll dropped, "it is now `t`") is a method
//! call; every output is either a return value (a poll body, a message for the handler) or an
//! [`Effects`] record the IO layer collects after the call: whom to wake and whether the session
//! just closed. No clocks, tasks or sockets live here, so the tests drive it with plain instants.
//!
//! ```
//! use std::time::{Duration, Instant};
//! use tether_core::engine::{EngineConfig, Session, TransportKind, PollAnswer};
//! let t0 = Instant::now();
//! let config = EngineConfig::default()
//!     .ping_interval(Duration::from_millis(300))
//!     .ping_timeout(Duration::from_millis(200));
//! let mut s = Session::new(TransportKind::Polling, &config, t0);
//! // Nothing queued: the poll is held.
//! assert!(matches!(s.poll(t0), Ok(PollAnswer::Wait(_))));
//! // 300 ms later the ping is due and the held poll is woken.
//! s.tick(t0 + Duration::from_millis(300));
//! assert!(s.take_effects().wake_poll);
//! ```

use bytes::Bytes;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::close::{CloseReason, ProtocolViolation};
use super::config::EngineConfig;
use super::packet::{Frame, Packet, PacketKind};
use super::payload::encode_payload;
use super::request::{RequestError, TransportKind};

/// A message from the peer, for the handler.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A text message.
    Text(bytestring::ByteString),
    /// A binary message.
    Binary(Bytes),
}

/// Why a frame could not be queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// The session has closed.
    #[error("session closed")]
    Closed,
    /// The outbox holds `max_buffered_bytes` already: the peer is not reading fast enough.
    #[error("outbox full: the peer is not reading fast enough")]
    OutboxFull,
}

/// Identifies one held long-poll, so a late wake or drop of an old poll is told apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PollId(u64);

/// What to answer a long-poll GET with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PollAnswer {
    /// Answer 200 with this body now.
    Body(Bytes),
    /// Hold the request; call [`Session::poll_wake`] when woken, [`Session::poll_dropped`] if the
    /// client goes away first.
    Wait(PollId),
}

/// What happened during the last calls, for the IO layer to act on once the lock is released.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Effects {
    /// Wake the held long-poll, if any.
    pub wake_poll: bool,
    /// Wake the WebSocket task (the main transport or an upgrade in progress).
    pub wake_ws: bool,
    /// The session has just ended for this reason: tell the handler, once.
    pub closed: Option<CloseReason>,
    /// The session has nothing left to flush: drop it from the session table.
    pub remove: bool,
}

/// What an upgrading WebSocket must do after a packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpgradeStep {
    /// Send `3probe` on the new WebSocket.
    SendProbeReply,
    /// The session now runs on the WebSocket.
    Upgraded,
    /// The upgrade failed: close the new WebSocket; the polling session goes on.
    Abort,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Open,
    /// Closed by the server on polling with no poll held: wait for one to flush the outbox.
    Closing {
        until: Instant,
        reason: CloseReason,
    },
    Closed(CloseReason),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Heartbeat {
    PingAt(Instant),
    PongBy(Instant),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Upgrade {
    None,
    Probing { until: Instant, probed: bool },
}

/// One Engine.IO session: transport, heartbeat, upgrade, outbox and held poll.
#[derive(Debug)]
pub struct Session {
    transport: TransportKind,
    state: State,
    heartbeat: Heartbeat,
    upgrade: Upgrade,
    outbox: VecDeque<Frame>,
    outbox_bytes: usize,
    poll: Option<PollId>,
    next_poll: u64,
    posting: bool,
    close_deadline: Option<(Instant, CloseReason)>,
    ping_interval: Duration,
    ping_timeout: Duration,
    upgrade_timeout: Duration,
    max_payload: usize,
    max_buffered: usize,
    effects: Effects,
}

impl Session {
    /// A new open session on `transport`; its first ping is due `ping_interval` after `now`.
    pub fn new(transport: TransportKind, config: &EngineConfig, now: Instant) -> Session {
        Session {
            transport,
            state: State::Open,
            heartbeat: Heartbeat::PingAt(now + config.ping_interval),
            upgrade: Upgrade::None,
            outbox: VecDeque::new(),
            outbox_bytes: 0,
            poll: None,
            next_poll: 0,
            posting: false,
            close_deadline: None,
            ping_interval: config.ping_interval,
            ping_timeout: config.ping_timeout,
            upgrade_timeout: config.upgrade_timeout,
            max_payload: config.max_payload,
            max_buffered: config.max_buffered_bytes,
            effects: Effects::default(),
        }
    }

    /// The transport the session runs on.
    pub fn transport(&self) -> TransportKind {
        self.transport
    }

    /// Whether the session still accepts frames to send.
    pub fn is_open(&self) -> bool {
        self.state == State::Open
    }

    /// Why the session closed, once it has.
    pub fn close_reason(&self) -> Option<CloseReason> {
        match self.state {
            State::Closed(reason) | State::Closing { reason, .. } => Some(reason),
            State::Open => None,
        }
    }

    /// Bytes waiting in the outbox.
    pub fn buffered_bytes(&self) -> usize {
        self.outbox_bytes
    }

    /// Takes what the IO layer must do since the last call.
    pub fn take_effects(&mut self) -> Effects {
        std::mem::take(&mut self.effects)
    }

    /// Queues a frame for the peer.
    pub fn send(&mut self, frame: Frame) -> Result<(), SendError> {
        if self.state != State::Open {
            return Err(SendError::Closed);
        }
        if !self.outbox.is_empty() && self.outbox_bytes + frame.len() > self.max_buffered {
            return Err(SendError::OutboxFull);
        }
        self.push(frame);
        Ok(())
    }

    /// Queues several frames as one unit (a Socket.IO packet and its binary attachments): all
    /// of them, contiguous, or none.
    pub fn send_all(&mut self, frames: &[Frame]) -> Result<(), SendError> {
        if self.state != State::Open {
            return Err(SendError::Closed);
        }
        let size: usize = frames.iter().map(Frame::len).sum();
        if !self.outbox.is_empty() && self.outbox_bytes + size > self.max_buffered {
            return Err(SendError::OutboxFull);
        }
        for frame in frames {
            self.push(frame.clone());
        }
        Ok(())
    }

    /// Closes the session with `reason` at `at` unless cleared first (`None`): how the layer
    /// above sets a deadline such as Socket.IO's connect timeout without a timer of its own.
    pub fn set_close_deadline(&mut self, deadline: Option<(Instant, CloseReason)>) {
        self.close_deadline = deadline;
    }

    fn push(&mut self, frame: Frame) {
        self.outbox_bytes += frame.len();
        self.outbox.push_back(frame);
        self.wake_transport();
    }

    fn wake_transport(&mut self) {
        match self.transport {
            TransportKind::Polling => self.effects.wake_poll = true,
            TransportKind::WebSocket => self.effects.wake_ws = true,
        }
    }

    /// Takes every queued frame, for the WebSocket task to write.
    pub fn drain_outbox(&mut self, into: &mut Vec<Frame>) {
        into.extend(self.outbox.drain(..));
        self.outbox_bytes = 0;
    }

    /// Takes the whole outbox, its allocation included, so an idle session keeps no buffer.
    pub fn take_outbox(&mut self) -> VecDeque<Frame> {
        self.outbox_bytes = 0;
        std::mem::take(&mut self.outbox)
    }

    /// Applies every deadline that has passed by `now`: sends a due ping, closes on ping timeout,
    /// aborts a stalled upgrade, ends a close that waited too long for a poll.
    pub fn tick(&mut self, now: Instant) {
        match self.state {
            State::Open => {}
            State::Closing { until, .. } => {
                if now >= until {
                    self.finish_close();
                }
                return;
            }
            State::Closed(_) => return,
        }
        if let Heartbeat::PingAt(at) = self.heartbeat
            && now >= at
        {
            // Pings bypass the outbox limit: a heartbeat is never refused.
            self.push(Frame::bare(PacketKind::Ping));
            // Measured from when the ping was due, so a late tick never extends the session.
            self.heartbeat = Heartbeat::PongBy(at + self.ping_timeout);
        }
        if let Heartbeat::PongBy(by) = self.heartbeat
            && now >= by
        {
            self.close(CloseReason::PingTimeout, now);
            return;
        }
        if let Upgrade::Probing { until, .. } = self.upgrade
            && now >= until
        {
            self.abort_upgrade();
        }
        if let Some((at, reason)) = self.close_deadline
            && now >= at
        {
            self.close(reason, now);
        }
    }

    /// The earliest instant at which [`Session::tick`] has something to do.
    pub fn next_deadline(&self) -> Option<Instant> {
        match self.state {
            State::Open => {}
            State::Closing { until, .. } => return Some(until),
            State::Closed(_) => return None,
        }
        let mut next = match self.heartbeat {
            Heartbeat::PingAt(t) | Heartbeat::PongBy(t) => t,
        };
        if let Upgrade::Probing { until, .. } = self.upgrade {
            next = next.min(until);
        }
        if let Some((at, _)) = self.close_deadline {
            next = next.min(at);
        }
        Some(next)
    }

    /// Handles one packet from the peer on the main transport. A message is returned for the
    /// handler; anything else is absorbed here.
    pub fn receive(&mut self, packet: Packet, now: Instant) -> Option<Message> {
        self.tick(now);
        if self.state != State::Open {
            return None;
        }
        match packet {
            Packet::Message(text) => return Some(Message::Text(text)),
            Packet::Binary(data) => return Some(Message::Binary(data)),
            Packet::Pong { probe: false } => {
                self.heartbeat = Heartbeat::PingAt(now + self.ping_interval);
            }
            Packet::Close => self.close(CloseReason::ClientClose, now),
            Packet::Ping { .. } => self.close(
                CloseReason::ProtocolViolation(ProtocolViolation::ClientPing),
                now,
            ),
            // The reference ignores these on the main transport.
            Packet::Pong { probe: true } | Packet::Open(_) | Packet::Upgrade | Packet::Noop => {}
        }
        None
    }

    /// The peer sent bytes that do not parse.
    pub fn parse_error(&mut self, now: Instant) {
        self.close(CloseReason::ParseError, now);
    }

    /// Closes the session. When the server closes a polling session with no poll held, the
    /// outbox waits (up to `pingTimeout`) for the next poll to carry it and a `close` packet;
    /// everywhere else the close is at once and the transport flushes what is queued.
    pub fn close(&mut self, reason: CloseReason, now: Instant) {
        if self.state != State::Open {
            // Already closed, or a server close already waits for a poll to flush it.
            return;
        }
        self.effects.closed = Some(reason);
        let wait_for_poll = self.transport == TransportKind::Polling
            && self.poll.is_none()
            && matches!(
                reason,
                CloseReason::ServerClose | CloseReason::ServerShutdown
            );
        if wait_for_poll {
            self.state = State::Closing {
                until: now + self.ping_timeout,
                reason,
            };
        } else {
            self.state = State::Closed(reason);
            self.effects.remove = true;
        }
        self.effects.wake_poll = true;
        self.effects.wake_ws = true;
    }

    fn finish_close(&mut self) {
        if let State::Closing { reason, .. } = self.state {
            self.state = State::Closed(reason);
            self.effects.remove = true;
        }
    }

    /// A long-poll GET arrived.
    pub fn poll(&mut self, now: Instant) -> Result<PollAnswer, RequestError> {
        self.tick(now);
        match self.state {
            State::Closed(_) => return Err(RequestError::UnknownSid),
            State::Closing { .. } => return Ok(PollAnswer::Body(self.flush_and_close())),
            State::Open => {}
        }
        if self.transport != TransportKind::Polling {
            return Err(RequestError::BadRequest);
        }
        if self.poll.is_some() {
            self.close(
                CloseReason::ProtocolViolation(ProtocolViolation::DuplicatePoll),
                now,
            );
            return Err(RequestError::BadRequest);
        }
        if let Some(body) = self.ready_body() {
            return Ok(PollAnswer::Body(body));
        }
        let id = PollId(self.next_poll);
        self.next_poll += 1;
        self.poll = Some(id);
        Ok(PollAnswer::Wait(id))
    }

    /// The held poll `id` was woken: answer it, or keep holding it.
    pub fn poll_wake(&mut self, id: PollId, now: Instant) -> PollAnswer {
        self.tick(now);
        if self.poll != Some(id) {
            // Not the held poll (never happens through the drivers): answer with a noop.
            return PollAnswer::Body(Bytes::from_static(b"6"));
        }
        let body = match self.state {
            State::Closed(CloseReason::ClientClose) => Bytes::from_static(b"6"),
            State::Closed(_) | State::Closing { .. } => self.flush_and_close(),
            State::Open if self.transport == TransportKind::WebSocket => Bytes::from_static(b"6"),
            State::Open => match self.ready_body() {
                Some(body) => body,
                None => return PollAnswer::Wait(id),
            },
        };
        self.poll = None;
        PollAnswer::Body(body)
    }

    /// The client went away while poll `id` was held: "poll connection closed prematurely".
    pub fn poll_dropped(&mut self, id: PollId, now: Instant) {
        if self.poll == Some(id) {
            self.poll = None;
            self.close(CloseReason::TransportClose, now);
        }
    }

    fn ready_body(&mut self) -> Option<Bytes> {
        if !self.outbox.is_empty() {
            let (body, taken) = encode_payload(&mut self.outbox, self.max_payload);
            self.outbox_bytes -= taken;
            return Some(body);
        }
        // While a WebSocket probe is under way, complete polls at once so the client can pause.
        matches!(self.upgrade, Upgrade::Probing { probed: true, .. })
            .then(|| Bytes::from_static(b"6"))
    }

    fn flush_and_close(&mut self) -> Bytes {
        self.outbox.push_back(Frame::bare(PacketKind::Close));
        let (body, _) = encode_payload(&mut self.outbox, usize::MAX);
        self.outbox_bytes = 0;
        if let State::Closing { reason, .. } = self.state {
            self.state = State::Closed(reason);
        }
        self.effects.remove = true;
        body
    }

    /// A POST starts. Two at once break the protocol and close the session.
    pub fn post_begin(&mut self, now: Instant) -> Result<(), RequestError> {
        self.tick(now);
        if self.state != State::Open {
            return Err(RequestError::UnknownSid);
        }
        if self.transport != TransportKind::Polling {
            return Err(RequestError::BadRequest);
        }
        if self.posting {
            self.close(
                CloseReason::ProtocolViolation(ProtocolViolation::DuplicatePost),
                now,
            );
            return Err(RequestError::BadRequest);
        }
        self.posting = true;
        Ok(())
    }

    /// The POST started by [`Session::post_begin`] is over (read, refused or dropped).
    pub fn post_end(&mut self) {
        self.posting = false;
    }

    /// A WebSocket wants to take over this polling session.
    pub fn upgrade_begin(&mut self, now: Instant) -> Result<(), RequestError> {
        self.tick(now);
        if self.state != State::Open {
            return Err(RequestError::UnknownSid);
        }
        if self.transport != TransportKind::Polling || self.upgrade != Upgrade::None {
            return Err(RequestError::BadRequest);
        }
        self.upgrade = Upgrade::Probing {
            until: now + self.upgrade_timeout,
            probed: false,
        };
        Ok(())
    }

    /// Whether an upgrade started by [`Session::upgrade_begin`] is still under way.
    pub fn is_upgrading(&self) -> bool {
        self.state == State::Open && matches!(self.upgrade, Upgrade::Probing { .. })
    }

    /// A packet arrived on the upgrading WebSocket: `2probe` first, then `5`; anything else
    /// aborts the upgrade and leaves the polling session as it was.
    pub fn upgrade_packet(&mut self, packet: &Packet, now: Instant) -> UpgradeStep {
        self.tick(now);
        let Upgrade::Probing { until, probed } = self.upgrade else {
            return UpgradeStep::Abort;
        };
        if self.state != State::Open {
            return UpgradeStep::Abort;
        }
        match (probed, packet) {
            (false, Packet::Ping { probe: true }) => {
                self.upgrade = Upgrade::Probing {
                    until,
                    probed: true,
                };
                // Complete a held poll with a noop so the client's polling can pause.
                self.effects.wake_poll = true;
                UpgradeStep::SendProbeReply
            }
            (true, Packet::Upgrade) => {
                self.upgrade = Upgrade::None;
                self.transport = TransportKind::WebSocket;
                self.effects.wake_poll = true;
                self.effects.wake_ws = true;
                UpgradeStep::Upgraded
            }
            _ => {
                self.abort_upgrade();
                UpgradeStep::Abort
            }
        }
    }

    /// The upgrading WebSocket went away, or the upgrade timed out.
    pub fn abort_upgrade(&mut self) {
        if self.upgrade != Upgrade::None {
            self.upgrade = Upgrade::None;
            self.effects.wake_ws = true;
        }
    }
}

#[cfg(test)]
#[path = "session_tests.rs"]
mod tests;
