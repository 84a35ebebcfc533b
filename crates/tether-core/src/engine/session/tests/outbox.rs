//! Session tests: Outbox limit.

use super::*;

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
