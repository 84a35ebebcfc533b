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
use super::outbox::Outbox;
pub use super::outbox::SendError;
use super::packet::{Frame, Packet, PacketKind};
use super::request::TransportKind;

/// How late a ping may go out and still have its pong deadline counted from when it was due
/// rather than from when it went out: the timers that send pings fire up to a millisecond
/// after their deadline, and that delay should not move the deadline. A ping later than this
/// gives the peer its whole `pingTimeout` from when it goes out, less this slack.
pub const PING_SLACK: Duration = Duration::from_millis(2);

/// How long a polling session closed by the client's `close` packet still answers one GET
/// (with a noop) when no GET was held: a GET sent together with the POST that carried the
/// `close` gets the same answer whichever of the two the server handles first. Capped by
/// `pingTimeout`.
pub const CLIENT_CLOSE_GRACE: Duration = Duration::from_secs(1);

/// A message from the peer, for the handler.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A text message.
    Text(bytestring::ByteString),
    /// A binary message.
    Binary(Bytes),
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

/// Identifies one upgrade attempt, so a WebSocket that gave up cannot end another's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UpgradeId(u64);

/// What happened during the last calls, for the IO layer to act on once the lock is released.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Effects {
    /// Wake the held long-poll or the event stream, if any.
    pub wake_poll: bool,
    /// Wake the WebSocket task (the main transport or an upgrade in progress).
    pub wake_ws: bool,
    /// The session has ended for this reason: tell the handler, once. Withheld while a
    /// message is being delivered (see [`Session::delivered`]), so the handler hears of the
    /// close only after its last message.
    pub closed: Option<CloseReason>,
    /// The session has nothing left to flush: drop it from the session table.
    pub remove: bool,
    /// The session moved onto WebSocket from this transport (for the counters).
    pub upgraded_from: Option<TransportKind>,
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
    /// Closed on polling with no poll held: the next poll (until `until`) gets `last`.
    Closing {
        until: Instant,
        reason: CloseReason,
        last: LastPoll,
    },
    Closed(CloseReason),
}

/// What the last poll of a closing polling session gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LastPoll {
    /// The server closed: the outbox, then a `close` packet.
    Flush,
    /// The client closed: a noop, as a GET held at that moment would have got.
    Noop,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Heartbeat {
    PingAt(Instant),
    PongBy(Instant),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Upgrade {
    None,
    Probing {
        id: u64,
        until: Instant,
        probed: bool,
    },
}

/// One Engine.IO session: transport, heartbeat, upgrade, outbox and held poll.
///
/// In declaration order (`repr(C)`): what a send reads and writes (effects, transport,
/// outbox, state) comes first, so it shares the cache lines of the lock in front of it
/// (`EngineSocket`); a broadcast touches those lines once per recipient. The small fields
/// are packed ahead of the 8-byte ones, so the order adds no padding (256 bytes either way).
#[derive(Debug)]
#[repr(C)]
pub struct Session {
    effects: Effects,
    transport: TransportKind,
    posting: bool,
    /// The close notice held back until the deliveries under way are over.
    withheld: Option<CloseReason>,
    /// Messages handed out by `receive` (or other deliveries) not yet reported `delivered`.
    delivering: u32,
    outbox: Outbox,
    state: State,
    heartbeat: Heartbeat,
    /// The held long-poll, or the attached event stream.
    poll: Option<PollId>,
    upgrade: Upgrade,
    close_deadline: Option<(Instant, CloseReason)>,
    ping_interval: Duration,
    ping_timeout: Duration,
    upgrade_timeout: Duration,
    /// Source of poll and upgrade ids.
    next_id: u64,
    max_payload: usize,
}

impl Session {
    /// A new open session on `transport`; its first ping is due `ping_interval` after `now`.
    pub fn new(transport: TransportKind, config: &EngineConfig, now: Instant) -> Session {
        Session {
            transport,
            state: State::Open,
            heartbeat: Heartbeat::PingAt(now + config.ping_interval),
            upgrade: Upgrade::None,
            outbox: Outbox::new(config.max_buffered_bytes),
            poll: None,
            next_id: 0,
            posting: false,
            close_deadline: None,
            delivering: 0,
            withheld: None,
            ping_interval: config.ping_interval,
            ping_timeout: config.ping_timeout,
            upgrade_timeout: config.upgrade_timeout,
            max_payload: config.max_payload,
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

    /// Whether a long-poll GET is held, waiting for something to send.
    pub fn poll_held(&self) -> bool {
        self.poll.is_some()
    }

    /// Where the fields a send reads and writes end (see the type's docs on its order).
    #[cfg(test)]
    pub(crate) fn hot_end() -> usize {
        use std::mem::{offset_of, size_of};
        [
            offset_of!(Session, effects) + size_of::<Effects>(),
            offset_of!(Session, transport) + size_of::<TransportKind>(),
            offset_of!(Session, outbox) + size_of::<Outbox>(),
            offset_of!(Session, state) + size_of::<State>(),
        ]
        .into_iter()
        .max()
        .unwrap_or(0)
    }

    /// The frames the outbox has room for without growing.
    #[cfg(test)]
    pub(crate) fn outbox_capacity(&self) -> usize {
        self.outbox.capacity()
    }

    /// Bytes waiting in the outbox or being written by the transport.
    pub fn buffered_bytes(&self) -> usize {
        self.outbox.bytes()
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
        self.outbox.check(frame.len())?;
        self.push(frame);
        Ok(())
    }

    /// Queues several frames as one unit (a Socket.IO packet and its binary attachments): all
    /// of them, contiguous, or none.
    pub fn send_all(&mut self, frames: &[Frame]) -> Result<(), SendError> {
        if self.state != State::Open {
            return Err(SendError::Closed);
        }
        self.outbox.check(frames.iter().map(Frame::len).sum())?;
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
        self.outbox.push(frame);
        self.wake_transport();
    }

    fn wake_transport(&mut self) {
        match self.transport {
            TransportKind::Polling | TransportKind::Streaming => self.effects.wake_poll = true,
            TransportKind::WebSocket => self.effects.wake_ws = true,
        }
    }

    /// Takes the whole outbox, its allocation included, so an idle session keeps no buffer.
    /// The frames still count against `max_buffered_bytes` until [`Session::written`].
    pub fn take_outbox(&mut self) -> VecDeque<Frame> {
        self.outbox.take()
    }

    /// The frames taken with [`Session::take_outbox`] are written: their bytes are free.
    pub fn written(&mut self) {
        self.outbox.written();
    }

    /// A delivery begins outside [`Session::receive`] (the engine counts the handler's
    /// `on_connect` as one): the close notice waits until [`Session::delivered`].
    pub fn delivering(&mut self) {
        self.delivering += 1;
    }

    /// The handler is done with a message from [`Session::receive`] (or a delivery begun with
    /// [`Session::delivering`]). When the last delivery under way ends, a close that happened
    /// meanwhile is reported in the effects.
    pub fn delivered(&mut self) {
        self.delivering = self.delivering.saturating_sub(1);
        if self.delivering == 0
            && let Some(reason) = self.withheld.take()
        {
            self.effects.closed = Some(reason);
        }
    }

    /// Reports the close now, or once the deliveries under way are over.
    fn notice(&mut self, reason: CloseReason) {
        if self.delivering > 0 {
            self.withheld = Some(reason);
        } else {
            self.effects.closed = Some(reason);
        }
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
            // The peer gets its pingTimeout from when the ping goes out, however late the tick
            // that sends it (a late tick never closes a session it did not ping); a ping late
            // by no more than a timer's slack counts from when it was due.
            let sent = if now - at <= PING_SLACK {
                at
            } else {
                now - PING_SLACK
            };
            self.heartbeat = Heartbeat::PongBy(sent + self.ping_timeout);
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
            self.end_upgrade();
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
    /// handler, who must call [`Session::delivered`] when done with it; anything else is
    /// absorbed here.
    pub fn receive(&mut self, packet: Packet, now: Instant) -> Option<Message> {
        self.tick(now);
        if self.state != State::Open {
            return None;
        }
        match packet {
            Packet::Message(text) => {
                self.delivering += 1;
                return Some(Message::Text(text));
            }
            Packet::Binary(data) => {
                self.delivering += 1;
                return Some(Message::Binary(data));
            }
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

    /// Closes the session. On polling the last polls are still answered: after a server close
    /// the polls (within `pingTimeout`) carry what is queued, then a `close` packet in a poll of
    /// its own; after the client's `close` packet a GET that raced it (within
    /// [`CLIENT_CLOSE_GRACE`]) gets a noop, as it would have had it arrived first. Everywhere
    /// else the close is at once and the transport flushes what is queued.
    pub fn close(&mut self, reason: CloseReason, now: Instant) {
        let flush = matches!(
            reason,
            CloseReason::ServerClose | CloseReason::ServerShutdown
        );
        self.close_as(reason, now, flush);
    }

    /// Closes the session on the server's decision, for `reason` (the layer above names its
    /// own, e.g. a Socket.IO parse error): like [`Session::close`] with `ServerClose`, the
    /// next poll carries what is queued and a `close` packet, so a polling client sees the
    /// close whether or not a GET was held at that moment (as the reference server does).
    pub fn close_by_server(&mut self, reason: CloseReason, now: Instant) {
        self.close_as(reason, now, true);
    }

    fn close_as(&mut self, reason: CloseReason, now: Instant, flush: bool) {
        if self.state != State::Open {
            // Already closed, or already waiting for its last poll.
            return;
        }
        self.notice(reason);
        let last = match (self.transport, reason) {
            (TransportKind::WebSocket, _) => None,
            // An attached stream writes what is queued and the close at once; with none
            // attached (paused for an upgrade), the WebSocket's `5` or a new stream carries
            // them, within pingTimeout.
            (TransportKind::Streaming, _) => {
                (flush && self.poll.is_none()).then_some((LastPoll::Flush, self.ping_timeout))
            }
            // What is queued goes first, and the close in a poll of its own after it: the
            // official client handles the packets of one poll after the poll's close packet
            // (a DISCONNECT sent with the close would be lost behind "transport close").
            _ if flush && (self.poll.is_none() || self.outbox.has_frames()) => {
                Some((LastPoll::Flush, self.ping_timeout))
            }
            _ if self.poll.is_some() => None,
            (_, CloseReason::ClientClose) => {
                Some((LastPoll::Noop, self.ping_timeout.min(CLIENT_CLOSE_GRACE)))
            }
            _ => None,
        };
        match last {
            Some((last, wait)) => {
                self.state = State::Closing {
                    until: now + wait,
                    reason,
                    last,
                };
            }
            None => {
                self.state = State::Closed(reason);
                self.effects.remove = true;
            }
        }
        // A probed upgrade stays: its client has paused polling and may already have sent
        // `5` and moved to the WebSocket, where it would never see what the polls still hold.
        // Its `5` carries the close there (see `upgrade_packet`); without it the last poll
        // does, as for any closing polling session.
        let probed = matches!(self.upgrade, Upgrade::Probing { probed: true, .. });
        if !(probed
            && matches!(
                self.state,
                State::Closing {
                    last: LastPoll::Flush,
                    ..
                }
            ))
        {
            self.upgrade = Upgrade::None;
        }
        self.effects.wake_poll = true;
        self.effects.wake_ws = true;
    }

    fn finish_close(&mut self) {
        if let State::Closing { reason, .. } = self.state {
            self.state = State::Closed(reason);
            self.outbox.clear();
            self.effects.remove = true;
        }
    }
}

mod polling;
mod streaming;
mod upgrade;

pub use streaming::StreamStep;

#[cfg(test)]
mod tests;
