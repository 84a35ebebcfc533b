//! The counters behind the metrics and the Admin UI's stats: a known amount of traffic moves
//! them by exactly that much. A real `Engine<SocketIo>` on its polling API, paused clock; the
//! bytes are the ones a client sends. The `tether_*` series themselves, through a recorder,
//! are in `tests/metrics_published.rs` (its own binary: the recorder is process-wide).

mod support;

use std::time::Duration;
use support::{Client, channel, engine, reasons};
use tether_core::engine::{CloseReason, Direction, TransportKind};
use tether_core::socket::{AckSender, Data, DisconnectReason, NsStats, Socket, SocketIo, TryData};

fn stats_of(io: &SocketIo, label: &str) -> std::sync::Arc<NsStats> {
    io.namespace_stats()
        .into_iter()
        .find(|s| s.label() == label)
        .unwrap_or_else(|| panic!("no stats labelled {label}"))
}

#[tokio::test(start_paused = true)]
async fn a_session_moves_the_engine_counters_by_exactly_its_traffic() {
    let io = SocketIo::builder().build();
    io.ns("/", |socket: Socket| async move {
        socket.on(
            "echo",
            |socket: Socket, Data(text): Data<String>| async move {
                let _ = socket.emit("echo", &text);
            },
        );
    });
    let engine = engine(&io);
    let stats = engine.stats();
    let mut c = Client::open(&engine);
    assert_eq!(
        (
            stats.opened(TransportKind::Polling),
            stats.open(TransportKind::Polling)
        ),
        (1, 1)
    );
    c.connect("/").await;
    for _ in 0..3 {
        c.send(r#"42["echo","hi"]"#).await;
        assert_eq!(c.recv().await, r#"42["echo","hi"]"#);
    }
    let (p, out, inn) = (TransportKind::Polling, Direction::Out, Direction::In);
    // in: the CONNECT ("0": 1 byte of data) and three events of 14 bytes
    assert_eq!(stats.packets(inn, p), 4);
    assert_eq!(stats.bytes(inn, p), 1 + 3 * 14);
    // out: the CONNECT reply (`0{"sid":"<20 characters>"}`: 31 bytes) and three echoes
    assert_eq!(stats.packets(out, p), 4);
    assert_eq!(stats.bytes(out, p), 31 + 3 * 14);
    assert_eq!(stats.packets(inn, TransportKind::WebSocket), 0);

    // pings and pongs are not counted
    tokio::time::sleep(Duration::from_secs(60)).await;
    assert_eq!((stats.packets(inn, p), stats.packets(out, p)), (4, 4));

    c.send("1").await;
    c.assert_closed().await;
    assert_eq!(stats.open_total(), 0);
    assert_eq!(stats.closed(CloseReason::ClientClose), 1);
    assert_eq!(stats.opened_total(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_namespace_counts_connects_refusals_events_broadcasts_and_disconnects() {
    let io = SocketIo::builder().build();
    let (tx, mut sockets) = channel();
    io.ns("/chat", move |socket: Socket| {
        socket.on(
            "shout",
            |socket: Socket, TryData(_): TryData<String>, ack: AckSender| async move {
                let _ = socket.broadcast().emit("shout", "to the others");
                let _ = ack.send(&"done");
            },
        );
        let _ = tx.send(socket);
        async {}
    })
    .middleware(|socket: Socket| async move {
        match socket.auth::<serde_json::Value>() {
            Ok(auth) if auth["no"] == true => Err(tether_core::socket::ConnectError::new("no")),
            _ => Ok(()),
        }
    });
    let engine = engine(&io);
    let chat = stats_of(&io, "/chat");
    let mut clients = Vec::new();
    let mut left = Vec::new();
    for _ in 0..3 {
        let mut c = Client::open(&engine);
        c.connect("/chat").await;
        left.push(reasons(&sockets.next().await));
        clients.push(c);
    }
    let mut refused = Client::open(&engine);
    refused.send(r#"40/chat,{"no":true}"#).await;
    assert_eq!(refused.recv().await, r#"44/chat,{"message":"no"}"#);
    assert_eq!(
        (chat.connects(), chat.sockets(), chat.connect_errors()),
        (3, 3, 1)
    );

    clients[0].send(r#"42/chat,7["shout","x"]"#).await;
    assert_eq!(clients[0].recv().await, r#"43/chat,7["done"]"#);
    for c in &mut clients[1..] {
        assert_eq!(c.recv().await, r#"42/chat,["shout","to the others"]"#);
    }
    assert_eq!(chat.events_in(), 1);
    assert_eq!(chat.broadcasts(), 1);
    assert_eq!(
        chat.events_out(),
        2,
        "one per recipient; the ack is not an event"
    );

    io.of("/chat").unwrap().emit("all", &1).unwrap();
    for c in &mut clients {
        assert_eq!(c.recv().await, r#"42/chat,["all",1]"#);
    }
    assert_eq!((chat.broadcasts(), chat.events_out()), (2, 5));

    clients[0].send("41/chat,").await;
    clients[1].send("1").await;
    assert_eq!(
        left[0].next().await,
        DisconnectReason::ClientNamespaceDisconnect
    );
    assert_eq!(left[1].next().await, DisconnectReason::TransportClose);
    assert_eq!(
        chat.disconnects(DisconnectReason::ClientNamespaceDisconnect),
        1
    );
    assert_eq!(
        chat.disconnects(DisconnectReason::TransportClose),
        1,
        "a client's close packet is a transport close to Socket.IO"
    );
    assert_eq!(chat.sockets(), 1);
    drop(clients);
}

#[tokio::test(start_paused = true)]
async fn every_child_of_a_dynamic_namespace_counts_under_one_label() {
    let io = SocketIo::builder().build();
    io.dyn_ns(
        |path: &str| path.starts_with("/room-"),
        |_: Socket| async {},
    );
    let engine = engine(&io);
    let mut clients = Vec::new();
    for i in 0..5 {
        let mut c = Client::open(&engine);
        c.connect(&format!("/room-{i}")).await;
        clients.push(c);
    }
    let all = io.namespace_stats();
    assert_eq!(all.len(), 1, "one registration, one set of counters");
    assert_eq!(all[0].label(), "dynamic");
    assert_eq!((all[0].connects(), all[0].sockets()), (5, 5));
}
