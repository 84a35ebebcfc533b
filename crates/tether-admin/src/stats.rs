//! `server_stats`: what the UI's dashboard and servers page show, from the engine's counters
//! (the same the Prometheus metrics publish). Every interval the counters' growth since the
//! last one becomes `aggregatedEvents`, stamped with the current second as Node's are.
//!
//! Layer: pure functions over the counters; names nothing else of the crate.

use serde_json::{Value, json};
use tether_core::engine::{CLOSE_REASONS, Direction, EngineStats, TRANSPORTS, TransportKind};

/// What the counters said at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Reading {
    opened: u64,
    closed: Vec<u64>,
    packets_in: u64,
    packets_out: u64,
    bytes_in: u64,
    bytes_out: u64,
}

impl Reading {
    pub(crate) fn of(stats: &EngineStats) -> Reading {
        let sum = |f: &dyn Fn(TransportKind) -> u64| TRANSPORTS.iter().map(|&t| f(t)).sum();
        Reading {
            opened: stats.opened_total(),
            closed: CLOSE_REASONS.iter().map(|&r| stats.closed(r)).collect(),
            packets_in: sum(&|t| stats.packets(Direction::In, t)),
            packets_out: sum(&|t| stats.packets(Direction::Out, t)),
            bytes_in: sum(&|t| stats.bytes(Direction::In, t)),
            bytes_out: sum(&|t| stats.bytes(Direction::Out, t)),
        }
    }
}

/// The `aggregatedEvents` between two readings, stamped `second` (epoch ms, a whole second):
/// only the types that moved, each with its count; `rawDisconnection` once per close reason
/// that moved, the reason as its `subType`.
pub(crate) fn aggregated(before: &Reading, now: &Reading, second: u64) -> Vec<Value> {
    let mut events = Vec::new();
    let mut push = |kind: &str, sub: Option<&str>, count: u64| {
        if count > 0 {
            let mut event = json!({ "timestamp": second, "type": kind, "count": count });
            if let Some(sub) = sub {
                event["subType"] = Value::from(sub);
            }
            events.push(event);
        }
    };
    push(
        "rawConnection",
        None,
        now.opened.saturating_sub(before.opened),
    );
    for (i, reason) in CLOSE_REASONS.iter().enumerate() {
        let was = before.closed.get(i).copied().unwrap_or(0);
        let is = now.closed.get(i).copied().unwrap_or(0);
        push(
            "rawDisconnection",
            Some(reason.as_str()),
            is.saturating_sub(was),
        );
    }
    push(
        "packetsIn",
        None,
        now.packets_in.saturating_sub(before.packets_in),
    );
    push(
        "packetsOut",
        None,
        now.packets_out.saturating_sub(before.packets_out),
    );
    push(
        "bytesIn",
        None,
        now.bytes_in.saturating_sub(before.bytes_in),
    );
    push(
        "bytesOut",
        None,
        now.bytes_out.saturating_sub(before.bytes_out),
    );
    events
}

/// The whole `server_stats` object.
pub(crate) struct ServerStats<'a> {
    pub(crate) server_id: &'a str,
    pub(crate) hostname: &'a str,
    pub(crate) pid: u32,
    pub(crate) uptime_secs: f64,
    pub(crate) clients: u64,
    pub(crate) polling_clients: u64,
    pub(crate) aggregated: Vec<Value>,
    pub(crate) namespaces: Vec<(String, usize)>,
}

impl ServerStats<'_> {
    pub(crate) fn to_json(&self) -> Value {
        let namespaces: Vec<Value> = self
            .namespaces
            .iter()
            .map(|(name, count)| json!({ "name": name, "socketsCount": count }))
            .collect();
        json!({
            "serverId": self.server_id,
            "hostname": self.hostname,
            "pid": self.pid,
            "uptime": self.uptime_secs,
            "clientsCount": self.clients,
            "pollingClientsCount": self.polling_clients,
            "aggregatedEvents": self.aggregated,
            "namespaces": namespaces,
        })
    }
}

/// This machine's name, for `hostname` and the default `serverId`.
pub(crate) fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "localhost".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tether_core::engine::CloseReason;

    fn reading(opened: u64, ping_timeouts: u64, bytes_in: u64) -> Reading {
        let mut closed = vec![0; CLOSE_REASONS.len()];
        let i = CLOSE_REASONS
            .iter()
            .position(|r| *r == CloseReason::PingTimeout)
            .expect("listed");
        closed[i] = ping_timeouts;
        Reading {
            opened,
            closed,
            packets_in: bytes_in / 10,
            packets_out: 0,
            bytes_in,
            bytes_out: 0,
        }
    }

    #[test]
    fn only_what_moved_with_its_count_and_the_second() {
        let events = aggregated(&reading(3, 1, 100), &reading(5, 3, 160), 1_796_149_065_000);
        assert_eq!(
            events,
            vec![
                json!({"timestamp": 1_796_149_065_000_u64, "type": "rawConnection", "count": 2}),
                json!({"timestamp": 1_796_149_065_000_u64, "type": "rawDisconnection", "subType": "ping timeout", "count": 2}),
                json!({"timestamp": 1_796_149_065_000_u64, "type": "packetsIn", "count": 6}),
                json!({"timestamp": 1_796_149_065_000_u64, "type": "bytesIn", "count": 60}),
            ]
        );
        assert!(aggregated(&reading(5, 3, 160), &reading(5, 3, 160), 0).is_empty());
    }

    #[test]
    fn the_object_has_nodes_fields_and_arrays_always() {
        let stats = ServerStats {
            server_id: "node-1",
            hostname: "vm",
            pid: 42,
            uptime_secs: 1.5,
            clients: 3,
            polling_clients: 1,
            aggregated: Vec::new(),
            namespaces: vec![("/".to_owned(), 2), ("/admin".to_owned(), 1)],
        };
        let json = stats.to_json();
        assert_eq!(json["aggregatedEvents"], json!([]));
        assert_eq!(
            json["namespaces"],
            json!([{"name": "/", "socketsCount": 2}, {"name": "/admin", "socketsCount": 1}])
        );
        let mut keys: Vec<&String> = json.as_object().expect("object").keys().collect();
        keys.sort();
        assert_eq!(
            keys,
            [
                "aggregatedEvents",
                "clientsCount",
                "hostname",
                "namespaces",
                "pid",
                "pollingClientsCount",
                "serverId",
                "uptime"
            ]
        );
    }
}
