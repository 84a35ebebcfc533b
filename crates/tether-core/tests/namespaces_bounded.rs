//! One connection sending 100,000 CONNECTs to distinct paths of dynamic namespaces (accepted
//! and left again, or refused by middleware) leaves memory bounded: a child exists only once a
//! connect to it is accepted and goes when its last socket leaves, and a refused connect
//! leaves nothing behind.
//!
//! The heap is measured exactly, with a counting allocator, so this binary holds this one
//! test: nothing else allocates while it measures.

use std::alloc::System;
use std::time::Duration;

use bytes::Bytes;
use stats_alloc::{INSTRUMENTED_SYSTEM, StatsAlloc};
use tether_core::engine::{Engine, EngineConfig, Handshake, Sid};
use tether_core::socket::{ConnectError, Socket, SocketIo};
use tokio::time::timeout;

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Bytes allocated and not yet freed, process-wide (a realloc counts in both totals already).
fn live_bytes() -> i64 {
    let stats = GLOBAL.stats();
    stats.bytes_allocated as i64 - stats.bytes_deallocated as i64
}

/// Rounds per POST: `40/ok-N,` then `41/ok-N,`, and `40/no-N,`. The refusals wait in
/// middleware tasks until the POST is done, so a batch stays under the 100 namespaces one
/// connection may be connecting to at once.
const BATCH: usize = 50;

/// Sends one batch of rounds `from..from + BATCH` and reads every answer: a CONNECT reply and
/// a CONNECT_ERROR per round.
async fn rounds(engine: &Engine<SocketIo>, sid: Sid, from: usize) {
    let mut body = Vec::new();
    for n in from..from + BATCH {
        body.push(format!("40/ok-{n},"));
        body.push(format!("41/ok-{n},"));
        body.push(format!("40/no-{n},"));
    }
    let body = Bytes::from(body.join("\x1e"));
    engine
        .post(sid, false, async move { Ok(body) })
        .await
        .expect("the batch is accepted");
    let (mut accepted, mut refused) = (0, 0);
    while accepted + refused < 2 * BATCH {
        let polled = timeout(Duration::from_secs(5), engine.poll(sid))
            .await
            .expect("the answers did not come")
            .expect("a poll");
        for packet in std::str::from_utf8(&polled).expect("text").split('\x1e') {
            if packet.starts_with("40/ok-") {
                accepted += 1;
            } else if packet.starts_with("44/no-") {
                refused += 1;
            } else if packet == "2" {
                // The paused clock runs ahead while the test waits: keep the session alive.
                let pong = engine.post(sid, false, async { Ok(Bytes::from_static(b"3")) });
                pong.await.expect("the pong is accepted");
            } else {
                panic!("unexpected packet {packet:?}");
            }
        }
    }
    assert_eq!((accepted, refused), (BATCH, BATCH));
}

#[tokio::test(start_paused = true)]
async fn a_hundred_thousand_connects_to_distinct_dynamic_paths_leave_memory_bounded() {
    let io = SocketIo::builder().build();
    io.dyn_ns(
        |path| path.starts_with("/ok-"),
        |socket: Socket| async move {
            socket.join("room");
        },
    );
    io.dyn_ns(|path| path.starts_with("/no-"), |_socket: Socket| async {})
        .middleware(|socket: Socket| async move {
            socket.join("lobby");
            Err::<(), _>(ConnectError::new("refused"))
        });
    let engine = Engine::new(EngineConfig::default(), io.clone());
    let uri = "/socket.io/?EIO=4&transport=polling".parse().expect("uri");
    let handshake = Handshake::new(&http::HeaderMap::new(), &uri, None).expect("fits");
    let open = engine.polling_handshake(handshake).expect("handshake");
    let json: serde_json::Value =
        serde_json::from_slice(&open[1..]).expect("the open packet's JSON");
    let sid = Sid::parse(json["sid"].as_str().expect("a sid")).expect("a valid sid");

    const WARM_UP: usize = 10_000;
    const TOTAL: usize = 100_000;
    let mut n = 0;
    while n < WARM_UP {
        rounds(&engine, sid, n).await;
        n += BATCH;
    }
    let before = live_bytes();
    while n < TOTAL {
        rounds(&engine, sid, n).await;
        n += BATCH;
    }
    let grown = live_bytes() - before;
    // 90,000 more accepted children and 90,000 refused ones; a child namespace alone takes a
    // few hundred bytes, so anything kept per path would show as tens of megabytes.
    assert!(grown < 256 * 1024, "the heap grew by {grown} bytes");
    assert!(io.of("/ok-7").is_none(), "an empty child was kept");
    assert!(io.of("/no-7").is_none(), "a refused child exists");
    assert!(engine.socket(sid).is_some_and(|s| s.is_open()));
}
