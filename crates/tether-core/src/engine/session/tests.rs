//! The session state machine on a fake clock: every instant is `t(ms)`, a fixed origin plus a
//! literal offset, so each test replays the protocol's timings exactly (pingInterval 300 ms,
//! pingTimeout 200 ms, the values the official suites use) with no sleeping and no runtime.

use super::*;
pub(super) use crate::engine::request::RequestError;
pub(super) use std::time::{Duration, Instant};

// ---- Helpers --------------------------------------------------------------------------------

/// The fake clock: `t(n)` is `n` ms after the origin.
fn clock() -> impl Fn(u64) -> Instant {
    let t0 = Instant::now();
    move |n| t0 + Duration::from_millis(n)
}

fn config() -> EngineConfig {
    EngineConfig::default()
        .ping_interval(Duration::from_millis(300))
        .ping_timeout(Duration::from_millis(200))
}

fn polling(now: Instant) -> Session {
    Session::new(TransportKind::Polling, &config(), now)
}

fn websocket(now: Instant) -> Session {
    Session::new(TransportKind::WebSocket, &config(), now)
}

/// A poll that must be answered at once; its body as text (every body here is ASCII).
fn poll_now(s: &mut Session, now: Instant) -> String {
    match s.poll(now) {
        Ok(PollAnswer::Body(body)) => String::from_utf8_lossy(&body).into_owned(),
        other => panic!("expected an immediate body, got {other:?}"),
    }
}

/// A poll that must be held.
fn hold(s: &mut Session, now: Instant) -> PollId {
    match s.poll(now) {
        Ok(PollAnswer::Wait(id)) => id,
        other => panic!("expected the poll to be held, got {other:?}"),
    }
}

/// Wakes a held poll that must now be answered.
fn wake(s: &mut Session, id: PollId, now: Instant) -> String {
    match s.poll_wake(id, now) {
        PollAnswer::Body(body) => String::from_utf8_lossy(&body).into_owned(),
        PollAnswer::Wait(_) => panic!("expected the woken poll to be answered"),
    }
}

/// What the WebSocket writer takes and writes.
fn drained(s: &mut Session) -> Vec<Frame> {
    let out = s.take_outbox().into_iter().collect();
    s.written();
    out
}

/// Queues text messages, each of which must be accepted.
fn queue(s: &mut Session, texts: &[&str]) {
    for t in texts {
        assert_eq!(s.send(Frame::message(t)), Ok(()));
    }
}

fn msg(s: &'static str) -> Packet {
    Packet::Message(s.into())
}

/// Starts an upgrade that must be accepted.
fn begin(s: &mut Session, now: Instant) -> UpgradeId {
    s.upgrade_begin(now).expect("the upgrade may begin")
}

fn probe(s: &mut Session, id: UpgradeId, now: Instant) -> UpgradeStep {
    s.upgrade_packet(id, &Packet::Ping { probe: true }, now)
}

fn finish_upgrade(s: &mut Session, id: UpgradeId, now: Instant) -> UpgradeStep {
    s.upgrade_packet(id, &Packet::Upgrade, now)
}

const PONG: Packet = Packet::Pong { probe: false };

const fn effects(poll: bool, ws: bool, closed: Option<CloseReason>, remove: bool) -> Effects {
    Effects {
        wake_poll: poll,
        wake_ws: ws,
        closed,
        remove,
        upgraded_from: None,
    }
}

const NOTHING: Effects = effects(false, false, None, false);
const WAKE_POLL: Effects = effects(true, false, None, false);
const WAKE_WS: Effects = effects(false, true, None, false);
const REMOVE: Effects = effects(false, false, None, true);

/// What `close` reports when the session ends at once.
fn closed_now(reason: CloseReason) -> Effects {
    effects(true, true, Some(reason), true)
}

/// What `close` reports when the close waits for a poll to carry it.
fn closing(reason: CloseReason) -> Effects {
    effects(true, true, Some(reason), false)
}

fn violation(v: ProtocolViolation) -> Effects {
    closed_now(CloseReason::ProtocolViolation(v))
}

mod close;
mod heartbeat;
mod outbox;
mod polling;
mod post;
mod streaming;
mod upgrade;
