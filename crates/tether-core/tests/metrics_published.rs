//! The `tether_*` series, as a recorder sees them after `Metrics::publish`: each counter moved
//! by exactly the traffic, and every label bounded (namespace, transport, direction, reason,
//! from, version; never a socket id, a room or an event name). One test in its own binary:
//! the recorder is process-wide.

mod support;

use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use std::collections::{BTreeMap, BTreeSet};
use support::{Client, channel, engine};
use tether_core::metrics::Metrics;
use tether_core::socket::{AckSender, Socket, SocketIo};

/// Every series: (name, sorted labels) -> value. Counters read their absolute value (the
/// recorder keeps what `absolute` set), gauges what was set.
fn read(snapshotter: &Snapshotter) -> BTreeMap<(String, Vec<String>), DebugValue> {
    snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .map(|(key, _, _, value)| {
            let key = key.key();
            let mut labels: Vec<String> = key
                .labels()
                .map(|l| format!("{}={}", l.key(), l.value()))
                .collect();
            labels.sort();
            ((key.name().to_owned(), labels), value)
        })
        .collect()
}

fn counter(all: &BTreeMap<(String, Vec<String>), DebugValue>, name: &str, labels: &[&str]) -> u64 {
    let key = (
        name.to_owned(),
        labels.iter().map(|s| s.to_string()).collect(),
    );
    match all.get(&key) {
        Some(DebugValue::Counter(n)) => *n,
        other => panic!("{name}{labels:?}: {other:?}"),
    }
}

fn gauge(all: &BTreeMap<(String, Vec<String>), DebugValue>, name: &str, labels: &[&str]) -> f64 {
    let key = (
        name.to_owned(),
        labels.iter().map(|s| s.to_string()).collect(),
    );
    match all.get(&key) {
        Some(DebugValue::Gauge(v)) => v.into_inner(),
        other => panic!("{name}{labels:?}: {other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn published_series_move_by_exactly_the_traffic_and_their_labels_are_bounded() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    metrics::set_global_recorder(recorder).expect("the only recorder of this binary");

    let io = SocketIo::builder().build();
    let (tx, mut sockets) = channel();
    io.ns("/", move |socket: Socket| {
        socket.on("whoami", |ack: AckSender| async move {
            let _ = ack.send(&"pong");
        });
        socket.join("lobby");
        let _ = tx.send(socket);
        async {}
    });
    io.dyn_ns(|p: &str| p.starts_with("/game-"), |_: Socket| async {});
    let engine = engine(&io);
    let metrics = Metrics::for_socketio(&engine);

    metrics.publish();
    let before = read(&snapshotter);
    assert_eq!(
        counter(&before, "tether_connects_total", &["namespace=/"]),
        0
    );
    assert_eq!(
        counter(
            &before,
            "tether_engine_connections_total",
            &["transport=polling"]
        ),
        0
    );

    let mut a = Client::open(&engine);
    a.connect("/").await;
    let socket = sockets.next().await;
    let mut b = Client::open(&engine);
    b.connect("/game-1").await;
    b.connect("/game-2").await;
    for id in 0..10 {
        a.send(&format!(r#"42{id}["whoami",{{"user":"{id}"}}]"#))
            .await;
        assert_eq!(a.recv().await, format!(r#"43{id}["pong"]"#));
    }
    io.to("lobby").emit("news", &"x").unwrap();
    assert_eq!(a.recv().await, r#"42["news","x"]"#);
    let ack = socket.emit_with_ack("question", &1).unwrap();
    assert_eq!(a.recv().await, r#"420["question",1]"#);
    a.send(r#"430["answer"]"#).await;
    ack.await.expect("answered");

    metrics.publish();
    let after = read(&snapshotter);
    assert_eq!(
        counter(
            &after,
            "tether_engine_connections_total",
            &["transport=polling"]
        ),
        2
    );
    assert_eq!(
        gauge(&after, "tether_engine_connections", &["transport=polling"]),
        2.0
    );
    // in: 3 CONNECTs, 10 events, 1 ack
    assert_eq!(
        counter(
            &after,
            "tether_engine_packets_total",
            &["direction=in", "transport=polling"]
        ),
        14
    );
    // out: 3 CONNECT replies, 10 acks, the broadcast, the question
    assert_eq!(
        counter(
            &after,
            "tether_engine_packets_total",
            &["direction=out", "transport=polling"]
        ),
        15
    );
    assert_eq!(
        counter(&after, "tether_connects_total", &["namespace=/"]),
        1
    );
    assert_eq!(
        counter(&after, "tether_connects_total", &["namespace=dynamic"]),
        2
    );
    assert_eq!(gauge(&after, "tether_sockets", &["namespace=dynamic"]), 2.0);
    assert_eq!(
        counter(&after, "tether_events_received_total", &["namespace=/"]),
        10
    );
    assert_eq!(
        counter(&after, "tether_events_sent_total", &["namespace=/"]),
        2
    );
    assert_eq!(
        counter(&after, "tether_broadcasts_total", &["namespace=/"]),
        1
    );
    assert_eq!(
        gauge(&after, "tether_rooms", &["namespace=/"]),
        1.0,
        "lobby"
    );
    assert!(
        matches!(after.get(&("tether_ack_latency_seconds".to_owned(), vec!["namespace=/".to_owned()])),
            Some(DebugValue::Histogram(v)) if v.len() == 1),
        "one acknowledgement's latency"
    );
    assert!(
        matches!(after.get(&("tether_handler_duration_seconds".to_owned(), vec!["namespace=/".to_owned()])),
            Some(DebugValue::Histogram(v)) if v.len() == 10),
        "ten handlers' durations"
    );

    b.send("1").await;
    b.assert_closed().await;
    metrics.publish();
    let closed = read(&snapshotter);
    assert_eq!(
        counter(
            &closed,
            "tether_engine_disconnections_total",
            &["reason=forced close"]
        ),
        1
    );
    assert_eq!(
        counter(
            &closed,
            "tether_disconnects_total",
            &["namespace=dynamic", "reason=transport close"]
        ),
        2
    );
    assert_eq!(
        gauge(&closed, "tether_sockets", &["namespace=dynamic"]),
        0.0
    );

    // bounded labels: only these keys, and no socket id, sid, room or event name anywhere
    let keys: BTreeSet<String> = closed
        .keys()
        .flat_map(|(_, labels)| {
            labels
                .iter()
                .map(|l| l.split('=').next().unwrap().to_owned())
        })
        .collect();
    let allowed: BTreeSet<String> = [
        "direction",
        "from",
        "namespace",
        "reason",
        "transport",
        "version",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert!(keys.is_subset(&allowed), "{keys:?}");
    let namespaces: BTreeSet<&str> = closed
        .keys()
        .flat_map(|(_, labels)| labels.iter())
        .filter_map(|l| l.strip_prefix("namespace="))
        .collect();
    assert_eq!(namespaces, BTreeSet::from(["/", "dynamic"]));
    let text = format!("{closed:?}");
    for secret in [
        socket.id().as_str(),
        a.sid.as_str(),
        "lobby",
        "whoami",
        "news",
        "game-1",
    ] {
        assert!(!text.contains(secret), "{secret} is in a label");
    }
    assert_eq!(
        closed.len(),
        after.len(),
        "no series appeared for the traffic"
    );
}
