//! `idle`: C WebSocket connections that join `/` and then only answer pings. Reports the
//! connect rate and the server's RSS per connection (RSS after, minus RSS before, over C).

use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

use super::{CONNECT_TIMEOUT, Outcome, check_clients, many, round2, split, within};
use crate::client::{Conn, WsConn};
use crate::progress::{Counters, note, report};
use crate::{IdleArgs, Probe, ProtocolArg, Result, Target, TransportArg};

pub(crate) async fn run(a: &IdleArgs) -> Result<Outcome> {
    check_clients(a.clients, false)?;
    let target = Target::from_common(&a.common)?;
    let probe = Probe::from_common(&a.common, &target);
    let quiet = a.common.quiet;
    let name = format!("idle {}", a.common.label);
    let before = probe.read().await?;

    let (stop_tx, stop_rx) = watch::channel(false);
    let connected = Arc::new(Counters::default());
    let progress = report(name.clone(), "connected", connected.clone(), quiet);
    let start = Instant::now();
    let held = many(a.clients, a.concurrency, |_| {
        let target = &target;
        let connected = &connected;
        let mut stop = stop_rx.clone();
        let protocol = a.protocol;
        within(CONNECT_TIMEOUT, async move {
            let task = match protocol {
                ProtocolArg::Socketio => {
                    let mut conn = Conn::connect(target, TransportArg::Websocket).await?;
                    tokio::spawn(async move {
                        loop {
                            tokio::select! {
                                r = conn.next() => if r.is_err() { return false },
                                _ = stop.changed() => return true,
                            }
                        }
                    })
                }
                ProtocolArg::Raw => {
                    let mut conn = WsConn::connect(target, &target.raw_ws_url()).await?;
                    tokio::spawn(async move {
                        loop {
                            tokio::select! {
                                r = conn.next_text() => if r.is_err() { return false },
                                _ = stop.changed() => return true,
                            }
                        }
                    })
                }
            };
            connected.add_done(1);
            Ok(task)
        })
    })
    .await;
    let connect_s = start.elapsed().as_secs_f64();
    drop(progress);
    let (tasks, connect_errors, connect_error) = split(held);
    let n = tasks.len();
    note(
        quiet,
        &format!("{name}: {n} connected in {connect_s:.2}s, settling"),
    );
    tokio::time::sleep(Duration::from_secs_f64(a.settle.clamp(0.0, 3600.0))).await;
    let after = probe.read().await?;

    let _ = stop_tx.send(true);
    let mut dropped = 0;
    for t in tasks {
        if !t.await? {
            dropped += 1;
        }
    }
    let per_conn_kib = if n > 0 {
        (after.rss_kib as f64 - before.rss_kib as f64) / n as f64
    } else {
        0.0
    };
    let json = serde_json::json!({
        "scenario": "idle",
        "protocol": a.protocol,
        "clients": a.clients,
        "connected": n,
        "connect_errors": connect_errors,
        "dropped_while_idle": dropped,
        "connect_s": round2(connect_s),
        "connect_rate": round2(n as f64 / connect_s.max(1e-6)),
        "rss_before_kib": before.rss_kib,
        "rss_after_kib": after.rss_kib,
        "rss_per_conn_kib": round2(per_conn_kib),
        "sessions_before": before.sessions,
        "sessions_after": after.sessions,
        "first_error": connect_error,
    });
    Ok(Outcome { ok: n > 0, json })
}
