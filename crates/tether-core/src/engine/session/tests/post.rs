//! Session tests: POST and what the client sends.

use super::*;

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
