//! The live view (development mode): an [`Observer`] that tells the admin namespace what every
//! socket does, in Node's events: `socket_connected`, `socket_updated` (transport, data),
//! `socket_disconnected`, `room_joined`, `room_left`, `event_received`, `event_sent` (not for
//! the admin namespace's own events), each with an ISO-8601 timestamp.
//!
//! Layer: names the serializer and the core's observer interface.

use bytestring::ByteString;
use serde_json::{Value, json};
use std::time::{SystemTime, UNIX_EPOCH};
use tether_core::adapter::js_iso_string;
use tether_core::socket::{BroadcastOperator, Observer, Payload, SocketEvent};

use crate::serialize;

/// Broadcasts every socket event to the admin namespace.
pub(crate) struct Live {
    pub(crate) admin_ns: String,
    pub(crate) admin: BroadcastOperator,
}

impl std::fmt::Debug for Live {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Live")
            .field("admin_ns", &self.admin_ns)
            .finish()
    }
}

/// Now, as JavaScript's `new Date().toISOString()` (what a `Date` argument becomes).
pub(crate) fn now_iso() -> String {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    js_iso_string(ms)
}

fn raw(values: Vec<Value>) -> Vec<ByteString> {
    values
        .into_iter()
        .map(|v| ByteString::from(v.to_string()))
        .collect()
}

impl Live {
    fn emit(&self, event: &str, args: Vec<Value>) {
        let _ = self
            .admin
            .emit_payload(event, &Payload::from_raw(raw(args), Vec::new()));
    }

    /// `event_received` / `event_sent`: `nsp, id, [event, ...args], timestamp`, the
    /// arguments as they were (binary attachments included).
    fn traffic(&self, kind: &str, nsp: &str, id: &str, event: &str, payload: &Payload) {
        let mut list = String::from("[");
        list.push_str(&Value::from(event).to_string());
        for arg in payload.args() {
            list.push(',');
            list.push_str(arg);
        }
        list.push(']');
        let args = vec![
            ByteString::from(Value::from(nsp).to_string()),
            ByteString::from(Value::from(id).to_string()),
            ByteString::from(list),
            ByteString::from(Value::from(now_iso()).to_string()),
        ];
        let _ = self.admin.emit_payload(
            kind,
            &Payload::from_raw(args, payload.attachments().to_vec()),
        );
    }
}

impl Observer for Live {
    fn observe(&self, event: SocketEvent<'_>) {
        match event {
            SocketEvent::Connected(s) => {
                self.emit("socket_connected", vec![serialize::local(s), now_iso().into()]);
            }
            SocketEvent::Disconnected(s, reason) => self.emit(
                "socket_disconnected",
                vec![
                    s.ns().into(),
                    s.id().as_str().into(),
                    reason.as_str().into(),
                    now_iso().into(),
                ],
            ),
            SocketEvent::Joined(s, room) => self.emit(
                "room_joined",
                vec![s.ns().into(), room.to_string().into(), s.id().as_str().into(), now_iso().into()],
            ),
            SocketEvent::Left(s, room) => self.emit(
                "room_left",
                vec![s.ns().into(), room.to_string().into(), s.id().as_str().into(), now_iso().into()],
            ),
            SocketEvent::Received(s, event, payload) if s.ns() != self.admin_ns => {
                self.traffic("event_received", s.ns(), s.id().as_str(), event, payload);
            }
            SocketEvent::Sent(s, event, payload) if s.ns() != self.admin_ns => {
                self.traffic("event_sent", s.ns(), s.id().as_str(), event, payload);
            }
            SocketEvent::Upgraded(s) => self.emit(
                "socket_updated",
                vec![json!({ "id": s.id().as_str(), "nsp": s.ns(), "transport": s.transport().as_str() })],
            ),
            SocketEvent::DataChanged(s) => self.emit(
                "socket_updated",
                vec![json!({ "id": s.id().as_str(), "nsp": s.ns(), "data": serialize::without_admin(s.data_value()) })],
            ),
            _ => {}
        }
    }
}
