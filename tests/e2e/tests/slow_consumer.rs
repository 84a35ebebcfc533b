//! A client that completes the Socket.IO connect and then stops reading its socket, beside
//! healthy WebSocket clients, while the server broadcasts ~1 KiB messages. The outbox limit
//! (`max_buffered_bytes`, 64 KiB here) bounds what the server holds for the stalled client:
//!
//! - a plain broadcast (100 healthy clients) closes the stalled connection with the reason
//!   "slow consumer": it gets an unbroken prefix of the messages, then the end of the
//!   connection, once it reads again;
//! - a volatile broadcast (20 healthy clients) skips the stalled client and leaves it connected.
//!
//! Healthy clients get every message in order either way. The stalled client's outbox never
//! passes the limit, and the live heap of this process (server and clients, counted exactly by
//! a counting allocator) grows by less than [`HEAP_BOUND`] while some 300 MB are broadcast.
//! The two runs go one after the other in one test, so neither measures the other. (Before the outbox fills, the kernel's
//! socket buffers absorb about 3 MB for the stalled client, so the policy triggers after some
//! 3,000 messages.)
//!
//! The broadcaster keeps at most [`WINDOW`] messages ahead of the slowest healthy client, so
//! only the stalled one can fill its outbox; it waits on the clients' progress, never on a
//! timer.

mod hardening_common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use hardening_common::{
    Close, Frame, Reasons, Server, WAIT, Ws, join, open_sid, reasons, record_disconnect, recv,
    recv_packet, recv_text,
};
use tether_axum::socket::{Socket, SocketIo};
use tether_axum::{EngineConfig, EngineLayer, EngineSocket, Sid};
use tokio::net::TcpSocket;
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio::time::timeout;
use tokio_tungstenite::{MaybeTlsStream, client_async_with_config};

/// Healthy clients beside the stalled one (fewer in the volatile run, to keep the suite short:
/// each needs some 3 MB broadcast before the stalled outbox fills).
const HEALTHY: usize = 100;
const HEALTHY_VOLATILE: usize = 20;
/// The outbox limit per session.
const OUTBOX: usize = 64 * 1024;
/// Messages the broadcaster may be ahead of the slowest healthy client (16 KiB of outbox).
const WINDOW: usize = 16;
/// Messages sent after the slow consumer was dealt with, to show delivery goes on.
const AFTER: usize = 200;
/// The most messages a run may take before the policy triggers.
const MAX_MESSAGES: usize = 20_000;
/// How much the live heap may grow while broadcasting.
const HEAP_BOUND: i64 = 16 << 20;

#[global_allocator]
static GLOBAL: &stats_alloc::StatsAlloc<std::alloc::System> = &stats_alloc::INSTRUMENTED_SYSTEM;

/// Bytes allocated and not yet freed, process-wide.
fn live_bytes() -> i64 {
    let stats = GLOBAL.stats();
    stats.bytes_allocated as i64 - stats.bytes_deallocated as i64
}

/// The argument of tick `n`: an 8-digit sequence number and 1000 `x`.
fn tick(n: usize, pad: &str) -> String {
    format!("{n:08}{pad}")
}

/// The bytes a tick takes in an outbox: `42["tick","<1008 characters>"]`.
const TICK_FRAME: usize = r#"42["tick",""]"#.len() + 1008;

/// The sequence number of a tick event, or `None` for the final `end` event.
fn tick_number(text: &str) -> Option<usize> {
    if text.starts_with(r#"42["end""#) {
        return None;
    }
    let digits = text
        .strip_prefix(r#"42["tick",""#)
        .and_then(|rest| rest.get(..8))
        .unwrap_or_else(|| panic!("not a tick: {:?}", &text[..text.len().min(40)]));
    Some(digits.parse().expect("a sequence number"))
}

/// How far each healthy client has read, and a wake-up for the broadcaster.
#[derive(Debug, Default)]
struct Progress {
    read: Vec<AtomicUsize>,
    moved: Notify,
}

impl Progress {
    fn slowest(&self) -> usize {
        self.read
            .iter()
            .map(|r| r.load(Ordering::Acquire))
            .min()
            .unwrap_or(0)
    }

    /// Waits until the slowest healthy client has read at least `count` messages.
    async fn wait_for(&self, count: usize) {
        while self.slowest() < count {
            timeout(WAIT, self.moved.notified())
                .await
                .unwrap_or_else(|_| panic!("healthy clients stuck below {count} messages"));
        }
    }
}

/// A healthy client: reads every tick, checks the order, reports progress, stops at `end`.
fn read_all(mut ws: Ws, me: usize, progress: Arc<Progress>) -> JoinHandle<usize> {
    tokio::spawn(async move {
        let mut next = 0;
        loop {
            let text = match recv_packet(&mut ws).await {
                Frame::Text(text) => text,
                other => panic!("healthy client {me} got {other:?} after {next} ticks"),
            };
            let Some(n) = tick_number(&text) else {
                return next;
            };
            assert_eq!(text.len(), TICK_FRAME, "the size of a tick");
            assert_eq!(n, next, "healthy client {me}: out of order");
            next += 1;
            progress.read[me].store(next, Ordering::Release);
            progress.moved.notify_one();
        }
    })
}

/// A WebSocket over a TCP socket whose kernel receive buffer is as small as Linux allows, so a
/// client that stops reading backs up into the server quickly. Returns the socket, its engine
/// sid and, once joined to `/`, its socket id.
async fn join_ws_small_buffer(server: &Server) -> (Ws, String, String) {
    let tcp = TcpSocket::new_v4().expect("a TCP socket");
    tcp.set_recv_buffer_size(4096).expect("SO_RCVBUF");
    let stream = timeout(WAIT, tcp.connect(server.addr()))
        .await
        .expect("connecting timed out")
        .expect("connect");
    stream.set_nodelay(true).expect("TCP_NODELAY");
    let url = server.ws_url("EIO=4&transport=websocket");
    let handshake = client_async_with_config(url, MaybeTlsStream::Plain(stream), None);
    let (mut ws, _) = timeout(WAIT, handshake)
        .await
        .expect("the WebSocket handshake did not finish in time")
        .expect("the WebSocket was refused");
    let sid = open_sid(&recv_text(&mut ws).await);
    let id = join(&mut ws).await;
    (ws, sid, id)
}

struct Setup {
    server: Server,
    io: SocketIo,
    reasons: Reasons,
    progress: Arc<Progress>,
    healthy: Vec<JoinHandle<usize>>,
    slow: Ws,
    slow_session: EngineSocket,
    slow_id: String,
}

async fn setup(healthy_clients: usize) -> Setup {
    let (tx, reasons) = reasons();
    let io = SocketIo::builder().build();
    io.ns("/", move |socket: Socket| {
        let tx = tx.clone();
        async move { record_disconnect(&socket, &tx) }
    });
    let layer = EngineLayer::builder()
        .config(EngineConfig::default().max_buffered_bytes(OUTBOX))
        .build(io.clone());
    let engine = layer.engine().clone();
    let server = Server::start(Router::new().layer(layer)).await;
    let progress = Arc::new(Progress {
        read: (0..healthy_clients).map(|_| AtomicUsize::new(0)).collect(),
        moved: Notify::new(),
    });
    let mut healthy = Vec::with_capacity(healthy_clients);
    for me in 0..healthy_clients {
        let (ws, _id) = server.join_ws().await;
        healthy.push(read_all(ws, me, progress.clone()));
    }
    let (slow, sid, slow_id) = join_ws_small_buffer(&server).await;
    let slow_session = Sid::parse(&sid)
        .and_then(|sid| engine.socket(sid))
        .expect("the slow client's session");
    Setup {
        server,
        io,
        reasons,
        progress,
        healthy,
        slow,
        slow_session,
        slow_id,
    }
}

impl Setup {
    /// Broadcasts ticks (volatile or not) until `done` says the policy triggered, then
    /// [`AFTER`] more, then `end` to everyone. Returns how many ticks went out.
    async fn broadcast(
        &mut self,
        volatile: bool,
        mut done: impl FnMut(&mut Self) -> bool,
    ) -> usize {
        let pad = "x".repeat(1000);
        let all = self.io.of("/").expect("the / namespace");
        let ticks = if volatile {
            all.clone().volatile()
        } else {
            all.clone()
        };
        let mut sent = 0;
        let mut stop_at = None;
        while stop_at != Some(sent) {
            assert!(
                sent < MAX_MESSAGES,
                "the slow consumer never filled its outbox"
            );
            self.progress
                .wait_for((sent + 1).saturating_sub(WINDOW))
                .await;
            ticks.emit("tick", &tick(sent, &pad)).expect("emit");
            sent += 1;
            if stop_at.is_none() && done(self) {
                stop_at = Some(sent + AFTER);
            }
        }
        // Volatile too in the volatile run: a plain emit would close the stalled client.
        ticks.emit("end", &sent).expect("emit end");
        sent
    }
}

/// Waits for every healthy client to have read all `sent` ticks, in order.
async fn assert_healthy_got_all(healthy: Vec<JoinHandle<usize>>, sent: usize) {
    for (me, client) in healthy.into_iter().enumerate() {
        let got = timeout(WAIT, client)
            .await
            .expect("a healthy client did not finish in time")
            .expect("a healthy client failed");
        assert_eq!(got, sent, "healthy client {me} missed messages");
    }
}

/// Reads the stalled client's ticks until `end` or the close; they must be in order.
async fn drain_slow(ws: &mut Ws) -> (Vec<usize>, Option<Close>) {
    let mut ticks = Vec::new();
    loop {
        match recv(ws).await {
            Frame::Text(text) if text == "2" => {}
            Frame::Text(text) => match tick_number(&text) {
                Some(n) => ticks.push(n),
                None => return (ticks, None),
            },
            Frame::Binary(_) => panic!("a binary frame"),
            Frame::Closed(close) => return (ticks, Some(close)),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_consumers_are_closed_or_skipped_and_healthy_clients_get_everything() {
    a_slow_consumer_is_closed_and_a_hundred_healthy_clients_get_everything().await;
    a_volatile_broadcast_skips_the_slow_consumer_without_closing_it().await;
}

async fn a_slow_consumer_is_closed_and_a_hundred_healthy_clients_get_everything() {
    let mut s = setup(HEALTHY).await;
    let heap_before = live_bytes();
    let slow_id = s.slow_id.clone();
    let sent = s
        .broadcast(false, |s| s.reasons.now(&slow_id).is_some())
        .await;
    let heap_after = live_bytes();
    assert_healthy_got_all(std::mem::take(&mut s.healthy), sent).await;

    assert_eq!(s.reasons.now(&slow_id).as_deref(), Some("slow consumer"));
    assert!(!s.slow_session.is_open(), "the slow session is still open");
    assert!(
        s.slow_session.buffered_bytes() <= OUTBOX,
        "the outbox passed its limit"
    );
    // Reading again: an unbroken run of ticks from the first, then the end of the connection
    // (dropped, not closed with a frame: a close frame would wait behind what the client
    // never read).
    let (ticks, close) = drain_slow(&mut s.slow).await;
    assert_eq!(close, Some(Close::Eof), "the slow client was not closed");
    assert!(ticks.len() < sent, "the slow client got everything");
    assert!(
        ticks.iter().enumerate().all(|(i, n)| i == *n),
        "the slow client's ticks have gaps"
    );
    let grown = heap_after - heap_before;
    assert!(
        grown < HEAP_BOUND,
        "the heap grew by {grown} bytes over {sent} ticks"
    );
    assert!(s.server.is_running());
}

async fn a_volatile_broadcast_skips_the_slow_consumer_without_closing_it() {
    let mut s = setup(HEALTHY_VOLATILE).await;
    let heap_before = live_bytes();
    // Full once another tick would pass the limit: from then on ticks are skipped.
    let sent = s
        .broadcast(true, |s| {
            s.slow_session.buffered_bytes() + TICK_FRAME > OUTBOX
        })
        .await;
    let heap_after = live_bytes();
    assert_healthy_got_all(std::mem::take(&mut s.healthy), sent).await;

    assert_eq!(
        s.reasons.now(&s.slow_id),
        None,
        "the slow consumer was closed"
    );
    assert!(s.slow_session.is_open());
    assert!(
        s.slow_session.buffered_bytes() <= OUTBOX,
        "the outbox passed its limit"
    );
    // Reading again, the client gets what fitted, then (once its outbox has room) `end`.
    let (session, io) = (s.slow_session.clone(), s.io.clone());
    let reader = drain_slow(&mut s.slow);
    let resend_end = async {
        hardening_common::eventually("the slow outbox to drain", async || {
            session.buffered_bytes() == 0
        })
        .await;
        io.emit("end", &sent).expect("emit end");
    };
    let ((ticks, close), ()) = tokio::join!(reader, resend_end);
    assert_eq!(close, None, "the slow client was closed");
    assert!(ticks.windows(2).all(|w| w[0] < w[1]), "out of order");
    assert!(
        ticks.iter().all(|n| *n < sent - AFTER),
        "a tick sent to the full outbox was delivered"
    );
    assert!(
        s.slow_session.is_open(),
        "the slow session closed after reading"
    );
    assert_eq!(
        s.reasons.now(&s.slow_id),
        None,
        "the slow consumer was closed"
    );
    let grown = heap_after - heap_before;
    assert!(
        grown < HEAP_BOUND,
        "the heap grew by {grown} bytes over {sent} ticks"
    );
}
