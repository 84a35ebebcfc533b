//! The progress line on stderr, once a second while a phase runs.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;
use tokio::task::JoinHandle;

/// Counters the workers bump and the reporter reads.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) done: AtomicU64,
    pub(crate) errors: AtomicU64,
}

impl Counters {
    pub(crate) fn done(&self) -> u64 {
        self.done.load(Ordering::Relaxed)
    }
    pub(crate) fn errors(&self) -> u64 {
        self.errors.load(Ordering::Relaxed)
    }
    pub(crate) fn add_done(&self, n: u64) {
        self.done.fetch_add(n, Ordering::Relaxed);
    }
    pub(crate) fn add_error(&self) {
        self.errors.fetch_add(1, Ordering::Relaxed);
    }
}

/// Prints `name: 3s, 12345 what (4115/s), 0 errors` every second until the handle is aborted
/// (or does nothing when `quiet`).
pub(crate) fn report(
    name: String,
    what: &'static str,
    counters: Arc<Counters>,
    quiet: bool,
) -> Reporter {
    if quiet {
        return Reporter(None);
    }
    let handle = tokio::spawn(async move {
        let start = Instant::now();
        let mut last = 0;
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
        tick.tick().await;
        loop {
            tick.tick().await;
            let done = counters.done();
            let line = format!(
                "{name}: {:.0}s, {done} {what} ({}/s), {} errors\n",
                start.elapsed().as_secs_f64(),
                done - last,
                counters.errors(),
            );
            last = done;
            let _ = std::io::stderr().lock().write_all(line.as_bytes());
        }
    });
    Reporter(Some(handle))
}

/// Stops the progress line when dropped.
#[derive(Debug)]
pub(crate) struct Reporter(Option<JoinHandle<()>>);

impl Drop for Reporter {
    fn drop(&mut self) {
        if let Some(h) = self.0.take() {
            h.abort();
        }
    }
}

/// One line on stderr unless `quiet`.
pub(crate) fn note(quiet: bool, line: &str) {
    if !quiet {
        let _ = writeln!(std::io::stderr().lock(), "{line}");
    }
}
