//! Session tests: Long-polling.

use super::*;

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
