//! Prometheus-style metrics, through the [`metrics`] facade: the engine's and the namespaces'
//! counters ([`EngineStats`], [`NsStats`]) published as `tether_*` series.
//!
//! The transports and sockets only add to relaxed atomics (one `fetch_add` per packet, per
//! event, per connect); [`Metrics::publish`] copies them into the facade's handles, which
//! were resolved once. Call it before the exporter renders (a `/metrics` route), or from a
//! task every few seconds for a push exporter. The two histograms,
//! `tether_handler_duration_seconds` and `tether_ack_latency_seconds`, go to the facade as
//! they happen, through handles each namespace resolves when it is registered: install the
//! recorder before registering namespaces.
//!
//! Labels are bounded: `transport` (polling, websocket, streaming), `direction` (in, out),
//! `reason` (the close and disconnect reasons), `namespace` (a registered path, or `dynamic`
//! for every child of a dynamic namespace). Never a socket id, a room or an event name.
//!
//! | series | type | labels |
//! |---|---|---|
//! | `tether_engine_connections` | gauge | `transport` (an upgraded session counts on websocket) |
//! | `tether_engine_connections_total` | counter | `transport` (the one it opened on) |
//! | `tether_engine_disconnections_total` | counter | `reason` |
//! | `tether_engine_upgrades_total` | counter | `from` |
//! | `tether_engine_packets_total`, `tether_engine_bytes_total` | counter | `direction`, `transport` |
//! | `tether_engine_outbox_full_total` | counter | (sends refused: the peer was not reading) |
//! | `tether_sockets` | gauge | `namespace` |
//! | `tether_rooms` | gauge | `namespace` (rooms besides each socket's own) |
//! | `tether_connects_total`, `tether_connect_errors_total` | counter | `namespace` |
//! | `tether_disconnects_total` | counter | `namespace`, `reason` |
//! | `tether_events_received_total`, `tether_events_sent_total` | counter | `namespace` (sent: one per recipient) |
//! | `tether_broadcasts_total`, `tether_adapter_errors_total` | counter | `namespace` |
//! | `tether_handler_duration_seconds`, `tether_ack_latency_seconds` | histogram | `namespace` |
//! | `tether_build_info` | gauge (1) | `version` |
//!
//! Slow consumers show as `reason="slow consumer"` in both disconnect series.
//!
//! ```
//! use tether_core::engine::{Engine, EngineConfig};
//! use tether_core::metrics::Metrics;
//! use tether_core::socket::SocketIo;
//!
//! // install the recorder first (e.g. metrics_exporter_prometheus), then:
//! let io = SocketIo::builder().build();
//! io.ns("/", |_: tether_core::socket::Socket| async {});
//! let engine = Engine::new(EngineConfig::default(), io.clone());
//! let metrics = Metrics::for_socketio(&engine);
//! metrics.publish(); // before each scrape
//! ```
//!
//! Layer: above the engine and the socket layer, which it reads; nothing names it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use metrics::{Counter, Gauge};

use crate::engine::{
    CLOSE_REASONS, Direction, Engine, EngineHandler, EngineStats, TRANSPORTS, TransportKind,
};
use crate::socket::{DISCONNECT_REASONS, NsStats, SocketIo};

/// The facade's handles for the engine's series and, for a Socket.IO server, every
/// namespace's. See the module docs for the series.
pub struct Metrics {
    stats: Arc<EngineStats>,
    engine: EngineHandles,
    io: Option<SocketIo>,
    namespaces: Mutex<HashMap<String, NsHandles>>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

struct EngineHandles {
    open: Vec<Gauge>,
    opened: Vec<Counter>,
    upgrades: Vec<Counter>,
    closed: Vec<Counter>,
    packets: Vec<Counter>,
    bytes: Vec<Counter>,
    outbox_full: Counter,
}

struct NsHandles {
    sockets: Gauge,
    rooms: Gauge,
    connects: Counter,
    connect_errors: Counter,
    disconnects: Vec<Counter>,
    events_in: Counter,
    events_out: Counter,
    broadcasts: Counter,
    adapter_errors: Counter,
}

const DIRECTIONS: [Direction; 2] = [Direction::In, Direction::Out];

impl EngineHandles {
    fn new() -> EngineHandles {
        let by_transport = |name: &'static str| -> Vec<Counter> {
            TRANSPORTS
                .iter()
                .map(|t| metrics::counter!(name, "transport" => t.as_str()))
                .collect()
        };
        let by_flow = |name: &'static str| -> Vec<Counter> {
            DIRECTIONS
                .iter()
                .flat_map(|d| {
                    TRANSPORTS.iter().map(move |t| {
                        metrics::counter!(name, "direction" => d.as_str(), "transport" => t.as_str())
                    })
                })
                .collect()
        };
        EngineHandles {
            open: TRANSPORTS
                .iter()
                .map(|t| metrics::gauge!("tether_engine_connections", "transport" => t.as_str()))
                .collect(),
            opened: by_transport("tether_engine_connections_total"),
            upgrades: [TransportKind::Polling, TransportKind::Streaming]
                .iter()
                .map(|t| metrics::counter!("tether_engine_upgrades_total", "from" => t.as_str()))
                .collect(),
            closed: CLOSE_REASONS
                .iter()
                .map(|r| metrics::counter!("tether_engine_disconnections_total", "reason" => r.as_str()))
                .collect(),
            packets: by_flow("tether_engine_packets_total"),
            bytes: by_flow("tether_engine_bytes_total"),
            outbox_full: metrics::counter!("tether_engine_outbox_full_total"),
        }
    }

    fn publish(&self, stats: &EngineStats) {
        for (i, &t) in TRANSPORTS.iter().enumerate() {
            self.open[i].set(stats.open(t) as f64);
            self.opened[i].absolute(stats.opened(t));
        }
        for (i, t) in [TransportKind::Polling, TransportKind::Streaming]
            .iter()
            .enumerate()
        {
            self.upgrades[i].absolute(stats.upgrades(*t));
        }
        for (i, &r) in CLOSE_REASONS.iter().enumerate() {
            self.closed[i].absolute(stats.closed(r));
        }
        for (di, &d) in DIRECTIONS.iter().enumerate() {
            for (ti, &t) in TRANSPORTS.iter().enumerate() {
                self.packets[di * TRANSPORTS.len() + ti].absolute(stats.packets(d, t));
                self.bytes[di * TRANSPORTS.len() + ti].absolute(stats.bytes(d, t));
            }
        }
        self.outbox_full.absolute(stats.outbox_full());
    }
}

impl NsHandles {
    fn new(label: &str) -> NsHandles {
        let ns = label.to_owned();
        let counter = |name: &'static str| metrics::counter!(name, "namespace" => ns.clone());
        NsHandles {
            sockets: metrics::gauge!("tether_sockets", "namespace" => ns.clone()),
            rooms: metrics::gauge!("tether_rooms", "namespace" => ns.clone()),
            connects: counter("tether_connects_total"),
            connect_errors: counter("tether_connect_errors_total"),
            disconnects: DISCONNECT_REASONS
                .iter()
                .map(|r| {
                    metrics::counter!("tether_disconnects_total", "namespace" => ns.clone(), "reason" => r.as_str())
                })
                .collect(),
            events_in: counter("tether_events_received_total"),
            events_out: counter("tether_events_sent_total"),
            broadcasts: counter("tether_broadcasts_total"),
            adapter_errors: counter("tether_adapter_errors_total"),
        }
    }

    fn publish(&self, stats: &NsStats, rooms: u64) {
        self.sockets.set(stats.sockets() as f64);
        self.rooms.set(rooms as f64);
        self.connects.absolute(stats.connects());
        self.connect_errors.absolute(stats.connect_errors());
        for (i, &r) in DISCONNECT_REASONS.iter().enumerate() {
            self.disconnects[i].absolute(stats.disconnects(r));
        }
        self.events_in.absolute(stats.events_in());
        self.events_out.absolute(stats.events_out());
        self.broadcasts.absolute(stats.broadcasts());
        self.adapter_errors.absolute(stats.adapter_errors());
    }
}

impl Metrics {
    /// The engine's series, with handles from the recorder installed now.
    pub fn for_engine<H: EngineHandler>(engine: &Engine<H>) -> Metrics {
        metrics::gauge!("tether_build_info", "version" => env!("CARGO_PKG_VERSION")).set(1.0);
        Metrics {
            stats: engine.inner.stats.clone(),
            engine: EngineHandles::new(),
            io: None,
            namespaces: Mutex::new(HashMap::new()),
        }
    }

    /// The engine's series and every namespace's of the Socket.IO server on it.
    pub fn for_socketio(engine: &Engine<SocketIo>) -> Metrics {
        let mut metrics = Metrics::for_engine(engine);
        metrics.io = Some(engine.handler().clone());
        metrics
    }

    /// Copies the counters into the facade (namespaces registered since the last call get
    /// their handles now).
    pub fn publish(&self) {
        self.engine.publish(&self.stats);
        let Some(io) = &self.io else { return };
        let rooms = io.local_room_counts();
        let mut namespaces = self.namespaces.lock().unwrap_or_else(|e| e.into_inner());
        let mut seen: HashMap<String, (Vec<Arc<NsStats>>, u64)> = HashMap::new();
        for stats in io.namespace_stats() {
            let entry = seen.entry(stats.label().to_owned()).or_default();
            entry.1 = rooms.get(stats.label()).copied().unwrap_or(0);
            entry.0.push(stats);
        }
        for (label, (all, rooms)) in seen {
            let handles = namespaces
                .entry(label.clone())
                .or_insert_with(|| NsHandles::new(&label));
            // Two dynamic namespaces share the label: their sum is published.
            match all.as_slice() {
                [one] => handles.publish(one, rooms),
                many => handles.publish(&NsStats::sum(many), rooms),
            }
        }
    }
}
