//! The long-polling side of a session: GETs held and answered, POSTs begun and ended.

use bytes::Bytes;
use std::time::Instant;

use super::{LastPoll, PollAnswer, PollId, Session, State, Upgrade};
use crate::engine::close::{CloseReason, ProtocolViolation};
use crate::engine::packet::{Frame, PacketKind};
use crate::engine::request::{RequestError, TransportKind};

impl Session {
    /// A long-poll GET arrived.
    pub fn poll(&mut self, now: Instant) -> Result<PollAnswer, RequestError> {
        self.tick(now);
        if let State::Closed(_) = self.state {
            return Err(RequestError::UnknownSid);
        }
        if self.transport != TransportKind::Polling {
            return Err(RequestError::BadRequest);
        }
        if let State::Closing { .. } = self.state {
            return Ok(PollAnswer::Body(self.last_body()));
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
        let id = PollId(self.next_id);
        self.next_id += 1;
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
            State::Closed(_) | State::Closing { .. } => self.last_body(),
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
        if let Some(body) = self.outbox.poll_body(self.max_payload) {
            return Some(body);
        }
        // While a WebSocket probe is under way, complete polls at once so the client can pause.
        matches!(self.upgrade, Upgrade::Probing { probed: true, .. })
            .then(|| Bytes::from_static(b"6"))
    }

    /// The answer to a poll of a closed session; the last one also removes it from the table.
    fn last_body(&mut self) -> Bytes {
        let body = match self.state {
            State::Closing {
                last: LastPoll::Noop,
                ..
            } => {
                self.outbox.clear();
                Bytes::from_static(b"6")
            }
            // A server close: what is queued first; the close packet alone, in the next poll.
            State::Closing {
                last: LastPoll::Flush,
                ..
            } => match self.outbox.poll_body(self.max_payload) {
                Some(body) => return body,
                None => Bytes::from_static(b"1"),
            },
            _ => self.outbox.final_body(Frame::bare(PacketKind::Close)),
        };
        if let State::Closing { reason, .. } = self.state {
            self.state = State::Closed(reason);
        }
        self.effects.remove = true;
        body
    }

    /// A POST starts (on polling or streaming). Two at once break the protocol and close the
    /// session.
    pub fn post_begin(&mut self, now: Instant) -> Result<(), RequestError> {
        self.tick(now);
        if self.state != State::Open {
            return Err(RequestError::UnknownSid);
        }
        if self.transport == TransportKind::WebSocket {
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
}
