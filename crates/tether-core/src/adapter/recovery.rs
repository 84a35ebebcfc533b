//! Connection state recovery, as an adapter sees it: the settings, a socket's session (what a
//! reconnecting client gets back), and which stored packets a session missed.
//!
//! With recovery on, every socket gets a private session id (`pid`, sent in its CONNECT reply
//! beside its public id) and every recoverable packet an offset: a string appended as the last
//! argument of the event, which official clients keep and send back (`auth.pid`,
//! `auth.offset`) when they reconnect. The adapter stores the packets and the sessions;
//! [`Adapter::restore_session`](super::Adapter::restore_session) gives a reconnecting client
//! its id, rooms, data and the packets it missed.
//!
//! ```
//! use tether_core::adapter::{BroadcastOptions, RecoveryConfig, missed_by};
//! let config = RecoveryConfig::default();
//! assert_eq!(config.max_disconnection_duration.as_secs(), 120);
//! // A session in room "a" missed a broadcast to "a" but not one to "b".
//! let rooms = ["sid1".into(), "a".into()];
//! assert!(missed_by(&rooms, &BroadcastOptions::to(["a"])));
//! assert!(!missed_by(&rooms, &BroadcastOptions::to(["b"])));
//! ```
//!
//! Layer: values of the adapter layer; names the engine's ids only.

use bytestring::ByteString;
use std::time::Duration;

use super::{BroadcastOptions, EventPacket, Room};
use crate::engine::Sid;

/// Settings of connection state recovery (Socket.IO's `connectionStateRecovery`), with the
/// limits of [`LocalAdapter`](super::LocalAdapter)'s in-memory store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecoveryConfig {
    /// How long after a disconnection a client can still recover. Default 2 minutes, as Node.
    pub max_disconnection_duration: Duration,
    /// Whether a recovered socket skips the namespace's middleware. Default true, as Node.
    pub skip_middlewares: bool,
    /// `LocalAdapter`: the bytes of packets kept per namespace (event name, arguments,
    /// attachments); past it the oldest are dropped, and a client whose offset is older can no
    /// longer recover. Default 64 MiB.
    pub max_stored_bytes: usize,
    /// `LocalAdapter`: how long a packet is kept. Default 2 minutes (the longest a client can
    /// be away and still recover).
    pub max_packet_age: Duration,
    /// `LocalAdapter`: disconnected sessions kept per namespace; past it the one that
    /// disconnected first is dropped. Default 100,000.
    pub max_sessions: usize,
}

impl Default for RecoveryConfig {
    fn default() -> Self {
        RecoveryConfig {
            max_disconnection_duration: Duration::from_secs(120),
            skip_middlewares: true,
            max_stored_bytes: 64 << 20,
            max_packet_age: Duration::from_secs(120),
            max_sessions: 100_000,
        }
    }
}

impl RecoveryConfig {
    /// Sets `max_disconnection_duration` (and `max_packet_age` to the same).
    #[must_use]
    pub fn max_disconnection_duration(mut self, d: Duration) -> Self {
        self.max_disconnection_duration = d;
        self.max_packet_age = d;
        self
    }
    /// Sets `skip_middlewares`.
    #[must_use]
    pub fn skip_middlewares(mut self, skip: bool) -> Self {
        self.skip_middlewares = skip;
        self
    }
    /// Sets `max_stored_bytes`.
    #[must_use]
    pub fn max_stored_bytes(mut self, bytes: usize) -> Self {
        self.max_stored_bytes = bytes;
        self
    }
    /// Sets `max_packet_age`.
    #[must_use]
    pub fn max_packet_age(mut self, d: Duration) -> Self {
        self.max_packet_age = d;
        self
    }
    /// Sets `max_sessions`.
    #[must_use]
    pub fn max_sessions(mut self, n: usize) -> Self {
        self.max_sessions = n;
        self
    }
}

/// What a socket's session holds: what a reconnecting client gets back.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionState {
    /// The socket's public id, reused by the recovered socket.
    pub sid: Sid,
    /// The private session id the client sends back.
    pub pid: Sid,
    /// Its rooms (its own id's among them).
    pub rooms: Vec<Room>,
    /// Its data (`socket.data`).
    pub data: serde_json::Value,
}

/// What [`Adapter::restore_session`](super::Adapter::restore_session) found.
#[derive(Debug, Clone, PartialEq)]
pub enum Restore {
    /// The session of a socket that left: its state and the packets it missed, each with its
    /// offset as last argument, oldest first. `through` is the offset the list ends at: the
    /// packets after it are asked for with [`Adapter::replay`](super::Adapter::replay) at the
    /// moment the socket becomes a recipient, so none falls in between.
    Disconnected {
        /// The session.
        state: SessionState,
        /// The missed packets.
        missed: Vec<EventPacket>,
        /// The offset `missed` ends at.
        through: ByteString,
    },
    /// The session's socket is still connected on this node (its old connection is dead but
    /// the server has not noticed yet): the socket layer evicts it (without keeping its
    /// session) and takes its rooms and data. The client's offset is valid: the packets after
    /// it are asked for with `replay`.
    Live {
        /// The connected socket's id.
        sid: Sid,
        /// The offset to replay from.
        through: ByteString,
    },
}

/// Whether a packet broadcast with `opts` was meant for a session in `rooms` (Node's
/// `shouldIncludePacket`): every socket when no room is named, or one in a named room; and
/// in no excepted room.
pub fn missed_by(rooms: &[Room], opts: &BroadcastOptions) -> bool {
    let included = opts.rooms.is_empty() || rooms.iter().any(|r| opts.rooms.contains(r));
    included && !rooms.iter().any(|r| opts.except.contains(r))
}

/// Reads a recovering client's CONNECT auth: `pid` and `offset` when they are strings, as Node
/// requires (an offset may be missing: the client got no event yet).
pub fn recovery_auth(auth: &str) -> Option<(Sid, Option<ByteString>)> {
    #[derive(serde::Deserialize)]
    struct Auth {
        pid: Option<serde_json::Value>,
        offset: Option<serde_json::Value>,
    }
    let auth: Auth = serde_json::from_str(auth).ok()?;
    let serde_json::Value::String(pid) = auth.pid? else {
        return None;
    };
    let pid = Sid::parse(&pid)?;
    match auth.offset {
        None | Some(serde_json::Value::Null) => Some((pid, None)),
        Some(serde_json::Value::String(offset)) => Some((pid, Some(offset.into()))),
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_pid_and_offset_when_they_are_strings() {
        let pid = Sid::random();
        let auth = format!(r#"{{"token":1,"pid":"{pid}","offset":"ab-3"}}"#);
        assert_eq!(recovery_auth(&auth), Some((pid, Some("ab-3".into()))));
        let auth = format!(r#"{{"pid":"{pid}"}}"#);
        assert_eq!(recovery_auth(&auth), Some((pid, None)));
        let auth = format!(r#"{{"pid":"{pid}","offset":3}}"#);
        assert_eq!(recovery_auth(&auth), None);
        assert_eq!(recovery_auth(r#"{"pid":3,"offset":"x"}"#), None);
        assert_eq!(recovery_auth(r#"{"pid":"not an id","offset":"x"}"#), None);
        assert_eq!(recovery_auth("[1]"), None);
        assert_eq!(recovery_auth("{}"), None);
    }

    #[test]
    fn a_session_missed_what_reached_its_rooms_and_not_what_excepted_them() {
        let rooms: Vec<Room> = vec!["me".into(), "a".into()];
        assert!(missed_by(&rooms, &BroadcastOptions::default()));
        assert!(missed_by(&rooms, &BroadcastOptions::to(["me"])));
        let mut opts = BroadcastOptions::to(["a"]);
        opts.except.push("me".into());
        assert!(!missed_by(&rooms, &opts));
        let opts = BroadcastOptions {
            except: vec!["b".into()],
            ..Default::default()
        };
        assert!(missed_by(&rooms, &opts));
    }
}
