//! The streaming side of a session, our extension of Engine.IO: one long-lived GET answered
//! with a `text/event-stream` carries every server packet, and the client's packets come in
//! POSTs exactly as on polling (see [`Session::post_begin`]).
//!
//! The stream takes the place of polling's held GET. It is attached when the session opens
//! (the handshake is the stream) and stays attached, answering with every frame queued, until
//! the session ends or an upgrade pauses it. The upgrade to WebSocket is polling's: at
//! `2probe` the stream writes what it holds and ends with a noop (`6`), as the held poll is
//! completed with a noop, so the client knows that nothing more comes on it; at `5` the
//! session moves to the WebSocket with whatever is queued. An upgrade that fails after the
//! pause leaves the session on streaming, and the client attaches a new stream with its sid
//! (a GET with `sid`), as a polling client resumes its GETs.

use std::collections::VecDeque;
use std::time::Instant;

use super::{LastPoll, PollId, Session, State, Upgrade};
use crate::engine::close::{CloseReason, ProtocolViolation};
use crate::engine::packet::{Frame, PacketKind};
use crate::engine::request::{RequestError, TransportKind};

/// What the event stream of a streaming session does next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamStep {
    /// Write these frames as events, report them with [`Session::written`], then pull again.
    Write(VecDeque<Frame>),
    /// Nothing to write: wait until the session wakes the stream, then pull again.
    Wait,
    /// Write this last frame, if any, and end the response: the stream is detached. A `6`
    /// (noop) means the stream paused for an upgrade; a `1` (close) that the server closed
    /// the session; nothing, that the session ended otherwise.
    End(Option<Frame>),
}

impl Session {
    /// An event stream GET arrived for this session (the handshake's own, or a client's
    /// attaching a new stream after an upgrade that failed). Refused when the session is not
    /// on streaming; a second stream while one is attached breaks the protocol and closes the
    /// session, as a second long-poll does.
    pub fn stream_attach(&mut self, now: Instant) -> Result<PollId, RequestError> {
        self.tick(now);
        match self.state {
            State::Closed(_) => return Err(RequestError::UnknownSid),
            // A server close waiting for a stream to carry its last packets.
            State::Closing {
                last: LastPoll::Flush,
                ..
            } if self.transport == TransportKind::Streaming => {}
            State::Closing { .. } => return Err(RequestError::UnknownSid),
            State::Open => {}
        }
        if self.transport != TransportKind::Streaming {
            return Err(RequestError::BadRequest);
        }
        if self.poll.is_some() {
            self.close(
                CloseReason::ProtocolViolation(ProtocolViolation::DuplicatePoll),
                now,
            );
            return Err(RequestError::BadRequest);
        }
        let id = PollId(self.next_id);
        self.next_id += 1;
        self.poll = Some(id);
        Ok(id)
    }

    /// The stream `id` asks what to write next (when it starts, after each write, and when
    /// woken).
    pub fn stream_pull(&mut self, id: PollId, now: Instant) -> StreamStep {
        self.tick(now);
        if self.poll != Some(id) {
            // Not the attached stream (never happens through the drivers).
            return StreamStep::End(None);
        }
        match self.state {
            State::Closed(reason) => {
                if reason.flushes() && self.outbox.has_frames() {
                    return StreamStep::Write(self.outbox.take());
                }
                self.poll = None;
                self.outbox.clear();
                StreamStep::End(reason.flushes().then(|| Frame::bare(PacketKind::Close)))
            }
            // A stream attached to a server close that had none: its last packets, its close.
            State::Closing { reason, .. } => {
                if self.outbox.has_frames() {
                    return StreamStep::Write(self.outbox.take());
                }
                self.poll = None;
                self.state = State::Closed(reason);
                self.outbox.clear();
                self.effects.remove = true;
                StreamStep::End(Some(Frame::bare(PacketKind::Close)))
            }
            State::Open
                if self.outbox.has_frames() && self.transport == TransportKind::Streaming =>
            {
                StreamStep::Write(self.outbox.take())
            }
            // Moved to the WebSocket (a client that sent `5` without waiting for the pause)
            // or probed: the stream pauses.
            State::Open
                if self.transport != TransportKind::Streaming
                    || matches!(self.upgrade, Upgrade::Probing { probed: true, .. }) =>
            {
                self.poll = None;
                StreamStep::End(Some(Frame::bare(PacketKind::Noop)))
            }
            State::Open => StreamStep::Wait,
        }
    }

    /// The client went away while stream `id` was attached: the session closes ("transport
    /// close"), since what the stream had written may not have reached it. A stream that has
    /// ended ([`StreamStep::End`]) is detached already and its going away changes nothing.
    pub fn stream_dropped(&mut self, id: PollId, now: Instant) {
        if self.poll == Some(id) {
            self.poll = None;
            self.close(CloseReason::TransportClose, now);
        }
    }

    /// Whether an event stream is attached (a diagnostic).
    pub fn stream_attached(&self) -> bool {
        self.transport == TransportKind::Streaming && self.poll.is_some()
    }
}
