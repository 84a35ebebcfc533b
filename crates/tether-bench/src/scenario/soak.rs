//! `soak`: opens and drops sessions of seven kinds in turn, across both transports, then checks
//! that the server forgets them all (its session count returns to 0) and gives back the memory
//! (its RSS returns to within `--rss-tolerance` percent of the baseline).
//!
//! The baseline is read after a warm-up round of the same mix has settled, so that what the
//! allocator and the runtime keep once warm (thread caches, pools, the session table's
//! capacity) is not counted as a leak; the RSS before any session is reported too.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{Outcome, duration, many, round2};
use crate::client::{Conn, PollConn};
use crate::progress::{Counters, note, report};
use crate::target::Reading;
use crate::{Probe, Result, SoakArgs, Target, TransportArg};

/// How a session starts and how it ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// WebSocket: join, one echo, close frame.
    WsClean,
    /// WebSocket: join, then the TCP connection drops without a close frame.
    WsVanish,
    /// Polling: join, one echo, POST `1`.
    PollClean,
    /// Polling: join, then a GET is held and the client goes away while it waits.
    PollVanishMidPoll,
    /// Polling: the handshake, then nothing at all (the server's heartbeat must reclaim it).
    PollAbandon,
    /// Polling, upgraded to WebSocket (probe, `5`), one echo, close frame.
    UpgradeClean,
    /// Polling, then the WebSocket probe, then the client vanishes before sending `5`.
    UpgradeVanish,
}

const KINDS: [Kind; 7] = [
    Kind::WsClean,
    Kind::WsVanish,
    Kind::PollClean,
    Kind::PollVanishMidPoll,
    Kind::PollAbandon,
    Kind::UpgradeClean,
    Kind::UpgradeVanish,
];

fn name(kind: Kind) -> &'static str {
    match kind {
        Kind::WsClean => "ws_clean",
        Kind::WsVanish => "ws_vanish",
        Kind::PollClean => "polling_clean",
        Kind::PollVanishMidPoll => "polling_vanish_mid_poll",
        Kind::PollAbandon => "polling_abandon",
        Kind::UpgradeClean => "upgrade_clean",
        Kind::UpgradeVanish => "upgrade_vanish_mid_upgrade",
    }
}

async fn echo(conn: &mut Conn) -> Result<()> {
    conn.send("2[\"echo\",\"soak\"]").await?;
    loop {
        if conn.next().await?.sio() == "2[\"echo\",\"soak\"]" {
            return Ok(());
        }
    }
}

async fn polling_joined(target: &Target) -> Result<Conn> {
    let mut conn = Conn::Polling(PollConn::open(target).await?.0);
    conn.join_root().await?;
    Ok(conn)
}

async fn one(target: &Target, kind: Kind) -> Result<()> {
    match kind {
        Kind::WsClean => {
            let mut conn = Conn::connect(target, TransportArg::Websocket).await?;
            echo(&mut conn).await?;
            conn.close().await
        }
        Kind::WsVanish => {
            let conn = Conn::connect(target, TransportArg::Websocket).await?;
            drop(conn);
            Ok(())
        }
        Kind::PollClean => {
            let mut conn = polling_joined(target).await?;
            echo(&mut conn).await?;
            conn.close().await
        }
        Kind::PollVanishMidPoll => {
            let mut conn = polling_joined(target).await?;
            // Nothing is queued for us: the GET is held, and dropped after 50 ms.
            let _ = tokio::time::timeout(Duration::from_millis(50), conn.next()).await;
            drop(conn);
            Ok(())
        }
        Kind::PollAbandon => {
            let (conn, _) = PollConn::open(target).await?;
            drop(conn);
            Ok(())
        }
        Kind::UpgradeClean => {
            let Conn::Polling(poll) = polling_joined(target).await? else {
                return Err("not a polling connection".into());
            };
            let mut ws = poll.probe_upgrade(target).await?;
            ws.send_text("5").await?;
            let mut conn = Conn::Ws(ws);
            echo(&mut conn).await?;
            conn.close().await
        }
        Kind::UpgradeVanish => {
            let Conn::Polling(poll) = polling_joined(target).await? else {
                return Err("not a polling connection".into());
            };
            let ws = poll.probe_upgrade(target).await?;
            ws.vanish();
            drop(poll);
            Ok(())
        }
    }
}

/// Counts per kind: (done, errors).
type PerKind = [(u64, u64); 7];

async fn phase(
    target: &Target,
    n: u64,
    concurrency: usize,
    stop: Instant,
    counters: &Arc<Counters>,
) -> (PerKind, Option<String>) {
    let results = many(n as usize, concurrency, |i| {
        let kind = KINDS[i % KINDS.len()];
        async move {
            if Instant::now() >= stop {
                return Ok((kind, None));
            }
            let r = tokio::time::timeout(Duration::from_secs(20), one(target, kind)).await;
            let err = match r {
                Ok(Ok(())) => None,
                Ok(Err(e)) => Some(e.to_string()),
                Err(_) => Some("timed out".to_owned()),
            };
            match err {
                None => counters.add_done(1),
                Some(_) => counters.add_error(),
            }
            Ok((kind, Some(err)))
        }
    })
    .await;
    let mut per: PerKind = [(0, 0); 7];
    let mut first = None;
    for (kind, err) in results.into_iter().flatten() {
        let slot = &mut per[KINDS.iter().position(|k| *k == kind).unwrap_or(0)];
        match err {
            Some(None) => slot.0 += 1,
            Some(Some(e)) => {
                slot.1 += 1;
                first.get_or_insert(e);
            }
            None => {}
        }
    }
    (per, first)
}

/// Polls until the server reports 0 sessions or `until` passes; the last reading.
async fn settle(probe: &Probe, until: Instant) -> Result<Reading> {
    loop {
        let r = probe.read().await?;
        if r.sessions.is_none() {
            return Err("the soak needs the server's session count: give --stats-url".into());
        }
        if r.sessions == Some(0) || Instant::now() >= until {
            return Ok(r);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

pub(crate) async fn run(a: &SoakArgs) -> Result<Outcome> {
    let target = Target::from_common(&a.common)?;
    let probe = Probe::from_common(&a.common, &target);
    let quiet = a.common.quiet;
    let label = format!("soak {}", a.common.label);
    let settle_for = Duration::from_secs_f64(a.settle.clamp(0.0, 3600.0));
    let concurrency = a.concurrency.clamp(1, 2000);
    let start_reading = probe.read().await?;

    // Warm-up, then the baseline. The warm-up lasts at least `--warmup` sessions and twice the
    // server's pingInterval + pingTimeout (read from a handshake), so that abandoned sessions
    // pile up as high as they will in the main round before the baseline is read.
    let (first, open) = PollConn::open(&target).await?;
    drop(first);
    let warm_for = Duration::from_millis(2 * (open.ping_interval + open.ping_timeout));
    let counters = Arc::new(Counters::default());
    let warm_start = Instant::now();
    let stop = warm_start + duration(&a.common);
    if a.warmup > 0 {
        let progress = report(
            format!("{label} warm-up"),
            "sessions",
            counters.clone(),
            quiet,
        );
        while (counters.done() + counters.errors() < a.warmup || warm_start.elapsed() < warm_for)
            && Instant::now() < stop
        {
            let batch = a.warmup.clamp(1, 1000);
            phase(&target, batch, concurrency, stop, &counters).await;
        }
        drop(progress);
    }
    let warmup_s = warm_start.elapsed().as_secs_f64();
    let baseline = settle(&probe, Instant::now() + settle_for).await?;
    note(
        quiet,
        &format!(
            "{label}: baseline {} KiB with {:?} sessions",
            baseline.rss_kib, baseline.sessions
        ),
    );

    let counters_warm = counters.done();
    let counters = Arc::new(Counters::default());
    let progress = report(label.clone(), "sessions", counters.clone(), quiet);
    let t0 = Instant::now();
    let stop = t0 + duration(&a.common);
    let (per, first_error) = phase(&target, a.sessions, concurrency, stop, &counters).await;
    let run_s = t0.elapsed().as_secs_f64();
    drop(progress);
    let loaded = probe.read().await?;
    note(
        quiet,
        &format!(
            "{label}: {} sessions in {run_s:.1}s; {:?} open, {} KiB; waiting for 0",
            counters.done(),
            loaded.sessions,
            loaded.rss_kib
        ),
    );

    let t1 = Instant::now();
    let end = settle(&probe, t1 + settle_for).await?;
    let settle_s = t1.elapsed().as_secs_f64();
    // The allocator may hand memory back a little after the last session went.
    let limit = baseline.rss_kib as f64 * (1.0 + a.rss_tolerance / 100.0);
    let mut last = end;
    let rss_until = Instant::now() + Duration::from_secs(10);
    while last.rss_kib as f64 > limit && Instant::now() < rss_until {
        tokio::time::sleep(Duration::from_millis(500)).await;
        last = probe.read().await?;
    }
    let sessions_zero = end.sessions == Some(0);
    let rss_ok = last.rss_kib as f64 <= limit;
    let errors: u64 = per.iter().map(|p| p.1).sum();
    let done: u64 = per.iter().map(|p| p.0).sum();
    let kinds: serde_json::Map<String, serde_json::Value> = KINDS
        .iter()
        .zip(per.iter())
        .map(|(k, (d, e))| {
            (
                name(*k).to_owned(),
                serde_json::json!({"done": d, "errors": e}),
            )
        })
        .collect();
    let growth = (last.rss_kib as f64 / baseline.rss_kib.max(1) as f64 - 1.0) * 100.0;
    let json = serde_json::json!({
        "scenario": "soak",
        "sessions": done,
        "sessions_requested": a.sessions,
        "errors": errors,
        "kinds": kinds,
        "seconds": round2(run_s),
        "rate": round2(done as f64 / run_s.max(1e-6)),
        "warmup_sessions": counters_warm,
        "warmup_s": round2(warmup_s),
        "rss_start_kib": start_reading.rss_kib,
        "rss_baseline_kib": baseline.rss_kib,
        "rss_loaded_kib": loaded.rss_kib,
        "sessions_loaded": loaded.sessions,
        "rss_end_kib": last.rss_kib,
        "rss_growth_pct": round2(growth),
        "rss_tolerance_pct": a.rss_tolerance,
        "sessions_end": end.sessions,
        "settle_s": round2(settle_s),
        "sessions_returned_to_zero": sessions_zero,
        "rss_within_tolerance": rss_ok,
        "first_error": first_error,
    });
    Ok(Outcome {
        ok: sessions_zero && rss_ok && errors == 0 && done == a.sessions,
        json,
    })
}
