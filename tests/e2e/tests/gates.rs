//! Gates and limits hit from real sockets, each with the exact status, body or close code the
//! README's Limits table promises: the origin allow-list, the `allow_request` hook, the
//! per-address handshake limit, `max_sessions`, `max_payload` for Socket.IO on both transports,
//! and graceful shutdown through the `serve` shutdown future.

mod hardening_common;

use std::time::Duration;

use axum::Router;
use hardening_common::{
    Close, Frame, Neighbor, Server, assert_reply, echo_io, eventually, open_sid, polling_query,
    reasons, record_disconnect, recv_packet, recv_text, recv_until_closed, send_text, ws_refusal,
};
use reqwest::Method;
use tether_axum::socket::{Socket, SocketIo};
use tether_axum::{EngineConfig, EngineLayer, RequestError};
use tokio::sync::{mpsc, oneshot};
use tokio::time::{Instant, timeout};

const FORBIDDEN: &str = r#"{"code":4,"message":"Forbidden"}"#;
const WS_HANDSHAKE: &str = "EIO=4&transport=websocket";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_origin_outside_the_allow_list_gets_403_code_4() {
    let (tx, _reasons) = reasons();
    let layer = EngineLayer::builder()
        .allowed_origins(["https://good.example"])
        .build(echo_io(tx));
    let engine = layer.engine().clone();
    let server = Server::start(Router::new().layer(layer)).await;
    let evil = [("origin", "https://evil.example")];

    assert_reply(&server.handshake(&evil).await, 403, FORBIDDEN);
    let (status, body) = ws_refusal(server.try_ws(WS_HANDSHAKE, &evil).await);
    assert_eq!(
        (status, body.as_str()),
        (403, FORBIDDEN),
        "WebSocket handshake"
    );
    assert_eq!(
        engine.session_count(),
        0,
        "a refused origin allocated a session"
    );

    // The allowed origin, and a request with no Origin (not a browser), open sessions.
    let good = server
        .handshake(&[("origin", "https://good.example")])
        .await;
    assert_eq!(good.status, 200, "{good:?}");
    let sid = open_sid(&good.body);
    assert_eq!(server.handshake(&[]).await.status, 200);
    assert_eq!(engine.session_count(), 2);

    // A session is not usable from a foreign origin either.
    let poll = server
        .request(Method::GET, &polling_query(&sid), &evil, None)
        .await;
    assert_reply(&poll, 403, FORBIDDEN);
}

/// Browsers apply no CORS to WebSocket: without a check, any site could open a WebSocket to
/// this server with its visitors' cookies. By default only same-origin pages may, over every
/// transport; non-browser clients (no Origin) are not affected.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn by_default_only_same_origin_pages_may_open_a_websocket_or_poll() {
    let (tx, _reasons) = reasons();
    let layer = EngineLayer::builder().build(echo_io(tx));
    let engine = layer.engine().clone();
    let server = Server::start(Router::new().layer(layer)).await;
    let evil = [("origin", "https://evil.example")];
    let (status, body) = ws_refusal(server.try_ws(WS_HANDSHAKE, &evil).await);
    assert_eq!(
        (status, body.as_str()),
        (403, FORBIDDEN),
        "WebSocket upgrade"
    );
    assert_reply(&server.handshake(&evil).await, 403, FORBIDDEN);
    assert_eq!(engine.session_count(), 0);
    let own = format!("http://{}", server.addr());
    let same = [("origin", own.as_str())];
    let mut ws = server
        .try_ws(WS_HANDSHAKE, &same)
        .await
        .expect("a same-origin WebSocket is accepted");
    assert!(recv_text(&mut ws).await.starts_with('0'));
    assert_eq!(server.handshake(&same).await.status, 200);
    assert!(server.try_ws(WS_HANDSHAKE, &[]).await.is_ok(), "no Origin");
}

/// One allow-list for both transports: what may poll (CORS) may open a WebSocket, and what
/// may not, may not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allowed_origins_answer_cors_and_check_websockets_alike() {
    let (tx, _reasons) = reasons();
    let layer = EngineLayer::builder()
        .allowed_origins(["https://good.example"])
        .build(echo_io(tx));
    let server = Server::start(Router::new().layer(layer)).await;
    let good = [("origin", "https://good.example")];
    let preflight = server
        .request(
            Method::OPTIONS,
            "EIO=4&transport=polling",
            &[
                ("origin", "https://good.example"),
                ("access-control-request-method", "POST"),
            ],
            None,
        )
        .await;
    assert!(preflight.status < 300, "{preflight:?}");
    assert_eq!(server.handshake(&good).await.status, 200);
    assert!(server.try_ws(WS_HANDSHAKE, &good).await.is_ok());
    let evil = [("origin", "https://evil.example")];
    let (status, _) = ws_refusal(server.try_ws(WS_HANDSHAKE, &evil).await);
    assert_eq!(status, 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_allow_request_refusal_gets_403_with_its_message_and_allocates_nothing() {
    let (tx, _reasons) = reasons();
    let io = echo_io(tx);
    let layer = EngineLayer::builder()
        .allow_request(|parts| {
            let query = parts.uri.query().unwrap_or_default();
            if query.split('&').any(|pair| pair == "token=good") {
                Ok(())
            } else {
                Err("invalid token".to_owned())
            }
        })
        .build(io.clone());
    let engine = layer.engine().clone();
    let server = Server::start(Router::new().layer(layer)).await;
    let refused = r#"{"code":4,"message":"invalid token"}"#;

    for query in [
        "EIO=4&transport=polling",
        "EIO=4&transport=polling&token=bad",
    ] {
        let reply = server.request(Method::GET, query, &[], None).await;
        assert_reply(&reply, 403, refused);
    }
    let (status, body) = ws_refusal(server.try_ws(WS_HANDSHAKE, &[]).await);
    assert_eq!(
        (status, body.as_str()),
        (403, refused),
        "WebSocket handshake"
    );
    assert_eq!(
        engine.session_count(),
        0,
        "a refused handshake allocated a session"
    );
    assert_eq!(io.connection_count(), 0);

    let reply = server
        .request(Method::GET, "EIO=4&transport=polling&token=good", &[], None)
        .await;
    assert_eq!(reply.status, 200, "{reply:?}");
    let ws = server
        .try_ws("EIO=4&transport=websocket&token=good", &[])
        .await;
    assert!(ws.is_ok(), "the WebSocket with the token was refused");
    eventually("both sessions to open", async || {
        engine.session_count() == 2
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_handshake_limit_answers_429_after_the_burst() {
    const BURST: usize = 3;
    let too_many = r#"{"message":"Too many handshakes"}"#;
    let (tx, _reasons) = reasons();
    let layer = EngineLayer::builder()
        .handshake_limit(1, BURST as u32)
        .build(echo_io(tx));
    let engine = layer.engine().clone();
    let server = Server::start(Router::new().layer(layer)).await;

    // One token a second refills the bucket, so a slow run may get one more handshake per
    // second elapsed; never fewer than the burst.
    let start = Instant::now();
    let mut sids = Vec::new();
    let refusal = loop {
        let reply = server.handshake(&[]).await;
        if reply.status != 200 {
            break reply;
        }
        sids.push(open_sid(&reply.body));
        assert!(sids.len() <= BURST + 5, "no 429 after {sids:?}");
    };
    let opened = sids.len();
    let refill = start.elapsed().as_secs() as usize;
    assert_reply(&refusal, 429, too_many);
    assert!(
        (BURST..=BURST + refill).contains(&opened),
        "{opened} handshakes before the 429 (burst {BURST}, {refill} s elapsed)"
    );
    assert_eq!(
        engine.session_count(),
        opened,
        "the 429 allocated a session"
    );

    // A WebSocket handshake is refused before the upgrade. (If a token refilled meanwhile,
    // it is spent and the next attempt is refused.)
    let mut attempts = 0;
    let (status, body) = loop {
        attempts += 1;
        assert!(attempts <= 5, "the WebSocket handshake was never limited");
        match server.try_ws(WS_HANDSHAKE, &[]).await {
            Ok(_) => continue,
            refused => break ws_refusal(refused),
        }
    };
    assert_eq!(
        (status, body.as_str()),
        (429, too_many),
        "WebSocket handshake"
    );

    // The limit is on handshakes only: an open session goes on working.
    server.push(&sids[0], "40").await;
    let reply = server.poll_packets(&sids[0], 1).await;
    assert!(reply[0].starts_with("40{"), "no CONNECT reply: {reply:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_sessions_answers_503_on_both_transports() {
    let too_many = r#"{"message":"Too many sessions"}"#;
    let (tx, _reasons) = reasons();
    let layer = EngineLayer::builder()
        .config(EngineConfig::default().max_sessions(2))
        .build(echo_io(tx));
    let engine = layer.engine().clone();
    let server = Server::start(Router::new().layer(layer)).await;

    let polling = server.open_polling().await;
    let (_ws, _sid) = server.open_ws().await;
    assert_eq!(engine.session_count(), 2);

    assert_reply(&server.handshake(&[]).await, 503, too_many);
    let (status, body) = ws_refusal(server.try_ws(WS_HANDSHAKE, &[]).await);
    assert_eq!(
        (status, body.as_str()),
        (503, too_many),
        "WebSocket handshake"
    );
    assert_eq!(engine.session_count(), 2);

    // A session that ends frees its place.
    server.push(&polling, "1").await;
    eventually("the closed session to be dropped", async || {
        engine.session_count() == 1
    })
    .await;
    assert_eq!(server.handshake(&[]).await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socket_io_max_payload_is_413_over_polling_and_1009_over_websocket() {
    const LIMIT: usize = 1000;
    // `42["echo","xx…x"]` of exactly `len` bytes.
    let event = |len: usize| format!(r#"42["echo","{}"]"#, "x".repeat(len - 13));
    let (tx, mut reasons) = reasons();
    let layer = EngineLayer::builder()
        .config(EngineConfig::default().max_payload(LIMIT))
        .build(echo_io(tx));
    let server = Server::start(Router::new().layer(layer)).await;
    let mut neighbor = Neighbor::join(&server).await;

    let (sid, _id) = server.join_polling().await;
    server.push(&sid, &event(LIMIT)).await;
    assert_eq!(server.poll_packets(&sid, 1).await, [event(LIMIT)]);
    let reply = server.post(&sid, event(LIMIT + 1)).await;
    assert_reply(&reply, 413, r#"{"message":"Payload too large"}"#);
    server.push(&sid, &event(20)).await;
    assert_eq!(
        server.poll_packets(&sid, 1).await,
        [event(20)],
        "the session lives on after a 413 and the oversized body was dropped"
    );

    let (mut ws, id) = server.join_ws().await;
    send_text(&mut ws, &event(LIMIT)).await;
    assert_eq!(recv_packet(&mut ws).await, Frame::Text(event(LIMIT)));
    send_text(&mut ws, &event(LIMIT + 1)).await;
    let (frames, close) = recv_until_closed(&mut ws).await;
    assert_eq!(
        close,
        Close::Frame(Some(1009)),
        "frames before it: {frames:?}"
    );
    assert_eq!(frames, [], "the oversized message got an answer");
    assert_eq!(reasons.of(&id).await, "transport error");

    neighbor.assert_echoes("the oversized messages").await;
}

/// The server of the shutdown test: echo, plus `ask`, which asks the client a question with
/// an acknowledgement and reports the answer (or the error) on `answers`.
fn asking_io(tx: hardening_common::ReasonTx, answers: mpsc::UnboundedSender<String>) -> SocketIo {
    let io = SocketIo::builder().build();
    io.ns("/", move |socket: Socket| {
        let (tx, answers) = (tx.clone(), answers.clone());
        async move {
            record_disconnect(&socket, &tx);
            socket.on("ask", move |socket: Socket| {
                let answers = answers.clone();
                async move {
                    let answer = match socket.emit_with_ack("q", "are you there?") {
                        Ok(ack) => match ack.await {
                            Ok(response) => response.data::<String>().unwrap_or_default(),
                            Err(err) => format!("ack error: {err}"),
                        },
                        Err(err) => format!("emit error: {err}"),
                    };
                    let _ = answers.send(answer);
                }
            });
        }
    });
    io
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_delivers_queued_messages_answers_acks_and_refuses_newcomers() {
    let shutting_down = r#"{"message":"Server shutting down"}"#;
    let (tx, mut reasons) = reasons();
    let (answers_tx, mut answers) = mpsc::unbounded_channel();
    let io = asking_io(tx, answers_tx);
    let layer = EngineLayer::builder().build(io.clone());
    let engine = layer.engine().clone();
    let (trigger, triggered) = oneshot::channel::<()>();
    let (left_tx, left) = oneshot::channel::<usize>();
    let shutdown = {
        let engine = engine.clone();
        async move {
            let _ = triggered.await;
            let _ = left_tx.send(engine.shutdown(Duration::from_secs(10)).await);
        }
    };
    let server = Server::start_with_shutdown(Router::new().layer(layer), shutdown).await;

    let (mut plain, plain_id) = server.join_ws().await;
    let (polling, polling_id) = server.join_polling().await;
    let (mut asked, asked_id) = server.join_ws().await;
    send_text(&mut asked, r#"42["ask"]"#).await;
    let question = recv_text(&mut asked).await;
    let ack_id: String = question
        .strip_prefix("42")
        .and_then(|rest| rest.strip_suffix(r#"["q","are you there?"]"#))
        .unwrap_or_else(|| panic!("not the question: {question:?}"))
        .to_owned();
    assert!(ack_id.parse::<u64>().is_ok(), "no ack id in {question:?}");

    trigger.send(()).expect("the shutdown future is waiting");
    eventually("the engine to refuse new sessions", async || {
        engine.check_capacity(None) == Err(RequestError::ShuttingDown)
    })
    .await;
    // Queued while the server drains: everyone must still get it before the close.
    io.emit("bye", "draining").expect("emit");
    assert_reply(&server.handshake(&[]).await, 503, shutting_down);
    let (status, body) = ws_refusal(server.try_ws(WS_HANDSHAKE, &[]).await);
    assert_eq!(
        (status, body.as_str()),
        (503, shutting_down),
        "WebSocket handshake"
    );
    assert!(
        answers.try_recv().is_err(),
        "the ack resolved before the client answered"
    );

    // The pending ack holds the drain; the client answers it and the server gets the answer.
    let bye = r#"42["bye","draining"]"#.to_owned();
    assert_eq!(recv_text(&mut asked).await, bye);
    send_text(&mut asked, &format!(r#"43{ack_id}["yes"]"#)).await;
    let answer = timeout(hardening_common::WAIT, answers.recv()).await;
    assert_eq!(answer, Ok(Some("yes".to_owned())), "the in-flight ack");

    for (ws, name) in [(&mut plain, "plain"), (&mut asked, "asked")] {
        let (frames, close) = recv_until_closed(ws).await;
        let expected: &[Frame] = if name == "plain" {
            &[Frame::Text(bye.clone())]
        } else {
            &[]
        };
        assert_eq!(frames, expected, "{name}: frames before the close");
        assert_eq!(close, Close::Frame(None), "{name}: a close frame");
    }
    // Polling: the queued message and a close packet (in one GET, or two if a GET raced).
    let mut got = Vec::new();
    while got.last().map(String::as_str) != Some("1") {
        assert!(got.len() < 4, "no close packet: {got:?}");
        let reply = server.poll(&polling).await;
        assert_eq!(reply.status, 200, "after {got:?}: {reply:?}");
        got.extend(reply.body.split('\x1e').map(str::to_owned));
    }
    assert_eq!(got, [bye.clone(), "1".to_owned()]);

    for id in [&plain_id, &polling_id, &asked_id] {
        assert_eq!(reasons.of(id).await, "server shutting down");
    }
    let left = timeout(hardening_common::WAIT, left).await;
    assert_eq!(left, Ok(Ok(0)), "sessions left at the deadline");
    server.stopped().await.expect("serve returned an error");
}

/// A WebSocket read buffer far smaller than a message (`ws_read_buffer(256)`) still delivers
/// the message whole, in either direction.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_small_websocket_read_buffer_still_carries_large_messages() {
    let (tx, _reasons) = reasons();
    let layer = EngineLayer::builder()
        .ws_read_buffer(256)
        .build(echo_io(tx));
    let server = Server::start(Router::new().layer(layer)).await;
    let (mut ws, _id) = server.join_ws().await;
    let text = "x".repeat(20_000);
    send_text(&mut ws, &format!("42[\"echo\",\"{text}\"]")).await;
    assert_eq!(recv_text(&mut ws).await, format!("42[\"echo\",\"{text}\"]"));
}
