//! The HTTP edge of a server started with `tether_axum::serve`: a client that trickles its
//! header is cut off, headers and handshakes are bounded in bytes, and one address can be
//! held to a number of sessions (IPv6 counted by /64, see the unit tests of `AddressKey`).

mod hardening_common;

use std::time::{Duration, Instant};

use axum::Router;
use hardening_common::{Server, WAIT, assert_reply, echo_io, reasons, ws_refusal};
use tether_axum::{EngineConfig, EngineLayer, ServeConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

fn app(config: EngineConfig) -> Router {
    let (tx, _reasons) = reasons();
    Router::new().layer(EngineLayer::builder().config(config).build(echo_io(tx)))
}

/// Reads until the server closes the connection; what it sent before.
async fn read_to_close(stream: &mut TcpStream) -> Vec<u8> {
    let mut got = Vec::new();
    let read = timeout(WAIT, stream.read_to_end(&mut got)).await;
    assert!(
        read.is_ok(),
        "the server kept the connection open past {WAIT:?}; got {:?}",
        String::from_utf8_lossy(&got)
    );
    got
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_trickles_its_header_is_cut_off_after_the_header_read_timeout() {
    let limit = Duration::from_millis(300);
    let server = Server::start_with_config(
        app(EngineConfig::default()),
        ServeConfig::default().header_read_timeout(limit),
    )
    .await;
    // Half a request line, then nothing: a slowloris client. (The clock starts before the
    // connect: the server's timer starts when it accepts, which may be before connect returns.)
    let opened = Instant::now();
    let mut stalled = TcpStream::connect(server.addr()).await.expect("connect");
    stalled
        .write_all(b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n")
        .await
        .expect("write");
    let got = read_to_close(&mut stalled).await;
    assert!(
        opened.elapsed() >= limit,
        "cut off before the timeout: {:?}",
        opened.elapsed()
    );
    let text = String::from_utf8_lossy(&got);
    assert!(
        text.is_empty() || text.starts_with("HTTP/1.1 408"),
        "answered {text:?}"
    );
    // A connection that says nothing at all is cut off too.
    let mut idle = TcpStream::connect(server.addr()).await.expect("connect");
    read_to_close(&mut idle).await;
    // The server goes on serving.
    assert_eq!(server.handshake(&[]).await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headers_past_32_kib_get_431_and_never_reach_the_engine() {
    let server = Server::start(app(EngineConfig::default())).await;
    let big = "a".repeat(40 * 1024);
    let mut stream = TcpStream::connect(server.addr()).await.expect("connect");
    let request = format!(
        "GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\nX-Big: {big}\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.expect("write");
    let got = read_to_close(&mut stream).await;
    let text = String::from_utf8_lossy(&got);
    assert!(text.starts_with("HTTP/1.1 431"), "answered {text:?}");
    // Just under the bound is fine.
    let fits = "a".repeat(30 * 1024);
    assert_eq!(server.handshake(&[("x-big", &fits)]).await.status, 200);
}

/// The default bound on header lines is hyper's own 100 (left unset, so hyper parses on the
/// stack); a bound set to something else still applies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn more_than_100_header_lines_get_431_and_a_set_bound_applies() {
    async fn raw(server: &Server, lines: usize) -> String {
        let headers: String = (0..lines).map(|i| format!("X-H{i}: v\r\n")).collect();
        let mut stream = TcpStream::connect(server.addr()).await.expect("connect");
        let request = format!(
            "GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n{headers}Connection: close\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).await.expect("write");
        String::from_utf8_lossy(&read_to_close(&mut stream).await).into_owned()
    }
    let server = Server::start(app(EngineConfig::default())).await;
    // Host and Connection make two more lines.
    assert!(
        raw(&server, 98).await.starts_with("HTTP/1.1 200"),
        "100 lines pass"
    );
    let text = raw(&server, 99).await;
    assert!(text.starts_with("HTTP/1.1 431"), "101 lines: {text:?}");
    let strict = Server::start_with_config(
        app(EngineConfig::default()),
        ServeConfig::default().max_headers(10),
    )
    .await;
    assert!(raw(&strict, 8).await.starts_with("HTTP/1.1 200"));
    let text = raw(&strict, 9).await;
    assert!(text.starts_with("HTTP/1.1 431"), "11 lines: {text:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handshake_keeps_at_most_32_kib_of_headers_and_is_refused_past_it() {
    // The HTTP server allows more here, so the engine's own bound is what refuses.
    let server = Server::start_with_config(
        app(EngineConfig::default()),
        ServeConfig::default().max_header_bytes(256 * 1024),
    )
    .await;
    let big = "c".repeat(40 * 1024);
    let refused = server.handshake(&[("cookie", &big)]).await;
    assert_eq!(refused.status, 431, "{refused:?}");
    assert_eq!(refused.body, r#"{"message":"Request headers too large"}"#);
    let (status, body) = ws_refusal(
        server
            .try_ws("EIO=4&transport=websocket", &[("cookie", &big)])
            .await,
    );
    assert_eq!(
        (status, body.as_str()),
        (431, r#"{"message":"Request headers too large"}"#)
    );
    let fits = "c".repeat(16 * 1024);
    assert_eq!(server.handshake(&[("cookie", &fits)]).await.status, 200);
}

const TOO_MANY: &str = r#"{"message":"Too many sessions from this address"}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_address_is_held_to_max_sessions_per_address() {
    let server = Server::start(app(EngineConfig::default().max_sessions_per_address(2))).await;
    let (first, _sid) = server.open_ws().await;
    assert_eq!(server.handshake(&[]).await.status, 200);
    assert_reply(&server.handshake(&[]).await, 429, TOO_MANY);
    let (status, body) = ws_refusal(server.try_ws("EIO=4&transport=websocket", &[]).await);
    assert_eq!(
        (status, body.as_str()),
        (429, TOO_MANY),
        "refused before the upgrade"
    );
    // A session that ends gives its place back.
    drop(first);
    hardening_common::eventually("a place to come back", async || {
        server.handshake(&[]).await.status == 200
    })
    .await;
    assert_reply(&server.handshake(&[]).await, 429, TOO_MANY);
}
