//! Session tests: Close.

use super::*;

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

/// The official client handles the packets of one poll only after that poll's close packet:
/// a DISCONNECT in the same body as the close would come too late ("transport close" instead
/// of "io server disconnect"). So what is queued goes first, and the close in a poll alone.
#[test]
fn server_close_with_a_held_poll_flushes_then_sends_close_in_the_next_poll() {
    let t = clock();
    let mut s = polling(t(0));
    let id = hold(&mut s, t(0));
    queue(&mut s, &["a", "b"]);
    s.take_effects();
    s.close(CloseReason::ServerClose, t(1));
    assert_eq!(s.take_effects(), closing(CloseReason::ServerClose));
    assert_eq!(wake(&mut s, id, t(2)), "4a\x1e4b");
    assert_eq!(poll_now(&mut s, t(3)), "1");
    assert_eq!(s.take_effects(), REMOVE);
    assert_eq!(s.poll(t(4)), Err(RequestError::UnknownSid));
    // With nothing queued, the held poll gets the close at once.
    let mut s = polling(t(0));
    let id = hold(&mut s, t(0));
    s.close(CloseReason::ServerClose, t(1));
    assert_eq!(s.take_effects(), closed_now(CloseReason::ServerClose));
    assert_eq!(wake(&mut s, id, t(2)), "1");
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
    assert_eq!(poll_now(&mut s, t(50)), "4a");
    assert_eq!(s.take_effects(), NOTHING);
    assert_eq!(poll_now(&mut s, t(51)), "1");
    // Removed now, and the close reason is not reported a second time.
    assert_eq!(s.take_effects(), REMOVE);
    assert_eq!(s.buffered_bytes(), 0);
    assert_eq!(s.poll(t(52)), Err(RequestError::UnknownSid));
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
    // Closing twice is a no-op: the close still waits for the next GETs to flush the outbox.
    assert_eq!(s.take_effects(), closing(CloseReason::ServerClose));
    assert_eq!(poll_now(&mut s, t(2)), "4a");
    assert_eq!(poll_now(&mut s, t(3)), "1");
}

#[test]
fn a_close_decided_by_the_server_for_any_reason_waits_for_the_next_poll() {
    // A Socket.IO parse error is the server's decision: the client is told with its next GET,
    // whether or not one was held at that moment (an Engine.IO parse error is not: 400 then).
    let t = clock();
    let mut s = polling(t(0));
    queue(&mut s, &["a"]);
    s.close_by_server(CloseReason::ParseError, t(1));
    assert_eq!(s.take_effects(), closing(CloseReason::ParseError));
    assert_eq!(poll_now(&mut s, t(2)), "4a");
    assert_eq!(poll_now(&mut s, t(3)), "1");
    assert_eq!(s.poll(t(4)), Err(RequestError::UnknownSid));
    let mut s = polling(t(0));
    s.parse_error(t(1));
    assert_eq!(s.poll(t(2)), Err(RequestError::UnknownSid));
}
