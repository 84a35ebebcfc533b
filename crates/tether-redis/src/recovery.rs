//! Connection state recovery across nodes (classic mode, one Redis server), for a server that
//! turned `connection_state_recovery` on.
//!
//! - **Packets**: every recoverable packet of a namespace is `XADD`ed to its stream and
//!   published, in one script call ([`wire::RECORD`]); its offset is the entry's id. Every
//!   node, the sender included, delivers it when it arrives from Redis, so all nodes deliver
//!   in the stream's order. Node nodes on the same channels get it too (with the offset as
//!   last argument, as Node's own recovery sends it). Retention: entries older than
//!   `max_disconnection_duration` plus a minute are trimmed (`MINID ~`).
//! - **Sessions**: a hash per session, written when the socket connects and kept up to date
//!   (rooms, data, within [`FLUSH_EVERY`]) and alive while it lives, so a node killed with
//!   SIGKILL loses none; kept `max_disconnection_duration` after a clean disconnect.
//! - **Restore**: one script claims the session ([`wire::CLAIM`]: owner and epoch change
//!   atomically; every later write of the previous owner is compare-and-set on the epoch, so
//!   it is refused), the previous owner is told to evict a stale copy, then the stream is read
//!   from the client's offset in batches of [`BATCH`] (at most [`MAX_REPLAY`] entries,
//!   else not recovered). The seam with live traffic: the restore waits until this node has
//!   delivered up to the last entry read, and what arrived after it comes from the node's
//!   window of recent entries, under the namespace's recovery lock. An entry enters the
//!   window under that same lock, in one step with its local delivery
//!   ([`broadcast_admitted`](tether_core::adapter::LocalNamespace::broadcast_admitted)), so a
//!   recovered socket gets it once: replayed, or live.
//!
//! Round trips of a restore: the claim, then one `XRANGE` per [`BATCH`] entries missed (at
//! least one), plus one publish when another node holds a stale copy.

use bytestring::ByteString;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tether_core::adapter::{
    AdapterError, BroadcastOptions, EventPacket, RecoveryConfig, Restore, Room, SessionState,
    missed_by,
};
use tether_core::engine::Sid;
use tokio::sync::watch;

use crate::broadcast;
use crate::conn::{Conn, Record};
use crate::link::{Link, unavailable};
use crate::recovery_wire::{self as wire, BATCH, Keys, MAX_REPLAY, StreamId};
use crate::sessions::{FLUSH_EVERY, Sessions};

/// Recent entries a node keeps for the seam between a replay and live traffic.
const WINDOW: usize = 10_000;

/// A stream entry as `XRANGE` gives it: its id, then its fields and values in turn.
type Entry = (String, Vec<Vec<u8>>);

#[derive(Default)]
struct State {
    /// Recent entries in stream order: id, message (its offset in place). Every entry after
    /// `floor` that reached this node is here, but for those before `evicted`.
    window: VecDeque<(StreamId, Arc<[u8]>)>,
    /// The stream's last id when this node's subscriptions were last (re)made: what comes
    /// after it reaches this node. `None` until known, and from a lost connection on.
    floor: Option<StreamId>,
    /// The newest entry dropped from the window.
    evicted: StreamId,
}

/// One namespace's recovery on one node.
pub(crate) struct Recovery {
    pub(crate) config: RecoveryConfig,
    pub(crate) keys: Keys,
    /// This node's own channel for the namespace.
    pub(crate) own: String,
    placeholder: String,
    nsp: ByteString,
    link: Arc<Link>,
    state: Mutex<State>,
    /// The last entry this node delivered.
    position: watch::Sender<StreamId>,
    /// This node's live sessions.
    pub(crate) sessions: Sessions,
}

impl Recovery {
    pub(crate) fn new(link: Arc<Link>, nsp: ByteString, config: RecoveryConfig) -> Arc<Recovery> {
        let keys = Keys::new(&link.config.prefix, &nsp);
        let sessions = Sessions::new(&link, keys.clone(), &config);
        Arc::new(Recovery {
            own: keys.own(&link.config.prefix, &nsp, &link.uid),
            keys,
            placeholder: wire::placeholder(),
            nsp,
            config,
            state: Mutex::new(State::default()),
            position: watch::Sender::new(StreamId::default()),
            sessions,
            link,
        })
    }

    /// The offset of the last entry this node delivered.
    pub(crate) fn position(&self) -> ByteString {
        self.position.borrow().offset()
    }

    /// Starts the upkeep: changed sessions written, live ones renewed, the window restarted
    /// when Redis is lost. `rooms_of` gives a local socket's rooms.
    pub(crate) fn start(
        self: &Arc<Self>,
        rooms_of: impl Fn(Sid) -> Vec<Room> + Send + Sync + 'static,
    ) {
        tokio::spawn(upkeep(Arc::downgrade(self), rooms_of));
    }

    /// Learns the stream's last id, once subscribed: every later entry reaches this node.
    pub(crate) async fn sync(&self) {
        let mut conn = self.link.conn.clone();
        let last: Result<Vec<Entry>, _> = redis::cmd("XREVRANGE")
            .arg(&self.keys.stream)
            .arg("+")
            .arg("-")
            .arg("COUNT")
            .arg(1)
            .query_async(&mut conn)
            .await;
        match last {
            Ok(last) => {
                let floor = last
                    .first()
                    .and_then(|(id, _)| StreamId::parse(id))
                    .unwrap_or_default();
                let mut state = self.state();
                state.floor = Some(floor);
                drop(state);
                self.position.send_if_modified(|p| {
                    let moved = *p < floor;
                    *p = (*p).max(floor);
                    moved
                });
            }
            Err(err) => {
                tracing::warn!(%err, nsp = &*self.nsp, "could not read the recovery stream")
            }
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Stores and publishes a recoverable packet; this node delivers it when it comes back.
    pub(crate) fn record(
        &self,
        channel: String,
        packet: &EventPacket,
        opts: &BroadcastOptions,
    ) -> Result<(), AdapterError> {
        let mut args = packet.payload.args().to_vec();
        args.push(format!("\"{}\"", self.placeholder).into());
        let marked = EventPacket {
            event: packet.event.clone(),
            payload: tether_core::socket::Payload::from_raw(
                args,
                packet.payload.attachments().to_vec(),
            ),
        };
        let payload =
            broadcast::encode(&self.link.uid, &self.nsp, &marked, opts).map_err(unavailable)?;
        let at = wire::placeholder_at(&payload, &self.placeholder)
            .ok_or_else(|| unavailable("the offset placeholder is missing"))?;
        let oldest = SystemTime::now()
            .checked_sub(self.config.max_disconnection_duration + Duration::from_secs(60))
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_millis());
        let channel = if opts.flags.local {
            self.own.clone()
        } else {
            channel
        };
        self.link.publish_recorded(
            channel,
            payload,
            Record {
                stream: self.keys.stream.clone(),
                at,
                min_id: format!("{oldest}-0"),
            },
        )
    }

    /// A message arrived with `offset` as its packet's last argument: kept in the window,
    /// and the position moves on. False when it is not newer than the last one (then it is
    /// not one of ours: the emitter or a Node node sent a string that looks like an offset).
    pub(crate) fn arrived(&self, offset: &str, payload: &[u8]) -> bool {
        let Some(id) = StreamId::parse(offset) else {
            return false;
        };
        let mut state = self.state();
        if state.window.back().is_some_and(|(last, _)| *last >= id) {
            return false;
        }
        if state.window.len() == WINDOW
            && let Some((old, _)) = state.window.pop_front()
        {
            state.evicted = old;
        }
        state.window.push_back((id, Arc::from(payload)));
        drop(state);
        self.position.send_replace(id);
        true
    }

    /// The connection to Redis was lost: messages may have been missed, so the window starts
    /// again (a restore whose seam falls before it fails, and the client tries again).
    pub(crate) fn lost(&self) {
        let mut state = self.state();
        state.window.clear();
        state.floor = None;
    }

    /// The packets after `through` for `rooms`, from the window; `None` if it does not reach
    /// back that far.
    pub(crate) fn replay(&self, through: &str, rooms: &[Room]) -> Option<Vec<EventPacket>> {
        let through = StreamId::parse(through)?;
        let state = self.state();
        if state.floor.is_none_or(|floor| floor > through) || state.evicted > through {
            return None;
        }
        let mut out = Vec::new();
        for (id, payload) in state.window.iter().filter(|(id, _)| *id > through) {
            if let Some(packet) = self.readable(payload, rooms) {
                out.push(packet);
            } else {
                tracing::trace!(?id, "not for this session");
            }
        }
        Some(out)
    }

    /// The packet of a stored message, if it is meant for `rooms`.
    fn readable(&self, payload: &[u8], rooms: &[Room]) -> Option<EventPacket> {
        let msg = broadcast::decode(payload).ok()?;
        (msg.nsp == self.nsp && missed_by(rooms, &msg.opts)).then_some(msg.packet)
    }

    /// Claims session `pid` and reads what the client missed after `offset` (its base when
    /// it sends none).
    pub(crate) async fn restore(
        &self,
        pid: Sid,
        offset: Option<ByteString>,
    ) -> Result<Option<Restore>, AdapterError> {
        let mut conn = self.link.conn.clone();
        let key = self.keys.session(&pid.to_string());
        let ttl = self.sessions.live_ttl().as_millis().to_string();
        let claimed: Option<Vec<String>> = redis::cmd("EVAL")
            .arg(wire::CLAIM)
            .arg(1)
            .arg(&key)
            .arg(&self.link.uid)
            .arg(&ttl)
            .query_async(&mut conn)
            .await
            .map_err(unavailable)?;
        let Some([owner, epoch, sid, rooms, data, base, left]) =
            claimed.and_then(|c| <[String; 7]>::try_from(c).ok())
        else {
            return Ok(None);
        };
        let Some(sid) = Sid::parse(&sid) else {
            return Ok(None);
        };
        let from = match offset
            .as_deref()
            .or(Some(base.as_str()).filter(|b| !b.is_empty()))
        {
            Some(text) => match StreamId::parse(text) {
                Some(id) => id,
                None => return Ok(None),
            },
            None => return Ok(None),
        };
        if owner == self.link.uid && left == "0" && self.sessions.is_live(pid, sid) {
            self.sessions.claimed(pid, epoch, None);
            return Ok(Some(Restore::Live {
                sid,
                through: from.offset(),
            }));
        }
        let rooms: Vec<Room> = serde_json::from_str::<Vec<String>>(&rooms)
            .unwrap_or_default()
            .into_iter()
            .map(Room::from)
            .collect();
        let data = serde_json::from_str(&data).unwrap_or(serde_json::Value::Null);
        let Some((missed, last)) = self.read_missed(&mut conn, from, &rooms).await? else {
            return Ok(None);
        };
        if !owner.is_empty() && owner != self.link.uid && left == "0" {
            // A stale copy may live on its old node: it is evicted, and its writes are
            // refused from now on (the epoch moved).
            let evict = serde_json::json!({ "pid": pid.to_string(), "sid": sid.to_string(), "uid": self.link.uid });
            let _ = self.link.publish(
                self.keys.evict.clone(),
                evict.to_string().into_bytes(),
                None,
            );
        }
        // The seam: this node must have delivered everything read, so the window holds what
        // comes after.
        let mut position = self.position.subscribe();
        let caught_up = position.wait_for(|p| *p >= last);
        if tokio::time::timeout(self.link.config.requests_timeout, caught_up)
            .await
            .is_err()
        {
            return Err(unavailable(
                "this node did not receive the stream's latest entries in time",
            ));
        }
        self.sessions.claimed(pid, epoch, Some(data.clone()));
        Ok(Some(Restore::Disconnected {
            state: SessionState {
                sid,
                pid,
                rooms,
                data,
            },
            missed,
            through: last.offset(),
        }))
    }

    /// The entries after `from` meant for `rooms`, and the last id read (`from` when there is
    /// none). `None` when `from` is gone from the stream (trimmed) or too much was missed.
    async fn read_missed(
        &self,
        conn: &mut Conn,
        from: StreamId,
        rooms: &[Room],
    ) -> Result<Option<(Vec<EventPacket>, StreamId)>, AdapterError> {
        let mut missed = Vec::new();
        let mut last = from;
        let mut first = true;
        let mut read = 0;
        loop {
            let start = if first {
                from.to_redis()
            } else {
                format!("({}", last.to_redis())
            };
            let entries: Vec<Entry> = redis::cmd("XRANGE")
                .arg(&self.keys.stream)
                .arg(&start)
                .arg("+")
                .arg("COUNT")
                .arg(BATCH + usize::from(first))
                .query_async(conn)
                .await
                .map_err(unavailable)?;
            let mut entries = entries.into_iter().peekable();
            if first {
                first = false;
                let base_exists = entries
                    .peek()
                    .is_some_and(|(id, _)| StreamId::parse(id) == Some(from));
                // The base of a session that connected before any entry existed is 0-0.
                if !base_exists && from != StreamId::default() {
                    return Ok(None);
                }
                if base_exists {
                    entries.next();
                }
            }
            let mut count = 0;
            for (id, fields) in entries {
                count += 1;
                let Some(id) = StreamId::parse(&id) else {
                    continue;
                };
                last = id;
                if let Some(packet) =
                    stored_message(&fields, id).and_then(|message| self.readable(&message, rooms))
                {
                    missed.push(packet);
                }
            }
            read += count;
            if read > MAX_REPLAY {
                return Ok(None);
            }
            if count < BATCH {
                return Ok(Some((missed, last)));
            }
        }
    }
}

/// A stream entry's message with its offset in place: fields `m` (the message as published
/// with the placeholder) and `i` (where the placeholder starts).
fn stored_message(fields: &[Vec<u8>], id: StreamId) -> Option<Vec<u8>> {
    let mut message = None;
    let mut at = None;
    for pair in fields.chunks(2) {
        match pair {
            [k, v] if k == b"m" => message = Some(v),
            [k, v] if k == b"i" => at = std::str::from_utf8(v).ok()?.parse::<usize>().ok(),
            _ => {}
        }
    }
    wire::with_offset(message?, at?, id)
}

/// Writes changed sessions every [`FLUSH_EVERY`], renews every live one's time to live
/// every quarter of `max_disconnection_duration`, and restarts the window when Redis is lost.
async fn upkeep(
    recovery: std::sync::Weak<Recovery>,
    rooms_of: impl Fn(Sid) -> Vec<Room> + Send + Sync + 'static,
) {
    let Some(first) = recovery.upgrade() else {
        return;
    };
    let mut health = first.link.health.watch();
    let refresh = first.sessions.refresh_every();
    drop(first);
    let mut tick = tokio::time::interval(FLUSH_EVERY);
    let mut since_refresh = Duration::ZERO;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            changed = health.changed() => {
                if changed.is_err() {
                    return;
                }
                let up = *health.borrow_and_update();
                let Some(r) = recovery.upgrade() else { return };
                if up {
                    r.sync().await;
                } else {
                    r.lost();
                }
                continue;
            }
        }
        let Some(r) = recovery.upgrade() else {
            return;
        };
        since_refresh += FLUSH_EVERY;
        let all = since_refresh >= refresh;
        if all {
            since_refresh = Duration::ZERO;
        }
        r.sessions.flush(&rooms_of, all);
    }
}
