//! Heartbeat: the official Engine.IO v4 suite's `heartbeat` cases. The server pings every
//! `pingInterval` (300 ms) and ends a session whose pong is `pingTimeout` (200 ms) late.

mod common;

use common::{Frame, PING_INTERVAL, PING_TIMEOUT, Server, recv, recv_until_closed, send_text};

mod polling {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sends_ping_pong_packets() {
        let server = Server::suite().await;
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

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn closes_the_session_upon_ping_timeout() {
        let server = Server::suite().await;
        let sid = server.open_polling().await.sid;
        // The rule under test is a duration: wait it out exactly as the official suite does.
        tokio::time::sleep(PING_INTERVAL + PING_TIMEOUT).await;
        // A live session would answer at once with the ping queued at 300 ms.
        let poll = server.poll(&sid).await;
        assert_eq!(poll.status, 400, "{poll:?}");
    }
}

mod websocket {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sends_ping_pong_packets() {
        let server = Server::suite().await;
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
