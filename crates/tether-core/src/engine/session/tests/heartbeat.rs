//! Session tests: Heartbeat.

use super::*;

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
