//! An operator sees a Redis outage: one warning when a node loses Redis and one line when it is
//! back, and the metrics (`tether_redis_connected`, the transition counters, the publishes that
//! were dropped meanwhile). One test in its own binary: the recorder and the subscriber are
//! process-wide.

mod support;

use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::RedisServer;
use tether_core::socket::SocketIo;
use tether_redis::{RedisConfig, RedisNode};
use tokio::time::timeout;

const NOTICE: Duration = Duration::from_secs(30);

/// The log, as the formatter writes it.
#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<u8>>>);

impl Write for Log {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("not poisoned").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Log {
    fn lines_with(&self, text: &str) -> Vec<String> {
        let bytes = self.0.lock().expect("not poisoned").clone();
        String::from_utf8_lossy(&bytes)
            .lines()
            .filter(|line| line.contains(text))
            .map(str::to_owned)
            .collect()
    }
}

/// Each metric's value since the last reading (counters restart from 0 after one; gauges read
/// what was last set since the last reading, else 0).
fn read(snapshotter: &Snapshotter) -> Vec<(String, Vec<String>, DebugValue)> {
    snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .map(|(key, _, _, value)| {
            let key = key.key();
            let labels = key
                .labels()
                .map(|l| format!("{}={}", l.key(), l.value()))
                .collect();
            (key.name().to_owned(), labels, value)
        })
        .collect()
}

fn value<'a>(
    metrics: &'a [(String, Vec<String>, DebugValue)],
    name: &str,
    labels: &[&str],
) -> Option<&'a DebugValue> {
    metrics
        .iter()
        .find(|(n, l, _)| n == name && l.iter().map(String::as_str).eq(labels.iter().copied()))
        .map(|(_, _, v)| v)
}

fn gauge(v: f64) -> DebugValue {
    DebugValue::Gauge(v.into())
}

async fn connection_is(node: &RedisNode, up: bool) {
    let mut changes = node.connection();
    timeout(NOTICE, changes.wait_for(|now| *now == up))
        .await
        .expect("noticed in time")
        .expect("the node is alive");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outage_is_logged_once_and_counted() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    recorder.install().expect("the only recorder");
    let log = Log::default();
    let writer = log.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO)
        .finish();
    tracing::subscriber::set_global_default(subscriber).expect("the only subscriber");

    let mut server = RedisServer::start();
    let node = RedisNode::connect(&server.url(), RedisConfig::default())
        .await
        .expect("connects");
    let io = SocketIo::builder().adapter(node.adapter()).build();
    io.ns("/", || async {});
    timeout(NOTICE, node.ready("/")).await.expect("subscribed");
    assert!(log.lines_with("redis unreachable").is_empty());

    server.stop();
    connection_is(&node, false).await;
    assert!(!node.is_connected());
    let down = read(&snapshotter);
    assert_eq!(
        value(&down, "tether_redis_connected", &[]),
        Some(&gauge(0.0))
    );
    assert_eq!(
        value(&down, "tether_redis_disconnects_total", &[]),
        Some(&DebugValue::Counter(1))
    );
    let warned = log.lines_with("redis unreachable");
    assert_eq!(warned.len(), 1, "one line per outage: {warned:?}");
    assert!(warned[0].contains("WARN"), "{}", warned[0]);

    for _ in 0..3 {
        assert!(io.emit("lost", &1).is_err(), "the caller is told");
    }
    assert_eq!(
        log.lines_with("redis unreachable").len(),
        1,
        "not one per emit"
    );

    server.restart();
    connection_is(&node, true).await;
    let up = read(&snapshotter);
    assert_eq!(value(&up, "tether_redis_connected", &[]), Some(&gauge(1.0)));
    assert_eq!(
        value(&up, "tether_redis_reconnects_total", &[]),
        Some(&DebugValue::Counter(1))
    );
    assert_eq!(
        value(
            &up,
            "tether_redis_publishes_dropped_total",
            &["reason=unreachable"]
        ),
        Some(&DebugValue::Counter(3))
    );
    assert_eq!(log.lines_with("redis reachable again").len(), 1);
    io.emit("found", &1).expect("published again");
}
