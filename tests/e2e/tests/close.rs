//! Close: the official Engine.IO v4 suite's `close` cases. A client `1` packet ends the session.

mod common;

use common::{Server, node, recv_until_closed, send_text};

const PATH: &str = "/engine.io/";

mod polling {
    use super::*;

    /// The official case as it runs; twenty sessions, so both orders occur.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn forcefully_closes_the_session() {
        let server = Server::steady().await;
        node::assert_close_races(server.addr(), PATH, 20).await;
    }

    /// The order that failed the official case, made certain: the POST first.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_get_handled_after_the_close_post_gets_noop_then_the_sid_is_gone() {
        let server = Server::steady().await;
        node::assert_close_post_first(server.addr(), PATH).await;
    }
}

mod websocket {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn forcefully_closes_the_session() {
        let server = Server::steady().await;
        let (mut ws, _open) = server.open_ws().await;
        send_text(&mut ws, "1").await;
        let (frames, _code) = recv_until_closed(&mut ws).await;
        // Within the wait, so by the close packet, not by the heartbeat (a ping at 25 s, the
        // close 20 s later); PROTOCOL.md 1.8 asks for a close at once.
        assert!(frames.is_empty(), "frames before the close: {frames:?}");
    }
}
