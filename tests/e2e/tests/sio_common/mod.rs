//! Helpers for the Socket.IO end-to-end tests: the conformance fixture with the official v5
//! suite's options, its `/socket.io/` endpoint spoken raw over long-polling (reqwest, or one
//! hand-written HTTP/1.1 connection where the order of requests matters) and WebSocket
//! (tokio-tungstenite).
//!
//! Every wait is bounded by [`WAIT`]: a server that never answers fails the test instead of
//! hanging it.

#![allow(
    dead_code,
    reason = "the helpers cover more than each test needs, and a test binary compiles them all"
)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use example_conformance::Options;
use futures_util::{SinkExt, StreamExt};
use reqwest::Method;
use serde_json::{Map, Value};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio::time::{Instant, timeout};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// The official suite's `pingInterval`.
pub(crate) const PING_INTERVAL: Duration = Duration::from_millis(300);
/// The official suite's `pingTimeout`.
pub(crate) const PING_TIMEOUT: Duration = Duration::from_millis(200);
/// The official suite's Socket.IO `connectTimeout`.
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_millis(1000);
/// The longest a test waits for any one thing the server should do.
pub(crate) const WAIT: Duration = Duration::from_secs(5);

/// The binary placeholder for attachment 0, as the suite writes it.
pub(crate) const PH0: &str = r#"{"_placeholder":true,"num":0}"#;
/// The binary placeholder for attachment 1, as the suite writes it.
pub(crate) const PH1: &str = r#"{"_placeholder":true,"num":1}"#;

/// A client-side WebSocket.
pub(crate) type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Aborts the server task when the last handle to the server goes away.
#[derive(Debug)]
struct AbortOnDrop(JoinHandle<std::io::Result<()>>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A running conformance fixture plus an HTTP client for its `/socket.io/` endpoint.
#[derive(Debug, Clone)]
pub(crate) struct Server {
    addr: SocketAddr,
    http: reqwest::Client,
    _task: Arc<AbortOnDrop>,
}

/// An HTTP response, read to the end.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) content_type: Option<String>,
    pub(crate) body: String,
}

/// The open packet of an Engine.IO session.
#[derive(Debug)]
pub(crate) struct Handshake {
    pub(crate) sid: String,
    pub(crate) value: Map<String, Value>,
}

/// One thing read from a WebSocket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Frame {
    Text(String),
    Binary(Vec<u8>),
    /// The socket is closed: a close frame, the end of the stream or a transport error.
    Closed,
}

impl Frame {
    /// A text frame.
    pub(crate) fn text(text: &str) -> Frame {
        Frame::Text(text.to_owned())
    }
}

impl Server {
    /// Serves the fixture on a free port of 127.0.0.1 with the official suite's options:
    /// 300 ms / 200 ms heartbeat, 1,000,000 bytes, 1 s connect timeout. For the tests of those
    /// values: a client must answer each ping within 200 ms, which a loaded machine can miss.
    pub(crate) async fn suite() -> Self {
        Self::start(PING_INTERVAL, PING_TIMEOUT).await
    }

    /// The suite's options but for the heartbeat, Socket.IO's default (25 s / 20 s): no ping
    /// comes during a test whose subject is not the heartbeat.
    pub(crate) async fn steady() -> Self {
        Self::start(Duration::from_secs(25), Duration::from_secs(20)).await
    }

    /// The suite's 300 ms ping interval with a pingTimeout (10 s) that a loaded machine cannot
    /// miss: for tests that answer pings.
    pub(crate) async fn pinging() -> Self {
        Self::start(PING_INTERVAL, Duration::from_secs(10)).await
    }

    /// The fixture with this heartbeat and the suite's other options. The listener is bound
    /// before this returns, so connections made right away wait in the backlog.
    async fn start(ping_interval: Duration, ping_timeout: Duration) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local_addr of the listener");
        let options = Options {
            ping_interval,
            ping_timeout,
            max_payload: 1_000_000,
            connect_timeout: CONNECT_TIMEOUT,
        };
        let task = tokio::spawn(example_conformance::serve(listener, options));
        let http = reqwest::Client::builder()
            .no_proxy()
            .tcp_nodelay(true)
            .build()
            .expect("build the reqwest client");
        Self {
            addr,
            http,
            _task: Arc::new(AbortOnDrop(task)),
        }
    }

    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Sends a request to `/socket.io/?QUERY` and reads the whole response.
    pub(crate) async fn request(&self, method: Method, query: &str, body: Option<&str>) -> Reply {
        self.try_request(method.clone(), query, body)
            .await
            .unwrap_or_else(|err| panic!("{method} ?{query} failed: {err}"))
    }

    /// Like [`Server::request`], but a network error (the server cut the connection) is
    /// returned, not a panic.
    pub(crate) async fn try_request(
        &self,
        method: Method,
        query: &str,
        body: Option<&str>,
    ) -> Result<Reply, reqwest::Error> {
        let url = format!("http://{}/socket.io/?{query}", self.addr);
        let mut request = self.http.request(method.clone(), url);
        if let Some(body) = body {
            request = request.body(body.to_owned());
        }
        let call = async {
            let response = request.send().await?;
            let status = response.status().as_u16();
            let content_type = response
                .headers()
                .get(reqwest::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let bytes = response.bytes().await?;
            Ok::<_, reqwest::Error>(Reply {
                status,
                content_type,
                body: String::from_utf8(bytes.to_vec()).expect("a UTF-8 response body"),
            })
        };
        timeout(WAIT, call)
            .await
            .unwrap_or_else(|_| panic!("no answer in time to {method} ?{query}"))
    }

    /// A GET with any query string.
    pub(crate) async fn get(&self, query: &str) -> Reply {
        self.request(Method::GET, query, None).await
    }

    /// A long-polling GET on a session.
    pub(crate) async fn poll(&self, sid: &str) -> Reply {
        self.get(&polling_query(sid)).await
    }

    /// A long-polling POST on a session.
    pub(crate) async fn post(&self, sid: &str, body: &str) -> Reply {
        self.request(Method::POST, &polling_query(sid), Some(body))
            .await
    }

    /// A POST that must be accepted with `ok`.
    pub(crate) async fn push(&self, sid: &str, body: &str) {
        let reply = self.post(sid, body).await;
        assert_eq!(
            (reply.status, reply.body.as_str()),
            (200, "ok"),
            "POST {body:?}: {reply:?}"
        );
    }

    /// Opens a polling session and returns its open packet.
    pub(crate) async fn open_polling(&self) -> Handshake {
        let reply = self.get("EIO=4&transport=polling").await;
        assert_eq!(reply.status, 200, "handshake failed: {reply:?}");
        parse_open(&reply.body)
    }

    /// GETs until `count` packets came (pings answered with a POSTed `3` and left out).
    pub(crate) async fn poll_packets(&self, sid: &str, count: usize) -> Vec<String> {
        let deadline = Instant::now() + WAIT;
        let mut got = Vec::new();
        while got.len() < count {
            assert!(Instant::now() < deadline, "only {got:?} in time");
            let reply = self.poll(sid).await;
            assert_eq!(reply.status, 200, "after {got:?}: {reply:?}");
            for packet in packets(&reply.body) {
                if packet == "2" {
                    self.push(sid, "3").await;
                } else {
                    got.push(packet.to_owned());
                }
            }
        }
        assert_eq!(got.len(), count, "more packets than expected: {got:?}");
        got
    }

    /// Connects a WebSocket to `/socket.io/?QUERY`; an HTTP refusal is an error.
    pub(crate) async fn try_ws(
        &self,
        query: &str,
    ) -> Result<Ws, tokio_tungstenite::tungstenite::Error> {
        let url = format!("ws://{}/socket.io/?{query}", self.addr);
        let connect = tokio_tungstenite::connect_async_with_config(url, None, true);
        let (ws, _response) = timeout(WAIT, connect)
            .await
            .expect("the WebSocket handshake did not finish in time")?;
        Ok(ws)
    }

    /// Connects a WebSocket that must be accepted.
    pub(crate) async fn ws(&self, query: &str) -> Ws {
        self.try_ws(query).await.expect("the WebSocket was refused")
    }

    /// Opens a WebSocket-only session and returns it with its open packet.
    pub(crate) async fn open_ws(&self) -> (Ws, Handshake) {
        let mut ws = self.ws("EIO=4&transport=websocket").await;
        match recv(&mut ws).await {
            Frame::Text(text) => {
                let open = parse_open(&text);
                (ws, open)
            }
            other => panic!("expected the open packet, got {other:?}"),
        }
    }

    /// The suite's `initSocketIOConnection`: a WebSocket session joined to `/`, with the
    /// CONNECT reply and the `auth` event read.
    pub(crate) async fn connect_main(&self) -> Ws {
        let (mut ws, _open) = self.open_ws().await;
        send_text(&mut ws, "40").await;
        let reply = recv_text(&mut ws).await;
        assert_connect_reply(&reply, "40");
        assert_eq!(recv_text(&mut ws).await, r#"42["auth",{}]"#);
        ws
    }

    /// Asserts that a WebSocket for `query` is refused, or accepted and then closed without an
    /// open packet (the official suite only waits for `close`).
    pub(crate) async fn assert_ws_rejected(&self, query: &str) {
        let Ok(mut ws) = self.try_ws(query).await else {
            return;
        };
        let frames = recv_until_closed(&mut ws).await;
        assert!(
            frames
                .iter()
                .all(|f| !matches!(f, Frame::Text(t) if t.starts_with('0'))),
            "{query}: a session was opened: {frames:?}"
        );
    }
}

/// `EIO=4&transport=polling&sid=SID`
pub(crate) fn polling_query(sid: &str) -> String {
    format!("EIO=4&transport=polling&sid={sid}")
}

/// Parses an open packet: `0` followed by a JSON object with a string `sid`.
pub(crate) fn parse_open(packet: &str) -> Handshake {
    let json = packet
        .strip_prefix('0')
        .unwrap_or_else(|| panic!("not an open packet: {packet:?}"));
    let Ok(Value::Object(value)) = serde_json::from_str(json) else {
        panic!("the open packet holds no JSON object: {packet:?}");
    };
    let sid = value
        .get("sid")
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("the open packet has no string sid: {packet:?}"))
        .to_owned();
    Handshake { sid, value }
}

/// Asserts a CONNECT reply: `prefix` (`40` or `40/custom,`), then a JSON object whose only key
/// is a string `sid` (the suite's `have.all.keys("sid")`). Returns the socket id.
#[track_caller]
pub(crate) fn assert_connect_reply(packet: &str, prefix: &str) -> String {
    let json = packet
        .strip_prefix(prefix)
        .unwrap_or_else(|| panic!("{packet:?} does not start with {prefix:?}"));
    let Ok(Value::Object(value)) = serde_json::from_str(json) else {
        panic!("{packet:?} holds no JSON object after {prefix:?}");
    };
    let keys: Vec<&String> = value.keys().collect();
    assert_eq!(keys, ["sid"], "keys of the CONNECT reply {packet:?}");
    match &value["sid"] {
        Value::String(sid) if !sid.is_empty() => sid.clone(),
        other => panic!("the sid of {packet:?} is {other}, not a non-empty string"),
    }
}

/// Splits a polling payload into its packets.
pub(crate) fn packets(body: &str) -> Vec<&str> {
    body.split('\x1e').collect()
}

/// Sends a text frame.
pub(crate) async fn send_text(ws: &mut Ws, text: &str) {
    timeout(WAIT, ws.send(Message::text(text)))
        .await
        .expect("sending a frame timed out")
        .expect("sending a frame failed");
}

/// Sends a binary frame.
pub(crate) async fn send_binary(ws: &mut Ws, data: &[u8]) {
    timeout(WAIT, ws.send(Message::binary(data.to_vec())))
        .await
        .expect("sending a frame timed out")
        .expect("sending a frame failed");
}

/// Reads the next text, binary or close event (WebSocket-level pings are skipped).
pub(crate) async fn recv(ws: &mut Ws) -> Frame {
    loop {
        let next = timeout(WAIT, ws.next())
            .await
            .expect("no WebSocket frame in time");
        return match next {
            Some(Ok(Message::Text(text))) => Frame::Text(text.as_str().to_owned()),
            Some(Ok(Message::Binary(data))) => Frame::Binary(data.to_vec()),
            Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => continue,
            Some(Ok(Message::Close(_)) | Err(_)) | None => Frame::Closed,
        };
    }
}

/// Reads the next frame, which must be text (the suite's `waitFor(socket, "message")`).
pub(crate) async fn recv_text(ws: &mut Ws) -> String {
    match recv(ws).await {
        Frame::Text(text) => text,
        other => panic!("expected a text frame, got {other:?}"),
    }
}

/// Reads `count` frames, answering and leaving out Engine.IO pings (the suite's
/// `waitForPackets`, which ignores `2`; answering keeps a slow run within `pingTimeout`).
pub(crate) async fn recv_packets(ws: &mut Ws, count: usize) -> Vec<Frame> {
    let mut frames = Vec::with_capacity(count);
    while frames.len() < count {
        match recv(ws).await {
            Frame::Text(text) if text == "2" => send_text(ws, "3").await,
            Frame::Closed => panic!("closed after {frames:?}"),
            frame => frames.push(frame),
        }
    }
    frames
}

/// Reads the next frame that is not an Engine.IO ping (pings are answered).
pub(crate) async fn recv_packet(ws: &mut Ws) -> Frame {
    let mut frames = recv_packets(ws, 1).await;
    frames.remove(0)
}

/// Reads until the socket closes; returns what came before.
pub(crate) async fn recv_until_closed(ws: &mut Ws) -> Vec<Frame> {
    let deadline = Instant::now() + WAIT;
    let mut frames = Vec::new();
    loop {
        assert!(
            Instant::now() < deadline,
            "the socket did not close in time; got {frames:?}"
        );
        match recv(ws).await {
            Frame::Closed => return frames,
            frame => frames.push(frame),
        }
    }
}

/// Asserts that the server closes the socket at once: nothing but the close arrives (on a
/// [`Server::steady`] fixture a close by the heartbeat would come 45 s later, after a ping).
pub(crate) async fn assert_closed_at_once(ws: &mut Ws) {
    let frames = recv_until_closed(ws).await;
    assert_eq!(frames, [], "frames before the close");
}

/// One HTTP/1.1 keep-alive connection written by hand, for when the order in which requests
/// reach the server matters (reqwest picks connections itself). Shared with the Engine.IO
/// tests; open it with `RawHttp::connect_to(addr, "/socket.io/")`.
#[path = "../common/raw.rs"]
mod raw;

/// The official suites' requests byte for byte (node-fetch and `ws`), shared with the
/// Engine.IO tests.
#[path = "../common/node.rs"]
pub(crate) mod node;

/// Asserts a WebSocket handshake was accepted (101: an HTTP refusal is an uncaught error in
/// the official suite) and that the server then closed it without opening a session on it.
pub(crate) async fn assert_accepted_then_closed(opened: node::Opened, what: &str) {
    let mut ws = match opened {
        node::Opened::Open(ws) => *ws,
        node::Opened::Refused(status) => panic!("{what}: refused with HTTP {status}, not closed"),
    };
    let frames = recv_until_closed(&mut ws).await;
    assert!(
        frames.is_empty(),
        "{what}: frames before the close: {frames:?}"
    );
}
#[allow(
    unused_imports,
    reason = "not every test binary that includes these helpers uses it"
)]
pub(crate) use raw::RawHttp;
