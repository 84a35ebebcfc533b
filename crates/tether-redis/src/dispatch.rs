//! What a namespace does with what arrives from Redis: other nodes' broadcasts (delivered
//! here), their requests (applied here and answered: every type is answered that Node answers,
//! empty results included, or the asker would wait for its timeout), and the answers to this
//! node's own requests. Malformed messages are dropped with a debug line; nothing here blocks
//! the dispatcher (answers that wait run in tasks of their own).

use std::sync::Arc;
use tether_core::adapter::{AckEvent, AckSink, BroadcastOptions, Reply, Room};

use crate::adapter::NsShared;
use crate::broadcast;
use tether_core::engine::Sid;

use crate::pending::Pending;
use crate::recovery_wire::StreamId;
use crate::requests::{Request, decode_request};
use crate::responses::{Response, decode_response, encode_response};

impl NsShared {
    /// Handles a message if it is on one of this namespace's channels; false otherwise.
    pub(crate) fn handle(self: &Arc<Self>, channel: &str, payload: &[u8]) -> bool {
        if let Some(room) = self.channels.room_of(channel) {
            self.on_broadcast(room, payload);
        } else if channel == self.channels.request() {
            self.on_request(payload);
        } else if channel == self.channels.response()
            || channel == self.channels.response_for(&self.node.uid)
        {
            self.on_response(payload);
        } else if let Some(recovery) = &self.recovery {
            if channel == recovery.own {
                self.on_broadcast("", payload);
            } else if channel == recovery.keys.evict {
                self.on_evict(payload);
            } else {
                return false;
            }
        } else {
            return false;
        }
        true
    }

    fn on_broadcast(&self, room: &str, payload: &[u8]) {
        // A room with no socket here: nothing to deliver, nothing to decode (with recovery
        // on, every recoverable entry is kept for the seam, so all are read).
        if self.recovery.is_none() && !room.is_empty() && !self.rooms.has_room(room) {
            return;
        }
        let msg = match broadcast::decode(payload) {
            Ok(msg) => msg,
            Err(err) => {
                self.node.health.malformed();
                return tracing::debug!(%err, nsp = &*self.nsp, "dropped a broadcast");
            }
        };
        if msg.nsp != self.nsp {
            return;
        }
        let Some(recovery) = &self.recovery else {
            if msg.uid == self.node.uid || (!room.is_empty() && !self.rooms.has_room(room)) {
                return;
            }
            self.local.broadcast(&msg.packet, &msg.opts);
            return;
        };
        // A recoverable packet (its offset, the last argument, newer than the last one) is
        // delivered here too when this node sent it: every node delivers in stream order. It
        // enters the window in the same step as its delivery, under the recovery order lock:
        // a recovered socket's replay (from the window) and its join then fall on one side
        // of it, so the socket gets it once.
        let offset = msg
            .packet
            .payload
            .args()
            .last()
            .and_then(|last| last.strip_prefix('"')?.strip_suffix('"'))
            .filter(|offset| StreamId::is_offset(offset));
        let mut admit = || {
            let recorded = offset.is_some_and(|offset| recovery.arrived(offset, payload));
            (recorded || msg.uid != self.node.uid) && (room.is_empty() || self.rooms.has_room(room))
        };
        self.local
            .broadcast_admitted(&msg.packet, &msg.opts, &mut admit);
    }

    /// Another node claimed a session whose socket may still be here: it is disconnected
    /// without keeping its session (its writes are refused anyway: the epoch moved).
    fn on_evict(&self, payload: &[u8]) {
        #[derive(serde::Deserialize)]
        struct Evict {
            sid: String,
            uid: String,
        }
        let Ok(evict) = serde_json::from_slice::<Evict>(payload) else {
            return self.node.health.malformed();
        };
        let Some(sid) = Sid::parse(&evict.sid) else {
            return self.node.health.malformed();
        };
        if evict.uid != self.node.uid && self.local.evict(sid) {
            tracing::debug!(
                socket = evict.sid,
                nsp = &*self.nsp,
                "evicted a socket recovered on another node"
            );
        }
    }

    /// Where answers to `requester` go.
    fn reply_channel(&self, requester: Option<&str>) -> String {
        match requester {
            Some(uid) if self.node.config.publish_on_specific_response_channel => {
                self.channels.response_for(uid)
            }
            _ => self.channels.response().to_owned(),
        }
    }

    fn reply(&self, channel: &str, response: &Response) {
        match encode_response(response) {
            Ok(payload) => {
                if let Err(err) = self.publish(channel.to_owned(), payload) {
                    tracing::warn!(%err, nsp = &*self.nsp, "an answer was not sent");
                }
            }
            Err(err) => tracing::warn!(%err, nsp = &*self.nsp, "an answer could not be encoded"),
        }
    }

    fn on_request(self: &Arc<Self>, payload: &[u8]) {
        let request = match decode_request(payload) {
            Ok(request) => request,
            Err(err) => {
                self.node.health.malformed();
                return tracing::debug!(%err, nsp = &*self.nsp, "dropped a request");
            }
        };
        // This node did its own part already.
        if request.uid() == Some(self.node.uid.as_str()) {
            return;
        }
        let to = self.reply_channel(request.uid());
        let only = |sid: &str| BroadcastOptions::to([Room::from(sid)]);
        match request {
            Request::Sockets {
                request_id, rooms, ..
            } => {
                let sockets = self.rooms.targets(&BroadcastOptions {
                    rooms,
                    ..BroadcastOptions::default()
                });
                let sockets = sockets.iter().map(ToString::to_string).collect();
                self.reply(
                    &to,
                    &Response::Sockets {
                        request_id,
                        sockets,
                    },
                );
            }
            Request::AllRooms { request_id, .. } => {
                self.reply(
                    &to,
                    &Response::AllRooms {
                        request_id,
                        rooms: self.rooms.rooms(),
                    },
                );
            }
            Request::Join { opts, rooms, .. } => self.local.add_sockets(&opts, &rooms),
            Request::Leave { opts, rooms, .. } => self.local.del_sockets(&opts, &rooms),
            Request::Disconnect { opts, close, .. } => self.local.disconnect_sockets(&opts, close),
            Request::JoinOne {
                request_id,
                sid,
                room,
                ..
            } => {
                self.local.add_sockets(&only(&sid), &[room]);
                self.reply(&to, &Response::Done { request_id });
            }
            Request::LeaveOne {
                request_id,
                sid,
                room,
                ..
            } => {
                self.local.del_sockets(&only(&sid), &[room]);
                self.reply(&to, &Response::Done { request_id });
            }
            Request::DisconnectOne {
                request_id,
                sid,
                close,
                ..
            } => {
                self.local.disconnect_sockets(&only(&sid), close);
                self.reply(&to, &Response::Done { request_id });
            }
            Request::Fetch {
                request_id, opts, ..
            } => {
                let sockets = self.local.fetch_sockets(&opts);
                self.reply(
                    &to,
                    &Response::Fetch {
                        request_id,
                        sockets,
                    },
                );
            }
            Request::ServerSideEmit {
                request_id: None,
                packet,
                ..
            } => {
                self.local.server_side_emit(packet, None);
            }
            Request::ServerSideEmit {
                request_id: Some(request_id),
                packet,
                ..
            } => {
                let (slot, answer) = Reply::channel();
                if self.local.server_side_emit(packet, Some(slot)) {
                    let ns = self.clone();
                    tokio::spawn(async move {
                        if let Ok(answer) = answer.await {
                            // Node answers server-side emits on the common channel.
                            let common = ns.channels.response().to_owned();
                            ns.reply(&common, &Response::ServerSideEmit { request_id, answer });
                        }
                    });
                }
            }
            Request::Broadcast {
                request_id,
                nsp,
                packet,
                opts,
                ..
            } => {
                if nsp != self.nsp {
                    return;
                }
                let (sink, mut events) = AckSink::channel();
                self.local.broadcast_with_ack(&packet, &opts, sink);
                let ns = self.clone();
                tokio::spawn(async move {
                    // The count first (zero included), then each answer, until the local
                    // waits end.
                    while let Some(event) = events.recv().await {
                        let response = match event {
                            AckEvent::Reached(count) => Response::ClientCount {
                                request_id: request_id.clone(),
                                count,
                            },
                            AckEvent::Answer(answer) => Response::BroadcastAck {
                                request_id: request_id.clone(),
                                answer,
                            },
                        };
                        ns.reply(&to, &response);
                    }
                });
            }
        }
    }

    fn on_response(&self, payload: &[u8]) {
        let response = match decode_response(payload) {
            Ok(response) => response,
            Err(err) => {
                self.node.health.malformed();
                return tracing::debug!(%err, nsp = &*self.nsp, "dropped a response");
            }
        };
        let pending = self.lock_pending();
        let Some(waiting) = pending.get(response.request_id()) else {
            // Another node's request, or one that timed out.
            return;
        };
        match (waiting, response) {
            (Pending::Rooms(tx), Response::AllRooms { rooms, .. }) => {
                let _ = tx.send(rooms);
            }
            (Pending::Fetch(tx), Response::Fetch { sockets, .. }) => {
                let _ = tx.send(sockets);
            }
            (Pending::ServerEmit(tx), Response::ServerSideEmit { answer, .. }) => {
                let _ = tx.send(answer);
            }
            (Pending::BroadcastAck(sink), Response::ClientCount { count, .. }) => {
                sink.reached(count)
            }
            (Pending::BroadcastAck(sink), Response::BroadcastAck { answer, .. }) => {
                sink.answer(answer)
            }
            _ => tracing::debug!(nsp = &*self.nsp, "an answer of the wrong kind"),
        }
    }
}
