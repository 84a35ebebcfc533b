//! Session tests: the streaming transport (our extension), its stream, POSTs, heartbeat,
//! closes and the upgrade to WebSocket.

use super::*;

fn streaming(now: Instant) -> (Session, PollId) {
    let mut s = Session::new(TransportKind::Streaming, &config(), now);
    let id = s
        .stream_attach(now)
        .expect("the handshake's stream attaches");
    (s, id)
}

/// What a pull gives, as text: `Write` frames, `Wait`, or `End` and its last frame.
fn pull(s: &mut Session, id: PollId, now: Instant) -> String {
    let text = |f: &Frame| match f {
        Frame::Text(t) => t.to_string(),
        Frame::Binary(b) => format!("<{} bytes>", b.len()),
    };
    match s.stream_pull(id, now) {
        StreamStep::Write(frames) => {
            let out: Vec<String> = frames.iter().map(text).collect();
            s.written();
            format!("write {}", out.join(" "))
        }
        StreamStep::Wait => "wait".to_owned(),
        StreamStep::End(Some(last)) => format!("end {}", text(&last)),
        StreamStep::End(None) => "end".to_owned(),
    }
}

#[test]
fn frames_go_down_the_stream_in_order_and_it_waits_between() {
    let t = clock();
    let (mut s, id) = streaming(t(0));
    assert_eq!(pull(&mut s, id, t(0)), "wait");
    queue(&mut s, &["a", "b"]);
    assert_eq!(s.take_effects(), WAKE_POLL, "a send wakes the stream");
    assert_eq!(pull(&mut s, id, t(1)), "write 4a 4b");
    assert_eq!(s.buffered_bytes(), 0);
    assert_eq!(pull(&mut s, id, t(1)), "wait");
    assert!(s.stream_attached());
}

#[test]
fn the_stream_carries_pings_and_a_posted_pong_keeps_the_session() {
    let t = clock();
    let (mut s, id) = streaming(t(0));
    s.tick(t(300));
    assert_eq!(s.take_effects(), WAKE_POLL);
    assert_eq!(pull(&mut s, id, t(300)), "write 2");
    s.post_begin(t(350)).expect("a POST on streaming");
    assert_eq!(s.receive(PONG, t(350)), None);
    s.post_end();
    s.tick(t(549));
    assert!(s.is_open(), "the pong came in time");
    // The next ping at 650, unanswered by 850: ping timeout, the stream ends bare.
    s.tick(t(650));
    assert_eq!(pull(&mut s, id, t(650)), "write 2");
    s.tick(t(850));
    assert_eq!(s.close_reason(), Some(CloseReason::PingTimeout));
    assert_eq!(pull(&mut s, id, t(850)), "end");
}

#[test]
fn posts_deliver_messages_and_two_at_once_break_the_protocol() {
    let t = clock();
    let (mut s, _id) = streaming(t(0));
    s.post_begin(t(1)).expect("first POST");
    assert_eq!(
        s.receive(msg("hello"), t(1)),
        Some(Message::Text("hello".into()))
    );
    s.delivered();
    assert_eq!(s.post_begin(t(2)), Err(RequestError::BadRequest));
    assert_eq!(
        s.take_effects(),
        violation(ProtocolViolation::DuplicatePost)
    );
}

#[test]
fn a_second_stream_breaks_the_protocol_and_a_long_poll_is_refused() {
    let t = clock();
    let (mut s, _id) = streaming(t(0));
    assert_eq!(s.poll(t(1)), Err(RequestError::BadRequest));
    assert!(s.is_open(), "a GET of the wrong transport is only refused");
    assert_eq!(s.stream_attach(t(1)), Err(RequestError::BadRequest));
    assert_eq!(
        s.take_effects(),
        violation(ProtocolViolation::DuplicatePoll)
    );
    // A polling session has no stream to attach.
    let mut p = polling(t(0));
    assert_eq!(p.stream_attach(t(0)), Err(RequestError::BadRequest));
}

#[test]
fn a_server_close_flushes_the_stream_then_a_close_packet() {
    let t = clock();
    let (mut s, id) = streaming(t(0));
    queue(&mut s, &["last"]);
    s.close(CloseReason::ServerClose, t(1));
    assert_eq!(s.take_effects(), closed_now(CloseReason::ServerClose));
    assert_eq!(s.send(Frame::message("late")), Err(SendError::Closed));
    assert_eq!(pull(&mut s, id, t(1)), "write 4last");
    assert_eq!(pull(&mut s, id, t(1)), "end 1");
    // Ended: its going away changes nothing.
    s.stream_dropped(id, t(2));
    assert_eq!(s.take_effects(), NOTHING);
}

#[test]
fn the_client_close_and_a_dropped_stream_end_it_at_once() {
    let t = clock();
    let (mut s, id) = streaming(t(0));
    queue(&mut s, &["unsent"]);
    s.post_begin(t(1)).expect("POST");
    assert_eq!(s.receive(Packet::Close, t(1)), None);
    assert_eq!(s.take_effects(), closed_now(CloseReason::ClientClose));
    assert_eq!(
        pull(&mut s, id, t(1)),
        "end",
        "nothing more for a client that left"
    );

    let (mut s, id) = streaming(t(0));
    s.stream_dropped(id, t(5));
    assert_eq!(s.take_effects(), closed_now(CloseReason::TransportClose));
}

#[test]
fn the_upgrade_pauses_the_stream_at_the_probe_and_moves_the_rest_to_the_websocket() {
    let t = clock();
    let (mut s, stream) = streaming(t(0));
    queue(&mut s, &["before"]);
    let up = begin(&mut s, t(1));
    assert_eq!(probe(&mut s, up, t(2)), UpgradeStep::SendProbeReply);
    assert!(s.take_effects().wake_poll, "the probe wakes the stream");
    // What was queued goes first, then the noop that ends the stream.
    assert_eq!(pull(&mut s, stream, t(2)), "write 4before");
    assert_eq!(pull(&mut s, stream, t(2)), "end 6");
    assert!(!s.stream_attached());
    // Sent while paused: held for the WebSocket.
    queue(&mut s, &["during"]);
    // A POST still in flight is fine until `5`.
    s.post_begin(t(3)).expect("POST while paused");
    s.post_end();
    assert_eq!(finish_upgrade(&mut s, up, t(4)), UpgradeStep::Upgraded);
    assert_eq!(s.transport(), TransportKind::WebSocket);
    assert_eq!(drained(&mut s), vec![Frame::message("during")]);
    assert_eq!(s.post_begin(t(5)), Err(RequestError::BadRequest));
}

/// A streaming session whose upgrade is probed at 1 ms and whose stream has paused: the
/// session, the upgrade and the ended stream.
fn paused(t: &impl Fn(u64) -> Instant) -> (Session, UpgradeId, PollId) {
    let (mut s, stream) = streaming(t(0));
    let up = begin(&mut s, t(1));
    assert_eq!(probe(&mut s, up, t(1)), UpgradeStep::SendProbeReply);
    assert_eq!(pull(&mut s, stream, t(1)), "end 6");
    (s, up, stream)
}

#[test]
fn a_failed_upgrade_after_the_pause_resumes_on_a_new_stream() {
    let t = clock();
    let (mut s, up, stream) = paused(&t);
    queue(&mut s, &["kept"]);
    s.abort_upgrade(up);
    assert_eq!(s.transport(), TransportKind::Streaming);
    let again = s.stream_attach(t(2)).expect("a new stream");
    assert_eq!(pull(&mut s, again, t(2)), "write 4kept");
    // The old stream's late going away does not end the new one.
    s.stream_dropped(stream, t(3));
    assert!(s.is_open());
}

#[test]
fn a_server_close_during_the_pause_reaches_the_websocket_or_a_new_stream() {
    let t = clock();
    // Carried by `5` on the WebSocket.
    let (mut s, up, _) = paused(&t);
    queue(&mut s, &["bye"]);
    s.close(CloseReason::ServerClose, t(2));
    assert_eq!(s.take_effects(), closing(CloseReason::ServerClose));
    assert_eq!(finish_upgrade(&mut s, up, t(3)), UpgradeStep::Upgraded);
    assert_eq!(drained(&mut s), vec![Frame::message("bye")]);
    assert!(s.take_effects().remove);

    // Carried by a new stream after the upgrade failed.
    let (mut s, up, _) = paused(&t);
    queue(&mut s, &["bye"]);
    s.close(CloseReason::ServerClose, t(2));
    s.abort_upgrade(up);
    let again = s
        .stream_attach(t(3))
        .expect("a stream for the last packets");
    assert_eq!(pull(&mut s, again, t(3)), "write 4bye");
    assert_eq!(pull(&mut s, again, t(3)), "end 1");
    assert!(s.take_effects().remove);

    // Carried by neither within pingTimeout: gone.
    let (mut s, _, _) = paused(&t);
    s.close(CloseReason::ServerClose, t(2));
    s.tick(t(202));
    assert_eq!(s.stream_attach(t(203)), Err(RequestError::UnknownSid));
}

#[test]
fn a_client_that_sends_5_before_the_pause_gets_the_stream_ended() {
    let t = clock();
    let (mut s, stream) = streaming(t(0));
    let up = begin(&mut s, t(1));
    probe(&mut s, up, t(1));
    assert_eq!(finish_upgrade(&mut s, up, t(2)), UpgradeStep::Upgraded);
    queue(&mut s, &["ws"]);
    assert_eq!(pull(&mut s, stream, t(2)), "end 6");
    assert_eq!(drained(&mut s), vec![Frame::message("ws")]);
}

#[test]
fn the_outbox_bound_counts_what_the_stream_took_until_it_is_written() {
    let t = clock();
    let config = config().max_buffered_bytes(10);
    let mut s = Session::new(TransportKind::Streaming, &config, t(0));
    let id = s.stream_attach(t(0)).expect("attach");
    queue(&mut s, &["abcd"]);
    let StreamStep::Write(_) = s.stream_pull(id, t(1)) else {
        panic!("expected frames")
    };
    assert_eq!(
        s.send(Frame::message("efghijk")),
        Err(SendError::OutboxFull)
    );
    s.written();
    assert_eq!(s.send(Frame::message("efghijk")), Ok(()));
}
