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

// ---- What a send leaves alone ----------------------------------------------------------------

/// `EngineSocket`'s send path leaves the deadline heap alone, which holds only if a send never
/// moves the session's next deadline, in any state a send meets.
#[test]
fn a_send_moves_no_deadline() {
    let t = clock();
    let mut sessions = Vec::new();
    // Open on each transport, waiting for its ping.
    sessions.push(("websocket", websocket(t(0))));
    sessions.push(("polling", polling(t(0))));
    // Waiting for a pong.
    let mut pinged = websocket(t(0));
    pinged.tick(t(300));
    sessions.push(("awaiting a pong", pinged));
    // Probing an upgrade.
    let mut probing = polling(t(0));
    let id = begin(&mut probing, t(10));
    assert_eq!(probe(&mut probing, id, t(11)), UpgradeStep::SendProbeReply);
    sessions.push(("upgrading", probing));
    // With a close deadline of the layer above.
    let mut deadline = websocket(t(0));
    deadline.set_close_deadline(Some((t(50), CloseReason::ConnectTimeout)));
    sessions.push(("close deadline", deadline));
    // Closing on polling (a send is refused there).
    let mut closing = polling(t(0));
    closing.close_by_server(CloseReason::ServerClose, t(20));
    sessions.push(("closing", closing));
    for (what, mut s) in sessions {
        let before = s.next_deadline();
        let _ = s.send(Frame::message("a"));
        assert_eq!(s.next_deadline(), before, "{what}: send");
        let _ = s.send_all(&[Frame::message("b"), Frame::binary(vec![1u8, 2].into())]);
        assert_eq!(s.next_deadline(), before, "{what}: send_all");
        assert!(before.is_some(), "{what}: the case has a deadline to move");
    }
}

#[test]
fn the_first_send_makes_room_for_a_burst_and_an_emptied_poll_frees_it() {
    let t = clock();
    let mut s = polling(t(0));
    queue(&mut s, &["a"]);
    assert!(s.outbox_capacity() >= 16, "{}", s.outbox_capacity());
    assert_eq!(poll_now(&mut s, t(1)), "4a");
    assert_eq!(
        s.outbox_capacity(),
        0,
        "an idle polling session holds no buffer"
    );
    // A poll that leaves frames behind (a body limit) keeps them, and their buffer.
    let mut s = Session::new(TransportKind::Polling, &config().max_payload(4), t(0));
    queue(&mut s, &["ab", "cd"]);
    assert_eq!(poll_now(&mut s, t(1)), "4ab");
    assert!(s.outbox_capacity() > 0);
    assert_eq!(poll_now(&mut s, t(2)), "4cd");
    assert_eq!(s.outbox_capacity(), 0);
}
