//! Heartbeat: the official Engine.IO v4 suite's `heartbeat` cases. The server pings every
//! `pingInterval` (300 ms) and ends a session whose pong is `pingTimeout` (200 ms) late.

mod common;

use common::{
    Frame, PING_INTERVAL, PING_TIMEOUT, Server, eventually, recv, recv_until_closed, send_text,
};
use tokio::time::Instant;

mod polling {
    use super::*;

    /// The suite's 300 ms interval; the pong may take up to 10 s (a loaded machine can miss
    /// the suite's 200 ms, and the rule under test is the ping and its answer).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sends_ping_pong_packets() {
        let server = Server::pinging().await;
        let sid = server.open_polling().await.sid;
        for round in 0..3 {
            let poll = server.poll(&sid).await;
            assert_eq!(
                (poll.status, poll.body.as_str()),
                (200, "2"),
                "round {round}: {poll:?}"
            );
            let push = server.post(&sid, "3").await;
            assert_eq!(push.status, 200, "round {round}: {push:?}");
        }
    }

    /// The suite sleeps 500 ms, then its GET must get 400. Here the test waits for the
    /// session to end instead (a late ping on a loaded machine moves the end later, as it
    /// should), checks it did not end before 300 + 200 ms, then sends the suite's GET.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn closes_the_session_upon_ping_timeout() {
        let server = Server::suite().await;
        let opened = Instant::now();
        let sid = server.open_polling().await.sid;
        eventually("the session to time out", async || {
            server.session(&sid).is_none()
        })
        .await;
        assert!(
            opened.elapsed() >= PING_INTERVAL + PING_TIMEOUT,
            "closed {:?} after opening, before pingInterval + pingTimeout",
            opened.elapsed()
        );
        let poll = server.poll(&sid).await;
        assert_eq!(poll.status, 400, "{poll:?}");
    }
}

mod websocket {
    use super::*;

    /// The suite's 300 ms interval; the pong may take up to 10 s (see the polling case).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sends_ping_pong_packets() {
        let server = Server::pinging().await;
        let (mut ws, _open) = server.open_ws().await;
        for round in 0..3 {
            assert_eq!(
                recv(&mut ws).await,
                Frame::Text("2".into()),
                "round {round}"
            );
            send_text(&mut ws, "3").await;
        }
        ws.close(None).await.expect("close the WebSocket");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn closes_the_session_upon_ping_timeout() {
        let server = Server::suite().await;
        let (mut ws, _open) = server.open_ws().await;
        let (frames, _code) = recv_until_closed(&mut ws).await;
        // One unanswered ping, then the close (a `1` packet before it is tolerated).
        let ping = Frame::Text("2".into());
        let close = Frame::Text("1".into());
        assert!(
            frames == [ping.clone()] || frames == [ping, close],
            "expected one ping and then the close, got {frames:?}"
        );
    }
}
