//! `echo`: C clients, each emits `echo` and waits for it (or its ack) before the next.

use futures_util::StreamExt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::{CONNECT_TIMEOUT, Outcome, check_clients, duration, many, round2, split, within};
use crate::client::{Conn, WsConn};
use crate::progress::{Counters, note, report};
use crate::{EchoArgs, Histogram, ProtocolArg, Result, Target, TransportArg};

/// A client of either protocol.
#[derive(Debug)]
enum EchoConn {
    Sio(Conn),
    Raw(WsConn),
}

impl EchoConn {
    async fn send(&mut self, text: &str) -> Result<()> {
        match self {
            EchoConn::Sio(c) => c.send(text).await,
            EchoConn::Raw(c) => c.send_text(text.to_owned()).await,
        }
    }

    /// Waits for a packet equal to `expected`, skipping others.
    async fn expect(&mut self, expected: &str) -> Result<()> {
        loop {
            let matched = match self {
                EchoConn::Sio(c) => c.next().await?.sio() == expected,
                EchoConn::Raw(c) => &*c.next_text().await? == expected,
            };
            if matched {
                return Ok(());
            }
        }
    }

    async fn close(self) -> Result<()> {
        match self {
            EchoConn::Sio(c) => c.close().await,
            EchoConn::Raw(c) => c.close().await,
        }
    }
}

/// What one client measured.
#[derive(Debug, Default)]
struct ClientResult {
    hist: Histogram,
    missing: u64,
    errors: u64,
    first_error: Option<String>,
}

pub(crate) async fn run(a: &EchoArgs) -> Result<Outcome> {
    let http = a.transport != TransportArg::Websocket;
    check_clients(a.clients, http)?;
    if a.protocol == ProtocolArg::Raw && http {
        return Err("--protocol raw is WebSocket only".into());
    }
    let target = Target::from_common(&a.common)?;
    let quiet = a.common.quiet;
    let name = format!("echo {}", a.common.label);

    let connected = Arc::new(Counters::default());
    let progress = report(name.clone(), "connected", connected.clone(), quiet);
    let conns = many(a.clients, 64, |_| {
        let target = &target;
        let connected = &connected;
        within(CONNECT_TIMEOUT, async move {
            let conn = match a.protocol {
                ProtocolArg::Socketio => EchoConn::Sio(Conn::connect(target, a.transport).await?),
                ProtocolArg::Raw => {
                    EchoConn::Raw(WsConn::connect(target, &target.raw_ws_url()).await?)
                }
            };
            connected.add_done(1);
            Ok(conn)
        })
    })
    .await;
    drop(progress);
    let (conns, connect_errors, connect_error) = split(conns);
    if conns.is_empty() {
        return Err(format!("no client connected: {}", connect_error.unwrap_or_default()).into());
    }
    note(quiet, &format!("{name}: {} clients connected", conns.len()));

    let data = format!("\"{}\"", "x".repeat(a.size));
    let counters = Arc::new(Counters::default());
    let issued = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let stop = start + duration(&a.common);
    let timeout = Duration::from_secs_f64(a.timeout.clamp(0.01, 3600.0));
    let progress = report(name.clone(), "round trips", counters.clone(), quiet);
    let mut tasks = Vec::with_capacity(conns.len());
    for mut conn in conns {
        let data = data.clone();
        let counters = counters.clone();
        let issued = issued.clone();
        let (ack, protocol, count) = (a.ack, a.protocol, a.count);
        tasks.push(tokio::spawn(async move {
            let mut r = ClientResult::default();
            let mut id: u64 = 0;
            while Instant::now() < stop && issued.fetch_add(1, Ordering::Relaxed) < count {
                let (out, expected) = match (protocol, ack) {
                    (ProtocolArg::Raw, _) => (data.clone(), data.clone()),
                    (ProtocolArg::Socketio, false) => {
                        let p = format!("2[\"echo\",{data}]");
                        (p.clone(), p)
                    }
                    (ProtocolArg::Socketio, true) => {
                        (format!("2{id}[\"echo\",{data}]"), format!("3{id}[{data}]"))
                    }
                };
                id += 1;
                let t0 = Instant::now();
                let round = async {
                    conn.send(&out).await?;
                    conn.expect(&expected).await
                };
                match tokio::time::timeout(timeout, round).await {
                    Ok(Ok(())) => {
                        r.hist.record(t0.elapsed().as_micros() as u64);
                        counters.add_done(1);
                    }
                    Ok(Err(e)) => {
                        r.errors += 1;
                        r.missing += 1;
                        r.first_error = Some(e.to_string());
                        counters.add_error();
                        return (r, None);
                    }
                    Err(_) => {
                        r.missing += 1;
                        counters.add_error();
                        return (r, None);
                    }
                }
            }
            (r, Some(conn))
        }));
    }
    let mut total = ClientResult::default();
    let mut open = Vec::new();
    for task in tasks {
        let (r, conn) = task.await?;
        total.hist.merge(&r.hist);
        total.missing += r.missing;
        total.errors += r.errors;
        if total.first_error.is_none() {
            total.first_error = r.first_error;
        }
        open.extend(conn);
    }
    let elapsed = start.elapsed().as_secs_f64();
    drop(progress);
    futures_util::stream::iter(open)
        .map(|c| within(CONNECT_TIMEOUT, c.close()))
        .buffer_unordered(64)
        .for_each(|_| async {})
        .await;

    let round_trips = total.hist.count();
    let json = serde_json::json!({
        "scenario": "echo",
        "transport": a.transport,
        "protocol": a.protocol,
        "ack": a.ack,
        "size": a.size,
        "clients": a.clients,
        "connect_errors": connect_errors,
        "seconds": round2(elapsed),
        "round_trips": round_trips,
        "rate": round2(round_trips as f64 / elapsed),
        "latency_us": total.hist.summary(),
        "missing": total.missing,
        "errors": total.errors,
        "first_error": total.first_error.or(connect_error),
    });
    Ok(Outcome {
        ok: round_trips > 0,
        json,
    })
}
