//! `broadcast`: C receivers join room `bench`; one emitter (WebSocket, not in the room) sends
//! `broadcast({"i":seq,"t":micros}, "bench")`, at `--rate` per second or flat out with at most
//! `--window` broadcasts in flight (in flight = not yet received by every receiver). The server
//! emits `news` to the room; receivers measure the delivery latency from `t`. With `--url2`,
//! receivers alternate between the two nodes of a fleet, so half of them hear each broadcast
//! through the broker.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::{Semaphore, watch};

use super::{CONNECT_TIMEOUT, Outcome, check_clients, duration, many, round2, split, within};
use crate::client::{Conn, Frame, RawWs, parse};
use crate::progress::{Counters, note, report};
use crate::{BroadcastArgs, Histogram, Result, Target, TransportArg, proc_cpu_seconds};

/// The room the receivers join.
const ROOM: &str = "bench";

/// Shared by the emitter and the receivers.
#[derive(Debug)]
struct Shared {
    base: Instant,
    receivers: u32,
    /// Deliveries of each broadcast.
    counts: Vec<AtomicU32>,
    /// Broadcasts received by every receiver.
    complete: AtomicU64,
    /// Microseconds (from `base`) of the last delivery.
    last: AtomicU64,
    window: Semaphore,
    deliveries: Arc<Counters>,
}

/// Reads `,{"i":N,"t":T}]` (the arguments after the event name). The emitter's own layout
/// is read by a straight scan; any other (keys reordered, other keys between) by a search
/// for each key.
/// The searches cost the load generator about a sixth of its time per delivery (perf: the
/// string searcher set up twice per delivery), time its 2 cores' servers did not get.
fn read_news(rest: &str) -> Option<(usize, u64)> {
    read_news_as_sent(rest).or_else(|| read_news_any(rest))
}

/// `,{"i":N,"t":T}` exactly as the emitter writes it.
fn read_news_as_sent(rest: &str) -> Option<(usize, u64)> {
    let (i, rest) = leading_number(rest.strip_prefix(r#",{"i":"#)?)?;
    let (t, _) = leading_number(rest.strip_prefix(r#","t":"#)?)?;
    Some((i as usize, t))
}

/// The digits at the start of `text` as a number, and what follows them.
fn leading_number(text: &str) -> Option<(u64, &str)> {
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    let n = text[..digits].parse().ok()?;
    Some((n, &text[digits..]))
}

fn read_news_any(rest: &str) -> Option<(usize, u64)> {
    let num = |key: &str| -> Option<u64> {
        let at = rest.find(key)? + key.len();
        leading_number(&rest[at..]).map(|(n, _)| n)
    };
    Some((num("\"i\":")? as usize, num("\"t\":")?))
}

/// A receiver's connection: WebSocket receivers read through [`RawWs`] (see its module doc for
/// why), the other transports through [`Conn`].
#[derive(Debug)]
enum Receiver {
    Raw(RawWs),
    Conn(Conn),
}

impl Receiver {
    /// Opens a session on `transport`, joins `/` and then the room (its ack awaited).
    async fn join(target: &Target, transport: TransportArg) -> Result<Receiver> {
        let join = format!("20[\"join\",\"{ROOM}\"]");
        let joined = |sio: &str| parse(sio).is_some_and(|p| p.kind == 3 && p.id == Some(0));
        if transport == TransportArg::Websocket {
            let mut ws = RawWs::open_root(target).await?;
            ws.send_text(&format!("4{join}")).await?;
            while !joined(&ws.next_message().await?) {}
            return Ok(Receiver::Raw(ws));
        }
        let mut conn = Conn::connect(target, transport).await?;
        conn.send(&join).await?;
        while !joined(conn.next().await?.sio()) {}
        Ok(Receiver::Conn(conn))
    }
}

/// Counts one Socket.IO packet `sio` that arrived at `now` (µs from `base`) if it is `news`.
fn deliver(shared: &Shared, hist: &mut Histogram, sio: &str, now: u64) {
    let Some(p) = parse(sio) else { return };
    if p.kind != 2 || p.event() != Some("news") {
        return;
    }
    let Some((i, t)) = p.after_event().and_then(read_news) else {
        return;
    };
    hist.record(now.saturating_sub(t));
    shared.last.fetch_max(now, Ordering::Relaxed);
    shared.deliveries.add_done(1);
    if let Some(c) = shared.counts.get(i)
        && c.fetch_add(1, Ordering::AcqRel) + 1 == shared.receivers
    {
        shared.complete.fetch_add(1, Ordering::Relaxed);
        shared.window.add_permits(1);
    }
}

/// What the frames of one read left to answer.
#[derive(Debug, Default)]
struct Replies {
    /// An Engine.IO ping (`2`) came: answer `3`.
    eio_pong: bool,
    /// A WebSocket ping came: answer a pong with its payload.
    ws_pong: Option<Vec<u8>>,
}

/// Handles every complete frame in `ws`'s buffer, all as arriving at `now`.
fn drain(ws: &mut RawWs, shared: &Shared, hist: &mut Histogram, now: u64) -> Result<Replies> {
    let mut replies = Replies::default();
    while let Some(frame) = ws.next_buffered()? {
        match frame {
            Frame::Text([b'4', sio @ ..]) => deliver(shared, hist, std::str::from_utf8(sio)?, now),
            Frame::Text([b'2', ..]) => replies.eio_pong = true,
            Frame::Text([b'1', ..]) => return Err("the server closed the session".into()),
            Frame::Ping(p) => replies.ws_pong = Some(p.to_vec()),
            Frame::Close => return Err("websocket closed".into()),
            Frame::Text(_) | Frame::Binary(_) | Frame::Pong => {}
        }
    }
    Ok(replies)
}

async fn receive(
    receiver: Receiver,
    shared: Arc<Shared>,
    stop: watch::Receiver<bool>,
) -> (Histogram, Option<String>) {
    let (hist, error) = match receiver {
        Receiver::Raw(ws) => receive_raw(ws, &shared, stop).await,
        Receiver::Conn(conn) => receive_conn(conn, &shared, stop).await,
    };
    if error.is_some() {
        shared.deliveries.add_error();
    }
    (hist, error)
}

/// The WebSocket receiver: one clock reading per read, however many frames it brought.
async fn receive_raw(
    mut ws: RawWs,
    shared: &Shared,
    mut stop: watch::Receiver<bool>,
) -> (Histogram, Option<String>) {
    let mut hist = Histogram::new();
    // One wait on the stop signal for the whole loop: a fresh `changed()` per delivery
    // registered and dropped a waiter under the channel's lock each time (perf: 3.4% of the
    // load generator).
    let mut stopped = std::pin::pin!(stop.changed());
    let error = loop {
        tokio::select! {
            read = ws.fill() => if let Err(e) = read { break Some(e.to_string()) },
            _ = &mut stopped => break None,
        }
        let now = shared.base.elapsed().as_micros() as u64;
        let replies = match drain(&mut ws, shared, &mut hist, now) {
            Ok(r) => r,
            Err(e) => break Some(e.to_string()),
        };
        if replies.eio_pong
            && let Err(e) = ws.send_text("3").await
        {
            break Some(e.to_string());
        }
        if let Some(p) = replies.ws_pong
            && let Err(e) = ws.send_pong(&p).await
        {
            break Some(e.to_string());
        }
    };
    drop(ws); // the server sees the client leave
    (hist, error)
}

async fn receive_conn(
    mut conn: Conn,
    shared: &Shared,
    mut stop: watch::Receiver<bool>,
) -> (Histogram, Option<String>) {
    let mut hist = Histogram::new();
    let mut stopped = std::pin::pin!(stop.changed());
    let error = loop {
        let msg = tokio::select! {
            msg = conn.next() => msg,
            _ = &mut stopped => break None,
        };
        match msg {
            Ok(m) => {
                let now = shared.base.elapsed().as_micros() as u64;
                deliver(shared, &mut hist, m.sio(), now);
            }
            Err(e) => break Some(e.to_string()),
        }
    };
    drop(conn); // a held poll or a socket: the server sees the client leave
    (hist, error)
}

/// Runs `fut` while the emitter reads its connection, so its heartbeat is answered whatever
/// the emitter waits on (the pace, a window slot, the drain): with a short ping timeout, an
/// emitter that read only between broadcasts was dropped by the server. Messages for the
/// emitter are skipped; a closed connection is an error.
async fn answering<T>(emitter: &mut Conn, fut: impl Future<Output = T>) -> Result<T> {
    let mut fut = std::pin::pin!(fut);
    loop {
        tokio::select! {
            biased;
            // Pings are answered inside `next`, which returns only for a message.
            msg = emitter.next() => drop(msg?),
            out = &mut fut => return Ok(out),
        }
    }
}

pub(crate) async fn run(a: &BroadcastArgs) -> Result<Outcome> {
    check_clients(a.clients + 1, a.transport != TransportArg::Websocket)?;
    let target = Target::from_common(&a.common)?;
    let second = match &a.url2 {
        Some(url) => Some(Target::new(url, &a.common.path)?),
        None => None,
    };
    let quiet = a.common.quiet;
    let name = format!("broadcast {}", a.common.label);
    let count = a.count.min(10_000_000) as usize;

    let connected = Arc::new(Counters::default());
    let progress = report(name.clone(), "receivers joined", connected.clone(), quiet);
    let conns = many(a.clients, 64, |i| {
        let target = match &second {
            Some(second) if i % 2 == 1 => second,
            _ => &target,
        };
        let connected = &connected;
        within(CONNECT_TIMEOUT, async move {
            let receiver = Receiver::join(target, a.transport).await?;
            connected.add_done(1);
            Ok(receiver)
        })
    })
    .await;
    drop(progress);
    let (conns, join_errors, join_error) = split(conns);
    if conns.is_empty() {
        return Err(format!("no receiver joined: {}", join_error.unwrap_or_default()).into());
    }
    let mut emitter = within(
        CONNECT_TIMEOUT,
        Conn::connect(&target, TransportArg::Websocket),
    )
    .await?;
    let receivers = conns.len();
    note(quiet, &format!("{name}: {receivers} receivers joined"));

    let shared = Arc::new(Shared {
        base: Instant::now(),
        receivers: receivers as u32,
        counts: (0..count).map(|_| AtomicU32::new(0)).collect(),
        complete: AtomicU64::new(0),
        last: AtomicU64::new(0),
        window: Semaphore::new(a.window.max(1)),
        deliveries: Arc::default(),
    });
    let (stop_tx, stop_rx) = watch::channel(false);
    let tasks: Vec<_> = conns
        .into_iter()
        .map(|c| tokio::spawn(receive(c, shared.clone(), stop_rx.clone())))
        .collect();

    // The emitter.
    let progress = report(name.clone(), "deliveries", shared.deliveries.clone(), quiet);
    let fleet_cpu = || -> Result<Option<f64>> {
        let Some(pid) = a.common.pid else {
            return Ok(None);
        };
        let second = a.pid2.map(proc_cpu_seconds).transpose()?.unwrap_or(0.0);
        Ok(Some(proc_cpu_seconds(pid)? + second))
    };
    let cpu_before = fleet_cpu()?;
    let start = Instant::now();
    let stop = start + duration(&a.common);
    let mut pace = (a.rate > 0.0).then(|| {
        let mut i = tokio::time::interval(Duration::from_secs_f64(1.0 / a.rate));
        i.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
        i
    });
    let mut sent: usize = 0;
    let mut stalls: u64 = 0;
    let mut emit_error = None;
    while sent < count && Instant::now() < stop {
        if let Some(pace) = pace.as_mut()
            && let Err(e) = answering(&mut emitter, pace.tick()).await
        {
            emit_error = Some(e.to_string());
            break;
        }
        // A window slot, waiting at most a second: a receiver that left would otherwise hold
        // the window shut for good.
        let slot = tokio::time::timeout(Duration::from_secs(1), shared.window.acquire());
        match answering(&mut emitter, slot).await {
            Ok(Ok(Ok(p))) => p.forget(),
            Ok(_) => stalls += 1,
            Err(e) => {
                emit_error = Some(e.to_string());
                break;
            }
        }
        let t = shared.base.elapsed().as_micros() as u64;
        let packet = format!("2[\"broadcast\",{{\"i\":{sent},\"t\":{t}}},\"{ROOM}\"]");
        if let Err(e) = within(CONNECT_TIMEOUT, emitter.send(&packet)).await {
            emit_error = Some(e.to_string());
            break;
        }
        sent += 1;
    }
    let send_done = start.elapsed();
    // Deliveries still on their way.
    let drain_until = Instant::now() + Duration::from_secs_f64(a.drain.clamp(0.0, 600.0));
    while (shared.complete.load(Ordering::Relaxed) as usize) < sent && Instant::now() < drain_until
    {
        let tick = tokio::time::sleep(Duration::from_millis(20));
        if let Err(e) = answering(&mut emitter, tick).await {
            emit_error.get_or_insert(e.to_string());
            break;
        }
    }
    let server_cpu = match (fleet_cpu()?, cpu_before) {
        (Some(after), Some(before)) => Some(after - before),
        _ => None,
    };
    let _ = stop_tx.send(true);
    let mut hist = Histogram::new();
    let mut receive_errors = 0;
    let mut receive_error = None;
    for task in tasks {
        let (h, e) = task.await?;
        hist.merge(&h);
        if let Some(e) = e {
            receive_errors += 1;
            receive_error.get_or_insert(e);
        }
    }
    drop(progress);
    let _ = within(CONNECT_TIMEOUT, emitter.close()).await;

    let deliveries = hist.count();
    let expected = sent as u64 * receivers as u64;
    let span = (shared.last.load(Ordering::Relaxed) as f64 / 1e6
        - (start - shared.base).as_secs_f64())
    .max(send_done.as_secs_f64())
    .max(1e-3);
    let json = serde_json::json!({
        "scenario": "broadcast",
        "transport": a.transport,
        "clients": a.clients,
        "receivers": receivers,
        "nodes": if second.is_some() { 2 } else { 1 },
        "join_errors": join_errors,
        "rate_target": a.rate,
        "window": a.window,
        "broadcasts": sent,
        "seconds": round2(span),
        "broadcasts_per_s": round2(sent as f64 / span),
        "deliveries": deliveries,
        "rate": round2(deliveries as f64 / span),
        "latency_us": hist.summary(),
        "missing": expected.saturating_sub(deliveries),
        "server_cpu_s": server_cpu.map(round2),
        "cpu_us_per_delivery": server_cpu.map(|cpu| round2(cpu * 1e6 / deliveries.max(1) as f64)),
        "window_stalls": stalls,
        "receive_errors": receive_errors,
        "first_error": emit_error.clone().or(receive_error).or(join_error),
    });
    Ok(Outcome {
        ok: deliveries > 0 && emit_error.is_none(),
        json,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_news() {
        assert_eq!(read_news(r#",{"i":12,"t":3456}]"#), Some((12, 3456)));
        assert_eq!(read_news(r#",{"t":3456,"i":12}]"#), Some((12, 3456)));
        assert_eq!(read_news(r#",{}]"#), None);
        assert_eq!(
            read_news(r#",{"i": 12, "t": 3456}]"#),
            None,
            "a space after the key"
        );
        assert_eq!(read_news(r#",{"i":12,"x":1,"t":3456}]"#), Some((12, 3456)));
        assert_eq!(read_news(r#",{"i":,"t":3456}]"#), None);
        assert_eq!(
            read_news_as_sent(r#",{"i":12,"t":3456}]"#),
            Some((12, 3456))
        );
        assert_eq!(read_news_as_sent(r#",{"t":3456,"i":12}]"#), None);
    }
}
