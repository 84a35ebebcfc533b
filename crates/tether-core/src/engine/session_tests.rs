//! The session state machine on a fake clock: every instant is `t(ms)`, a fixed origin plus a
//! literal offset, so each test replays the protocol's timings exactly (pingInterval 300 ms,
//! pingTimeout 200 ms, the values the official suites use) with no sleeping and no runtime.

use super::*;

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

// ---- Heartbeat ------------------------------------------------------------------------------

#[test]
fn the_ping_is_queued_at_the_interval_not_before_and_wakes_the_transport() {
    let t = clock();
    let mut s = polling(t(0));
    let id = hold(&mut s, t(0));
    assert_eq!(s.next_deadline(), Some(t(300)));
    s.tick(t(299));
    assert_eq!(s.take_effects(), NOTHING);
    assert_eq!(s.buffered_bytes(), 0);
    assert_eq!(s.poll_wake(id, t(299)), PollAnswer::Wait(id));
    s.tick(t(300));
    assert_eq!(s.take_effects(), WAKE_POLL);
    assert_eq!(s.buffered_bytes(), 1);
    assert_eq!(wake(&mut s, id, t(300)), "2");
    // The pong is now awaited until the ping was due + pingTimeout.
    assert_eq!(s.next_deadline(), Some(t(500)));

    let mut ws = websocket(t(0));
    ws.tick(t(300));
    assert_eq!(ws.take_effects(), WAKE_WS);
    assert_eq!(drained(&mut ws), vec![Frame::Text("2".into())]);
}

#[test]
fn a_pong_moves_the_next_ping_to_pong_time_plus_interval() {
    let t = clock();
    let mut s = polling(t(0));
    s.tick(t(300));
    assert_eq!(poll_now(&mut s, t(300)), "2");
    assert_eq!(s.receive(PONG, t(350)), None);
    assert_eq!(s.next_deadline(), Some(t(650)));
    s.take_effects();
    s.tick(t(649));
    assert_eq!(s.take_effects(), NOTHING);
    assert_eq!(s.buffered_bytes(), 0);
    s.tick(t(650));
    assert_eq!(s.take_effects(), WAKE_POLL);
    assert_eq!(poll_now(&mut s, t(650)), "2");
}

#[test]
fn three_ping_pong_rounds_in_a_row() {
    let t = clock();
    let mut s = polling(t(0));
    let mut last = 0;
    for _ in 0..3 {
        // The client polls right away, as the suite does, and gets exactly `2`.
        let id = hold(&mut s, t(last));
        s.tick(t(last + 299));
        assert_eq!(s.poll_wake(id, t(last + 299)), PollAnswer::Wait(id));
        s.tick(t(last + 300));
        assert_eq!(s.take_effects(), WAKE_POLL);
        assert_eq!(wake(&mut s, id, t(last + 300)), "2");
        last += 420;
        assert_eq!(s.receive(PONG, t(last)), None);
        assert!(s.is_open());
    }
    assert_eq!(s.next_deadline(), Some(t(last + 300)));
    assert_eq!(s.take_effects(), NOTHING);
}

#[test]
fn no_pong_by_interval_plus_timeout_closes_with_ping_timeout() {
    let t = clock();
    let mut s = polling(t(0));
    s.tick(t(300));
    assert_eq!(poll_now(&mut s, t(300)), "2");
    let id = hold(&mut s, t(310));
    s.take_effects();
    s.tick(t(499));
    assert!(s.is_open());
    assert_eq!(s.take_effects(), NOTHING);
    s.tick(t(500));
    assert_eq!(s.take_effects(), closed_now(CloseReason::PingTimeout));
    assert!(!s.is_open());
    assert_eq!(s.close_reason(), Some(CloseReason::PingTimeout));
    assert_eq!(s.next_deadline(), None);
    // The GET still pending learns of the close; a late pong revives nothing.
    assert_eq!(wake(&mut s, id, t(500)), "1");
    assert_eq!(s.receive(PONG, t(501)), None);
    assert_eq!(s.take_effects().closed, None);
    assert_eq!(s.close_reason(), Some(CloseReason::PingTimeout));
}

#[test]
fn a_late_tick_pings_and_gives_the_whole_timeout_from_then() {
    let t = clock();
    let mut s = polling(t(0));
    // Nothing ran before t=600, long past 300 + 200: the session was never pinged, so it is
    // pinged now, and has pingTimeout from then (less the timer slack) to answer.
    s.tick(t(600));
    assert!(s.is_open(), "closed a session it never pinged");
    assert_eq!(s.take_effects(), WAKE_POLL);
    let pong_by = t(800) - PING_SLACK;
    assert_eq!(s.next_deadline(), Some(pong_by));
    assert_eq!(poll_now(&mut s, t(601)), "2");
    s.tick(pong_by - Duration::from_nanos(1));
    assert!(s.is_open());
    s.tick(pong_by);
    assert_eq!(s.take_effects(), closed_now(CloseReason::PingTimeout));

    // A GET that comes first does the same: it carries the ping out and the clock starts.
    let mut s = polling(t(0));
    assert_eq!(poll_now(&mut s, t(650)), "2");
    assert_eq!(s.next_deadline(), Some(t(850) - PING_SLACK));
}

#[test]
fn a_ping_late_by_a_timer_slack_counts_from_when_it_was_due() {
    let t = clock();
    let mut s = websocket(t(0));
    s.tick(t(300) + PING_SLACK);
    assert_eq!(s.next_deadline(), Some(t(500)));
    let mut s = websocket(t(0));
    s.tick(t(300) + PING_SLACK + Duration::from_millis(1));
    assert_eq!(s.next_deadline(), Some(t(501)));
}

#[test]
fn the_suites_timing_a_get_after_500_ms_finds_the_session_dead() {
    // The ticker pings at 300 ms; a GET just after 300 + 200 ms with no pong gets 400.
    let t = clock();
    let mut s = polling(t(0));
    s.tick(t(300));
    s.take_effects();
    let late = t(500) + Duration::from_nanos(1);
    assert_eq!(s.poll(late), Err(RequestError::UnknownSid));
    assert_eq!(s.take_effects(), closed_now(CloseReason::PingTimeout));
}

// ---- Long-polling ---------------------------------------------------------------------------

#[test]
fn an_empty_poll_waits_and_a_send_wakes_it() {
    let t = clock();
    let mut s = polling(t(0));
    let id = hold(&mut s, t(0));
    assert_eq!(s.take_effects(), NOTHING);
    queue(&mut s, &["hello"]);
    assert_eq!(s.take_effects(), WAKE_POLL);
    assert_eq!(wake(&mut s, id, t(1)), "4hello");
    assert_eq!(s.buffered_bytes(), 0);
    // That poll is over: the next one is held, not refused as a duplicate.
    hold(&mut s, t(2));
}

#[test]
fn several_sends_come_back_in_one_body_in_order_binary_as_base64() {
    let t = clock();
    let mut s = polling(t(0));
    queue(&mut s, &["a", "b", "c"]);
    assert_eq!(poll_now(&mut s, t(0)), "4a\x1e4b\x1e4c");
    queue(&mut s, &["hello"]);
    let data = Bytes::from_static(&[1, 2, 3, 4]);
    assert_eq!(s.send(Frame::binary(data)), Ok(()));
    assert_eq!(poll_now(&mut s, t(1)), "4hello\x1ebAQIDBA==");
}

#[test]
fn batches_are_cut_at_max_payload() {
    let t = clock();
    let mut s = Session::new(TransportKind::Polling, &config().max_payload(10), t(0));
    queue(&mut s, &["hello", "world", "x"]);
    // "4hello" + "\x1e4world" would be 13 bytes.
    assert_eq!(poll_now(&mut s, t(0)), "4hello");
    assert_eq!(s.buffered_bytes(), 8);
    assert_eq!(poll_now(&mut s, t(0)), "4world\x1e4x");
    assert_eq!(s.buffered_bytes(), 0);
}

#[test]
fn a_duplicate_or_dropped_poll_closes_the_session() {
    let t = clock();
    let mut s = polling(t(0));
    let first = hold(&mut s, t(0));
    assert_eq!(s.poll(t(1)), Err(RequestError::BadRequest));
    assert_eq!(
        s.take_effects(),
        violation(ProtocolViolation::DuplicatePoll)
    );
    assert_eq!(wake(&mut s, first, t(2)), "1");
    assert_eq!(s.poll(t(3)), Err(RequestError::UnknownSid));
    assert_eq!(s.take_effects().closed, None);

    // A held poll whose client went away: "poll connection closed prematurely".
    let mut s = polling(t(0));
    let id = hold(&mut s, t(0));
    s.poll_dropped(id, t(1));
    assert_eq!(s.take_effects(), closed_now(CloseReason::TransportClose));
    assert_eq!(s.poll(t(2)), Err(RequestError::UnknownSid));
}

#[test]
fn a_stale_poll_id_does_nothing() {
    let t = clock();
    let mut s = polling(t(0));
    let old = hold(&mut s, t(0));
    queue(&mut s, &["a"]);
    assert_eq!(wake(&mut s, old, t(0)), "4a");
    s.take_effects();

    s.poll_dropped(old, t(1));
    assert!(s.is_open());
    assert_eq!(s.take_effects(), NOTHING);

    let current = hold(&mut s, t(2));
    assert_ne!(old, current);
    queue(&mut s, &["b"]);
    s.poll_dropped(old, t(3));
    // A late wake of the old poll neither takes the frames nor releases the current poll.
    match s.poll_wake(old, t(3)) {
        PollAnswer::Body(body) => assert_ne!(&body[..], b"4b"),
        PollAnswer::Wait(id) => assert_eq!(id, old),
    }
    assert!(s.is_open());
    assert_eq!(s.buffered_bytes(), 2);
    assert_eq!(wake(&mut s, current, t(4)), "4b");
}

// ---- POST and what the client sends ---------------------------------------------------------

#[test]
fn posts_in_turn_are_fine_but_a_concurrent_one_closes() {
    let t = clock();
    let mut s = polling(t(0));
    for i in 0..3 {
        assert_eq!(s.post_begin(t(i)), Ok(()));
        s.post_end();
    }
    assert_eq!(s.take_effects(), NOTHING);
    assert_eq!(s.post_begin(t(5)), Ok(()));
    assert_eq!(s.post_begin(t(6)), Err(RequestError::BadRequest));
    assert_eq!(
        s.take_effects(),
        violation(ProtocolViolation::DuplicatePost)
    );
    s.post_end();
    assert_eq!(s.post_begin(t(7)), Err(RequestError::UnknownSid));
}

#[test]
fn a_close_packet_closes_and_the_held_poll_gets_noop() {
    let t = clock();
    let mut s = polling(t(0));
    let id = hold(&mut s, t(0));
    assert_eq!(s.receive(Packet::Close, t(1)), None);
    assert_eq!(s.take_effects(), closed_now(CloseReason::ClientClose));
    assert_eq!(wake(&mut s, id, t(2)), "6");
    assert_eq!(s.poll(t(3)), Err(RequestError::UnknownSid));
}

/// The official "forcefully closes the session" case with the POST of `1` handled before the
/// GET sent with it: the GET gets the same `6` it gets when handled first, then the sid is
/// gone.
#[test]
fn a_get_racing_the_close_packet_gets_noop_whichever_is_handled_first() {
    let t = clock();
    let mut s = polling(t(0));
    assert_eq!(s.receive(Packet::Close, t(1)), None);
    // The handler hears of the close at once; the session waits for the racing GET.
    assert_eq!(s.take_effects(), closing(CloseReason::ClientClose));
    assert!(!s.is_open());
    assert_eq!(s.post_begin(t(2)), Err(RequestError::UnknownSid));
    assert_eq!(poll_now(&mut s, t(2)), "6");
    assert_eq!(s.take_effects(), REMOVE);
    assert_eq!(s.poll(t(3)), Err(RequestError::UnknownSid));
}

#[test]
fn after_a_close_packet_with_no_get_the_session_goes_after_the_grace() {
    let t = clock();
    let mut s = polling(t(0));
    queue(&mut s, &["unsent"]);
    assert_eq!(s.receive(Packet::Close, t(10)), None);
    s.take_effects();
    // The suite's pingTimeout (200 ms) is shorter than the 1 s grace.
    assert_eq!(s.next_deadline(), Some(t(210)));
    s.tick(t(210));
    assert_eq!(s.take_effects(), REMOVE);
    assert_eq!(s.poll(t(211)), Err(RequestError::UnknownSid));
    // With the default 20 s pingTimeout the grace is 1 s.
    let mut s = Session::new(TransportKind::Polling, &EngineConfig::default(), t(0));
    s.receive(Packet::Close, t(0));
    assert_eq!(s.next_deadline(), Some(t(0) + CLIENT_CLOSE_GRACE));
}

#[test]
fn a_close_during_a_delivery_is_reported_after_it() {
    let t = clock();
    let mut s = websocket(t(0));
    assert_eq!(s.receive(msg("a"), t(1)), Some(Message::Text("a".into())));
    // While the handler runs, the session closes (the ticker, another task).
    s.close(CloseReason::PingTimeout, t(2));
    assert_eq!(s.take_effects(), effects(true, true, None, true));
    assert!(!s.is_open());
    s.delivered();
    assert_eq!(s.take_effects().closed, Some(CloseReason::PingTimeout));
    // Nested deliveries: the notice waits for the last.
    let mut s = websocket(t(0));
    s.delivering();
    assert!(s.receive(msg("b"), t(1)).is_some());
    s.parse_error(t(2));
    s.delivered();
    assert_eq!(s.take_effects().closed, None);
    s.delivered();
    assert_eq!(s.take_effects().closed, Some(CloseReason::ParseError));
    s.delivered();
    assert_eq!(s.take_effects().closed, None, "reported once");
}

#[test]
fn messages_are_handed_to_the_handler() {
    let t = clock();
    let mut s = polling(t(0));
    let hello = Some(Message::Text("hello".into()));
    assert_eq!(s.receive(msg("hello"), t(0)), hello);
    assert_eq!(s.receive(msg(""), t(0)), Some(Message::Text("".into())));
    let data = Bytes::from_static(&[1, 2, 3]);
    let binary = Some(Message::Binary(data.clone()));
    assert_eq!(s.receive(Packet::Binary(data), t(0)), binary);
    assert_eq!(s.receive(Packet::Noop, t(0)), None);
    assert!(s.is_open());
    assert_eq!(s.take_effects(), NOTHING);
}

#[test]
fn a_client_ping_or_a_parse_error_closes() {
    let t = clock();
    let mut s = polling(t(0));
    assert_eq!(s.receive(Packet::Ping { probe: false }, t(0)), None);
    assert_eq!(s.take_effects(), violation(ProtocolViolation::ClientPing));

    let mut s = polling(t(0));
    s.parse_error(t(0));
    assert_eq!(s.take_effects(), closed_now(CloseReason::ParseError));
    assert_eq!(s.close_reason(), Some(CloseReason::ParseError));
    assert_eq!(s.receive(msg("late"), t(1)), None);
}

// ---- Upgrade polling -> WebSocket -----------------------------------------------------------

#[test]
fn upgrade_begin_twice_or_on_websocket_is_refused() {
    let t = clock();
    let mut s = polling(t(0));
    let id = begin(&mut s, t(0));
    assert!(s.is_upgrading(id));
    assert_eq!(s.upgrade_begin(t(1)), Err(RequestError::BadRequest));
    // The refusal only turns the second WebSocket away.
    assert!(s.is_upgrading(id));
    assert!(s.is_open());
    // A session already on WebSocket has nothing to upgrade.
    let mut ws = websocket(t(0));
    assert_eq!(ws.upgrade_begin(t(0)), Err(RequestError::BadRequest));
}

#[test]
fn a_refused_or_older_upgrade_cannot_end_the_one_under_way() {
    let t = clock();
    let mut s = polling(t(0));
    let first = begin(&mut s, t(0));
    assert_eq!(
        s.upgrade_packet(first, &msg("bad"), t(1)),
        UpgradeStep::Abort
    );
    let second = begin(&mut s, t(2));
    assert_ne!(first, second);
    // The first WebSocket's late give-up (and its late packets) leave the second alone.
    s.abort_upgrade(first);
    assert_eq!(probe(&mut s, first, t(3)), UpgradeStep::Abort);
    assert!(s.is_upgrading(second));
    assert!(!s.is_upgrading(first));
    assert_eq!(probe(&mut s, second, t(3)), UpgradeStep::SendProbeReply);
    assert_eq!(finish_upgrade(&mut s, first, t(4)), UpgradeStep::Abort);
    assert!(
        s.is_upgrading(second),
        "a packet on the old WebSocket ends nothing"
    );
    assert_eq!(finish_upgrade(&mut s, second, t(4)), UpgradeStep::Upgraded);
    assert_eq!(s.transport(), TransportKind::WebSocket);
}

#[test]
fn a_bad_packet_aborts_the_upgrade_and_polling_goes_on() {
    let t = clock();
    let mut s = polling(t(0));
    let id = begin(&mut s, t(0));
    assert_eq!(s.upgrade_packet(id, &msg("hi"), t(0)), UpgradeStep::Abort);
    assert_eq!(s.take_effects(), WAKE_WS);
    assert!(!s.is_upgrading(id));
    assert!(s.is_open());
    assert_eq!(s.transport(), TransportKind::Polling);
    queue(&mut s, &["still"]);
    assert_eq!(poll_now(&mut s, t(1)), "4still");

    // A new attempt may start; after the probe, anything but `5` aborts it as well.
    let id = begin(&mut s, t(2));
    assert_eq!(probe(&mut s, id, t(2)), UpgradeStep::SendProbeReply);
    assert_eq!(s.upgrade_packet(id, &msg("x"), t(3)), UpgradeStep::Abort);
    assert!(!s.is_upgrading(id));
    assert_eq!(s.transport(), TransportKind::Polling);
    assert!(s.is_open());
}

#[test]
fn the_probe_answers_polls_with_noop() {
    let t = clock();
    let mut s = polling(t(0));
    let id = hold(&mut s, t(0));
    let up = begin(&mut s, t(1));
    assert_eq!(probe(&mut s, up, t(2)), UpgradeStep::SendProbeReply);
    assert_eq!(s.take_effects(), WAKE_POLL);
    assert_eq!(wake(&mut s, id, t(3)), "6");
    // A GET made after `3probe` gets `6` at once.
    assert_eq!(poll_now(&mut s, t(4)), "6");
    assert!(s.is_upgrading(up));
}

#[test]
fn the_upgrade_packet_moves_the_session_to_websocket() {
    let t = clock();
    let mut s = polling(t(0));
    let id = begin(&mut s, t(0));
    assert_eq!(probe(&mut s, id, t(0)), UpgradeStep::SendProbeReply);
    s.take_effects();
    assert_eq!(finish_upgrade(&mut s, id, t(1)), UpgradeStep::Upgraded);
    assert_eq!(s.take_effects(), effects(true, true, None, false));
    assert_eq!(s.transport(), TransportKind::WebSocket);
    assert!(!s.is_upgrading(id));
    assert!(s.is_open());
    assert_eq!(s.poll(t(2)), Err(RequestError::BadRequest));
    assert_eq!(s.post_begin(t(2)), Err(RequestError::BadRequest));
    // From now on sends wake the WebSocket.
    queue(&mut s, &["ws"]);
    assert_eq!(s.take_effects(), WAKE_WS);
}

#[test]
fn frames_queued_around_the_upgrade_are_not_lost() {
    let t = clock();
    let mut s = polling(t(0));
    queue(&mut s, &["a"]);
    let id = begin(&mut s, t(0));
    queue(&mut s, &["b"]);
    assert_eq!(probe(&mut s, id, t(1)), UpgradeStep::SendProbeReply);
    let data = Bytes::from_static(&[9, 8]);
    assert_eq!(s.send(Frame::binary(data.clone())), Ok(()));
    assert_eq!(finish_upgrade(&mut s, id, t(2)), UpgradeStep::Upgraded);
    queue(&mut s, &["c"]);
    let expected = vec![
        Frame::message("a"),
        Frame::message("b"),
        Frame::binary(data),
        Frame::message("c"),
    ];
    assert_eq!(drained(&mut s), expected);
    assert_eq!(s.buffered_bytes(), 0);
}

#[test]
fn a_stalled_upgrade_times_out() {
    let t = clock();
    let config = config().upgrade_timeout(Duration::from_millis(100));
    let mut s = Session::new(TransportKind::Polling, &config, t(0));
    let id = begin(&mut s, t(0));
    assert_eq!(s.next_deadline(), Some(t(100)));
    s.tick(t(99));
    assert!(s.is_upgrading(id));
    assert_eq!(s.take_effects(), NOTHING);
    s.tick(t(100));
    assert!(!s.is_upgrading(id));
    assert_eq!(s.take_effects(), WAKE_WS);
    assert_eq!(probe(&mut s, id, t(101)), UpgradeStep::Abort);
    assert!(s.is_open());
    assert_eq!(s.transport(), TransportKind::Polling);
}

// ---- Close ----------------------------------------------------------------------------------

#[test]
fn server_close_on_websocket_is_at_once_and_keeps_the_outbox() {
    let t = clock();
    let mut s = websocket(t(0));
    queue(&mut s, &["a", "b"]);
    s.take_effects();
    s.close(CloseReason::ServerClose, t(1));
    assert_eq!(s.take_effects(), closed_now(CloseReason::ServerClose));
    assert_eq!(s.close_reason(), Some(CloseReason::ServerClose));
    let expected = vec![Frame::message("a"), Frame::message("b")];
    assert_eq!(drained(&mut s), expected);
}

#[test]
fn server_close_with_a_held_poll_flushes_then_sends_close() {
    let t = clock();
    let mut s = polling(t(0));
    let id = hold(&mut s, t(0));
    queue(&mut s, &["a", "b"]);
    s.take_effects();
    s.close(CloseReason::ServerClose, t(1));
    assert_eq!(s.take_effects(), closed_now(CloseReason::ServerClose));
    assert_eq!(wake(&mut s, id, t(2)), "4a\x1e4b\x1e1");
    assert_eq!(s.poll(t(3)), Err(RequestError::UnknownSid));
}

#[test]
fn server_close_without_a_poll_waits_for_the_next_one() {
    let t = clock();
    let mut s = polling(t(0));
    queue(&mut s, &["a"]);
    s.take_effects();
    s.close(CloseReason::ServerClose, t(10));
    assert_eq!(s.take_effects(), closing(CloseReason::ServerClose));
    assert!(!s.is_open());
    assert_eq!(s.send(Frame::message("b")), Err(SendError::Closed));
    assert_eq!(poll_now(&mut s, t(50)), "4a\x1e1");
    // Removed now, and the close reason is not reported a second time.
    assert_eq!(s.take_effects(), REMOVE);
    assert_eq!(s.buffered_bytes(), 0);
    assert_eq!(s.poll(t(51)), Err(RequestError::UnknownSid));
}

#[test]
fn a_pending_close_is_removed_after_ping_timeout() {
    let t = clock();
    let mut s = polling(t(0));
    queue(&mut s, &["a"]);
    s.close(CloseReason::ServerClose, t(10));
    s.take_effects();
    assert_eq!(s.next_deadline(), Some(t(210)));
    s.tick(t(209));
    assert_eq!(s.take_effects(), NOTHING);
    s.tick(t(210));
    assert_eq!(s.take_effects(), REMOVE);
    assert_eq!(s.close_reason(), Some(CloseReason::ServerClose));
    assert_eq!(s.poll(t(211)), Err(RequestError::UnknownSid));
}

#[test]
fn the_close_reason_is_reported_once_and_sends_then_fail() {
    let t = clock();
    let mut s = websocket(t(0));
    s.close(CloseReason::ServerClose, t(0));
    assert_eq!(s.take_effects().closed, Some(CloseReason::ServerClose));
    assert_eq!(s.send(Frame::message("a")), Err(SendError::Closed));
    assert_eq!(s.buffered_bytes(), 0);
    s.close(CloseReason::TransportClose, t(1));
    s.parse_error(t(2));
    s.tick(t(10_000));
    assert_eq!(s.receive(Packet::Close, t(10_001)), None);
    assert_eq!(s.take_effects().closed, None);
    assert_eq!(s.close_reason(), Some(CloseReason::ServerClose));
}

#[test]
fn a_second_server_close_keeps_waiting_for_the_poll() {
    let t = clock();
    let mut s = polling(t(0));
    queue(&mut s, &["a"]);
    s.close(CloseReason::ServerClose, t(0));
    s.close(CloseReason::ServerClose, t(1));
    // Closing twice is a no-op: the close still waits for the next GET to flush the outbox.
    assert_eq!(s.take_effects(), closing(CloseReason::ServerClose));
    assert_eq!(poll_now(&mut s, t(2)), "4a\x1e1");
}

// ---- Outbox limit ---------------------------------------------------------------------------

fn small_outbox(now: Instant) -> Session {
    Session::new(
        TransportKind::Polling,
        &config().max_buffered_bytes(10),
        now,
    )
}

#[test]
fn sends_past_the_limit_are_refused() {
    let t = clock();
    let mut s = small_outbox(t(0));
    queue(&mut s, &["hello"]);
    assert_eq!(s.send(Frame::message("world")), Err(SendError::OutboxFull));
    queue(&mut s, &["abc"]);
    assert_eq!(s.buffered_bytes(), 10);
    assert_eq!(s.send(Frame::message("")), Err(SendError::OutboxFull));
    // A refused send leaves the session open and the outbox as it was.
    assert!(s.is_open());
    assert_eq!(poll_now(&mut s, t(0)), "4hello\x1e4abc");
}

#[test]
fn a_message_larger_than_the_limit_is_refused_even_into_an_empty_outbox() {
    let t = clock();
    let mut s = small_outbox(t(0));
    let big = "x".repeat(20);
    assert_eq!(s.send(Frame::message(&big)), Err(SendError::TooLarge));
    assert_eq!(
        s.send_all(&[Frame::message("12345"), Frame::message("6789")]),
        Err(SendError::TooLarge),
        "a packet and its attachments count together"
    );
    assert_eq!(s.buffered_bytes(), 0);
    assert!(s.is_open());
    queue(&mut s, &["123456789"]);
}

#[test]
fn frames_the_websocket_writer_holds_count_until_written() {
    let t = clock();
    let mut s = Session::new(
        TransportKind::WebSocket,
        &config().max_buffered_bytes(10),
        t(0),
    );
    queue(&mut s, &["abcd"]);
    let taken = s.take_outbox();
    assert_eq!(taken.len(), 1);
    // The writer has not written them yet: the outbox bound still counts them.
    assert_eq!(s.buffered_bytes(), 5);
    assert_eq!(s.send(Frame::message("efghij")), Err(SendError::OutboxFull));
    queue(&mut s, &["efgh"]);
    s.written();
    assert_eq!(s.buffered_bytes(), 5, "only what was taken is released");
    assert_eq!(drained(&mut s), vec![Frame::message("efgh")]);
    assert_eq!(s.buffered_bytes(), 0);
}

#[test]
fn buffered_bytes_return_to_zero_after_a_poll() {
    let t = clock();
    let mut s = small_outbox(t(0));
    queue(&mut s, &["abcd"]);
    let data = Bytes::from_static(&[1, 2, 3, 4]);
    assert_eq!(s.send(Frame::binary(data)), Ok(()));
    // Counted in WebSocket bytes (5 + 4), not in base64.
    assert_eq!(s.buffered_bytes(), 9);
    assert_eq!(poll_now(&mut s, t(0)), "4abcd\x1ebAQIDBA==");
    assert_eq!(s.buffered_bytes(), 0);
    queue(&mut s, &["123456789"]);
    assert_eq!(s.buffered_bytes(), 10);
}

#[test]
fn a_ping_is_queued_even_when_the_outbox_is_full() {
    let t = clock();
    let mut s = small_outbox(t(0));
    queue(&mut s, &["123456789"]);
    assert_eq!(s.send(Frame::message("")), Err(SendError::OutboxFull));
    s.tick(t(300));
    assert_eq!(s.buffered_bytes(), 11);
    assert_eq!(poll_now(&mut s, t(300)), "4123456789\x1e2");
    assert_eq!(s.buffered_bytes(), 0);
}
