//! [`EngineStats`]: the engine's counters (sessions by transport, upgrades, closes by reason,
//! message packets and bytes by direction and transport), plain relaxed atomics that the
//! transports add to as they go. The Prometheus metrics ([`crate::metrics`]) and the Admin UI's
//! `server_stats` read the same numbers.
//!
//! A packet is an Engine.IO message packet (pings, pongs, probes and noops are not counted);
//! its bytes are its data: the text without the packet type, or the binary length. Packets in
//! are counted when they reach the handler, packets out when the outbox takes them, under the
//! transport the session was on at that moment.
//!
//! ```
//! use tether_core::engine::{Engine, EngineConfig, EngineStats, TransportKind};
//!
//! # struct Quiet;
//! # impl tether_core::engine::EngineHandler for Quiet {
//! #     fn on_connect(&self, _: tether_core::engine::EngineSocket) {}
//! #     fn on_message(&self, _: &tether_core::engine::EngineSocket, _: tether_core::engine::Message) {}
//! #     fn on_disconnect(&self, _: &tether_core::engine::EngineSocket, _: tether_core::engine::CloseReason) {}
//! # }
//! let engine = Engine::new(EngineConfig::default(), Quiet);
//! let stats: &EngineStats = engine.stats();
//! assert_eq!(stats.open(TransportKind::WebSocket), 0);
//! ```
//!
//! Layer: a value of the engine's lowest tier; it names only the close reasons and transports.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};

use super::close::{CloseReason, ProtocolViolation};
use super::packet::Frame;
use super::request::TransportKind;

/// Every transport, in the order the counters keep them.
pub const TRANSPORTS: [TransportKind; 3] = [
    TransportKind::Polling,
    TransportKind::WebSocket,
    TransportKind::Streaming,
];

/// Every close reason the engine counts, in the order the counters keep them.
pub const CLOSE_REASONS: [CloseReason; 16] = [
    CloseReason::TransportClose,
    CloseReason::TransportError,
    CloseReason::ClientClose,
    CloseReason::PingTimeout,
    CloseReason::ParseError,
    CloseReason::ProtocolViolation(ProtocolViolation::DuplicatePoll),
    CloseReason::ProtocolViolation(ProtocolViolation::DuplicatePost),
    CloseReason::ProtocolViolation(ProtocolViolation::ClientPing),
    CloseReason::ProtocolViolation(ProtocolViolation::BinaryPost),
    CloseReason::ProtocolViolation(ProtocolViolation::SlowConsumer),
    CloseReason::MessageTooLarge,
    CloseReason::ServerClose,
    CloseReason::ServerShutdown,
    CloseReason::ConnectTimeout,
    CloseReason::WriteTimeout,
    CloseReason::HandlerPanic,
];

/// Which way a packet went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// From the client.
    In,
    /// To the client.
    Out,
}

impl Direction {
    /// `"in"` or `"out"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::In => "in",
            Direction::Out => "out",
        }
    }
}

fn t(transport: TransportKind) -> usize {
    match transport {
        TransportKind::Polling => 0,
        TransportKind::WebSocket => 1,
        TransportKind::Streaming => 2,
    }
}

fn r(reason: CloseReason) -> usize {
    CLOSE_REASONS
        .iter()
        .position(|c| *c == reason)
        .unwrap_or(CLOSE_REASONS.len() - 1)
}

/// The packet and byte counters of one shard, on cache lines of their own.
#[derive(Debug, Default)]
#[repr(align(128))]
struct Flow {
    packets: [[AtomicU64; 3]; 2],
    bytes: [[AtomicU64; 3]; 2],
}

/// Shards of the packet and byte counters: every delivery of a broadcast adds to them, from
/// every worker thread at once, and one shared cache line bouncing between the cores cost
/// about 4% of broadcast throughput (bench/observability). Each thread adds to its own shard;
/// a reading sums them.
const SHARDS: usize = 8;

fn shard() -> usize {
    use std::sync::atomic::AtomicUsize;
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static SHARD: usize = NEXT.fetch_add(1, Relaxed) % SHARDS;
    }
    SHARD.with(|s| *s)
}

/// The engine's counters. Read them any time; they only grow (but for the open sessions).
#[derive(Debug, Default)]
pub struct EngineStats {
    open: [AtomicI64; 3],
    opened: [AtomicU64; 3],
    upgrades: [AtomicU64; 3],
    closed: [AtomicU64; 16],
    flow: [Flow; SHARDS],
    outbox_full: AtomicU64,
}

impl EngineStats {
    /// Sessions open now on `transport` (an upgraded one counts on WebSocket).
    pub fn open(&self, transport: TransportKind) -> u64 {
        self.open[t(transport)].load(Relaxed).max(0) as u64
    }

    /// Sessions open now, on any transport.
    pub fn open_total(&self) -> u64 {
        TRANSPORTS.iter().map(|&tr| self.open(tr)).sum()
    }

    /// Sessions opened so far on `transport` (the one they opened on).
    pub fn opened(&self, transport: TransportKind) -> u64 {
        self.opened[t(transport)].load(Relaxed)
    }

    /// Sessions opened so far.
    pub fn opened_total(&self) -> u64 {
        TRANSPORTS.iter().map(|&tr| self.opened(tr)).sum()
    }

    /// Upgrades to WebSocket so far from `from` (polling or streaming).
    pub fn upgrades(&self, from: TransportKind) -> u64 {
        self.upgrades[t(from)].load(Relaxed)
    }

    /// Sessions closed so far for `reason`.
    pub fn closed(&self, reason: CloseReason) -> u64 {
        self.closed[r(reason)].load(Relaxed)
    }

    /// Message packets so far one way on one transport.
    pub fn packets(&self, direction: Direction, transport: TransportKind) -> u64 {
        let (d, t) = (direction as usize, t(transport));
        self.flow
            .iter()
            .map(|f| f.packets[d][t].load(Relaxed))
            .sum()
    }

    /// Their bytes of data.
    pub fn bytes(&self, direction: Direction, transport: TransportKind) -> u64 {
        let (d, t) = (direction as usize, t(transport));
        self.flow.iter().map(|f| f.bytes[d][t].load(Relaxed)).sum()
    }

    /// Sends refused so far because the session's outbox was full (the peer was not reading
    /// fast enough).
    pub fn outbox_full(&self) -> u64 {
        self.outbox_full.load(Relaxed)
    }

    pub(crate) fn session_opened(&self, transport: TransportKind) {
        self.opened[t(transport)].fetch_add(1, Relaxed);
        self.open[t(transport)].fetch_add(1, Relaxed);
    }

    /// A session on `transport` closed for `reason`.
    pub(crate) fn session_closed(&self, transport: TransportKind, reason: CloseReason) {
        self.closed[r(reason)].fetch_add(1, Relaxed);
        self.open[t(transport)].fetch_sub(1, Relaxed);
    }

    pub(crate) fn upgraded(&self, from: TransportKind) {
        self.upgrades[t(from)].fetch_add(1, Relaxed);
        self.open[t(from)].fetch_sub(1, Relaxed);
        self.open[t(TransportKind::WebSocket)].fetch_add(1, Relaxed);
    }

    /// A message of `len` bytes of data arrived on `transport`.
    pub(crate) fn received(&self, transport: TransportKind, len: usize) {
        let flow = &self.flow[shard()];
        flow.packets[0][t(transport)].fetch_add(1, Relaxed);
        flow.bytes[0][t(transport)].fetch_add(len as u64, Relaxed);
    }

    /// `packets` message frames with `bytes` of data were queued on `transport`.
    pub(crate) fn sent(&self, transport: TransportKind, packets: usize, bytes: usize) {
        let flow = &self.flow[shard()];
        flow.packets[1][t(transport)].fetch_add(packets as u64, Relaxed);
        flow.bytes[1][t(transport)].fetch_add(bytes as u64, Relaxed);
    }

    pub(crate) fn refused_full(&self) {
        self.outbox_full.fetch_add(1, Relaxed);
    }
}

/// Packets and bytes queued by a run of sends (the recipients of one broadcast), added to the
/// engine's counters once, when the tally is dropped: two atomic additions per transport per
/// broadcast instead of per recipient. Refusals (a full outbox) are counted as they happen.
///
/// ```
/// use tether_core::engine::SentTally;
/// let tally = SentTally::default();
/// drop(tally); // counts what it holds, here nothing
/// ```
#[derive(Debug, Default)]
pub struct SentTally {
    /// The counters the tally adds to: those of the first session it counted.
    stats: Option<std::sync::Arc<EngineStats>>,
    packets: [u64; 3],
    bytes: [u64; 3],
}

impl SentTally {
    /// Counts `frames`, queued on `transport` by a session of the engine that keeps `stats`.
    pub(crate) fn add(
        &mut self,
        stats: &std::sync::Arc<EngineStats>,
        transport: TransportKind,
        frames: &[Frame],
    ) {
        match &self.stats {
            Some(mine) if std::sync::Arc::ptr_eq(mine, stats) => {}
            // Another engine's session (not one broadcast's): what was counted goes to its
            // own engine first.
            _ => {
                self.flush();
                self.stats = Some(stats.clone());
            }
        }
        self.packets[t(transport)] += frames.len() as u64;
        self.bytes[t(transport)] += frames.iter().map(data_len).sum::<usize>() as u64;
    }

    fn flush(&mut self) {
        let Some(stats) = &self.stats else {
            return;
        };
        let flow = &stats.flow[shard()];
        for i in 0..TRANSPORTS.len() {
            if self.packets[i] > 0 {
                flow.packets[1][i].fetch_add(self.packets[i], Relaxed);
                flow.bytes[1][i].fetch_add(self.bytes[i], Relaxed);
            }
        }
        self.packets = [0; 3];
        self.bytes = [0; 3];
    }
}

impl Drop for SentTally {
    fn drop(&mut self) {
        self.flush();
    }
}

/// The data of a message frame: a text frame without its `4`, a binary one whole.
pub(crate) fn data_len(frame: &Frame) -> usize {
    match frame {
        Frame::Text(text) => text.len().saturating_sub(1),
        Frame::Binary(data) => data.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    #[test]
    fn every_reason_has_its_own_counter() {
        let stats = EngineStats::default();
        for (i, reason) in CLOSE_REASONS.iter().enumerate() {
            for _ in 0..=i {
                stats.session_opened(TransportKind::Polling);
                stats.session_closed(TransportKind::Polling, *reason);
            }
        }
        for (i, reason) in CLOSE_REASONS.iter().enumerate() {
            assert_eq!(stats.closed(*reason), i as u64 + 1, "{reason}");
        }
        assert_eq!(stats.open_total(), 0);
        let names: std::collections::HashSet<&str> =
            CLOSE_REASONS.iter().map(|r| r.as_str()).collect();
        assert_eq!(names.len(), CLOSE_REASONS.len(), "the labels are distinct");
    }

    #[test]
    fn an_upgrade_moves_a_session_to_websocket() {
        let stats = EngineStats::default();
        stats.session_opened(TransportKind::Polling);
        stats.session_opened(TransportKind::Streaming);
        stats.upgraded(TransportKind::Streaming);
        assert_eq!(
            TRANSPORTS.map(|tr| stats.open(tr)),
            [1, 1, 0],
            "polling, websocket, streaming"
        );
        assert_eq!(stats.opened(TransportKind::Streaming), 1);
        assert_eq!(stats.upgrades(TransportKind::Streaming), 1);
        stats.session_closed(TransportKind::WebSocket, CloseReason::TransportClose);
        assert_eq!(stats.open(TransportKind::WebSocket), 0);
        assert_eq!(stats.open_total(), 1);
    }

    #[test]
    fn every_threads_shard_is_summed() {
        let stats = std::sync::Arc::new(EngineStats::default());
        let threads: Vec<_> = (0..2 * SHARDS)
            .map(|_| {
                let stats = stats.clone();
                std::thread::spawn(move || {
                    for _ in 0..1000 {
                        stats.received(TransportKind::WebSocket, 2);
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().expect("no panic");
        }
        let n = 2 * SHARDS as u64 * 1000;
        assert_eq!(stats.packets(Direction::In, TransportKind::WebSocket), n);
        assert_eq!(stats.bytes(Direction::In, TransportKind::WebSocket), 2 * n);
    }

    #[test]
    fn packets_count_their_data() {
        let stats = EngineStats::default();
        let frames = [
            Frame::message("2[\"a\"]"),
            Frame::binary(Bytes::from_static(&[1, 2, 3])),
        ];
        let bytes = frames.iter().map(data_len).sum();
        stats.sent(TransportKind::WebSocket, frames.len(), bytes);
        stats.received(TransportKind::Polling, 5);
        assert_eq!(stats.packets(Direction::Out, TransportKind::WebSocket), 2);
        assert_eq!(stats.bytes(Direction::Out, TransportKind::WebSocket), 6 + 3);
        assert_eq!(stats.packets(Direction::In, TransportKind::Polling), 1);
        assert_eq!(stats.bytes(Direction::In, TransportKind::Polling), 5);
        assert_eq!(stats.packets(Direction::In, TransportKind::WebSocket), 0);
    }

    #[test]
    fn a_tally_counts_on_drop_what_each_send_would_have() {
        let stats = std::sync::Arc::new(EngineStats::default());
        let frames = [
            Frame::message("2[\"a\"]"),
            Frame::binary(Bytes::from_static(&[1, 2, 3])),
        ];
        let mut tally = SentTally::default();
        tally.add(&stats, TransportKind::WebSocket, &frames);
        tally.add(&stats, TransportKind::WebSocket, &frames[..1]);
        tally.add(&stats, TransportKind::Polling, &frames[..1]);
        assert_eq!(
            stats.packets(Direction::Out, TransportKind::WebSocket),
            0,
            "nothing until the tally is done"
        );
        drop(tally);
        assert_eq!(stats.packets(Direction::Out, TransportKind::WebSocket), 3);
        assert_eq!(
            stats.bytes(Direction::Out, TransportKind::WebSocket),
            2 * 6 + 3
        );
        assert_eq!(stats.packets(Direction::Out, TransportKind::Polling), 1);
        assert_eq!(stats.bytes(Direction::Out, TransportKind::Polling), 6);
        assert_eq!(stats.packets(Direction::Out, TransportKind::Streaming), 0);
    }

    #[test]
    fn a_tally_gives_each_engine_its_own_counts() {
        let (one, two) = (
            std::sync::Arc::new(EngineStats::default()),
            std::sync::Arc::new(EngineStats::default()),
        );
        let frame = [Frame::message("hello")];
        let mut tally = SentTally::default();
        tally.add(&one, TransportKind::WebSocket, &frame);
        tally.add(&two, TransportKind::WebSocket, &frame);
        tally.add(&two, TransportKind::WebSocket, &frame);
        drop(tally);
        assert_eq!(one.packets(Direction::Out, TransportKind::WebSocket), 1);
        assert_eq!(two.packets(Direction::Out, TransportKind::WebSocket), 2);
        assert_eq!(two.bytes(Direction::Out, TransportKind::WebSocket), 10);
    }
}
