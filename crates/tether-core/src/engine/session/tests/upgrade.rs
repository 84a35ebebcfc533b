//! Session tests: Upgrade polling -> WebSocket.

use super::*;

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
    let moved = Effects {
        upgraded_from: Some(TransportKind::Polling),
        ..effects(true, true, None, false)
    };
    assert_eq!(s.take_effects(), moved, "the counters hear of the upgrade");
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

#[test]
fn a_server_close_after_the_probe_goes_out_on_the_websocket_when_the_client_upgrades() {
    // The client has its `3probe`, so it paused polling and sends `5` next: what the server
    // queued before closing (a Socket.IO DISCONNECT, say) must reach it on the WebSocket.
    let t = clock();
    let mut s = polling(t(0));
    let id = begin(&mut s, t(0));
    assert_eq!(probe(&mut s, id, t(1)), UpgradeStep::SendProbeReply);
    queue(&mut s, &["41"]);
    s.close(CloseReason::ServerClose, t(2));
    assert!(!s.is_open());
    assert!(s.is_upgrading(id), "the probed upgrade waits for its 5");
    s.take_effects();
    assert_eq!(finish_upgrade(&mut s, id, t(3)), UpgradeStep::Upgraded);
    assert_eq!(s.transport(), TransportKind::WebSocket);
    assert_eq!(s.take_effects(), effects(true, true, None, true));
    assert_eq!(s.close_reason(), Some(CloseReason::ServerClose));
    assert_eq!(drained(&mut s), vec![Frame::message("41")]);

    // Before the probe the client still polls: the close stays on polling, as before.
    let mut s = polling(t(0));
    let id = begin(&mut s, t(0));
    queue(&mut s, &["41"]);
    s.close(CloseReason::ServerClose, t(1));
    assert!(!s.is_upgrading(id));
    assert_eq!(probe(&mut s, id, t(2)), UpgradeStep::Abort);
    assert_eq!(poll_now(&mut s, t(3)), "441");

    // Probed, then anything but `5` (or no `5` at all): the last poll carries the close.
    let mut s = polling(t(0));
    let id = begin(&mut s, t(0));
    assert_eq!(probe(&mut s, id, t(1)), UpgradeStep::SendProbeReply);
    queue(&mut s, &["41"]);
    s.close(CloseReason::ServerClose, t(2));
    assert_eq!(s.upgrade_packet(id, &msg("x"), t(3)), UpgradeStep::Abort);
    assert!(!s.is_upgrading(id));
    assert_eq!(s.transport(), TransportKind::Polling);
    assert_eq!(poll_now(&mut s, t(4)), "441");
}
