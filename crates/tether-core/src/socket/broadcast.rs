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

    /// Emits `event` with any arguments to every recipient.
    pub fn emit_payload(&self, event: &str, payload: &Payload) -> Result<(), EmitError> {
        let packet = payload.encode_event(&self.ns.path, event, None);
        for socket in self.targets() {
            self.deliver(&socket, &packet);
        }
        Ok(())
    }

    /// Emits with an acknowledgement request and collects every recipient's answer (or its
    /// error, at the timeout). The emit happens now; the future only gathers answers.
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
            let Ok(rx) = socket.expect_ack(id) else {
                continue;
            };
            if self.deliver(&socket, &packet) {
                pending.push((
                    socket.id(),
                    super::ack::AckFuture::new(rx, timeout, socket, id),
                ));
            } else {
                socket.forget_ack(id);
            }
        }
        Ok(async move {
            let mut answers = Vec::with_capacity(pending.len());
            for (sid, fut) in pending {
                answers.push((sid, fut.await));
            }
            answers
        })
    }

    /// Makes every recipient leave the namespace.
    pub fn disconnect(&self) {
        for socket in self.targets() {
            socket.disconnect();
        }
    }

    /// Queues the packet for one recipient, applying the slow-consumer policy. True if queued.
    fn deliver(&self, socket: &Socket, packet: &Encoded) -> bool {
        match socket.send(packet) {
            Ok(()) => true,
            Err(EmitError::OutboxFull) if !self.volatile => {
                tracing::info!(socket = %socket.id(), "slow consumer disconnected");
                socket.0.engine.close_for(CloseReason::ProtocolViolation(
                    ProtocolViolation::SlowConsumer,
                ));
                false
            }
            Err(_) => false,
        }
    }
}
