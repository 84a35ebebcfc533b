//! [`NsStats`]: a namespace's counters (sockets, connects, refusals, disconnects by reason,
//! events each way, broadcasts) as relaxed atomics, and its two histograms (handler duration,
//! acknowledgement latency) as `metrics` handles resolved when the namespace is registered.
//! Every child of one dynamic namespace shares one `NsStats`, labelled `dynamic`, so the
//! labels stay bounded and the counts outlive the children.
//!
//! Events out count recipients: an emit to one socket counts 1, a broadcast that reached 200
//! of this node's sockets counts 200 (once, not 200 atomic adds).
//!
//! ```
//! use tether_core::socket::{NsStats, SocketIo};
//!
//! let io = SocketIo::builder().build();
//! io.ns("/chat", |_: tether_core::socket::Socket| async {});
//! let stats: Vec<std::sync::Arc<NsStats>> = io.namespace_stats();
//! assert_eq!(stats[0].label(), "/chat");
//! assert_eq!(stats[0].sockets(), 0);
//! ```
//!
//! Layer: a value of the lowest tier; it names only the disconnect reasons.

use bytestring::ByteString;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use super::reason::DisconnectReason;

/// Every disconnect reason, in the order the counters keep them.
pub const DISCONNECT_REASONS: [DisconnectReason; 11] = [
    DisconnectReason::ClientNamespaceDisconnect,
    DisconnectReason::ServerNamespaceDisconnect,
    DisconnectReason::TransportClose,
    DisconnectReason::TransportError,
    DisconnectReason::PingTimeout,
    DisconnectReason::ForcedServerClose,
    DisconnectReason::ParseError,
    DisconnectReason::ServerShutdown,
    DisconnectReason::SlowConsumer,
    DisconnectReason::HandlerPanic,
    DisconnectReason::Replaced,
];

/// The label of every child of a dynamic namespace.
pub const DYNAMIC_LABEL: &str = "dynamic";

/// One namespace's counters (or every child's of one dynamic namespace).
#[derive(Debug)]
pub struct NsStats {
    label: ByteString,
    sockets: AtomicI64,
    connects: AtomicU64,
    connect_errors: AtomicU64,
    disconnects: [AtomicU64; 11],
    events_in: AtomicU64,
    events_out: AtomicU64,
    broadcasts: AtomicU64,
    adapter_errors: AtomicU64,
    handler_duration: metrics::Histogram,
    ack_latency: metrics::Histogram,
}

impl NsStats {
    /// Counters labelled `label`; the histograms are `tether_handler_duration_seconds` and
    /// `tether_ack_latency_seconds` with `namespace` = `label`, from the recorder installed now.
    pub(crate) fn new(label: ByteString) -> NsStats {
        let namespace = label.to_string();
        NsStats::zeroed(
            label,
            metrics::histogram!("tether_handler_duration_seconds", "namespace" => namespace.clone()),
            metrics::histogram!("tether_ack_latency_seconds", "namespace" => namespace),
        )
    }

    fn zeroed(
        label: ByteString,
        handler_duration: metrics::Histogram,
        ack_latency: metrics::Histogram,
    ) -> NsStats {
        NsStats {
            label,
            sockets: AtomicI64::new(0),
            connects: AtomicU64::new(0),
            connect_errors: AtomicU64::new(0),
            disconnects: Default::default(),
            events_in: AtomicU64::new(0),
            events_out: AtomicU64::new(0),
            broadcasts: AtomicU64::new(0),
            adapter_errors: AtomicU64::new(0),
            handler_duration,
            ack_latency,
        }
    }

    /// The sum of several (dynamic namespaces that share a label), without histograms.
    pub(crate) fn sum(all: &[std::sync::Arc<NsStats>]) -> NsStats {
        let label = all
            .first()
            .map_or_else(ByteString::new, |s| s.label.clone());
        let noop = metrics::Histogram::noop;
        let total = NsStats::zeroed(label, noop(), noop());
        for s in all {
            total.sockets.fetch_add(s.sockets.load(Relaxed), Relaxed);
            total.connects.fetch_add(s.connects(), Relaxed);
            total.connect_errors.fetch_add(s.connect_errors(), Relaxed);
            for (i, d) in s.disconnects.iter().enumerate() {
                total.disconnects[i].fetch_add(d.load(Relaxed), Relaxed);
            }
            total.events_in.fetch_add(s.events_in(), Relaxed);
            total.events_out.fetch_add(s.events_out(), Relaxed);
            total.broadcasts.fetch_add(s.broadcasts(), Relaxed);
            total.adapter_errors.fetch_add(s.adapter_errors(), Relaxed);
        }
        total
    }

    /// The namespace's path, or [`DYNAMIC_LABEL`].
    pub fn label(&self) -> &str {
        &self.label
    }

    /// Sockets connected now.
    pub fn sockets(&self) -> u64 {
        self.sockets.load(Relaxed).max(0) as u64
    }

    /// Sockets that joined so far.
    pub fn connects(&self) -> u64 {
        self.connects.load(Relaxed)
    }

    /// Connects refused so far (a middleware's error, no acceptable subprotocol).
    pub fn connect_errors(&self) -> u64 {
        self.connect_errors.load(Relaxed)
    }

    /// Sockets that left so far for `reason`.
    pub fn disconnects(&self, reason: DisconnectReason) -> u64 {
        let i = DISCONNECT_REASONS.iter().position(|r| *r == reason);
        i.map_or(0, |i| self.disconnects[i].load(Relaxed))
    }

    /// Events received from clients so far.
    pub fn events_in(&self) -> u64 {
        self.events_in.load(Relaxed)
    }

    /// Events queued for clients so far, one per recipient.
    pub fn events_out(&self) -> u64 {
        self.events_out.load(Relaxed)
    }

    /// Broadcasts (emits through a broadcast operator) so far.
    pub fn broadcasts(&self) -> u64 {
        self.broadcasts.load(Relaxed)
    }

    /// Operations the adapter failed so far (the other nodes were not reached).
    pub fn adapter_errors(&self) -> u64 {
        self.adapter_errors.load(Relaxed)
    }

    pub(crate) fn adapter_failed(&self) {
        self.adapter_errors.fetch_add(1, Relaxed);
    }

    pub(crate) fn joined(&self) {
        self.connects.fetch_add(1, Relaxed);
        self.sockets.fetch_add(1, Relaxed);
    }

    pub(crate) fn left(&self, reason: DisconnectReason) {
        self.sockets.fetch_sub(1, Relaxed);
        if let Some(i) = DISCONNECT_REASONS.iter().position(|r| *r == reason) {
            self.disconnects[i].fetch_add(1, Relaxed);
        }
    }

    pub(crate) fn refused(&self) {
        self.connect_errors.fetch_add(1, Relaxed);
    }

    pub(crate) fn received(&self) {
        self.events_in.fetch_add(1, Relaxed);
    }

    pub(crate) fn sent(&self, recipients: usize) {
        if recipients > 0 {
            self.events_out.fetch_add(recipients as u64, Relaxed);
        }
    }

    pub(crate) fn broadcast(&self) {
        self.broadcasts.fetch_add(1, Relaxed);
    }

    pub(crate) fn handled(&self, took: Duration) {
        self.handler_duration.record(took);
    }

    pub(crate) fn acked(&self, took: Duration) {
        self.ack_latency.record(took);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disconnects_by_reason() {
        let stats = NsStats::new(ByteString::from_static("/"));
        for (i, reason) in DISCONNECT_REASONS.iter().enumerate() {
            for _ in 0..=i {
                stats.joined();
                stats.left(*reason);
            }
        }
        for (i, reason) in DISCONNECT_REASONS.iter().enumerate() {
            assert_eq!(stats.disconnects(*reason), i as u64 + 1, "{reason}");
        }
        assert_eq!(stats.sockets(), 0);
        assert_eq!(stats.connects(), 66);
        let names: std::collections::HashSet<&str> =
            DISCONNECT_REASONS.iter().map(|r| r.as_str()).collect();
        assert_eq!(names.len(), DISCONNECT_REASONS.len());
    }

    #[test]
    fn two_dynamic_namespaces_sum_under_their_shared_label() {
        let (a, b) = (
            std::sync::Arc::new(NsStats::new(ByteString::from_static(DYNAMIC_LABEL))),
            std::sync::Arc::new(NsStats::new(ByteString::from_static(DYNAMIC_LABEL))),
        );
        a.joined();
        b.joined();
        b.joined();
        b.left(DisconnectReason::PingTimeout);
        a.sent(3);
        b.adapter_failed();
        let total = NsStats::sum(&[a, b]);
        assert_eq!(total.label(), DYNAMIC_LABEL);
        assert_eq!((total.connects(), total.sockets()), (3, 2));
        assert_eq!(total.disconnects(DisconnectReason::PingTimeout), 1);
        assert_eq!((total.events_out(), total.adapter_errors()), (3, 1));
    }

    #[test]
    fn events_count_recipients() {
        let stats = NsStats::new(ByteString::from_static("/"));
        stats.sent(1);
        stats.sent(0);
        stats.sent(200);
        stats.broadcast();
        assert_eq!((stats.events_out(), stats.broadcasts()), (201, 1));
    }
}
