//! The broadcast path without sockets: N polling sessions joined to `/` on an in-process
//! [`Engine`], then `io.emit("news", ..)` (encoded once, queued by reference in every outbox)
//! and each session's poll answer (the batch encoding), as the axum layer would run them.
//!
//! ```text
//! cargo bench -p tether-bench --bench broadcast
//! ```

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use http::{HeaderMap, Uri};
use std::hint::black_box;
use tether_core::engine::{Engine, EngineConfig, Handshake, Sid};
use tether_core::socket::{Socket, SocketIo};

/// Opens `n` polling sessions and joins each to `/`.
async fn sessions(engine: &Engine<SocketIo>, n: usize) -> Vec<Sid> {
    let uri = Uri::from_static("/socket.io/?EIO=4&transport=polling");
    let mut sids = Vec::with_capacity(n);
    for _ in 0..n {
        let open = engine
            .polling_handshake(
                Handshake::new(&HeaderMap::new(), &uri, None).expect("an empty handshake fits"),
            )
            .expect("handshake");
        let text = std::str::from_utf8(&open).expect("utf-8");
        let sid = text
            .split("\"sid\":\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .and_then(Sid::parse)
            .expect("sid");
        engine
            .post(sid, false, async { Ok(Bytes::from_static(b"40")) })
            .await
            .expect("connect");
        let reply = engine.poll(sid).await.expect("connect reply");
        assert!(reply.starts_with(b"40"));
        sids.push(sid);
    }
    sids
}

fn broadcast(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut g = c.benchmark_group("broadcast");
    for n in [100, 1000] {
        let io = SocketIo::builder().build();
        io.ns("/", |_socket: Socket| async {});
        let engine = Engine::new(EngineConfig::default(), io.clone());
        let sids = rt.block_on(sessions(&engine, n));
        g.throughput(Throughput::Elements(n as u64));
        g.bench_function(format!("emit+drain/{n}_polling_sessions"), |b| {
            b.iter(|| {
                rt.block_on(async {
                    io.emit("news", black_box(&"hello, everyone"))
                        .expect("emit");
                    for sid in &sids {
                        black_box(engine.poll(*sid).await.expect("poll"));
                    }
                })
            })
        });
        g.bench_function(format!("emit_only/{n}_sessions"), |b| {
            b.iter_custom(|iters| {
                // Emit in rounds of 100 and drain between rounds, outside the timing, so the
                // outboxes never fill.
                let mut total = std::time::Duration::ZERO;
                let mut left = iters;
                while left > 0 {
                    let round = left.min(100);
                    let t0 = std::time::Instant::now();
                    for _ in 0..round {
                        io.emit("news", black_box(&"hello, everyone"))
                            .expect("emit");
                    }
                    total += t0.elapsed();
                    rt.block_on(async {
                        for sid in &sids {
                            let _ = engine.poll(*sid).await;
                        }
                    });
                    left -= round;
                }
                total
            })
        });
    }
    g.finish();
}

criterion_group!(benches, broadcast);
criterion_main!(benches);
