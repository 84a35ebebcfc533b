//! What a sharded namespace does with what arrives: other nodes' broadcasts and requests
//! (applied here; fetches, server-side emits with acks and broadcasts with acks answered on
//! the asker's channel, a broadcast's count always, zero included) and the answers to this
//! node's own requests. Malformed messages are dropped with a debug line and counted; nothing
//! here blocks the dispatcher.

use std::sync::Arc;
use tether_core::adapter::{AckEvent, AckSink, Reply};

use crate::pending::Pending;
use crate::sharded::adapter::ShardedNs;
use crate::sharded::message::{Envelope, Message, decode};

impl ShardedNs {
    /// Handles a message if it is on one of this namespace's channels; false otherwise.
    pub(crate) fn handle(self: &Arc<Self>, channel: &str, payload: &[u8]) -> bool {
        let Some(rest) = channel.strip_prefix(self.main.as_str()) else {
            return false;
        };
        if !rest.is_empty() && channel != self.own {
            let Some(room) = rest.strip_suffix('#') else {
                return false;
            };
            // A room with no socket here: nothing to deliver, nothing to decode.
            if !self.rooms.has_room(room) {
                return true;
            }
        }
        match decode(payload) {
            Ok(envelope) => self.on_envelope(envelope),
            Err(err) => {
                self.node.health.malformed();
                tracing::debug!(%err, nsp = &*self.nsp, "dropped a message");
            }
        }
        true
    }

    fn on_envelope(self: &Arc<Self>, Envelope { uid, nsp, message }: Envelope) {
        if message.is_response() {
            return self.on_response(message);
        }
        // This node did its own part already; another namespace's is not ours.
        if uid == self.node.uid || nsp != self.nsp {
            return;
        }
        let to = self.answer_channel(&uid);
        match message {
            Message::Broadcast {
                packet,
                opts,
                request_id: None,
            } => {
                self.local.broadcast(&packet, &opts);
            }
            Message::Broadcast {
                packet,
                opts,
                request_id: Some(request_id),
            } => {
                let (sink, mut events) = AckSink::channel();
                self.local.broadcast_with_ack(&packet, &opts, sink);
                let ns = self.clone();
                tokio::spawn(async move {
                    while let Some(event) = events.recv().await {
                        let answer = match event {
                            AckEvent::Reached(count) => Message::ClientCount {
                                request_id: request_id.clone(),
                                count,
                            },
                            AckEvent::Answer(answer) => Message::BroadcastAck {
                                request_id: request_id.clone(),
                                answer,
                            },
                        };
                        ns.answer(&to, &answer);
                    }
                });
            }
            Message::Join { opts, rooms } => self.local.add_sockets(&opts, &rooms),
            Message::Leave { opts, rooms } => self.local.del_sockets(&opts, &rooms),
            Message::Disconnect { opts, close } => self.local.disconnect_sockets(&opts, close),
            Message::Fetch { opts, request_id } => {
                let sockets = self.local.fetch_sockets(&opts);
                self.answer(
                    &to,
                    &Message::FetchResponse {
                        request_id,
                        sockets,
                    },
                );
            }
            Message::ServerSideEmit {
                packet,
                request_id: None,
            } => {
                self.local.server_side_emit(packet, None);
            }
            Message::ServerSideEmit {
                packet,
                request_id: Some(request_id),
            } => {
                let (slot, answer) = Reply::channel();
                if self.local.server_side_emit(packet, Some(slot)) {
                    let ns = self.clone();
                    tokio::spawn(async move {
                        if let Ok(answer) = answer.await {
                            ns.answer(&to, &Message::ServerSideEmitResponse { request_id, answer });
                        }
                    });
                }
            }
            Message::FetchResponse { .. }
            | Message::ServerSideEmitResponse { .. }
            | Message::ClientCount { .. }
            | Message::BroadcastAck { .. }
            | Message::Other(_) => {}
        }
    }

    fn answer(&self, channel: &str, message: &Message) {
        if let Err(err) = self.publish_on(channel.to_owned(), message) {
            tracing::warn!(%err, nsp = &*self.nsp, "an answer was not sent");
        }
    }

    fn on_response(&self, message: Message) {
        let id = match &message {
            Message::FetchResponse { request_id, .. }
            | Message::ServerSideEmitResponse { request_id, .. }
            | Message::ClientCount { request_id, .. }
            | Message::BroadcastAck { request_id, .. } => request_id.clone(),
            _ => return,
        };
        let pending = self.pending.lock();
        let Some(waiting) = pending.get(&id) else {
            // Another node's request, or one that timed out.
            return;
        };
        match (waiting, message) {
            (Pending::Fetch(tx), Message::FetchResponse { sockets, .. }) => {
                let _ = tx.send(sockets);
            }
            (Pending::ServerEmit(tx), Message::ServerSideEmitResponse { answer, .. }) => {
                let _ = tx.send(answer);
            }
            (Pending::BroadcastAck(sink), Message::ClientCount { count, .. }) => {
                sink.reached(count)
            }
            (Pending::BroadcastAck(sink), Message::BroadcastAck { answer, .. }) => {
                sink.answer(answer)
            }
            _ => tracing::debug!(nsp = &*self.nsp, "an answer of the wrong kind"),
        }
    }
}
