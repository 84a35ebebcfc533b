//! A fake Engine.IO client for socket-layer tests: a real [`Engine`] driven through its polling
//! API, with no HTTP and no sockets.
//!
//! [`Client::open`] runs the polling handshake and keeps one long-poll held by a background task,
//! the way a browser does: whatever the server queues arrives on a channel, split into Engine.IO
//! packets (`40{...}`, `42[...]`, `bAQID`, `1`). Pings are answered with a pong and never shown.
//! [`Client::stalled`] holds no poll, so its outbox fills up: a client that stopped reading.
//!
//! Every wait is bounded by [`WAIT`] and the tests run on tokio's paused clock, so a missing
//! answer fails quickly and "nothing arrives" checks ([`QUIET`]) cost no real time.

#![allow(
    dead_code,
    reason = "each test binary that includes these helpers uses its own subset"
)]

use bytes::Bytes;
use http::HeaderMap;
use std::collections::VecDeque;
use std::fmt::Debug;
use std::time::Duration;
use tether_core::engine::{Engine, EngineConfig, EngineHandler, Handshake, RequestError, Sid};
use tether_core::socket::{DisconnectReason, Socket, SocketIo, SocketIoConfig};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::timeout;

/// Longest wait for something expected.
pub(crate) const WAIT: Duration = Duration::from_secs(5);
/// How long "nothing arrives" is watched.
pub(crate) const QUIET: Duration = Duration::from_millis(200);

/// The placeholders of attachments 0 and 1, byte for byte as the suite compares them.
pub(crate) const PH0: &str = r#"{"_placeholder":true,"num":0}"#;
pub(crate) const PH1: &str = r#"{"_placeholder":true,"num":1}"#;

/// An engine with default settings serving `io`.
pub(crate) fn engine(io: &SocketIo) -> Engine<SocketIo> {
    Engine::new(EngineConfig::default(), io.clone())
}

/// A server with these settings.
pub(crate) fn io_with(config: SocketIoConfig) -> SocketIo {
    SocketIo::builder().config(config).build()
}

/// `n` clients joined to `/`, with their server-side sockets.
pub(crate) async fn joined(
    engine: &Engine<SocketIo>,
    sockets: &mut Rx<Socket>,
    n: usize,
) -> Vec<(Client, Socket)> {
    let mut out = Vec::new();
    for _ in 0..n {
        let mut client = Client::open(engine);
        let id = client.connect("/").await;
        let socket = sockets.next().await;
        assert_eq!(socket.id().as_str(), id);
        out.push((client, socket));
    }
    out
}

/// One client joined to `/` and its socket.
pub(crate) async fn one(io: &SocketIo) -> (Client, Socket) {
    let mut sockets = sockets_of(io, "/");
    let mut clients = joined(&engine(io), &mut sockets, 1).await;
    clients.pop().expect("one client")
}

/// The receiving half of a channel a handler reports to, with bounded waits.
#[derive(Debug)]
pub(crate) struct Rx<T>(mpsc::UnboundedReceiver<T>);

/// A channel for handlers to report what they saw.
pub(crate) fn channel<T>() -> (mpsc::UnboundedSender<T>, Rx<T>) {
    let (tx, rx) = mpsc::unbounded_channel();
    (tx, Rx(rx))
}

impl<T: Debug> Rx<T> {
    /// The next report; panics after [`WAIT`].
    pub(crate) async fn next(&mut self) -> T {
        timeout(WAIT, self.0.recv())
            .await
            .expect("timed out waiting for a handler")
            .expect("every sender dropped")
    }

    /// Asserts no report comes within [`QUIET`].
    pub(crate) async fn none(&mut self) {
        if let Ok(Some(v)) = timeout(QUIET, self.0.recv()).await {
            panic!("unexpected report: {v:?}");
        }
    }
}

/// Registers namespace `path` whose connect handler hands every new socket to the test.
pub(crate) fn sockets_of(io: &SocketIo, path: &str) -> Rx<Socket> {
    let (tx, rx) = channel();
    io.ns(path.to_owned(), move |socket: Socket| {
        let _ = tx.send(socket);
        async {}
    });
    rx
}

/// Reports the reason `socket` leaves its namespace.
pub(crate) fn reasons(socket: &Socket) -> Rx<DisconnectReason> {
    let (tx, rx) = channel();
    socket.on_disconnect(move |_socket, reason| {
        let _ = tx.send(reason);
        async {}
    });
    rx
}

/// What the background poll saw: a body split into packets, or the error that ended it.
type Polled = Result<Vec<String>, RequestError>;

/// One fake client connection.
#[derive(Debug)]
pub(crate) struct Client {
    pub(crate) engine: Engine<SocketIo>,
    /// The Engine.IO session id.
    pub(crate) sid: Sid,
    bodies: Option<mpsc::UnboundedReceiver<Polled>>,
    queue: VecDeque<String>,
    poller: Option<JoinHandle<()>>,
}

impl Drop for Client {
    fn drop(&mut self) {
        if let Some(task) = self.poller.take() {
            task.abort();
        }
    }
}

/// Opens a polling session on any engine and returns its sid.
pub(crate) fn open_polling<H: EngineHandler>(engine: &Engine<H>) -> Sid {
    let uri = "/socket.io/?EIO=4&transport=polling".parse().expect("uri");
    let open = engine
        .polling_handshake(
            Handshake::new(&HeaderMap::new(), &uri, None).expect("an empty handshake fits"),
        )
        .expect("handshake");
    let open = std::str::from_utf8(&open).expect("utf-8");
    let json: serde_json::Value = serde_json::from_str(&open[1..]).expect("open packet json");
    Sid::parse(json["sid"].as_str().expect("sid")).expect("valid sid")
}

/// POSTs a payload to a session of any engine; the engine's answer.
pub(crate) async fn post_bytes<H: EngineHandler>(
    engine: &Engine<H>,
    sid: Sid,
    body: Bytes,
) -> Result<(), RequestError> {
    engine.post(sid, false, async move { Ok(body) }).await
}

fn handshake(engine: &Engine<SocketIo>) -> Sid {
    open_polling(engine)
}

fn split(body: &Bytes) -> Vec<String> {
    std::str::from_utf8(body)
        .expect("polling bodies are text")
        .split('\x1e')
        .map(str::to_owned)
        .collect()
}

async fn post(engine: &Engine<SocketIo>, sid: Sid, body: &str) -> Result<(), RequestError> {
    post_bytes(engine, sid, Bytes::copy_from_slice(body.as_bytes())).await
}

/// Keeps a long-poll held, forwards what it returns and answers pings.
async fn poll_forever(engine: Engine<SocketIo>, sid: Sid, tx: mpsc::UnboundedSender<Polled>) {
    loop {
        match engine.poll(sid).await {
            Ok(body) => {
                let (pings, rest): (Vec<String>, Vec<String>) =
                    split(&body).into_iter().partition(|p| p == "2");
                for _ in pings {
                    let _ = post(&engine, sid, "3").await;
                }
                if !rest.is_empty() && tx.send(Ok(rest)).is_err() {
                    return;
                }
            }
            Err(err) => {
                let _ = tx.send(Err(err));
                return;
            }
        }
    }
}

impl Client {
    /// Opens a session that reads everything the server sends.
    pub(crate) fn open(engine: &Engine<SocketIo>) -> Client {
        let sid = handshake(engine);
        let (tx, rx) = mpsc::unbounded_channel();
        let poller = tokio::spawn(poll_forever(engine.clone(), sid, tx));
        Client {
            engine: engine.clone(),
            sid,
            bodies: Some(rx),
            queue: VecDeque::new(),
            poller: Some(poller),
        }
    }

    /// Opens a session that reads only when [`Client::recv`] is called: its outbox fills up.
    pub(crate) fn stalled(engine: &Engine<SocketIo>) -> Client {
        Client {
            engine: engine.clone(),
            sid: handshake(engine),
            bodies: None,
            queue: VecDeque::new(),
            poller: None,
        }
    }

    /// Sends an Engine.IO payload (`40`, `42["ev"]`, `451-[...]\x1ebAQID`, `1`...).
    pub(crate) async fn send(&self, payload: &str) {
        self.try_send(payload).await.expect("POST accepted");
    }

    /// Sends an Engine.IO payload and returns the engine's answer.
    pub(crate) async fn try_send(&self, payload: &str) -> Result<(), RequestError> {
        post(&self.engine, self.sid, payload).await
    }

    /// The next body from the server: `None` on timeout.
    async fn next_body(&mut self, wait: Duration) -> Option<Polled> {
        match self.bodies.as_mut() {
            Some(rx) => timeout(wait, rx.recv()).await.ok().flatten(),
            // Stalled: poll directly, only when something is expected.
            None => timeout(wait, self.engine.poll(self.sid))
                .await
                .ok()
                .map(|r| r.map(|body| split(&body))),
        }
    }

    async fn fill(&mut self, wait: Duration) -> Option<Result<(), RequestError>> {
        if !self.queue.is_empty() {
            return Some(Ok(()));
        }
        let body = self.next_body(wait).await?;
        Some(body.map(|parts| self.queue.extend(parts)))
    }

    /// The next Engine.IO packet from the server (pings left out).
    pub(crate) async fn recv(&mut self) -> String {
        match self.fill(WAIT).await {
            Some(Ok(())) => self.queue.pop_front().expect("filled"),
            Some(Err(err)) => panic!("session ended while a packet was expected: {err:?}"),
            None => panic!("no packet within {WAIT:?}"),
        }
    }

    /// The next whole polling body, its packets joined by `\x1e` as on the wire.
    pub(crate) async fn recv_body(&mut self) -> String {
        assert!(self.queue.is_empty(), "packets left over: {:?}", self.queue);
        match self.fill(WAIT).await {
            Some(Ok(())) => self.queue.drain(..).collect::<Vec<_>>().join("\x1e"),
            Some(Err(err)) => panic!("session ended while a body was expected: {err:?}"),
            None => panic!("no body within {WAIT:?}"),
        }
    }

    /// Asserts the server sends nothing within [`QUIET`] and the session stays open.
    pub(crate) async fn assert_silent(&mut self) {
        assert!(
            self.queue.is_empty(),
            "unexpected packets: {:?}",
            self.queue
        );
        if let Some(got) = self.next_body(QUIET).await {
            panic!("expected silence, got {got:?}");
        }
        assert!(self.is_open(), "the session closed");
    }

    /// Asserts the session closes: the server's packets up to the Engine.IO `close` (`1`), or
    /// the noop (`6`) that ends a poll after the client's own close, then "unknown sid". Returns
    /// the packets that came first.
    pub(crate) async fn assert_closed(&mut self) -> Vec<String> {
        let mut before = Vec::new();
        loop {
            match self.fill(WAIT).await {
                Some(Ok(())) => {}
                Some(Err(err)) => {
                    assert_eq!(err, RequestError::UnknownSid);
                    break;
                }
                None => panic!("the session did not close within {WAIT:?}"),
            }
            while let Some(packet) = self.queue.pop_front() {
                if packet != "1" && packet != "6" {
                    before.push(packet);
                }
            }
        }
        assert!(
            self.engine.socket(self.sid).is_none(),
            "session still known"
        );
        assert_eq!(
            self.try_send("42[\"after\"]").await,
            Err(RequestError::UnknownSid)
        );
        before
    }

    /// Whether the engine still has this session open.
    pub(crate) fn is_open(&self) -> bool {
        self.engine.socket(self.sid).is_some_and(|s| s.is_open())
    }

    /// Joins namespace `nsp` (`/` or `/admin`) and returns the socket id of the reply, checking
    /// the reply is `40<nsp,>{"sid":"..."}` with exactly the key `sid`.
    pub(crate) async fn connect(&mut self, nsp: &str) -> String {
        let prefix = ns_prefix('0', nsp);
        self.send(&prefix).await;
        let reply = self.recv().await;
        socket_id(&reply, &prefix)
    }
}

/// `4<digit>` plus `<nsp>,` unless the namespace is `/`: the start of a packet on the wire.
pub(crate) fn ns_prefix(digit: char, nsp: &str) -> String {
    if nsp == "/" {
        format!("4{digit}")
    } else {
        format!("4{digit}{nsp},")
    }
}

/// The socket id of a CONNECT reply starting with `prefix`, whose object has exactly `sid`.
pub(crate) fn socket_id(reply: &str, prefix: &str) -> String {
    let json = reply
        .strip_prefix(prefix)
        .unwrap_or_else(|| panic!("{reply:?} does not start with {prefix:?}"));
    let value: serde_json::Value = serde_json::from_str(json).expect("CONNECT reply json");
    let object = value.as_object().expect("CONNECT reply is an object");
    assert_eq!(object.keys().collect::<Vec<_>>(), ["sid"], "{reply}");
    let id = object["sid"].as_str().expect("sid is a string").to_owned();
    assert!(Sid::parse(&id).is_some(), "{id:?} is not a socket id");
    id
}
