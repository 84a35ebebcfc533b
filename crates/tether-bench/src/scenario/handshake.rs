//! `handshake`: workers open a session (Engine.IO open + Socket.IO CONNECT to `/`), close it,
//! and start the next. Reports new sessions per second and the open latency.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::{Outcome, duration, round2};
use crate::client::Conn;
use crate::progress::{Counters, report};
use crate::{HandshakeArgs, Histogram, Result, Target};

pub(crate) async fn run(a: &HandshakeArgs) -> Result<Outcome> {
    let workers = a.workers.clamp(1, 1000);
    let target = Target::from_common(&a.common)?;
    let name = format!("handshake {}", a.common.label);
    let counters = Arc::new(Counters::default());
    let issued = Arc::new(AtomicU64::new(0));
    let progress = report(name, "sessions", counters.clone(), a.common.quiet);
    let start = Instant::now();
    let stop = start + duration(&a.common);
    let mut tasks = Vec::with_capacity(workers);
    for _ in 0..workers {
        let target = target.clone();
        let counters = counters.clone();
        let issued = issued.clone();
        let (transport, count) = (a.transport, a.count);
        tasks.push(tokio::spawn(async move {
            let mut hist = Histogram::new();
            let mut first_error = None;
            while Instant::now() < stop && issued.fetch_add(1, Ordering::Relaxed) < count {
                let t0 = Instant::now();
                let once = async {
                    let conn = Conn::connect(&target, transport).await?;
                    let opened = t0.elapsed();
                    conn.close().await?;
                    Ok::<_, crate::Error>(opened)
                };
                match tokio::time::timeout(Duration::from_secs(10), once).await {
                    Ok(Ok(opened)) => {
                        hist.record(opened.as_micros() as u64);
                        counters.add_done(1);
                    }
                    Ok(Err(e)) => {
                        counters.add_error();
                        first_error.get_or_insert(e.to_string());
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                    Err(_) => {
                        counters.add_error();
                        first_error.get_or_insert_with(|| "timed out".to_owned());
                    }
                }
            }
            (hist, first_error)
        }));
    }
    let mut hist = Histogram::new();
    let mut first_error = None;
    for t in tasks {
        let (h, e) = t.await?;
        hist.merge(&h);
        if first_error.is_none() {
            first_error = e;
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    drop(progress);
    let sessions = hist.count();
    let json = serde_json::json!({
        "scenario": "handshake",
        "transport": a.transport,
        "workers": workers,
        "seconds": round2(elapsed),
        "sessions": sessions,
        "rate": round2(sessions as f64 / elapsed),
        "latency_us": hist.summary(),
        "errors": counters.errors(),
        "first_error": first_error,
    });
    Ok(Outcome {
        ok: sessions > 0,
        json,
    })
}
