//! [`SessionStore`]: the in-memory packets and sessions of connection state recovery, on one
//! node (what [`LocalAdapter`](super::LocalAdapter) keeps).
//!
//! Offsets are `<epoch>-<seq>`: a random epoch per store, so an offset from another process or
//! another namespace is never taken for one of ours, and a sequence number per packet. An
//! offset is good while every packet after it is still stored.
//!
//! Limits ([`RecoveryConfig`]): the bytes of stored packets, their age, and the number of
//! disconnected sessions; a session also expires `max_disconnection_duration` after its
//! socket left.
//!
//! ```
//! use tether_core::adapter::{BroadcastOptions, EventPacket, RecoveryConfig, Restore, SessionState, SessionStore};
//! use tether_core::engine::Sid;
//! use tether_core::socket::Payload;
//! let store = SessionStore::new(RecoveryConfig::default());
//! let (sid, pid) = (Sid::random(), Sid::random());
//! store.open(pid, sid);
//! let packet = EventPacket { event: "news".into(), payload: Payload::from_value(&1).unwrap() };
//! let stored = store.record(&packet, &BroadcastOptions::default());
//! assert_eq!(stored.payload.args().len(), 2); // the offset is the last argument
//! let state = SessionState { sid, pid, rooms: vec![sid.as_str().into()], data: serde_json::Value::Null };
//! store.close(pid, Some(state));
//! // The client got nothing yet: it sends no offset, and misses the packet.
//! let Some(Restore::Disconnected { missed, .. }) = store.restore(pid, None) else { panic!() };
//! assert_eq!(missed, vec![stored]);
//! ```
//!
//! Layer: the adapter layer's; names the engine's ids and the protocol's payloads.

use bytestring::ByteString;
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use tokio::time::Instant;

use super::recovery::{RecoveryConfig, Restore, SessionState, missed_by};
use super::{BroadcastOptions, EventPacket, Room};
use crate::engine::{Sid, SidHash};
use crate::protocol::Payload;

struct Stored {
    seq: u64,
    at: Instant,
    bytes: usize,
    opts: BroadcastOptions,
    packet: EventPacket,
}

enum Entry {
    /// Its socket is connected; `base` is the last sequence number when it connected.
    Live { sid: Sid, base: u64 },
    /// Its socket left at `at`.
    Left {
        state: SessionState,
        base: u64,
        at: Instant,
    },
}

#[derive(Default)]
struct Inner {
    /// The last sequence number given.
    last: u64,
    /// Every packet up to this one is gone.
    trimmed: u64,
    packets: VecDeque<Stored>,
    bytes: usize,
    sessions: HashMap<Sid, Entry, SidHash>,
    /// Disconnected sessions in the order they left (an entry whose session was restored or
    /// replaced since is skipped).
    left: VecDeque<(Sid, Instant)>,
    /// How many entries of `sessions` are `Left`.
    left_count: usize,
}

/// Packets and sessions of one namespace on one node, bounded as its [`RecoveryConfig`] says.
pub struct SessionStore {
    config: RecoveryConfig,
    epoch: String,
    inner: Mutex<Inner>,
}

impl std::fmt::Debug for SessionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionStore")
            .field("epoch", &self.epoch)
            .finish_non_exhaustive()
    }
}

impl SessionStore {
    /// An empty store.
    pub fn new(config: RecoveryConfig) -> SessionStore {
        let mut raw = [0u8; 4];
        if getrandom::fill(&mut raw).is_err() {
            raw = (std::process::id() ^ 0x5eed_1234).to_le_bytes();
        }
        SessionStore {
            config,
            epoch: raw.iter().map(|b| format!("{b:02x}")).collect(),
            inner: Mutex::new(Inner::default()),
        }
    }

    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn offset(&self, seq: u64) -> ByteString {
        format!("{}-{seq}", self.epoch).into()
    }

    /// The sequence number of one of our offsets.
    fn seq(&self, offset: &str) -> Option<u64> {
        let (epoch, seq) = offset.split_once('-')?;
        if epoch != self.epoch {
            return None;
        }
        seq.parse().ok()
    }

    /// Stores a packet broadcast with `opts`; the packet as sent, its offset appended.
    pub fn record(&self, packet: &EventPacket, opts: &BroadcastOptions) -> EventPacket {
        let now = Instant::now();
        let mut inner = self.inner();
        inner.last += 1;
        let seq = inner.last;
        let offset = self.offset(seq);
        let mut args = packet.payload.args().to_vec();
        args.push(format!("\"{offset}\"").into());
        let stored = EventPacket {
            event: packet.event.clone(),
            payload: Payload::from_raw(args, packet.payload.attachments().to_vec()),
        };
        let bytes = size_of(&stored, opts);
        inner.bytes += bytes;
        inner.packets.push_back(Stored {
            seq,
            at: now,
            bytes,
            opts: opts.clone(),
            packet: stored.clone(),
        });
        self.trim(&mut inner, now);
        stored
    }

    /// Drops the packets past the byte and age limits.
    fn trim(&self, inner: &mut Inner, now: Instant) {
        while let Some(front) = inner.packets.front() {
            let old = now.saturating_duration_since(front.at) > self.config.max_packet_age;
            if !old && inner.bytes <= self.config.max_stored_bytes {
                break;
            }
            inner.bytes -= front.bytes;
            inner.trimmed = front.seq;
            inner.packets.pop_front();
        }
    }

    /// A socket connected with session `pid`.
    pub fn open(&self, pid: Sid, sid: Sid) {
        let mut inner = self.inner();
        let base = inner.last;
        if let Some(Entry::Left { .. }) = inner.sessions.insert(pid, Entry::Live { sid, base }) {
            inner.left_count -= 1;
        }
    }

    /// The socket of session `pid` left: with a state, it can be recovered for
    /// `max_disconnection_duration`; without, the session is forgotten.
    pub fn close(&self, pid: Sid, state: Option<SessionState>) {
        let now = Instant::now();
        let mut inner = self.inner();
        let base = match inner.sessions.remove(&pid) {
            Some(Entry::Live { base, .. }) => base,
            Some(Entry::Left { base, .. }) => {
                inner.left_count -= 1;
                base
            }
            None => return,
        };
        let Some(state) = state else {
            return;
        };
        inner.sessions.insert(
            pid,
            Entry::Left {
                state,
                base,
                at: now,
            },
        );
        inner.left_count += 1;
        inner.left.push_back((pid, now));
        self.expire(&mut inner, now);
    }

    /// Drops the disconnected sessions past their time or past the count limit.
    fn expire(&self, inner: &mut Inner, now: Instant) {
        while let Some(&(pid, at)) = inner.left.front() {
            let current =
                matches!(inner.sessions.get(&pid), Some(Entry::Left { at: a, .. }) if *a == at);
            if current {
                let expired =
                    now.saturating_duration_since(at) > self.config.max_disconnection_duration;
                if !expired && inner.left_count <= self.config.max_sessions {
                    break;
                }
                inner.sessions.remove(&pid);
                inner.left_count -= 1;
            }
            inner.left.pop_front();
        }
    }

    /// Whether every packet after `seq` is still here.
    fn complete_after(inner: &Inner, seq: u64) -> bool {
        seq >= inner.trimmed && seq <= inner.last
    }

    /// The session `pid` for a client that got everything up to `offset` (`None`: nothing
    /// yet). `None` when there is no such session, it expired, or packets it missed are gone.
    /// A disconnected session is claimed: it is restored once.
    pub fn restore(&self, pid: Sid, offset: Option<&str>) -> Option<Restore> {
        let now = Instant::now();
        let mut inner = self.inner();
        self.expire(&mut inner, now);
        let base = match inner.sessions.get(&pid)? {
            Entry::Live { base, .. } | Entry::Left { base, .. } => *base,
        };
        let seq = match offset {
            Some(offset) => self.seq(offset),
            None => Some(base),
        };
        let Some(seq) = seq.filter(|&seq| Self::complete_after(&inner, seq)) else {
            // The client cannot get everything it missed: it starts afresh.
            if let Some(Entry::Left { .. }) = inner.sessions.remove(&pid) {
                inner.left_count -= 1;
            }
            return None;
        };
        match inner.sessions.remove(&pid)? {
            Entry::Live { sid, base } => {
                inner.sessions.insert(pid, Entry::Live { sid, base });
                Some(Restore::Live {
                    sid,
                    through: self.offset(seq),
                })
            }
            Entry::Left { state, .. } => {
                inner.left_count -= 1;
                let missed = Self::after(&inner, seq, &state.rooms);
                Some(Restore::Disconnected {
                    state,
                    missed,
                    through: self.offset(inner.last),
                })
            }
        }
    }

    fn after(inner: &Inner, seq: u64, rooms: &[Room]) -> Vec<EventPacket> {
        // Sequence numbers are consecutive: the first packet after `seq` is at a known index.
        let start = match inner.packets.front() {
            Some(front) => usize::try_from(seq.saturating_sub(front.seq - 1)).unwrap_or(usize::MAX),
            None => 0,
        };
        inner
            .packets
            .iter()
            .skip(start)
            .filter(|p| missed_by(rooms, &p.opts))
            .map(|p| p.packet.clone())
            .collect()
    }

    /// The packets after `offset` meant for `rooms`; `None` when some are gone (or the offset
    /// is not this store's).
    pub fn replay(&self, offset: &str, rooms: &[Room]) -> Option<Vec<EventPacket>> {
        let inner = self.inner();
        let seq = self.seq(offset)?;
        Self::complete_after(&inner, seq).then(|| Self::after(&inner, seq, rooms))
    }

    /// Stored packets and their bytes; disconnected sessions kept.
    pub fn usage(&self) -> (usize, usize, usize) {
        let inner = self.inner();
        (inner.packets.len(), inner.bytes, inner.left_count)
    }
}

/// What a stored packet costs, roughly: its strings, attachments and options.
fn size_of(packet: &EventPacket, opts: &BroadcastOptions) -> usize {
    const OVERHEAD: usize = 96;
    OVERHEAD
        + packet.event.len()
        + packet
            .payload
            .args()
            .iter()
            .map(|a| a.len() + 16)
            .sum::<usize>()
        + packet
            .payload
            .attachments()
            .iter()
            .map(|a| a.len() + 32)
            .sum::<usize>()
        + opts
            .rooms
            .iter()
            .chain(&opts.except)
            .map(|r| r.len() + 16)
            .sum::<usize>()
}
