//! [`Health`]: whether a node reaches Redis, as its link last saw it, and the log lines and
//! metrics that say so. The node's tasks report what they see (a lost connection, a failed
//! command, a command that worked again); everything else reads it.
//!
//! While Redis is unreachable an emit to the other nodes fails at once with
//! `AdapterError::Unavailable` (local delivery has happened by then), and nothing is queued for
//! later: an event that arrives seconds late, after a reconnect, is worse than one the caller
//! knows was not sent.
//!
//! Metrics (through the `metrics` facade; handles are taken when the node connects, so install
//! the recorder before that):
//! - `tether_redis_connected` (gauge): 1 while Redis is reachable, 0 while not;
//! - `tether_redis_disconnects_total`, `tether_redis_reconnects_total`: the transitions;
//! - `tether_redis_publish_errors_total`: publishes Redis failed;
//! - `tether_redis_publishes_dropped_total{reason}`: messages not published, `reason` being
//!   `unreachable` or `queue_full`;
//! - `tether_redis_malformed_messages_total`: messages from Redis that were dropped unread.

use metrics::{Counter, Gauge};
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::sync::watch;

/// The counters of one node.
struct Metrics {
    connected: Gauge,
    disconnects: Counter,
    reconnects: Counter,
    publish_errors: Counter,
    dropped_unreachable: Counter,
    dropped_queue_full: Counter,
    malformed: Counter,
}

impl Metrics {
    fn new() -> Metrics {
        Metrics {
            connected: metrics::gauge!("tether_redis_connected"),
            disconnects: metrics::counter!("tether_redis_disconnects_total"),
            reconnects: metrics::counter!("tether_redis_reconnects_total"),
            publish_errors: metrics::counter!("tether_redis_publish_errors_total"),
            dropped_unreachable: metrics::counter!(
                "tether_redis_publishes_dropped_total", "reason" => "unreachable"
            ),
            dropped_queue_full: metrics::counter!(
                "tether_redis_publishes_dropped_total", "reason" => "queue_full"
            ),
            malformed: metrics::counter!("tether_redis_malformed_messages_total"),
        }
    }
}

/// Why a message was not published.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dropped {
    /// Redis was unreachable.
    Unreachable,
    /// The publish queue was full.
    QueueFull,
}

/// A node's view of its Redis.
pub(crate) struct Health {
    up: AtomicBool,
    changes: watch::Sender<bool>,
    metrics: Metrics,
}

impl std::fmt::Debug for Health {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Health")
            .field("up", &self.is_up())
            .finish_non_exhaustive()
    }
}

impl Health {
    /// A node that has just connected.
    pub(crate) fn connected() -> Health {
        let metrics = Metrics::new();
        metrics.connected.set(1.0);
        Health {
            up: AtomicBool::new(true),
            changes: watch::Sender::new(true),
            metrics,
        }
    }

    /// Whether Redis is reachable, as last seen.
    pub(crate) fn is_up(&self) -> bool {
        self.up.load(Ordering::Acquire)
    }

    /// The reachability, as it changes.
    pub(crate) fn watch(&self) -> watch::Receiver<bool> {
        self.changes.subscribe()
    }

    /// Redis was lost; logged and counted once per loss.
    pub(crate) fn mark_down(&self, why: &dyn std::fmt::Display) {
        if self.up.swap(false, Ordering::AcqRel) {
            tracing::warn!(
                %why,
                "redis unreachable: emits to other nodes fail until it is back"
            );
            self.metrics.connected.set(0.0);
            self.metrics.disconnects.increment(1);
            self.changes.send_replace(false);
        }
    }

    /// Redis answers again; logged and counted once per return.
    pub(crate) fn mark_up(&self) {
        if !self.up.swap(true, Ordering::AcqRel) {
            tracing::info!("redis reachable again");
            self.metrics.connected.set(1.0);
            self.metrics.reconnects.increment(1);
            self.changes.send_replace(true);
        }
    }

    /// A publish Redis failed.
    pub(crate) fn publish_failed(&self) {
        self.metrics.publish_errors.increment(1);
    }

    /// A message that was not published.
    pub(crate) fn dropped(&self, why: Dropped) {
        match why {
            Dropped::Unreachable => self.metrics.dropped_unreachable.increment(1),
            Dropped::QueueFull => self.metrics.dropped_queue_full.increment(1),
        }
    }

    /// A message from Redis that could not be read.
    pub(crate) fn malformed(&self) {
        self.metrics.malformed.increment(1);
    }
}

/// Whether `err` means the connection, not the command, failed.
pub(crate) fn is_connection_error(err: &redis::RedisError) -> bool {
    err.is_io_error()
        || err.is_connection_dropped()
        || err.is_connection_refusal()
        || err.is_timeout()
        || err.is_unrecoverable_error()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transitions_are_reported_once_each() {
        let health = Health::connected();
        let mut changes = health.watch();
        assert!(health.is_up());
        health.mark_down(&"gone");
        health.mark_down(&"still gone");
        assert!(!health.is_up());
        assert!(changes.has_changed().unwrap_or(false));
        assert!(!*changes.borrow_and_update());
        health.mark_up();
        health.mark_up();
        assert!(health.is_up());
        assert!(*changes.borrow_and_update());
        assert!(!changes.has_changed().unwrap_or(true));
    }
}
