//! Emits to one socket's client, with or without an acknowledgement, and the pending
//! acknowledgements they leave. A part of [`super`] (it reads the socket's private state).
//!
//! Layer: a child of the socket core.

use bytestring::ByteString;
use serde::Serialize;

use crate::engine::SentTally;

use super::{
    AckFuture, AckResponse, BroadcastFlags, BroadcastOptions, EmitError, Encoded, EventPacket,
    Payload, Recorded, Socket, SocketEvent,
};

impl Socket {
    /// Emits `event` with one argument to this client.
    pub fn emit<T: Serialize + ?Sized>(&self, event: &str, data: &T) -> Result<(), EmitError> {
        self.emit_payload(event, &Payload::from_value(data)?)
    }

    /// Emits `event` with any arguments, binary included.
    pub fn emit_payload(&self, event: &str, payload: &Payload) -> Result<(), EmitError> {
        let sent = self.emit_payload_inner(event, payload);
        if sent.is_ok() {
            self.0.ns.stats.sent(1);
            if let Some(observer) = self.observer() {
                observer.observe(SocketEvent::Sent(self, event, payload));
            }
        }
        sent
    }

    fn emit_payload_inner(&self, event: &str, payload: &Payload) -> Result<(), EmitError> {
        let Some(_order) = self.0.ns.order() else {
            return self.send(&payload.encode_event(&self.0.ns.path, event, None));
        };
        // Recovery on: the event is stored, as a broadcast to this socket's room, and goes
        // out with its offset.
        if !self.connected() {
            return Err(EmitError::Disconnected);
        }
        let packet = EventPacket {
            event: ByteString::from(event),
            payload: payload.clone(),
        };
        let opts = BroadcastOptions {
            rooms: vec![self.0.id.as_str().into()],
            except: Vec::new(),
            flags: BroadcastFlags {
                local: true,
                ..BroadcastFlags::default()
            },
        };
        let packet = match self.0.ns.adapter.record(&packet, &opts) {
            Ok(Recorded::Relayed) => return Ok(()),
            Ok(Recorded::Now(stored)) => stored,
            Ok(Recorded::Not) => packet,
            Err(err) => {
                self.send(&packet.payload.encode_event(&self.0.ns.path, event, None))?;
                return Err(EmitError::Adapter(err));
            }
        };
        self.send(&packet.payload.encode_event(&self.0.ns.path, event, None))
    }

    /// Emits `event` with one argument and waits for the client's acknowledgement, for
    /// `ack_timeout` unless [`AckFuture::timeout`] says otherwise.
    pub fn emit_with_ack<T: Serialize + ?Sized>(
        &self,
        event: &str,
        data: &T,
    ) -> Result<AckFuture, EmitError> {
        self.emit_payload_with_ack(event, &Payload::from_value(data)?)
    }

    /// [`Socket::emit_with_ack`] with any arguments.
    pub fn emit_payload_with_ack(
        &self,
        event: &str,
        payload: &Payload,
    ) -> Result<AckFuture, EmitError> {
        let id = self.0.ns.next_ack_id();
        let packet = payload.encode_event(&self.0.ns.path, event, Some(id));
        let rx = self.expect_ack(id)?;
        if let Err(err) = self.send(&packet) {
            self.forget_ack(id);
            return Err(err);
        }
        self.0.ns.stats.sent(1);
        Ok(AckFuture::new(
            rx,
            self.0.server.config().ack_timeout,
            self.0.clone(),
            id,
        ))
    }

    /// Registers a pending ack `id`; its answer comes through the receiver.
    pub(crate) fn expect_ack(
        &self,
        id: u64,
    ) -> Result<tokio::sync::oneshot::Receiver<AckResponse>, EmitError> {
        self.0
            .acks
            .expect(id, self.0.server.config().max_pending_acks)
    }

    pub(crate) fn pending_acks(&self) -> usize {
        self.0.acks.len()
    }

    pub(crate) fn forget_ack(&self, id: u64) {
        self.0.acks.forget(id);
    }

    pub(crate) fn send(&self, packet: &Encoded) -> Result<(), EmitError> {
        if !self.connected() {
            return Err(EmitError::Disconnected);
        }
        Ok(self.0.engine.send_frames(packet.frames())?)
    }

    /// [`Socket::send`] for one recipient of a broadcast, counted in `tally`.
    pub(crate) fn send_tallied(
        &self,
        packet: &Encoded,
        tally: &mut SentTally,
    ) -> Result<(), EmitError> {
        if !self.connected() {
            return Err(EmitError::Disconnected);
        }
        Ok(self.0.engine.send_frames_tallied(packet.frames(), tally)?)
    }

    pub(crate) fn send_ack(&self, id: u64, payload: &Payload) -> Result<(), EmitError> {
        self.send(&payload.encode_ack(&self.0.ns.path, id))
    }
}
