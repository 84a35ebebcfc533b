//! The scenarios. Each one connects its clients, runs its main phase until `--duration` or its
//! count runs out, closes what it opened and returns one JSON object of results.

mod broadcast;
mod echo;
mod handshake;
mod idle;
mod soak;

use futures_util::StreamExt;
use std::future::Future;
use std::time::Duration;

use crate::{Common, Result, Scenario};

/// What a scenario found.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The results line.
    pub json: serde_json::Value,
    /// False when the scenario's own check failed (soak: the server did not recover; others:
    /// nothing went through). The binary exits 1 then.
    pub ok: bool,
}

/// WebSocket connections one scenario may hold: each takes a descriptor in the client and one
/// in the server, both limited to 20,000 open files, with room left for listeners and files.
pub const MAX_WS_CLIENTS: usize = 18_000;
/// Polling and streaming clients: up to two connections each (a held GET or the stream, a POST).
pub const MAX_POLLING_CLIENTS: usize = 9_000;

/// Runs one scenario.
pub async fn run(scenario: &Scenario) -> Result<Outcome> {
    let mut outcome = match scenario {
        Scenario::Echo(a) => echo::run(a).await?,
        Scenario::Broadcast(a) => broadcast::run(a).await?,
        Scenario::Idle(a) => idle::run(a).await?,
        Scenario::Handshake(a) => handshake::run(a).await?,
        Scenario::Soak(a) => soak::run(a).await?,
    };
    let common = scenario.common();
    if let Some(obj) = outcome.json.as_object_mut() {
        obj.insert("label".into(), common.label.clone().into());
        obj.insert("url".into(), common.url.clone().into());
        obj.insert("ok".into(), outcome.ok.into());
    }
    Ok(outcome)
}

/// Checks a client count against the descriptor budget.
pub(crate) fn check_clients(n: usize, http: bool) -> Result<()> {
    let max = if http {
        MAX_POLLING_CLIENTS
    } else {
        MAX_WS_CLIENTS
    };
    if n == 0 || n > max {
        return Err(format!(
            "--clients must be 1..={max} (20,000 open files per process, client and server)"
        )
        .into());
    }
    Ok(())
}

/// `--duration` as a `Duration` (at least 10 ms, at most a day).
pub(crate) fn duration(common: &Common) -> Duration {
    Duration::from_secs_f64(common.duration.clamp(0.01, 86_400.0))
}

/// How long connecting (and joining) one client may take before it counts as failed.
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// `fut`, or an error once `limit` has passed: every wait on the server is bounded.
pub(crate) async fn within<T>(limit: Duration, fut: impl Future<Output = Result<T>>) -> Result<T> {
    match tokio::time::timeout(limit, fut).await {
        Ok(r) => r,
        Err(_) => Err(format!("no answer within {limit:?}").into()),
    }
}

/// Runs `make(i)` for `i` in `0..n`, `concurrency` at a time, and returns what each gave.
pub(crate) async fn many<T, F, Fut>(n: usize, concurrency: usize, make: F) -> Vec<Result<T>>
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = Result<T>>,
{
    futures_util::stream::iter(0..n)
        .map(make)
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await
}

/// Splits results into the values and the number of errors, keeping the first error's text.
pub(crate) fn split<T>(results: Vec<Result<T>>) -> (Vec<T>, usize, Option<String>) {
    let mut ok = Vec::with_capacity(results.len());
    let mut errors = 0;
    let mut first = None;
    for r in results {
        match r {
            Ok(v) => ok.push(v),
            Err(e) => {
                errors += 1;
                first.get_or_insert_with(|| e.to_string());
            }
        }
    }
    (ok, errors, first)
}

/// Rounds to two decimals for the results line.
pub(crate) fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}
