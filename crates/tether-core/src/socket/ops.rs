//! What an operation on a namespace does: this node's part (deliver, fetch, join, leave,
//! disconnect, with the slow-consumer policy), then the other nodes' part through the adapter.
//! [`NsHandle`] is the same local part, offered to the adapter for the other nodes' requests.
//!
//! Layer: above the socket core and the namespace; below the user-facing operators
//! ([`super::BroadcastOperator`], [`super::RemoteSocket`]), which only choose options and call
//! these functions.

use std::sync::{Arc, Weak};

use super::ack::AckError;
use super::ack_stream::{AckStream, LocalAcks};
use super::emit::EmitError;
use super::server_event::ServerEvent;
use super::setup::ServerHandlers;
use super::socket::{Ns, Socket, SocketEvent};
use crate::adapter::{
    AckSink, AdapterError, BroadcastOptions, EventPacket, HandshakeData, LocalNamespace, Recorded,
    Reply, Room, SocketData,
};
use crate::engine::{CloseReason, ProtocolViolation, SentTally, Sid};
use crate::protocol::Encoded;

/// The local sockets `opts` selects.
pub(crate) fn targets<'a>(
    ns: &'a Ns,
    opts: &BroadcastOptions,
) -> impl Iterator<Item = Socket> + 'a {
    ns.adapter
        .targets(opts)
        .into_iter()
        .filter_map(|sid| ns.socket(sid))
}

/// Queues a packet for one recipient, applying the slow-consumer policy: a recipient whose
/// outbox is full misses a volatile packet, and is disconnected for any other.
fn deliver_one(
    socket: &Socket,
    packet: &Encoded,
    volatile: bool,
    tally: &mut SentTally,
) -> Result<(), EmitError> {
    let sent = socket.send_tallied(packet, tally);
    if let Err(EmitError::OutboxFull) = sent
        && !volatile
    {
        slow_consumer(socket);
    }
    sent
}

/// Disconnects a recipient whose outbox is full.
fn slow_consumer(socket: &Socket) {
    tracing::warn!(socket = %socket.id(), ns = socket.ns(), "slow consumer disconnected");
    socket.0.engine.abort(CloseReason::ProtocolViolation(
        ProtocolViolation::SlowConsumer,
    ));
}

/// Delivers to this node's sockets, encoded once; how many got it. A packet larger than a
/// connection's outbox reaches no one ([`EmitError::TooLarge`]).
///
/// Each recipient is reached under the socket table's guard ([`Ns::with_socket`]), where only
/// the send runs (a send closes nothing, so it never reaches the table). What needs the
/// socket after that, an observer or the disconnection of a slow consumer, runs on a clone
/// with the guard released.
pub(crate) fn deliver(
    ns: &Ns,
    packet: &EventPacket,
    opts: &BroadcastOptions,
) -> Result<usize, EmitError> {
    let encoded = packet.payload.encode_event(&ns.path, &packet.event, None);
    let volatile = opts.flags.volatile;
    let mut reached = 0;
    let mut tally = SentTally::default();
    // Whether an observer watches: asked of the first recipient only, as every socket of a
    // namespace has the same server (asking each read a cache line of each).
    let mut watched = None;
    for sid in ns.adapter.targets(opts) {
        let outcome = ns.with_socket(sid, |socket| {
            let sent = socket.send_tallied(&encoded, &mut tally);
            let after = match sent {
                Ok(()) => *watched.get_or_insert_with(|| socket.observer().is_some()),
                Err(EmitError::OutboxFull) => !volatile,
                Err(_) => false,
            };
            (sent, after.then(|| socket.clone()))
        });
        let Some((sent, after)) = outcome else {
            continue;
        };
        match sent {
            Ok(()) => {
                reached += 1;
                if let Some(socket) = after
                    && let Some(observer) = socket.observer()
                {
                    observer.observe(SocketEvent::Sent(&socket, &packet.event, &packet.payload));
                }
            }
            Err(EmitError::TooLarge) => {
                ns.stats.sent(reached);
                return Err(EmitError::TooLarge);
            }
            Err(EmitError::OutboxFull) => {
                if let Some(socket) = after {
                    slow_consumer(&socket);
                }
            }
            Err(_) => {}
        }
    }
    ns.stats.sent(reached);
    Ok(reached)
}

/// Delivers with an acknowledgement request to this node's sockets: the answers they owe, and
/// why some were not sent (too many pending, dropped, disconnected).
pub(crate) fn deliver_with_ack(
    ns: &Ns,
    packet: &EventPacket,
    opts: &BroadcastOptions,
) -> Result<(LocalAcks, Vec<AckError>), EmitError> {
    let id = ns.next_ack_id();
    let encoded = packet
        .payload
        .encode_event(&ns.path, &packet.event, Some(id));
    let mut waiting = LocalAcks::new();
    let mut failed = Vec::new();
    let mut tally = SentTally::default();
    for socket in targets(ns, opts) {
        let Ok(rx) = socket.expect_ack(id) else {
            failed.push(AckError::TooManyPending);
            continue;
        };
        match deliver_one(&socket, &encoded, opts.flags.volatile, &mut tally) {
            Ok(()) => waiting.push(rx, socket.0.clone(), id),
            Err(err) => {
                socket.forget_ack(id);
                if let EmitError::TooLarge = err {
                    return Err(err);
                }
                failed.push(
                    if opts.flags.volatile && matches!(err, EmitError::OutboxFull) {
                        AckError::Dropped
                    } else {
                        AckError::Disconnected
                    },
                );
            }
        }
    }
    ns.stats.sent(waiting.len());
    Ok((waiting, failed))
}

/// What the other nodes learn about a local socket.
pub(crate) fn describe(socket: &Socket) -> SocketData {
    SocketData {
        id: socket.id(),
        handshake: HandshakeData::new(socket.handshake(), socket.auth_raw()),
        rooms: socket.rooms(),
        data: socket.data_value(),
    }
}

fn fetch_local(ns: &Ns, opts: &BroadcastOptions) -> Vec<SocketData> {
    targets(ns, opts).map(|s| describe(&s)).collect()
}

fn join_local(ns: &Ns, opts: &BroadcastOptions, rooms: &[Room]) {
    for socket in targets(ns, opts) {
        socket.join_all(rooms);
    }
}

fn leave_local(ns: &Ns, opts: &BroadcastOptions, rooms: &[Room]) {
    for socket in targets(ns, opts) {
        socket.leave_all(rooms);
    }
}

fn disconnect_local(ns: &Ns, opts: &BroadcastOptions, close: bool) {
    for socket in targets(ns, opts) {
        if close {
            socket.close();
        } else {
            socket.disconnect();
        }
    }
}

/// An emit to the sockets `opts` selects on every node (this one only with `local`). With
/// connection state recovery on, a packet that is not volatile is stored first and goes out
/// with its offset, in offset order on every local outbox.
pub(crate) fn emit(
    ns: &Ns,
    packet: &EventPacket,
    opts: &BroadcastOptions,
) -> Result<(), EmitError> {
    ns.stats.broadcast();
    let order = if opts.flags.volatile {
        None
    } else {
        ns.order()
    };
    let recorded = match order {
        Some(_) => ns.adapter.record(packet, opts),
        None => Ok(Recorded::Not),
    };
    let packet = match &recorded {
        Ok(Recorded::Relayed) => return Ok(()),
        Ok(Recorded::Now(stored)) => stored,
        Ok(Recorded::Not) => packet,
        Err(err) => {
            // Not stored: this node's recipients get it without an offset, and the caller
            // learns that the rest could not be done.
            tracing::warn!(ns = &*ns.path, %err, "a recoverable packet could not be stored");
            ns.stats.adapter_failed();
            deliver(ns, packet, opts)?;
            return Err(EmitError::Adapter(err.clone()));
        }
    };
    deliver(ns, packet, opts)?;
    drop(order);
    if !opts.flags.local {
        if let Err(err) = ns.adapter.broadcast(packet, opts) {
            ns.stats.adapter_failed();
            return Err(err.into());
        }
    }
    Ok(())
}

/// An emit with acknowledgement on every node; the answers stream in.
pub(crate) fn emit_with_ack(
    ns: &Ns,
    packet: &EventPacket,
    opts: &BroadcastOptions,
) -> Result<AckStream, EmitError> {
    ns.stats.broadcast();
    let timeout = opts.flags.timeout.unwrap_or(ns.ack_timeout);
    let (local, mut failed) = deliver_with_ack(ns, packet, opts)?;
    let remote = if opts.flags.local {
        None
    } else {
        let (sink, rx) = AckSink::channel();
        let mut opts = opts.clone();
        opts.flags.timeout = Some(timeout);
        match ns.adapter.broadcast_with_ack(packet, &opts, sink) {
            Ok(()) => Some((rx, ns.adapter.server_count())),
            Err(err) => {
                tracing::warn!(%err, ns = &*ns.path, "broadcast with acks reached this node only");
                ns.stats.adapter_failed();
                failed.push(AckError::Adapter);
                None
            }
        }
    };
    Ok(AckStream::new(failed, local, remote, timeout))
}

/// The sockets `opts` selects on every node.
pub(crate) async fn fetch_sockets(
    ns: &Ns,
    opts: &BroadcastOptions,
) -> Result<Vec<SocketData>, AdapterError> {
    let mut all = fetch_local(ns, opts);
    if !opts.flags.local {
        all.extend(ns.adapter.fetch_sockets(opts).await?);
    }
    Ok(all)
}

/// Makes the sockets `opts` selects on every node join `rooms`.
pub(crate) async fn sockets_join(
    ns: &Ns,
    opts: &BroadcastOptions,
    rooms: &[Room],
) -> Result<(), AdapterError> {
    join_local(ns, opts, rooms);
    if opts.flags.local {
        return Ok(());
    }
    ns.adapter.add_sockets(opts, rooms).await
}

/// Makes the sockets `opts` selects on every node leave `rooms`.
pub(crate) async fn sockets_leave(
    ns: &Ns,
    opts: &BroadcastOptions,
    rooms: &[Room],
) -> Result<(), AdapterError> {
    leave_local(ns, opts, rooms);
    if opts.flags.local {
        return Ok(());
    }
    ns.adapter.del_sockets(opts, rooms).await
}

/// Disconnects the sockets `opts` selects on every node.
pub(crate) async fn disconnect_sockets(
    ns: &Ns,
    opts: &BroadcastOptions,
    close: bool,
) -> Result<(), AdapterError> {
    disconnect_local(ns, opts, close);
    if opts.flags.local {
        return Ok(());
    }
    ns.adapter.disconnect_sockets(opts, close).await
}

/// A namespace of this node as its adapter sees it: where the other nodes' requests land.
pub(crate) struct NsHandle {
    pub(crate) ns: Weak<Ns>,
    pub(crate) server_events: ServerHandlers,
}

impl NsHandle {
    fn ns(&self) -> Option<Arc<Ns>> {
        self.ns.upgrade()
    }
}

impl LocalNamespace for NsHandle {
    fn broadcast(&self, packet: &EventPacket, opts: &BroadcastOptions) -> usize {
        self.broadcast_admitted(packet, opts, &mut || true)
    }

    fn broadcast_admitted(
        &self,
        packet: &EventPacket,
        opts: &BroadcastOptions,
        admit: &mut dyn FnMut() -> bool,
    ) -> usize {
        let Some(ns) = self.ns() else {
            admit();
            return 0;
        };
        // In the recovery order, like a local emit (a recovered socket's replay and join take
        // the same lock).
        let _order = ns.order();
        if !admit() {
            return 0;
        }
        deliver(&ns, packet, opts).unwrap_or_else(|err| {
            tracing::warn!(%err, ns = &*ns.path, event = &*packet.event, "a broadcast from another node was not delivered");
            0
        })
    }

    fn broadcast_with_ack(&self, packet: &EventPacket, opts: &BroadcastOptions, sink: AckSink) {
        let Some(ns) = self.ns() else {
            return sink.reached(0);
        };
        let timeout = opts.flags.timeout.unwrap_or(ns.ack_timeout);
        let waiting = match deliver_with_ack(&ns, packet, opts) {
            Ok((waiting, _failed)) => waiting,
            Err(err) => {
                tracing::warn!(%err, ns = &*ns.path, "a broadcast from another node was not delivered");
                return sink.reached(0);
            }
        };
        sink.reached(waiting.len());
        if waiting.len() == 0 {
            return;
        }
        let stop = sink.clone();
        tokio::spawn(async move {
            waiting
                .forward(timeout, stop.closed(), |answer| sink.answer(answer))
                .await;
        });
    }

    fn fetch_sockets(&self, opts: &BroadcastOptions) -> Vec<SocketData> {
        self.ns()
            .map(|ns| fetch_local(&ns, opts))
            .unwrap_or_default()
    }

    fn add_sockets(&self, opts: &BroadcastOptions, rooms: &[Room]) {
        if let Some(ns) = self.ns() {
            join_local(&ns, opts, rooms);
        }
    }

    fn del_sockets(&self, opts: &BroadcastOptions, rooms: &[Room]) {
        if let Some(ns) = self.ns() {
            leave_local(&ns, opts, rooms);
        }
    }

    fn disconnect_sockets(&self, opts: &BroadcastOptions, close: bool) {
        if let Some(ns) = self.ns() {
            disconnect_local(&ns, opts, close);
        }
    }

    fn evict(&self, sid: Sid) -> bool {
        self.ns()
            .and_then(|ns| ns.socket(sid))
            .is_some_and(|socket| socket.evict())
    }

    fn server_side_emit(&self, packet: EventPacket, reply: Option<Reply>) -> bool {
        let handler = self
            .server_events
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&packet.event)
            .cloned();
        let Some(handler) = handler else {
            return false;
        };
        let event = packet.event.clone();
        let fut = handler(ServerEvent::new(packet.event, packet.payload, reply));
        // User code: in a task of its own, its panic caught and logged.
        tokio::spawn(async move {
            use futures_util::FutureExt;
            if std::panic::AssertUnwindSafe(fut)
                .catch_unwind()
                .await
                .is_err()
            {
                tracing::error!(event = &*event, "server-side event handler panicked");
            }
        });
        true
    }
}
