//! Handshake: the official Engine.IO v4 suite's `handshake` cases, plus the exact error bodies
//! of the refusals (PROTOCOL.md 1.1).

mod common;

use common::{Handshake, Server, assert_error};
use reqwest::Method;
use serde_json::json;

/// The open packet's JSON has exactly the five keys, with the suite's values.
fn assert_open(open: &Handshake, upgrades: &serde_json::Value) {
    let mut keys: Vec<&str> = open.value.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "maxPayload",
            "pingInterval",
            "pingTimeout",
            "sid",
            "upgrades"
        ],
        "keys of {:?}",
        open.value
    );
    assert!(!open.sid.is_empty(), "empty sid");
    assert_eq!(&open.value["upgrades"], upgrades);
    assert_eq!(open.value["pingInterval"], json!(300));
    assert_eq!(open.value["pingTimeout"], json!(200));
    assert_eq!(open.value["maxPayload"], json!(1_000_000));
}

mod polling {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn successfully_opens_a_session() {
        let server = Server::suite().await;
        let reply = server.get("EIO=4&transport=polling").await;
        assert_eq!(reply.status, 200, "{reply:?}");
        assert!(reply.body.starts_with('0'), "{reply:?}");
        let open = common::parse_open(&reply.body);
        assert_open(&open, &json!(["websocket"]));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn fails_with_an_invalid_eio_query_parameter() {
        let server = Server::suite().await;
        for query in ["transport=polling", "EIO=abc&transport=polling"] {
            let reply = server.get(query).await;
            assert_eq!(reply.status, 400, "{query}: {reply:?}");
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn fails_with_an_invalid_transport_query_parameter() {
        let server = Server::suite().await;
        for query in ["EIO=4", "EIO=4&transport=abc"] {
            let reply = server.get(query).await;
            assert_eq!(reply.status, 400, "{query}: {reply:?}");
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn fails_with_an_invalid_request_method() {
        let server = Server::suite().await;
        for method in [Method::POST, Method::PUT] {
            let reply = server
                .request(method.clone(), "EIO=4&transport=polling", None)
                .await;
            assert_eq!(reply.status, 400, "{method}: {reply:?}");
        }
    }
}

mod websocket {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn successfully_opens_a_session() {
        let server = Server::suite().await;
        let (mut ws, open) = server.open_ws().await;
        assert_open(&open, &json!([]));
        ws.close(None).await.expect("close the WebSocket");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn fails_with_an_invalid_eio_query_parameter() {
        let server = Server::suite().await;
        server.assert_ws_rejected("transport=websocket").await;
        server
            .assert_ws_rejected("EIO=abc&transport=websocket")
            .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn fails_with_an_invalid_transport_query_parameter() {
        let server = Server::suite().await;
        server.assert_ws_rejected("EIO=4").await;
        server.assert_ws_rejected("EIO=4&transport=abc").await;
    }
}

mod error_body {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn transport_unknown_is_code_0() {
        let server = Server::suite().await;
        for query in ["EIO=4&transport=abc", "EIO=4"] {
            let reply = server.get(query).await;
            assert_error(&reply, r#"{"code":0,"message":"Transport unknown"}"#);
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn session_id_unknown_is_code_1() {
        let server = Server::suite().await;
        let query = "EIO=4&transport=polling&sid=AAAAAAAAAAAAAAAAAAAA";
        let expected = r#"{"code":1,"message":"Session ID unknown"}"#;
        assert_error(&server.get(query).await, expected);
        let post = server.request(Method::POST, query, Some("4hello")).await;
        assert_error(&post, expected);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn bad_handshake_method_is_code_2() {
        let server = Server::suite().await;
        for method in [Method::POST, Method::PUT] {
            let reply = server
                .request(method, "EIO=4&transport=polling", None)
                .await;
            assert_error(&reply, r#"{"code":2,"message":"Bad handshake method"}"#);
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn unsupported_protocol_version_is_code_5() {
        let server = Server::suite().await;
        for query in [
            "EIO=3&transport=polling",
            "EIO=abc&transport=polling",
            "transport=polling",
        ] {
            let reply = server.get(query).await;
            assert_error(
                &reply,
                r#"{"code":5,"message":"Unsupported protocol version"}"#,
            );
        }
    }
}
