//! Lifecycle races, on two worker threads: a connect finishing while its connection closes,
//! and messages being handled while their session closes. Each loop runs many times so the
//! interleavings that break the rules occur; every wait is bounded.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use dashmap::DashMap;
use support::{open_polling, post_bytes};
use tether_core::engine::{
    CloseReason, Engine, EngineConfig, EngineHandler, EngineSocket, Message, Sid,
};
use tether_core::socket::{Socket, SocketIo};
use tokio::time::{sleep, timeout};

/// POSTs `body` to session `sid` while another task closes it for `reason`, so the POST's
/// deliveries and the close land in either order, or interleaved.
async fn post_racing_a_close<H: EngineHandler>(
    engine: &Engine<H>,
    sid: Sid,
    body: Bytes,
    reason: CloseReason,
) {
    let closer = {
        let engine = engine.clone();
        tokio::spawn(async move {
            tokio::task::yield_now().await;
            if let Some(session) = engine.socket(sid) {
                session.close_for(reason);
            }
        })
    };
    let _ = post_bytes(engine, sid, body).await;
    closer.await.expect("the closer");
}

/// Waits until `done` holds, for at most 10 s.
async fn settle(what: &str, done: impl Fn() -> bool) {
    let wait = async {
        while !done() {
            sleep(Duration::from_millis(5)).await;
        }
    };
    timeout(Duration::from_secs(10), wait)
        .await
        .unwrap_or_else(|_| panic!("never settled: {what}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connect_racing_its_close_leaves_no_ghost_and_disconnects_exactly_once() {
    const ROUNDS: usize = 2000;
    let connected = Arc::new(AtomicUsize::new(0));
    let left = Arc::new(AtomicUsize::new(0));
    let io = SocketIo::builder().build();
    {
        let (connected, left) = (connected.clone(), left.clone());
        io.ns("/", move |socket: Socket| {
            connected.fetch_add(1, Ordering::SeqCst);
            socket.join("room");
            let left = left.clone();
            socket.on_disconnect(move |_socket, _reason| {
                left.fetch_add(1, Ordering::SeqCst);
                async {}
            });
            async {}
        })
        .middleware(|socket: Socket| async move {
            socket.join("vip");
            tokio::task::yield_now().await;
            Ok(())
        });
    }
    // A server close over polling waits up to pingTimeout for a poll to carry it.
    let config = EngineConfig::default().ping_timeout(Duration::from_millis(200));
    let engine = Engine::new(config, io.clone());
    for _ in 0..ROUNDS {
        let sid = open_polling(&engine);
        post_racing_a_close(
            &engine,
            sid,
            Bytes::from_static(b"40"),
            CloseReason::ServerClose,
        )
        .await;
    }
    settle("every session gone", || engine.session_count() == 0).await;
    settle("every connection gone", || io.connection_count() == 0).await;
    settle("a disconnect for every connect", || {
        left.load(Ordering::SeqCst) == connected.load(Ordering::SeqCst)
    })
    .await;
    let all = io.of("/").expect("the namespace");
    assert!(
        all.sockets().is_empty(),
        "{} ghost sockets",
        all.sockets().len()
    );
    assert!(all.rooms().is_empty(), "ghost rooms: {:?}", all.rooms());
    assert!(
        connected.load(Ordering::SeqCst) > 0,
        "no connect ever won the race: the loop tested nothing"
    );
}

/// Records, per session, whether a message is being handled and whether it has closed; any
/// overlap or late message is a violation of the engine's ordering promise.
#[derive(Default)]
struct Ordered {
    sessions: DashMap<Sid, (Arc<AtomicBool>, Arc<AtomicBool>)>,
    violations: AtomicUsize,
    disconnects: AtomicUsize,
    messages: AtomicUsize,
}

impl Ordered {
    fn flags(&self, sid: Sid) -> (Arc<AtomicBool>, Arc<AtomicBool>) {
        self.sessions.entry(sid).or_default().clone()
    }
}

impl EngineHandler for Ordered {
    fn on_connect(&self, socket: EngineSocket) {
        self.flags(socket.sid());
    }
    fn on_message(&self, socket: &EngineSocket, _message: Message) {
        let (busy, closed) = self.flags(socket.sid());
        busy.store(true, Ordering::SeqCst);
        if closed.load(Ordering::SeqCst) {
            self.violations.fetch_add(1, Ordering::SeqCst);
        }
        // Long enough for a close on the other thread to land in the middle.
        for _ in 0..50 {
            std::hint::spin_loop();
        }
        std::thread::yield_now();
        self.messages.fetch_add(1, Ordering::SeqCst);
        busy.store(false, Ordering::SeqCst);
    }
    fn on_disconnect(&self, socket: &EngineSocket, _reason: CloseReason) {
        let (busy, closed) = self.flags(socket.sid());
        if busy.load(Ordering::SeqCst) || closed.swap(true, Ordering::SeqCst) {
            self.violations.fetch_add(1, Ordering::SeqCst);
        }
        self.disconnects.fetch_add(1, Ordering::SeqCst);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_disconnect_comes_once_and_after_the_last_message_under_concurrent_closes() {
    const SESSIONS: usize = 400;
    let engine = Engine::new(EngineConfig::default(), Ordered::default());
    let batch = Bytes::from(vec!["4m"; 50].join("\x1e"));
    for _ in 0..SESSIONS {
        let sid = open_polling(&engine);
        post_racing_a_close(&engine, sid, batch.clone(), CloseReason::TransportError).await;
    }
    let handler = engine.handler();
    settle("a disconnect for every session", || {
        handler.disconnects.load(Ordering::SeqCst) == SESSIONS
    })
    .await;
    assert_eq!(handler.violations.load(Ordering::SeqCst), 0);
    assert!(
        handler.messages.load(Ordering::SeqCst) > 0,
        "nothing was delivered"
    );
}
