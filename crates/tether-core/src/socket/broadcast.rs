//! [`BroadcastOperator`]: one emit to many sockets, encoded once.
//!
//! Every recipient's outbox gets a reference to the same encoded frames. A recipient whose
//! outbox is full (it is not reading) is handled by the slow-consumer policy: a `volatile`
//! broadcast skips it; any other closes its connection with the reason "slow consumer", so a
//! stalled client can neither grow server memory nor silently miss messages.

use serde::Serialize;
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use super::ack::{AckError, AckResponse};
use super::emit::EmitError;
use super::namespace::Namespace;
use super::payload::{Encoded, Payload};
use super::socket::Socket;
use crate::adapter::{BroadcastOptions, Room};
use crate::engine::{CloseReason, ProtocolViolation, Sid};

/// Answers collected from a broadcast with acknowledgement: one per recipient.
pub type BroadcastAcks = Vec<(Sid, Result<AckResponse, AckError>)>;

/// Chooses the recipients of a broadcast, then emits.
#[derive(Clone)]
#[must_use = "nothing is sent until emit is called"]
pub struct BroadcastOperator {
    ns: Arc<Namespace>,
    opts: BroadcastOptions,
    volatile: bool,
    timeout: Option<Duration>,
}

impl fmt::Debug for BroadcastOperator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BroadcastOperator")
            .field("ns", &&*self.ns.path)
            .field("opts", &self.opts)
            .field("volatile", &self.volatile)
            .finish_non_exhaustive()
    }
}

impl BroadcastOperator {
    pub(crate) fn new(ns: Arc<Namespace>) -> BroadcastOperator {
        BroadcastOperator {
            ns,
            opts: BroadcastOptions::default(),
            volatile: false,
            timeout: None,
        }
    }

    pub(crate) fn except_socket(mut self, sid: Sid) -> Self {
        self.opts.except_sid = Some(sid);
        self
    }

    /// Adds a room to the recipients (sockets in any of the rooms named receive it).
    pub fn to(mut self, room: impl Into<Room>) -> Self {
        self.opts.rooms.push(room.into());
        self
    }

    /// Leaves out the sockets in `room`.
    pub fn except(mut self, room: impl Into<Room>) -> Self {
        self.opts.except.push(room.into());
        self
    }

    /// Marks the broadcast droppable: a recipient that is not keeping up misses it instead of
    /// being disconnected.
    pub fn volatile(mut self) -> Self {
        self.volatile = true;
        self
    }

    /// How long `emit_with_ack` waits for answers (default: the server's `ack_timeout`).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Every room of the namespace that has a socket in it.
    pub fn rooms(&self) -> Vec<Room> {
        self.ns.adapter.rooms()
    }

    /// The local sockets this broadcast reaches.
    pub fn sockets(&self) -> Vec<Socket> {
        self.targets().collect()
    }

    fn targets(&self) -> impl Iterator<Item = Socket> + '_ {
        self.ns
            .adapter
            .targets(&self.opts)
            .into_iter()
            .filter_map(|sid| self.ns.socket(sid))
    }

    /// Emits `event` with one argument to every recipient.
    pub fn emit<T: Serialize + ?Sized>(&self, event: &str, data: &T) -> Result<(), EmitError> {
        self.emit_payload(event, &Payload::from_value(data)?)
    }

    /// Emits `event` with any arguments to every recipient. Fails only when the message can
    /// reach no one: it does not serialize, or it is larger than a connection's outbox
    /// ([`EmitError::TooLarge`]; then nothing is sent).
    pub fn emit_payload(&self, event: &str, payload: &Payload) -> Result<(), EmitError> {
        let packet = payload.encode_event(&self.ns.path, event, None);
        for socket in self.targets() {
            if let Err(EmitError::TooLarge) = self.deliver(&socket, &packet) {
                return Err(EmitError::TooLarge);
            }
        }
        Ok(())
    }

    /// Emits with an acknowledgement request and collects one answer per recipient, in the
    /// order they were sent: the client's answer, or why there is none (the timeout; the
    /// socket already awaiting `max_pending_acks` acknowledgements, so the event was not sent
    /// to it; the socket disconnecting or being closed as a slow consumer; a volatile event
    /// dropped). The emit happens now; the future only gathers answers.
    pub fn emit_with_ack<T: Serialize + ?Sized>(
        &self,
        event: &str,
        data: &T,
    ) -> Result<impl Future<Output = BroadcastAcks> + Send + 'static, EmitError> {
        let payload = Payload::from_value(data)?;
        let id = self.ns.next_ack_id();
        let packet = payload.encode_event(&self.ns.path, event, Some(id));
        let timeout = self.timeout.unwrap_or(self.ns.setup.ack_timeout);
        let mut pending = Vec::new();
        for socket in self.targets() {
            let rx = match socket.expect_ack(id) {
                Ok(rx) => rx,
                Err(_) => {
                    pending.push((socket.id(), Err(AckError::TooManyPending)));
                    continue;
                }
            };
            match self.deliver(&socket, &packet) {
                Ok(()) => pending.push((
                    socket.id(),
                    Ok(super::ack::AckFuture::new(rx, timeout, socket, id)),
                )),
                Err(err) => {
                    socket.forget_ack(id);
                    if let EmitError::TooLarge = err {
                        return Err(err);
                    }
                    let why = if self.volatile && matches!(err, EmitError::OutboxFull) {
                        AckError::Dropped
                    } else {
                        AckError::Disconnected
                    };
                    pending.push((socket.id(), Err(why)));
                }
            }
        }
        Ok(async move {
            let mut answers = Vec::with_capacity(pending.len());
            for (sid, fut) in pending {
                let answer = match fut {
                    Ok(fut) => fut.await,
                    Err(why) => Err(why),
                };
                answers.push((sid, answer));
            }
            answers
        })
    }

    /// Makes every recipient leave the namespace (each receives a DISCONNECT). With `close`,
    /// each recipient's whole connection closes too, after a DISCONNECT for every namespace
    /// on it (see [`Socket::close`]).
    pub fn disconnect_sockets(&self, close: bool) {
        for socket in self.targets() {
            if close {
                socket.close();
            } else {
                socket.disconnect();
            }
        }
    }

    /// Queues the packet for one recipient, applying the slow-consumer policy.
    fn deliver(&self, socket: &Socket, packet: &Encoded) -> Result<(), EmitError> {
        let sent = socket.send(packet);
        if let Err(EmitError::OutboxFull) = sent
            && !self.volatile
        {
            tracing::warn!(socket = %socket.id(), ns = &*self.ns.path, "slow consumer disconnected");
            socket.0.engine.abort(CloseReason::ProtocolViolation(
                ProtocolViolation::SlowConsumer,
            ));
        }
        sent
    }
}
