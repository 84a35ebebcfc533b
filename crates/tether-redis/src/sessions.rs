//! Connection state recovery on Redis: this node's live sessions, written to Redis when a
//! socket connects and kept up to date while it lives (rooms and data within
//! [`FLUSH_EVERY`], the time to live renewed every quarter of `max_disconnection_duration`),
//! so that a node killed with SIGKILL loses none. Every write is compare-and-set on the
//! session's epoch ([`crate::recovery_wire::WRITE`]): once another node claimed a session,
//! this node's writes to it are refused.

use bytestring::ByteString;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tether_core::adapter::{RecoveryConfig, Room, SessionState};
use tether_core::engine::Sid;
use tokio::sync::mpsc;

use crate::conn::Conn;
use crate::link::Link;
use crate::recovery_wire::{self as wire, Keys};

/// How often changed sessions (rooms, data) are written.
pub(crate) const FLUSH_EVERY: Duration = Duration::from_millis(200);

/// A live session of this node.
struct Live {
    sid: Sid,
    epoch: String,
    data: serde_json::Value,
    dirty: bool,
}

/// A session claimed for a socket that has not joined yet: its epoch and data.
struct Claimed {
    epoch: String,
    data: serde_json::Value,
}

#[derive(Default)]
struct State {
    /// Live sessions by pid, and their pids by socket id.
    live: HashMap<Sid, Live>,
    pids: HashMap<Sid, Sid>,
    claimed: HashMap<Sid, Claimed>,
}

/// What a session write does.
enum Write {
    /// Creates it (or overwrites one with this pid), with a time to live.
    Create(Vec<(&'static str, String)>, Duration),
    /// Updates it if its epoch is still this one; also renews its time to live.
    Update(String, Vec<(&'static str, String)>, Duration),
    /// Deletes it if its epoch is still this one.
    Forget(String),
}

/// One namespace's live sessions on one node.
pub(crate) struct Sessions {
    uid: String,
    max_disconnection: Duration,
    state: Mutex<State>,
    writes: mpsc::UnboundedSender<(Sid, Write)>,
}

impl Sessions {
    pub(crate) fn new(link: &Arc<Link>, keys: Keys, config: &RecoveryConfig) -> Sessions {
        let (writes, queue) = mpsc::unbounded_channel();
        tokio::spawn(writer(link.conn.clone(), keys, queue));
        Sessions {
            uid: link.uid.clone(),
            max_disconnection: config.max_disconnection_duration,
            state: Mutex::new(State::default()),
            writes,
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How often every live session's time to live is renewed.
    pub(crate) fn refresh_every(&self) -> Duration {
        (self.max_disconnection / 4).max(Duration::from_secs(1))
    }

    /// How long a live session lives in Redis without a renewal.
    pub(crate) fn live_ttl(&self) -> Duration {
        self.max_disconnection + 2 * self.refresh_every()
    }

    /// Whether session `pid` is live here with socket `sid`.
    pub(crate) fn is_live(&self, pid: Sid, sid: Sid) -> bool {
        self.state().live.get(&pid).is_some_and(|l| l.sid == sid)
    }

    /// Session `pid` was claimed (at `epoch`) for a socket about to join; with no `data`, the
    /// live copy's (it is about to be evicted).
    pub(crate) fn claimed(&self, pid: Sid, epoch: String, data: Option<serde_json::Value>) {
        let mut state = self.state();
        let data = data
            .or_else(|| state.live.get(&pid).map(|l| l.data.clone()))
            .unwrap_or(serde_json::Value::Null);
        state.claimed.insert(pid, Claimed { epoch, data });
    }

    /// A socket joined with session `pid`: a new session is written now (`base`: the stream's
    /// position, what a client with no offset missed after); a claimed one becomes this node's.
    pub(crate) fn open(&self, pid: Sid, sid: Sid, base: ByteString) {
        let mut state = self.state();
        let (epoch, data, write) = match state.claimed.remove(&pid) {
            // A recovered session keeps its base; its rooms and data are written with the
            // next flush (it is dirty).
            Some(Claimed { epoch, data }) => {
                let fields = vec![("owner", self.uid.clone()), ("left", "0".to_owned())];
                let write = Write::Update(epoch.clone(), fields, self.live_ttl());
                (epoch, data, write)
            }
            None => {
                let fields = vec![
                    ("sid", sid.to_string()),
                    ("rooms", format!("[\"{sid}\"]")),
                    ("data", "null".to_owned()),
                    ("base", base.to_string()),
                    ("owner", self.uid.clone()),
                    ("left", "0".to_owned()),
                ];
                let write = Write::Create(fields, self.live_ttl());
                ("0".to_owned(), serde_json::Value::Null, write)
            }
        };
        let dirty = matches!(write, Write::Update(..));
        state.live.insert(
            pid,
            Live {
                sid,
                epoch,
                data,
                dirty,
            },
        );
        state.pids.insert(sid, pid);
        drop(state);
        let _ = self.writes.send((pid, write));
    }

    /// The rooms of socket `sid` changed: its session is written within [`FLUSH_EVERY`].
    pub(crate) fn touched(&self, sid: Sid) {
        let mut state = self.state();
        if let Some(pid) = state.pids.get(&sid).copied()
            && let Some(live) = state.live.get_mut(&pid)
        {
            live.dirty = true;
        }
    }

    /// The data of session `pid` changed.
    pub(crate) fn data(&self, pid: Sid, data: &serde_json::Value) {
        if let Some(live) = self.state().live.get_mut(&pid) {
            live.data = data.clone();
            live.dirty = true;
        }
    }

    /// The socket of session `pid` left: with a state its session is kept for
    /// `max_disconnection_duration`, else deleted (both only if no other node claimed it).
    pub(crate) fn close(&self, pid: Sid, state: Option<SessionState>) {
        let mut guard = self.state();
        let Some(live) = guard.live.remove(&pid) else {
            return;
        };
        guard.pids.remove(&live.sid);
        drop(guard);
        let write = match state {
            Some(state) => Write::Update(
                live.epoch,
                vec![
                    ("rooms", rooms_json(&state.rooms)),
                    ("data", state.data.to_string()),
                    ("left", "1".to_owned()),
                ],
                self.max_disconnection,
            ),
            None => Write::Forget(live.epoch),
        };
        let _ = self.writes.send((pid, write));
    }

    /// Writes the changed sessions (rooms from `rooms_of`); with `all`, every live one, to
    /// renew its time to live.
    pub(crate) fn flush(&self, rooms_of: &dyn Fn(Sid) -> Vec<Room>, all: bool) {
        let mut state = self.state();
        let mut out = Vec::new();
        for (pid, live) in &mut state.live {
            if !live.dirty && !all {
                continue;
            }
            let fields = if live.dirty {
                vec![
                    ("rooms", rooms_json(&rooms_of(live.sid))),
                    ("data", live.data.to_string()),
                ]
            } else {
                Vec::new()
            };
            live.dirty = false;
            out.push((
                *pid,
                Write::Update(live.epoch.clone(), fields, self.live_ttl()),
            ));
        }
        drop(state);
        for write in out {
            let _ = self.writes.send(write);
        }
    }
}

fn rooms_json(rooms: &[Room]) -> String {
    serde_json::to_string(&rooms.iter().map(|r| &**r).collect::<Vec<&str>>())
        .unwrap_or_else(|_| "[]".to_owned())
}

/// Runs session writes in order, one at a time.
async fn writer(mut conn: Conn, keys: Keys, mut queue: mpsc::UnboundedReceiver<(Sid, Write)>) {
    while let Some((pid, write)) = queue.recv().await {
        let key = keys.session(&pid.to_string());
        let mut cmd = redis::cmd("EVAL");
        match write {
            Write::Create(fields, ttl) => {
                cmd.arg(wire::WRITE).arg(1).arg(&key).arg("new");
                cmd.arg(ttl.as_millis().to_string());
                for (k, v) in fields {
                    cmd.arg(k).arg(v);
                }
            }
            Write::Update(epoch, fields, ttl) => {
                cmd.arg(wire::WRITE).arg(1).arg(&key).arg(epoch);
                cmd.arg(ttl.as_millis().to_string());
                for (k, v) in fields {
                    cmd.arg(k).arg(v);
                }
            }
            Write::Forget(epoch) => {
                cmd.arg(wire::FORGET).arg(1).arg(&key).arg(epoch);
            }
        }
        if let Err(err) = cmd.query_async::<redis::Value>(&mut conn).await {
            tracing::debug!(%err, "a session write failed");
        }
    }
}
