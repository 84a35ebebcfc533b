//! Application code cannot stop the server: a panic in any handler or middleware is caught and
//! costs only its socket, and neither a panicking nor a blocking disconnect handler can stop
//! the shared heartbeat ticker (it runs no application code at all).
//!
//! Paused-clock tests drive a real `Engine<SocketIo>` through its polling API (`support`);
//! the blocking test needs a real clock and two worker threads.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use support::{Client, channel, engine, open_polling, post_bytes, reasons, sockets_of};
use tether_core::engine::{
    CloseReason, Engine, EngineConfig, EngineHandler, EngineSocket, Message, Sid,
};
use tether_core::socket::{ConnectError, DisconnectReason, Socket, SocketIo};
use tokio::time::{sleep, timeout};

/// Application code with a bug: it panics.
fn bug(what: &str) {
    panic!("{what}");
}

/// The official suites' heartbeat: a ping every 300 ms, 200 ms to answer.
fn quick_heartbeat() -> EngineConfig {
    EngineConfig::default()
        .ping_interval(Duration::from_millis(300))
        .ping_timeout(Duration::from_millis(200))
}

/// Waits (on whatever clock the test runs) until `sid` is gone from `engine`.
async fn gone<H: EngineHandler>(engine: &Engine<H>, sid: Sid, what: &str) {
    let wait = async {
        while engine.socket(sid).is_some() {
            sleep(Duration::from_millis(10)).await;
        }
    };
    timeout(Duration::from_secs(5), wait)
        .await
        .unwrap_or_else(|_| panic!("{what}: the session was never closed"));
}

#[tokio::test(start_paused = true)]
async fn a_panicking_disconnect_handler_does_not_stop_the_heartbeat() {
    let io = SocketIo::builder().build();
    io.ns("/", |socket: Socket| async move {
        socket.on_disconnect(|_socket, _reason| async move {
            bug("a bug in on_disconnect");
        });
    });
    let engine = Engine::new(quick_heartbeat(), io.clone());
    // A joins and then stops polling: it times out, and its handler panics.
    let a = Client::stalled(&engine);
    a.send("40").await;
    gone(&engine, a.sid, "the silent client").await;
    // The ticker lives on: another silent client is timed out too, and one that answers its
    // pings keeps its session.
    let alive = Client::open(&engine);
    let b = Client::stalled(&engine);
    b.send("40").await;
    gone(&engine, b.sid, "the second silent client").await;
    sleep(Duration::from_secs(2)).await;
    assert!(alive.is_open(), "a client answering its pings was closed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blocking_disconnect_handler_does_not_stall_other_sessions_heartbeats() {
    let (release, blocked) = std::sync::mpsc::channel::<()>();
    let blocked = Arc::new(std::sync::Mutex::new(blocked));
    let entered = Arc::new(tokio::sync::Notify::new());
    let io = SocketIo::builder().build();
    {
        let (blocked, entered) = (blocked.clone(), entered.clone());
        io.ns("/block", move |socket: Socket| {
            let (blocked, entered) = (blocked.clone(), entered.clone());
            async move {
                socket.on_disconnect(move |_socket, _reason| {
                    // Blocks its thread before any await, until the test lets it go.
                    entered.notify_one();
                    let _ = blocked.lock().map(|rx| rx.recv());
                    async {}
                });
            }
        });
    }
    let engine = Engine::new(quick_heartbeat(), io.clone());
    let a = Client::stalled(&engine);
    a.send("40/block,").await;
    timeout(Duration::from_secs(5), entered.notified())
        .await
        .expect("the blocking handler never ran");
    // While that handler holds its thread, a new silent session is still pinged and timed out.
    let b = Client::stalled(&engine);
    let result = timeout(Duration::from_secs(5), async {
        while engine.socket(b.sid).is_some() {
            tokio::task::yield_now().await;
            sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    let _ = release.send(());
    assert!(
        result.is_ok(),
        "the heartbeat stalled behind a blocking handler"
    );
}

#[tokio::test(start_paused = true)]
async fn a_panicking_event_handler_costs_only_that_event() {
    let io = SocketIo::builder().build();
    io.ns("/", |socket: Socket| async move {
        socket.on("boom", |_socket: Socket| async move {
            bug("a bug in a handler");
        });
        socket.on("later", |socket: Socket| async move {
            sleep(Duration::from_millis(1)).await;
            let _ = socket.emit("ok", &"later");
            bug("a bug after an await");
        });
        socket.on("ping", |socket: Socket| async move {
            let _ = socket.emit("pong", &1);
        });
    });
    let engine = engine(&io);
    let mut c = Client::open(&engine);
    let mut other = Client::open(&engine);
    c.connect("/").await;
    other.connect("/").await;
    c.send(r#"421["boom"]"#).await;
    c.send(r#"42["later"]"#).await;
    assert_eq!(c.recv().await, r#"42["ok","later"]"#);
    c.send(r#"42["ping"]"#).await;
    assert_eq!(c.recv().await, r#"42["pong",1]"#, "the socket goes on");
    other.send(r#"42["ping"]"#).await;
    assert_eq!(other.recv().await, r#"42["pong",1]"#);
    c.assert_silent().await;
}

#[tokio::test(start_paused = true)]
async fn a_panicking_connect_handler_disconnects_its_socket() {
    let io = SocketIo::builder().build();
    let (tx, mut why) = channel();
    io.ns("/", move |socket: Socket| {
        let tx = tx.clone();
        async move {
            socket.on_disconnect(move |_socket, reason| {
                let _ = tx.send(reason);
                async {}
            });
            bug("a bug in the connect handler");
        }
    });
    let mut sockets = sockets_of(&io, "/fine");
    let mut c = Client::open(&engine(&io));
    c.connect("/").await;
    assert_eq!(
        c.recv().await,
        "41",
        "the client is told the socket is gone"
    );
    assert_eq!(why.next().await, DisconnectReason::HandlerPanic);
    // The connection and its other namespaces are untouched.
    c.connect("/fine").await;
    assert!(sockets.next().await.connected());
    assert!(c.is_open());
}

#[tokio::test(start_paused = true)]
async fn a_panicking_middleware_refuses_the_connect() {
    let io = SocketIo::builder().build();
    io.ns("/", |_socket: Socket| async {})
        .middleware(|_socket: Socket| async move {
            bug("a bug in middleware");
            Ok::<(), ConnectError>(())
        });
    let mut c = Client::open(&engine(&io));
    c.send("40").await;
    assert_eq!(c.recv().await, r#"44{"message":"Internal server error"}"#);
    assert!(c.is_open());
}

/// A raw Engine.IO handler that panics on `boom` and counts disconnects.
#[derive(Default)]
struct Fragile {
    closed: Arc<std::sync::Mutex<Vec<CloseReason>>>,
    connects: AtomicUsize,
}

impl EngineHandler for Fragile {
    fn on_connect(&self, _socket: EngineSocket) {
        self.connects.fetch_add(1, Ordering::Relaxed);
    }
    fn on_message(&self, socket: &EngineSocket, message: Message) {
        match message {
            Message::Text(text) if &*text == "boom" => panic!("a bug in on_message"),
            Message::Text(text) => {
                let _ = socket.send_text(&text);
            }
            Message::Binary(_) => {}
        }
    }
    fn on_disconnect(&self, _socket: &EngineSocket, reason: CloseReason) {
        if let Ok(mut closed) = self.closed.lock() {
            closed.push(reason);
        }
    }
}

async fn post<H: EngineHandler>(engine: &Engine<H>, sid: Sid, body: &'static str) {
    let _ = post_bytes(engine, sid, Bytes::from_static(body.as_bytes())).await;
}

#[tokio::test(start_paused = true)]
async fn a_raw_handler_panic_closes_only_its_session() {
    let handler = Fragile::default();
    let closed = handler.closed.clone();
    let engine = Engine::new(EngineConfig::default(), handler);
    let (bad, good) = (open_polling(&engine), open_polling(&engine));
    post(&engine, bad, "4boom").await;
    gone(&engine, bad, "the session whose handler panicked").await;
    post(&engine, good, "4hello").await;
    assert_eq!(&engine.poll(good).await.expect("a poll")[..], b"4hello");
    let wait = async {
        while closed.lock().map(|c| c.is_empty()).unwrap_or(true) {
            sleep(Duration::from_millis(1)).await;
        }
    };
    timeout(Duration::from_secs(5), wait)
        .await
        .expect("on_disconnect never ran");
    assert_eq!(
        *closed.lock().expect("the lock"),
        [CloseReason::HandlerPanic]
    );
    assert_eq!(engine.handler().connects.load(Ordering::Relaxed), 2);
}

#[tokio::test(start_paused = true)]
async fn a_socket_that_left_cannot_join_again_and_late_hooks_still_run() {
    let io = SocketIo::builder().build();
    let mut sockets = sockets_of(&io, "/");
    let mut c = Client::open(&engine(&io));
    c.connect("/").await;
    let socket = sockets.next().await;
    socket.join("room");
    let mut left = reasons(&socket);
    c.send("41").await;
    assert_eq!(
        left.next().await,
        DisconnectReason::ClientNamespaceDisconnect
    );
    socket.join("room");
    socket.join("other");
    let all = io.of("/").expect("the namespace");
    assert!(
        all.rooms().is_empty(),
        "rooms after leaving: {:?}",
        all.rooms()
    );
    assert!(socket.rooms().is_empty());
    // A disconnect hook registered after the socket left runs at once, with the reason.
    let mut late = reasons(&socket);
    assert_eq!(
        late.next().await,
        DisconnectReason::ClientNamespaceDisconnect
    );
}

#[tokio::test(start_paused = true)]
async fn a_disconnecting_hook_still_sees_the_rooms() {
    let io = SocketIo::builder().build();
    let (tx, mut seen) = channel();
    io.ns("/", move |socket: Socket| {
        let tx = tx.clone();
        async move {
            socket.join("a");
            socket.join("b");
            socket.on_disconnecting(move |socket, reason| {
                let mut rooms: Vec<String> = socket.rooms().iter().map(|r| r.to_string()).collect();
                rooms.sort();
                let _ = tx.send((rooms, reason, socket.connected()));
                async {}
            });
        }
    });
    let mut c = Client::open(&engine(&io));
    let id = c.connect("/").await;
    c.send("41").await;
    let (rooms, reason, connected) = seen.next().await;
    let mut want = vec!["a".to_owned(), "b".to_owned(), id];
    want.sort();
    assert_eq!(rooms, want);
    assert_eq!(reason, DisconnectReason::ClientNamespaceDisconnect);
    assert!(!connected, "a leaving socket receives nothing more");
    assert!(io.of("/").expect("ns").rooms().is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_failed_connect_undoes_what_the_middleware_joined() {
    let io = SocketIo::builder().build();
    io.ns("/", |_socket: Socket| async {})
        .middleware(|socket: Socket| async move {
            socket.join("vip");
            // The connection goes away while the middleware decides.
            socket.close();
            tokio::task::yield_now().await;
            Ok(())
        });
    let mut c = Client::open(&engine(&io));
    c.send("40").await;
    c.assert_closed().await;
    let all = io.of("/").expect("the namespace");
    let wait = async {
        while !all.rooms().is_empty() {
            sleep(Duration::from_millis(1)).await;
        }
    };
    timeout(Duration::from_secs(5), wait)
        .await
        .unwrap_or_else(|_| panic!("ghost rooms: {:?}", all.rooms()));
    assert!(all.sockets().is_empty());
}
