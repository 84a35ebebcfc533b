//! Shared helpers for the end-to-end tests: one conformance fixture per test on 127.0.0.1,
//! long-polling requests with reqwest and WebSockets with tokio-tungstenite.
//!
//! Every wait is bounded by [`WAIT`]: a server that never answers fails the test instead of
//! hanging it.

#![allow(
    dead_code,
    reason = "each test binary compiles this module and uses its own subset of the helpers"
)]

use std::future::Future;
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

pub(crate) mod node;
pub(crate) mod raw;

/// The official suite's `pingInterval`.
pub(crate) const PING_INTERVAL: Duration = Duration::from_millis(300);
/// The official suite's `pingTimeout`.
pub(crate) const PING_TIMEOUT: Duration = Duration::from_millis(200);
/// The longest a test waits for any one thing the server should do.
pub(crate) const WAIT: Duration = Duration::from_secs(5);

/// The fixture options the official suite runs against: 300 ms / 200 ms / 1,000,000 bytes.
pub(crate) fn suite_options() -> Options {
    Options {
        ping_interval: PING_INTERVAL,
        ping_timeout: PING_TIMEOUT,
        max_payload: 1_000_000,
        ..Options::default()
    }
}

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

/// A running conformance fixture plus an HTTP client for it. Cheap to clone into tasks.
#[derive(Debug, Clone)]
pub(crate) struct Server {
    addr: SocketAddr,
    http: reqwest::Client,
    engine: tether_axum::Engine<example_conformance::Echo>,
    _task: Arc<AbortOnDrop>,
}

/// An HTTP response, read to the end.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) content_type: Option<String>,
    pub(crate) body: String,
}

/// The open packet of a session.
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
    /// The socket is closed: a close frame (with its status code, if any), the end of the
    /// stream or a transport error.
    Closed(Option<u16>),
}

impl Server {
    /// Binds 127.0.0.1 on a free port and serves the fixture there. The listener is bound before
    /// this returns, so connections made right away wait in the backlog.
    pub(crate) async fn start(opts: Options) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local_addr of the listener");
        let (app, engine, _socket_io) = example_conformance::app_with_engines(&opts);
        let task = tokio::spawn(tether_axum::serve(listener, app, std::future::pending()));
        let http = reqwest::Client::builder()
            .no_proxy()
            .tcp_nodelay(true)
            .build()
            .expect("build the reqwest client");
        Self {
            addr,
            http,
            engine,
            _task: Arc::new(AbortOnDrop(task)),
        }
    }

    /// The Engine.IO echo's engine, to watch the server's side of a session.
    pub(crate) fn engine(&self) -> &tether_axum::Engine<example_conformance::Echo> {
        &self.engine
    }

    /// The session `sid` as the server holds it, if it is open.
    pub(crate) fn session(&self, sid: &str) -> Option<tether_axum::EngineSocket> {
        tether_axum::Sid::parse(sid).and_then(|sid| self.engine.socket(sid))
    }

    /// A fixture with the official suite's options (a 300 ms / 200 ms heartbeat), for the
    /// tests of those values: a client must answer each ping within 200 ms, which a loaded
    /// machine can miss.
    pub(crate) async fn suite() -> Self {
        Self::start(suite_options()).await
    }

    /// The suite's options but for the heartbeat, the default 25 s / 20 s: no ping comes
    /// during a test whose subject is not the heartbeat.
    pub(crate) async fn steady() -> Self {
        Self::start(Options {
            max_payload: 1_000_000,
            ..Options::default()
        })
        .await
    }

    /// The suite's 300 ms ping interval with a pingTimeout (10 s) that a loaded machine cannot
    /// miss: for tests that answer pings.
    pub(crate) async fn pinging() -> Self {
        Self::start(Options {
            ping_timeout: Duration::from_secs(10),
            ..suite_options()
        })
        .await
    }

    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT/engine.io/?QUERY`
    pub(crate) fn http_url(&self, query: &str) -> String {
        format!("http://{}/engine.io/?{query}", self.addr)
    }

    /// `ws://127.0.0.1:PORT/engine.io/?QUERY`
    pub(crate) fn ws_url(&self, query: &str) -> String {
        format!("ws://{}/engine.io/?{query}", self.addr)
    }

    /// Sends a request and reads the whole response; a network error is returned, not a panic.
    pub(crate) async fn try_request(
        &self,
        method: Method,
        query: &str,
        body: Option<&str>,
    ) -> Result<Reply, reqwest::Error> {
        let mut request = self.http.request(method, self.http_url(query));
        if let Some(body) = body {
            request = request.body(body.to_owned());
        }
        let call = async {
            let response = request.send().await?;
            let status = response.status().as_u16();
            let content_type = response
                .headers()
                .get(reqwest::header::CONTENT_TYPE)
                .map(|v| v.to_str().expect("ASCII Content-Type").to_owned());
            let bytes = response.bytes().await?;
            let body = String::from_utf8(bytes.to_vec()).expect("a UTF-8 response body");
            Ok(Reply {
                status,
                content_type,
                body,
            })
        };
        timeout(WAIT, call)
            .await
            .expect("the server did not answer the HTTP request in time")
    }

    /// Sends a request and reads the whole response.
    pub(crate) async fn request(&self, method: Method, query: &str, body: Option<&str>) -> Reply {
        self.try_request(method, query, body)
            .await
            .expect("HTTP request failed")
    }

    /// A GET with any query string.
    pub(crate) async fn get(&self, query: &str) -> Reply {
        self.request(Method::GET, query, None).await
    }

    /// A long-polling GET on a session.
    pub(crate) async fn poll(&self, sid: &str) -> Reply {
        self.get(&format!("EIO=4&transport=polling&sid={sid}"))
            .await
    }

    /// A long-polling POST on a session.
    pub(crate) async fn post(&self, sid: &str, body: &str) -> Reply {
        self.request(
            Method::POST,
            &format!("EIO=4&transport=polling&sid={sid}"),
            Some(body),
        )
        .await
    }

    /// Opens a polling session and returns its open packet.
    pub(crate) async fn open_polling(&self) -> Handshake {
        let reply = self.get("EIO=4&transport=polling").await;
        assert_eq!(reply.status, 200, "handshake failed: {reply:?}");
        parse_open(&reply.body)
    }

    /// Connects a WebSocket; an HTTP refusal is returned as an error.
    pub(crate) async fn try_ws(
        &self,
        query: &str,
    ) -> Result<Ws, tokio_tungstenite::tungstenite::Error> {
        let connect = tokio_tungstenite::connect_async_with_config(self.ws_url(query), None, true);
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

    /// Opens the upgrade WebSocket for a polling session and does the probe: `2probe` then
    /// `3probe`. The caller sends `5`.
    pub(crate) async fn probe(&self, sid: &str) -> Ws {
        let mut ws = self
            .ws(&format!("EIO=4&transport=websocket&sid={sid}"))
            .await;
        send_text(&mut ws, "2probe").await;
        assert_eq!(recv(&mut ws).await, Frame::Text("3probe".into()));
        ws
    }

    /// Asserts that a WebSocket for `query` is refused, or accepted and then closed without an
    /// open packet (the official suite only waits for `close`).
    pub(crate) async fn assert_ws_rejected(&self, query: &str) {
        let Ok(mut ws) = self.try_ws(query).await else {
            return;
        };
        let (frames, _code) = recv_until_closed(&mut ws).await;
        assert!(
            frames
                .iter()
                .all(|f| !matches!(f, Frame::Text(t) if t.starts_with('0'))),
            "{query}: a session was opened: {frames:?}"
        );
    }
}

/// Asserts a WebSocket handshake was accepted (101: an HTTP refusal is an uncaught error in
/// the official suite) and that the server then closed the WebSocket without opening a session
/// on it.
pub(crate) async fn assert_accepted_then_closed(opened: node::Opened, what: &str) {
    let mut ws = match opened {
        node::Opened::Open(ws) => *ws,
        node::Opened::Refused(status) => panic!("{what}: refused with HTTP {status}, not closed"),
    };
    let (frames, _code) = recv_until_closed(&mut ws).await;
    assert!(
        frames.is_empty(),
        "{what}: frames before the close: {frames:?}"
    );
}

/// Parses an open packet: `0` followed by a JSON object with a string `sid`.
pub(crate) fn parse_open(packet: &str) -> Handshake {
    let json = packet
        .strip_prefix('0')
        .unwrap_or_else(|| panic!("not an open packet: {packet:?}"));
    let value: Value = serde_json::from_str(json).expect("the open packet holds JSON");
    let Value::Object(value) = value else {
        panic!("the open packet holds no JSON object: {json}");
    };
    let sid = value
        .get("sid")
        .and_then(Value::as_str)
        .expect("the open packet has a string sid")
        .to_owned();
    Handshake { sid, value }
}

/// Splits a polling payload into its packets.
pub(crate) fn packets(body: &str) -> Vec<&str> {
    body.split('\x1e').collect()
}

/// Asserts that `reply` is an Engine.IO error: 400, a JSON content type and exactly `body`.
pub(crate) fn assert_error(reply: &Reply, body: &str) {
    assert_eq!(reply.status, 400, "status of {reply:?}");
    assert_eq!(reply.body, body, "body of {reply:?}");
    let content_type = reply.content_type.as_deref().unwrap_or_default();
    assert!(
        content_type.starts_with("application/json"),
        "Content-Type of {reply:?}"
    );
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
            Some(Ok(Message::Close(frame))) => Frame::Closed(frame.map(|f| u16::from(f.code))),
            Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => continue,
            Some(Err(_)) | None => Frame::Closed(None),
        };
    }
}

/// Like [`recv`], but answers Engine.IO pings (`2`) with `3` and reads on, so a slow run
/// cannot put a heartbeat between a message and its echo.
pub(crate) async fn recv_answering_pings(ws: &mut Ws) -> Frame {
    loop {
        match recv(ws).await {
            Frame::Text(text) if text == "2" => send_text(ws, "3").await,
            other => return other,
        }
    }
}

/// Reads until the socket closes; returns what came before and the close code.
pub(crate) async fn recv_until_closed(ws: &mut Ws) -> (Vec<Frame>, Option<u16>) {
    let deadline = Instant::now() + WAIT;
    let mut frames = Vec::new();
    loop {
        assert!(
            Instant::now() < deadline,
            "the socket did not close in time; got {frames:?}"
        );
        match recv(ws).await {
            Frame::Closed(code) => return (frames, code),
            frame => frames.push(frame),
        }
    }
}

/// Retries `check` every 10 ms until it returns true; fails after [`WAIT`].
pub(crate) async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + WAIT;
    let mut tick = tokio::time::interval(Duration::from_millis(10));
    loop {
        tick.tick().await;
        if check().await {
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
    }
}
