//! Shared helpers for the hardening tests (`gates`, `hostile`, `slow_consumer`): a server built
//! in-process from an `EngineLayer` and served by `tether_axum::serve` on 127.0.0.1 (so the
//! layer sees peer addresses), polling requests with reqwest, WebSockets with tokio-tungstenite,
//! and the server-side disconnect reasons through a channel.
//!
//! Every wait is bounded by [`WAIT`]: a server that never answers fails the test instead of
//! hanging it. Nothing sleeps to synchronise; tests wait for an event or poll a condition.

#![allow(
    dead_code,
    reason = "each test binary compiles this module and uses its own subset of the helpers"
)]

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use futures_util::{SinkExt, StreamExt};
use reqwest::Method;
use serde_json::Value;
use tether_axum::socket::{AckSender, Payload, RawArgs, Socket, SocketIo};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::{Instant, timeout};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::frame::Frame as RawFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// The longest a test waits for any one thing the server should do.
pub(crate) const WAIT: Duration = Duration::from_secs(5);

/// `{"code":1,"message":"Session ID unknown"}`: what a closed session's sid gets.
pub(crate) const UNKNOWN_SID: &str = r#"{"code":1,"message":"Session ID unknown"}"#;

/// A client-side WebSocket.
pub(crate) type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A server under test: `tether_axum::serve` in a task, aborted when this is dropped.
#[derive(Debug)]
pub(crate) struct Server {
    addr: SocketAddr,
    http: reqwest::Client,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// An HTTP response, read to the end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) content_type: Option<String>,
    pub(crate) body: String,
}

/// How a WebSocket ended, as the client saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Close {
    /// A close frame, with its status code if it had one.
    Frame(Option<u16>),
    /// The TCP connection ended (or failed) without a close frame.
    Eof,
}

/// One thing read from a WebSocket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Frame {
    Text(String),
    Binary(Vec<u8>),
    Closed(Close),
}

impl Server {
    /// Serves `app` on a free port of 127.0.0.1 until the test ends.
    pub(crate) async fn start(app: Router) -> Server {
        Server::start_with_shutdown(app, std::future::pending()).await
    }

    /// Serves `app` until `shutdown` resolves (then `serve` waits for connections to finish).
    pub(crate) async fn start_with_shutdown(
        app: Router,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Server {
        Server::start_with(app, shutdown, tether_axum::ServeConfig::default()).await
    }

    /// Serves `app` with these HTTP limits until the test ends.
    pub(crate) async fn start_with_config(app: Router, config: tether_axum::ServeConfig) -> Server {
        Server::start_with(app, std::future::pending(), config).await
    }

    async fn start_with(
        app: Router,
        shutdown: impl Future<Output = ()> + Send + 'static,
        config: tether_axum::ServeConfig,
    ) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local_addr of the listener");
        let task = tokio::spawn(tether_axum::serve_with(listener, app, shutdown, config));
        let http = reqwest::Client::builder()
            .no_proxy()
            .tcp_nodelay(true)
            .build()
            .expect("build the reqwest client");
        Server {
            addr,
            http,
            task: Some(task),
        }
    }

    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Whether `serve` is still running (it has neither returned nor panicked).
    pub(crate) fn is_running(&self) -> bool {
        self.task.as_ref().is_some_and(|t| !t.is_finished())
    }

    /// Waits for `serve` to return after its shutdown future resolved.
    pub(crate) async fn stopped(mut self) -> std::io::Result<()> {
        let task = self.task.take().expect("the server task");
        timeout(WAIT, task)
            .await
            .expect("serve did not return in time")
            .expect("the serve task panicked")
    }

    /// Sends a request to `/socket.io/?QUERY` with extra headers and reads the whole answer.
    pub(crate) async fn request(
        &self,
        method: Method,
        query: &str,
        headers: &[(&str, &str)],
        body: Option<Vec<u8>>,
    ) -> Reply {
        self.try_request(method, query, headers, body)
            .await
            .unwrap_or_else(|err| panic!("?{query} failed: {err}"))
    }

    /// Like [`Server::request`], but a failure of the HTTP exchange itself (the connection
    /// reset, say) is returned instead of failing the test.
    pub(crate) async fn try_request(
        &self,
        method: Method,
        query: &str,
        headers: &[(&str, &str)],
        body: Option<Vec<u8>>,
    ) -> Result<Reply, reqwest::Error> {
        let url = format!("http://{}/socket.io/?{query}", self.addr);
        let mut request = self.http.request(method, url);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request.body(body);
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
            let body = String::from_utf8_lossy(&bytes).into_owned();
            Ok::<_, reqwest::Error>(Reply {
                status,
                content_type,
                body,
            })
        };
        timeout(WAIT, call)
            .await
            .unwrap_or_else(|_| panic!("no answer in time to ?{query}"))
    }

    /// A polling handshake, with extra headers.
    pub(crate) async fn handshake(&self, headers: &[(&str, &str)]) -> Reply {
        self.request(Method::GET, "EIO=4&transport=polling", headers, None)
            .await
    }

    /// A long-polling GET on a session.
    pub(crate) async fn poll(&self, sid: &str) -> Reply {
        self.request(Method::GET, &polling_query(sid), &[], None)
            .await
    }

    /// A long-polling POST on a session.
    pub(crate) async fn post(&self, sid: &str, body: impl Into<Vec<u8>>) -> Reply {
        self.request(Method::POST, &polling_query(sid), &[], Some(body.into()))
            .await
    }

    /// A POST that must be answered `ok`.
    pub(crate) async fn push(&self, sid: &str, body: &str) {
        let reply = self.post(sid, body).await;
        assert_eq!(
            (reply.status, reply.body.as_str()),
            (200, "ok"),
            "POST {body:?}"
        );
    }

    /// Opens a polling session; returns its sid.
    pub(crate) async fn open_polling(&self) -> String {
        let reply = self.handshake(&[]).await;
        assert_eq!(reply.status, 200, "handshake refused: {reply:?}");
        open_sid(&reply.body)
    }

    /// GETs until `count` packets came (pings answered with a POSTed `3` and left out).
    pub(crate) async fn poll_packets(&self, sid: &str, count: usize) -> Vec<String> {
        let deadline = Instant::now() + WAIT;
        let mut got = Vec::new();
        while got.len() < count {
            assert!(Instant::now() < deadline, "only {got:?} in time");
            let reply = self.poll(sid).await;
            assert_eq!(reply.status, 200, "after {got:?}: {reply:?}");
            for packet in reply.body.split('\x1e') {
                if packet == "2" {
                    self.push(sid, "3").await;
                } else {
                    got.push(packet.to_owned());
                }
            }
        }
        got
    }

    /// A polling session joined to `/`: its engine sid and its socket id.
    pub(crate) async fn join_polling(&self) -> (String, String) {
        let sid = self.open_polling().await;
        self.push(&sid, "40").await;
        let reply = self.poll_packets(&sid, 1).await;
        let id = connect_reply_sid(&reply[0]);
        (sid, id)
    }

    /// `ws://127.0.0.1:PORT/socket.io/?QUERY`
    pub(crate) fn ws_url(&self, query: &str) -> String {
        format!("ws://{}/socket.io/?{query}", self.addr)
    }

    /// Connects a WebSocket with extra headers; an HTTP refusal is an error.
    pub(crate) async fn try_ws(
        &self,
        query: &str,
        headers: &[(&str, &str)],
    ) -> Result<Ws, WsError> {
        let mut request = self
            .ws_url(query)
            .into_client_request()
            .expect("a WebSocket request");
        for (name, value) in headers {
            let name: tokio_tungstenite::tungstenite::http::HeaderName =
                name.parse().expect("a header name");
            let value = HeaderValue::from_str(value).expect("a header value");
            request.headers_mut().insert(name, value);
        }
        let connect = tokio_tungstenite::connect_async_with_config(request, None, true);
        let (ws, _) = timeout(WAIT, connect)
            .await
            .expect("the WebSocket handshake did not finish in time")?;
        Ok(ws)
    }

    /// A WebSocket session (no namespace joined) and its engine sid.
    pub(crate) async fn open_ws(&self) -> (Ws, String) {
        let mut ws = self
            .try_ws("EIO=4&transport=websocket", &[])
            .await
            .expect("the WebSocket was refused");
        let open = recv_text(&mut ws).await;
        (ws, open_sid(&open))
    }

    /// A WebSocket session joined to `/`: the socket and its Socket.IO socket id.
    pub(crate) async fn join_ws(&self) -> (Ws, String) {
        let (mut ws, _sid) = self.open_ws().await;
        let id = join(&mut ws).await;
        (ws, id)
    }
}

/// `EIO=4&transport=polling&sid=SID`
pub(crate) fn polling_query(sid: &str) -> String {
    format!("EIO=4&transport=polling&sid={sid}")
}

/// The sid of an open packet `0{"sid":...}`.
pub(crate) fn open_sid(packet: &str) -> String {
    json_sid(packet, "0")
}

/// The socket id of a CONNECT reply `40{"sid":...}`.
pub(crate) fn connect_reply_sid(packet: &str) -> String {
    json_sid(packet, "40")
}

fn json_sid(packet: &str, prefix: &str) -> String {
    let value: Option<Value> = packet
        .strip_prefix(prefix)
        .and_then(|json| serde_json::from_str(json).ok());
    value
        .as_ref()
        .and_then(|v| v["sid"].as_str())
        .unwrap_or_else(|| panic!("no {prefix}{{\"sid\":...}} in {packet:?}"))
        .to_owned()
}

/// Asserts a polling session has ended: its next GET gets the close packet (after anything
/// still queued: a server close is delivered with the next poll, as the reference does) or
/// 400 code 1 at once (a close at the Engine.IO level), and the GET after that 400 code 1.
pub(crate) async fn assert_polling_closed(server: &Server, sid: &str) {
    let first = server.poll(sid).await;
    if first.status == 200 {
        assert!(
            first.body == "1" || first.body.ends_with("\x1e1"),
            "the GET after the close: {first:?}"
        );
        assert_reply(&server.poll(sid).await, 400, UNKNOWN_SID);
    } else {
        assert_reply(&first, 400, UNKNOWN_SID);
    }
}

/// Asserts an HTTP answer: status, exact body and, for errors, a JSON content type.
#[track_caller]
pub(crate) fn assert_reply(reply: &Reply, status: u16, body: &str) {
    assert_eq!(
        (reply.status, reply.body.as_str()),
        (status, body),
        "{reply:?}"
    );
    if status >= 400 {
        let content_type = reply.content_type.as_deref().unwrap_or_default();
        assert!(content_type.starts_with("application/json"), "{reply:?}");
    }
}

/// The status and body of a WebSocket handshake the server refused over HTTP.
#[track_caller]
pub(crate) fn ws_refusal(result: Result<Ws, WsError>) -> (u16, String) {
    match result {
        Err(WsError::Http(response)) => {
            let body = response.body().clone().unwrap_or_default();
            (
                response.status().as_u16(),
                String::from_utf8_lossy(&body).into_owned(),
            )
        }
        Err(err) => panic!("the WebSocket failed otherwise than by an HTTP refusal: {err}"),
        Ok(_) => panic!("the WebSocket was accepted (101)"),
    }
}

/// Joins `/` on an open WebSocket session; returns the socket id.
pub(crate) async fn join(ws: &mut Ws) -> String {
    send_text(ws, "40").await;
    match recv_packet(ws).await {
        Frame::Text(reply) => connect_reply_sid(&reply),
        other => panic!("expected the CONNECT reply, got {other:?}"),
    }
}

pub(crate) async fn send(ws: &mut Ws, message: Message) {
    timeout(WAIT, ws.send(message))
        .await
        .expect("sending a frame timed out")
        .expect("sending a frame failed");
}

/// Sends a frame that the server may refuse while it is still being written (it closes the
/// connection as soon as it sees it is too large, and the rest of the write meets a reset):
/// false when the write was cut short that way.
pub(crate) async fn send_refusable(ws: &mut Ws, message: Message) -> bool {
    use tokio_tungstenite::tungstenite::Error;
    match timeout(WAIT, ws.send(message))
        .await
        .expect("sending a frame timed out")
    {
        Ok(()) => true,
        Err(Error::Io(err))
            if matches!(
                err.kind(),
                std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::BrokenPipe
            ) =>
        {
            false
        }
        Err(err) => panic!("sending a frame failed: {err}"),
    }
}

pub(crate) async fn send_text(ws: &mut Ws, text: &str) {
    send(ws, Message::text(text)).await;
}

pub(crate) async fn send_binary(ws: &mut Ws, data: &[u8]) {
    send(ws, Message::binary(data.to_vec())).await;
}

/// A text frame whose payload is written as given, UTF-8 or not.
pub(crate) async fn send_raw_text(ws: &mut Ws, bytes: &[u8]) {
    let frame = RawFrame::message(bytes.to_vec(), OpCode::Data(Data::Text), true);
    send(ws, Message::Frame(frame)).await;
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
            Some(Ok(Message::Close(frame))) => {
                Frame::Closed(Close::Frame(frame.map(|f| u16::from(f.code))))
            }
            Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => continue,
            Some(Err(_)) | None => Frame::Closed(Close::Eof),
        };
    }
}

/// Reads the next frame that is not an Engine.IO ping; pings are answered.
pub(crate) async fn recv_packet(ws: &mut Ws) -> Frame {
    loop {
        match recv(ws).await {
            Frame::Text(text) if text == "2" => send_text(ws, "3").await,
            other => return other,
        }
    }
}

pub(crate) async fn recv_text(ws: &mut Ws) -> String {
    match recv_packet(ws).await {
        Frame::Text(text) => text,
        other => panic!("expected a text frame, got {other:?}"),
    }
}

/// Reads until the socket closes; returns what came before and how it closed.
pub(crate) async fn recv_until_closed(ws: &mut Ws) -> (Vec<Frame>, Close) {
    let deadline = Instant::now() + WAIT;
    let mut frames = Vec::new();
    loop {
        assert!(
            Instant::now() < deadline,
            "not closed in time; got {frames:?}"
        );
        match recv(ws).await {
            Frame::Closed(close) => return (frames, close),
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

/// Where Socket.IO disconnect reasons are sent: (socket id, reason).
pub(crate) type ReasonTx = mpsc::UnboundedSender<(String, String)>;

/// The disconnect reasons the server's handlers recorded, by socket id.
#[derive(Debug)]
pub(crate) struct Reasons {
    rx: mpsc::UnboundedReceiver<(String, String)>,
    seen: HashMap<String, String>,
}

pub(crate) fn reasons() -> (ReasonTx, Reasons) {
    let (tx, rx) = mpsc::unbounded_channel();
    let seen = HashMap::new();
    (tx, Reasons { rx, seen })
}

impl Reasons {
    /// The reason socket `id` left with, waiting for it up to [`WAIT`].
    pub(crate) async fn of(&mut self, id: &str) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(reason) = self.seen.get(id) {
                return reason.clone();
            }
            let next = tokio::time::timeout_at(deadline, self.rx.recv()).await;
            let Ok(Some((sid, reason))) = next else {
                panic!("no disconnect reason for socket {id} in time");
            };
            self.seen.insert(sid, reason);
        }
    }

    /// The reason socket `id` left with, if it has been recorded already.
    pub(crate) fn now(&mut self, id: &str) -> Option<String> {
        while let Ok((sid, reason)) = self.rx.try_recv() {
            self.seen.insert(sid, reason);
        }
        self.seen.get(id).cloned()
    }
}

/// Records `socket`'s disconnect reason on `tx`.
pub(crate) fn record_disconnect(socket: &Socket, tx: &ReasonTx) {
    let tx = tx.clone();
    socket.on_disconnect(move |socket: Socket, reason| async move {
        let _ = tx.send((socket.id().to_string(), reason.to_string()));
    });
}

/// A Socket.IO server whose `/` records disconnect reasons and echoes the `echo` event: as an
/// acknowledgement when one is asked for, else as an `echo` event with the same arguments.
pub(crate) fn echo_io(tx: ReasonTx) -> SocketIo {
    let io = SocketIo::builder().build();
    io.ns("/", move |socket: Socket| {
        let tx = tx.clone();
        async move {
            record_disconnect(&socket, &tx);
            socket.on("echo", echo);
        }
    });
    io
}

async fn echo(
    socket: Socket,
    RawArgs(args): RawArgs,
    ack: AckSender,
) -> Result<(), tether_axum::socket::EmitError> {
    let payload = Payload::from_raw(args, Vec::new());
    if ack.is_requested() {
        ack.send_payload(payload)
    } else {
        socket.emit_payload("echo", &payload)
    }
}

/// A healthy client beside the hostile ones: joined to `/` over WebSocket, it must keep
/// getting its echoes.
#[derive(Debug)]
pub(crate) struct Neighbor {
    ws: Ws,
    count: usize,
}

impl Neighbor {
    pub(crate) async fn join(server: &Server) -> Neighbor {
        let (ws, _id) = server.join_ws().await;
        Neighbor { ws, count: 0 }
    }

    /// Sends an `echo` event and expects it back (pings are answered).
    pub(crate) async fn assert_echoes(&mut self, after: &str) {
        self.count += 1;
        let event = format!(r#"42["echo","healthy {}"]"#, self.count);
        send_text(&mut self.ws, &event).await;
        assert_eq!(
            recv_packet(&mut self.ws).await,
            Frame::Text(event),
            "the healthy neighbor's echo after {after}"
        );
    }
}
