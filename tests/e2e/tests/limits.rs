//! maxPayload (PROTOCOL.md 1.9), with the fixture limited to 1,000 bytes: a POST body over the
//! limit gets 413 and the session lives on; a WebSocket message over it closes the socket with
//! 1009 and ends the session. Exactly the limit is accepted on both transports.

mod common;

use common::{Frame, Server, eventually, recv, recv_until_closed, send_text};
use example_conformance::Options;
use serde_json::json;

const LIMIT: usize = 1000;

/// The default 25 s heartbeat, so no ping mixes into the echoes.
async fn limited_server() -> Server {
    Server::start(Options {
        max_payload: LIMIT,
        ..Options::default()
    })
    .await
}

/// A message packet of exactly `len` bytes.
fn message_of_len(len: usize) -> String {
    format!("4{}", "x".repeat(len - 1))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_payload_is_advertised() {
    let server = limited_server().await;
    let open = server.open_polling().await;
    assert_eq!(open.value["maxPayload"], json!(LIMIT));
    let (_ws, open) = server.open_ws().await;
    assert_eq!(open.value["maxPayload"], json!(LIMIT));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn post_over_max_payload_gets_413_and_the_session_survives() {
    let server = limited_server().await;
    let sid = server.open_polling().await.sid;

    let exact = message_of_len(LIMIT);
    let push = server.post(&sid, &exact).await;
    assert_eq!((push.status, push.body.as_str()), (200, "ok"), "{push:?}");
    let poll = server.poll(&sid).await;
    assert_eq!(poll.status, 200, "{poll:?}");
    assert!(
        poll.body == exact,
        "the {LIMIT}-byte message was not echoed"
    );

    let push = server.post(&sid, &message_of_len(LIMIT + 1)).await;
    assert_eq!(push.status, 413, "{push:?}");

    // The session lives on, and the refused body was dropped rather than echoed.
    let push = server.post(&sid, "4alive").await;
    assert_eq!((push.status, push.body.as_str()), (200, "ok"), "{push:?}");
    let poll = server.poll(&sid).await;
    assert_eq!(
        (poll.status, poll.body.as_str()),
        (200, "4alive"),
        "{poll:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_message_over_max_payload_closes_with_1009() {
    let server = limited_server().await;
    let (mut ws, open) = server.open_ws().await;

    let exact = message_of_len(LIMIT);
    send_text(&mut ws, &exact).await;
    assert!(
        recv(&mut ws).await == Frame::Text(exact),
        "the {LIMIT}-byte message was not echoed"
    );

    send_text(&mut ws, &message_of_len(LIMIT + 1)).await;
    let (frames, code) = recv_until_closed(&mut ws).await;
    assert_eq!(code, Some(1009), "close code; frames before it: {frames:?}");
    assert!(
        frames.is_empty(),
        "the oversized message got an answer: {frames:?}"
    );

    // The session ends with its socket: its sid becomes unknown (code 3 would mean it lives).
    let unknown = r#"{"code":1,"message":"Session ID unknown"}"#;
    eventually("the session to end", async || {
        server.poll(&open.sid).await.body == unknown
    })
    .await;
}
