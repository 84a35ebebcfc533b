//! Upgrade: the official Engine.IO v4 suite's `upgrade` cases (polling to WebSocket with
//! `2probe`, `3probe`, `5`), plus the transport-mismatch error body and an upgrade under load
//! that must lose, duplicate and reorder nothing.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use common::{
    Frame, Server, WAIT, Ws, assert_accepted_then_closed, assert_error, node, packets, recv,
    send_text,
};

const PATH: &str = "/engine.io/";
use tokio::sync::oneshot;
use tokio::time::timeout;

/// Upgrades a polling session and proves the server has switched: frames on one WebSocket are
/// handled in order, so once the echo of a message sent after `5` is back, `5` was taken.
async fn upgraded(server: &Server, sid: &str) -> Ws {
    let mut ws = server.probe(sid).await;
    send_text(&mut ws, "5").await;
    send_text(&mut ws, "4hello").await;
    assert_eq!(recv(&mut ws).await, Frame::Text("4hello".into()));
    ws
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn successfully_upgrades_from_http_long_polling_to_websocket() {
    let server = Server::steady().await;
    let sid = server.open_polling().await.sid;
    let mut ws = server
        .ws(&format!("EIO=4&transport=websocket&sid={sid}"))
        .await;
    send_text(&mut ws, "2probe").await;
    assert_eq!(recv(&mut ws).await, Frame::Text("3probe".into()));
    // The noop that cleanly ends the paused client's long poll.
    let poll = server.poll(&sid).await;
    assert_eq!((poll.status, poll.body.as_str()), (200, "6"), "{poll:?}");
    send_text(&mut ws, "5").await;
    send_text(&mut ws, "4hello").await;
    assert_eq!(recv(&mut ws).await, Frame::Text("4hello".into()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ignores_http_requests_with_same_sid_after_upgrade() {
    let server = Server::steady().await;
    let sid = server.open_polling().await.sid;
    // The official suite polls right after sending `5`; the echo inside `upgraded` makes sure
    // the GET cannot overtake the `5` on its way through the server.
    let mut ws = upgraded(&server, &sid).await;
    let poll = server.poll(&sid).await;
    assert_eq!(poll.status, 400, "{poll:?}");
    send_text(&mut ws, "4again").await;
    assert_eq!(recv(&mut ws).await, Frame::Text("4again".into()));
}

/// The official case's requests: the `ws` package's handshake for both WebSockets, and the
/// second one opened right after `5` is sent, without waiting. The second must be accepted and
/// then closed (the suite waits for its `close`; an HTTP refusal is an uncaught error there),
/// and the first must go on working.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ignores_websocket_connection_with_same_sid_after_upgrade() {
    let server = Server::steady().await;
    let sid = server.open_polling().await.sid;
    let query = format!("EIO=4&transport=websocket&sid={sid}");
    let mut ws = match node::ws_open(server.addr(), PATH, &query).await {
        node::Opened::Open(ws) => *ws,
        node::Opened::Refused(status) => panic!("the upgrade was refused: {status}"),
    };
    send_text(&mut ws, "2probe").await;
    assert_eq!(recv(&mut ws).await, Frame::Text("3probe".into()));
    send_text(&mut ws, "5").await;
    let second = node::ws_open(server.addr(), PATH, &query).await;
    assert_accepted_then_closed(second, "the second WebSocket").await;
    send_text(&mut ws, "4hello").await;
    assert_eq!(recv(&mut ws).await, Frame::Text("4hello".into()));
}

/// The two orders that case can take, each made certain: the second WebSocket arrives while
/// the first is still probing (before `5`), or once the upgrade is done (its echo is back).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_websocket_while_probing_or_after_the_upgrade_is_closed_and_the_first_goes_on() {
    let server = Server::steady().await;
    let sid = server.open_polling().await.sid;
    let query = format!("EIO=4&transport=websocket&sid={sid}");
    let mut ws = server.probe(&sid).await;
    let second = node::ws_open(server.addr(), PATH, &query).await;
    assert_accepted_then_closed(second, "a WebSocket during the probe").await;
    // The first upgrade was not disturbed.
    send_text(&mut ws, "5").await;
    send_text(&mut ws, "4hello").await;
    assert_eq!(recv(&mut ws).await, Frame::Text("4hello".into()));
    let third = node::ws_open(server.addr(), PATH, &query).await;
    assert_accepted_then_closed(third, "a WebSocket after the upgrade").await;
    send_text(&mut ws, "4again").await;
    assert_eq!(recv(&mut ws).await, Frame::Text("4again".into()));
    // An unknown sid is still refused before the upgrade.
    let unknown = node::ws_open(
        server.addr(),
        PATH,
        "EIO=4&transport=websocket&sid=AAAAAAAAAAAAAAAAAAAA",
    )
    .await;
    assert!(matches!(unknown, node::Opened::Refused(400)), "{unknown:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polling_after_upgrade_gets_bad_request_code_3() {
    let server = Server::steady().await;
    let sid = server.open_polling().await.sid;
    let _ws = upgraded(&server, &sid).await;
    let expected = r#"{"code":3,"message":"Bad request"}"#;
    assert_error(&server.poll(&sid).await, expected);
    assert_error(&server.post(&sid, "4hello").await, expected);
}

/// 1,000 numbered messages, POSTed in batches of 25 while the upgrade runs: batches 10-19
/// race the probe and batches 20-39 go in after `3probe`, while polling is paused. Each
/// number must come back exactly once and in order, from the GETs and then the WebSocket.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upgrade_loses_no_message() {
    const COUNT: usize = 1000;
    const BATCH: usize = 25;
    // The default 25 s heartbeat keeps pings out of the numbered stream.
    let server = Server::start(example_conformance::Options::default()).await;
    let sid = server.open_polling().await.sid;
    let paused = Arc::new(AtomicBool::new(false));
    let (start_upgrade, upgrade_started) = oneshot::channel::<()>();
    let (probe_done, probed) = oneshot::channel::<()>();

    let sender = tokio::spawn({
        let (server, sid) = (server.clone(), sid.clone());
        async move {
            let (mut start_upgrade, mut probed) = (Some(start_upgrade), Some(probed));
            for batch in 0..COUNT / BATCH {
                if batch == 10 {
                    let tx = start_upgrade.take().expect("signal sent once");
                    tx.send(()).expect("the test is waiting");
                }
                if batch == 20 {
                    let rx = probed.take().expect("waited on once");
                    rx.await.expect("the probe finished");
                }
                let body = (batch * BATCH..(batch + 1) * BATCH)
                    .map(|n| format!("4{n}"))
                    .collect::<Vec<_>>()
                    .join("\x1e");
                let push = server.post(&sid, &body).await;
                assert_eq!(push.status, 200, "batch {batch}: {push:?}");
            }
        }
    });
    let poller = tokio::spawn({
        let (server, sid, paused) = (server.clone(), sid.clone(), paused.clone());
        async move {
            let mut polled = Vec::new();
            while !paused.load(Ordering::SeqCst) {
                let poll = server.poll(&sid).await;
                assert_eq!(poll.status, 200, "{poll:?}");
                polled.extend(packets(&poll.body).into_iter().map(str::to_owned));
            }
            polled
        }
    });

    timeout(WAIT, upgrade_started)
        .await
        .expect("the first batches were not accepted in time")
        .expect("the sender stopped");
    let mut ws = server.probe(&sid).await;
    // Like the real client: pause polling; the GET in flight must still end (a noop or echoes).
    paused.store(true, Ordering::SeqCst);
    probe_done.send(()).expect("the sender is waiting");
    let polled = timeout(WAIT, poller)
        .await
        .expect("the held GET did not end after the probe")
        .expect("the poller failed");
    timeout(WAIT, sender)
        .await
        .expect("the batches were not accepted in time")
        .expect("the sender failed");
    send_text(&mut ws, "5").await;
    send_text(&mut ws, "4done").await;

    let mut over_ws = Vec::new();
    loop {
        match recv(&mut ws).await {
            Frame::Text(text) if text == "4done" => break,
            Frame::Text(text) if over_ws.len() <= COUNT => over_ws.push(text),
            other => panic!(
                "after {} messages on the WebSocket: {other:?}",
                over_ws.len()
            ),
        }
    }
    let numbers: Vec<usize> = polled
        .iter()
        .chain(&over_ws)
        .filter(|packet| *packet != "6")
        .map(|packet| {
            packet
                .strip_prefix('4')
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("not a numbered message: {packet:?}"))
        })
        .collect();
    if let Some(at) = numbers.iter().enumerate().position(|(i, n)| i != *n) {
        panic!(
            "message {at} is {} (from {} polled, {} on the WebSocket); around it: {:?}",
            numbers[at],
            polled.len(),
            over_ws.len(),
            &numbers[at.saturating_sub(3)..(at + 4).min(numbers.len())]
        );
    }
    assert_eq!(numbers.len(), COUNT, "messages lost at the end");
}
