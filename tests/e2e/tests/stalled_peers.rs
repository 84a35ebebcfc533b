//! WebSocket peers that stop reading, in a busy room: their server-side writers block on full
//! socket buffers. Whatever then closes their sessions (a broadcast closing them as slow
//! consumers, a graceful shutdown, the write deadline), each connection, its task and its
//! buffers must be freed: the server's task count and the process's live heap return to
//! where they were before the peers came.
//!
//! The heap is measured exactly, with a counting allocator; this binary holds this one test,
//! so nothing else allocates while it measures. The three closes run one after the other.

mod hardening_common;

use std::alloc::System;
use std::time::Duration;

use axum::Router;
use hardening_common::{Server, WAIT, Ws, join, open_sid, recv_text};
use stats_alloc::{INSTRUMENTED_SYSTEM, StatsAlloc};
use tether_axum::socket::{Socket, SocketIo};
use tether_axum::{Engine, EngineConfig, EngineLayer, EngineSocket, Sid};
use tokio::net::TcpSocket;
use tokio::time::{sleep, timeout};
use tokio_tungstenite::{MaybeTlsStream, client_async_with_config};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Bytes allocated and not yet freed, process-wide (server and clients).
fn live_bytes() -> i64 {
    let stats = GLOBAL.stats();
    stats.bytes_allocated as i64 - stats.bytes_deallocated as i64
}

/// Tasks alive on this runtime (the server's and the test's).
fn alive_tasks() -> usize {
    tokio::runtime::Handle::current()
        .metrics()
        .num_alive_tasks()
}

/// Peers that stop reading.
const PEERS: usize = 20;
/// The outbox bound per session.
const OUTBOX: usize = 256 * 1024;
/// A 16 KiB broadcast.
fn message() -> String {
    "x".repeat(16 * 1024)
}

/// A WebSocket whose kernel receive buffer is as small as Linux allows, joined to `/`; from
/// here on it is never read. Returns it with its engine session.
async fn stalled_peer(server: &Server, engine: &Engine<SocketIo>) -> (Ws, EngineSocket) {
    let tcp = TcpSocket::new_v4().expect("a TCP socket");
    tcp.set_recv_buffer_size(4096).expect("SO_RCVBUF");
    let stream = timeout(WAIT, tcp.connect(server.addr()))
        .await
        .expect("connect in time")
        .expect("connect");
    let url = server.ws_url("EIO=4&transport=websocket");
    let (mut ws, _) = timeout(
        WAIT,
        client_async_with_config(url, MaybeTlsStream::Plain(stream), None),
    )
    .await
    .expect("the handshake in time")
    .expect("the WebSocket");
    let sid = open_sid(&recv_text(&mut ws).await);
    join(&mut ws).await;
    let session = Sid::parse(&sid)
        .and_then(|sid| engine.socket(sid))
        .expect("the peer's session");
    (ws, session)
}

/// Waits until `done` holds; fails after 30 s.
async fn until(what: &str, mut done: impl FnMut() -> bool) {
    let wait = async {
        while !done() {
            sleep(Duration::from_millis(10)).await;
        }
    };
    timeout(Duration::from_secs(30), wait)
        .await
        .unwrap_or_else(|_| panic!("timed out waiting for {what}"));
}

/// How the stalled sessions are closed in one run.
#[derive(Debug, Clone, Copy)]
enum Closer {
    /// A plain broadcast once their outboxes are full: "slow consumer".
    SlowConsumer,
    /// A graceful shutdown: the writers may try to flush until the write deadline.
    Shutdown,
    /// Nothing but the write deadline.
    WriteTimeout,
}

async fn run(closer: Closer) {
    let io = SocketIo::builder().build();
    io.ns("/", |socket: Socket| async move { socket.join("room") });
    // A long heartbeat, so only `closer` ends the sessions.
    let config = EngineConfig::default()
        .ping_interval(Duration::from_secs(60))
        .ping_timeout(Duration::from_secs(60))
        .max_buffered_bytes(OUTBOX)
        .write_timeout(Duration::from_secs(1));
    let layer = EngineLayer::builder().config(config).build(io.clone());
    let engine = layer.engine().clone();
    let server = Server::start(Router::new().layer(layer)).await;
    // Warm the server up with a session that comes and goes, then take the baseline.
    let (warm, _) = server.join_ws().await;
    drop(warm);
    until("the warm-up session to go", || engine.session_count() == 0).await;
    let (tasks, heap) = (alive_tasks(), live_bytes());

    let mut peers = Vec::new();
    for _ in 0..PEERS {
        peers.push(stalled_peer(&server, &engine).await);
    }
    // Fill every peer's socket buffers and then its outbox; volatile, so nobody is closed yet.
    let room = io.to("room").volatile();
    let text = message();
    let full = |peers: &[(Ws, EngineSocket)]| {
        peers
            .iter()
            .all(|(_, s)| s.buffered_bytes() + text.len() + 16 > OUTBOX)
    };
    let mut sent = 0;
    while !full(&peers) {
        room.emit("tick", &text).expect("emit");
        sent += 1;
        assert!(sent < 100_000, "the outboxes never filled");
        if sent % 16 == 0 {
            // Let the writers run and block.
            sleep(Duration::from_millis(1)).await;
        }
    }
    if let Closer::Shutdown = closer {
        let left = engine.shutdown(Duration::from_millis(200)).await;
        assert!(left <= PEERS, "{left} sessions left after shutdown");
    }
    // On a loaded machine the writers may not have run yet when the outboxes filled: they
    // then move the outbox into kernel buffers that still have room, and are not blocked at
    // all. So the pressure stays on while the test waits: a plain broadcast (slow consumer)
    // closes each peer whose outbox is full; a volatile one (write deadline) keeps refilling
    // them, so every writer ends up blocked, and only its deadline can end it.
    until("every stalled session to close", || {
        match closer {
            Closer::SlowConsumer => {
                let _ = io.to("room").emit("tick", &text);
            }
            Closer::WriteTimeout => {
                let _ = room.emit("tick", &text);
            }
            Closer::Shutdown => {}
        }
        peers.iter().all(|(_, s)| !s.is_open())
    })
    .await;
    until("every session to leave the table", || {
        engine.session_count() == 0
    })
    .await;
    until("the server's tasks to end", || alive_tasks() <= tasks).await;
    let peak_tasks = alive_tasks();
    drop(peers);
    let grown = live_bytes() - heap;
    // Shown with --nocapture, for the record.
    eprintln!("{closer:?}: {sent} broadcasts; tasks {tasks} -> {peak_tasks}; heap {grown:+} bytes");
    assert!(
        grown < 512 * 1024,
        "{closer:?}: the heap is {grown} bytes above its baseline after {sent} broadcasts"
    );
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_peers_free_their_connections_tasks_and_buffers_however_they_are_closed() {
    for closer in [Closer::SlowConsumer, Closer::Shutdown, Closer::WriteTimeout] {
        run(closer).await;
    }
    // Every server is dropped by now: its accept loop, connections and heartbeat ticker end.
    until("no task left", || alive_tasks() == 0).await;
}
