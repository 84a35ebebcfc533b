//! Connection state recovery on one node (`LocalAdapter`'s store), driven by the fake polling
//! client of `support` on tokio's paused clock. The packets are the ones `socket.io-client`
//! 4.8 sends: `40{"pid":..,"offset":..}` on reconnect, after it kept the last string argument
//! of each event as its offset.

mod support;

use serde_json::{Value, json};
use std::time::Duration;
use support::{Client, Rx, channel, engine, reasons};
use tether_core::adapter::{BroadcastOptions, EventPacket, RecoveryConfig, SessionStore};
use tether_core::engine::EngineConfig;
use tether_core::engine::{Engine, Sid};
use tether_core::socket::{
    ConnectError, DisconnectReason, Payload, Socket, SocketIo, SocketIoConfig,
};

/// What the connect handler reports of each socket.
#[derive(Debug)]
struct Seen {
    socket: Socket,
    recovered: bool,
}

fn server(recovery: RecoveryConfig) -> (SocketIo, Engine<SocketIo>, Rx<Seen>) {
    server_with(recovery, EngineConfig::default())
}

fn server_with(
    recovery: RecoveryConfig,
    engine_config: EngineConfig,
) -> (SocketIo, Engine<SocketIo>, Rx<Seen>) {
    let io = SocketIo::builder()
        .config(SocketIoConfig::default().connection_state_recovery(recovery))
        .build();
    let (tx, rx) = channel();
    io.ns("/", move |socket: Socket| {
        let _ = tx.send(Seen {
            recovered: socket.recovered(),
            socket,
        });
        async {}
    });
    let engine = Engine::new(engine_config, io.clone());
    (io, engine, rx)
}

/// The `sid` and `pid` of a CONNECT reply, which has exactly those two keys.
fn ids(reply: &str) -> (String, String) {
    let json = reply.strip_prefix("40").expect("a CONNECT reply");
    let value: Value = serde_json::from_str(json).expect("json");
    let object = value.as_object().expect("an object");
    let mut keys: Vec<_> = object.keys().cloned().collect();
    keys.sort();
    assert_eq!(keys, ["pid", "sid"], "{reply}");
    let sid = object["sid"].as_str().expect("sid").to_owned();
    let pid = object["pid"].as_str().expect("pid").to_owned();
    assert!(
        Sid::parse(&sid).is_some() && Sid::parse(&pid).is_some(),
        "{reply}"
    );
    (sid, pid)
}

/// An event's arguments after its name.
fn args(packet: &str) -> Vec<Value> {
    let json = packet.strip_prefix("42").expect("an EVENT");
    let Value::Array(mut all) = serde_json::from_str(json).expect("json") else {
        panic!("{packet}")
    };
    all.remove(0);
    all
}

/// The offset a client keeps: the last argument, when a string.
fn offset(packet: &str) -> String {
    args(packet)
        .last()
        .and_then(Value::as_str)
        .expect("an offset")
        .to_owned()
}

/// Reconnects with `{"pid","offset"}` (no offset: `None`), as the official client does.
async fn reconnect(engine: &Engine<SocketIo>, pid: &str, offset: Option<&str>) -> (Client, String) {
    let mut auth = json!({ "pid": pid });
    if let Some(offset) = offset {
        auth["offset"] = json!(offset);
    }
    let mut client = Client::open(engine);
    client.send(&format!("40{auth}")).await;
    let reply = client.recv().await;
    (client, reply)
}

/// A client joined to `/`: its connection, socket id, private id and server-side socket.
async fn joined(
    engine: &Engine<SocketIo>,
    seen: &mut Rx<Seen>,
) -> (Client, String, String, Socket) {
    let mut c = Client::open(engine);
    c.send("40").await;
    let (sid, pid) = ids(&c.recv().await);
    let s = seen.next().await;
    assert_eq!(s.socket.id().as_str(), sid);
    assert!(!s.recovered);
    (c, sid, pid, s.socket)
}

/// Drops the connection under `socket`, as a network blip does, and waits until the server
/// saw it leave.
async fn drop_transport(client: Client, socket: &Socket) {
    let mut gone = reasons(socket);
    let engine = client.engine.socket(client.sid).expect("open");
    engine.abort(tether_core::engine::CloseReason::TransportClose);
    assert_eq!(gone.next().await, DisconnectReason::TransportClose);
}

#[tokio::test(start_paused = true)]
async fn the_connect_reply_carries_a_pid_and_recoverable_events_an_offset() {
    let (_io, engine, mut seen) = server(RecoveryConfig::default());
    let mut c = Client::open(&engine);
    c.send("40").await;
    let (sid, _pid) = ids(&c.recv().await);
    let s = seen.next().await;
    assert_eq!(s.socket.id().as_str(), sid);
    assert!(!s.recovered);

    s.socket.emit("private", &1).expect("emit");
    let private = c.recv().await;
    assert_eq!(args(&private)[0], json!(1));
    assert_eq!(args(&private).len(), 2, "{private}");

    s.socket.namespace().emit("all", &"x").expect("broadcast");
    let all = c.recv().await;
    assert_eq!(args(&all).len(), 2, "{all}");
    assert_ne!(offset(&private), offset(&all));

    // Volatile and acknowledged emits are not stored: no offset.
    s.socket.volatile().emit("vol", &2).expect("volatile");
    assert_eq!(c.recv().await, r#"42["vol",2]"#);
    let _ack = s.socket.emit_with_ack("ask", &3).expect("ack");
    let asked = c.recv().await;
    assert!(
        asked.starts_with("42") && asked.ends_with(r#"["ask",3]"#),
        "{asked}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_client_back_within_the_limit_gets_its_id_rooms_data_and_every_missed_event_in_order() {
    let (io, engine, mut seen) = server(RecoveryConfig::default());
    let (mut c, sid, pid, s) = joined(&engine, &mut seen).await;
    s.join("room");
    s.set_data(&json!({"name": "ada"})).expect("data");
    s.emit("hello", &0).expect("emit");
    let last = offset(&c.recv().await);
    drop_transport(c, &s).await;

    // 100 events while it is away: to its id and to its room, interleaved, and one to a room
    // it is not in.
    for i in 0..100 {
        let to = if i % 2 == 0 {
            sid.clone()
        } else {
            "room".to_owned()
        };
        io.to(to).emit("missed", &i).expect("emit");
    }
    io.to("elsewhere").emit("not-for-it", &0).expect("emit");

    let (mut c, reply) = reconnect(&engine, &pid, Some(&last)).await;
    assert_eq!(ids(&reply), (sid.clone(), pid.clone()));
    let back = seen.next().await;
    assert!(back.recovered);
    assert_eq!(back.socket.id().as_str(), sid);
    let mut rooms: Vec<String> = back.socket.rooms().iter().map(|r| r.to_string()).collect();
    rooms.sort();
    let mut want = vec!["room".to_owned(), sid.clone()];
    want.sort();
    assert_eq!(rooms, want);
    assert_eq!(back.socket.data_value(), json!({"name": "ada"}));
    let mut offsets = Vec::new();
    for i in 0..100 {
        let packet = c.recv().await;
        assert_eq!(args(&packet)[0], json!(i), "{packet}");
        offsets.push(offset(&packet));
    }
    offsets.dedup();
    assert_eq!(offsets.len(), 100);
    c.assert_silent().await;

    // Live traffic goes on after the replay, with offsets.
    io.to("room").emit("live", &1).expect("emit");
    let live = c.recv().await;
    assert_eq!(args(&live)[0], json!(1));
    assert!(args(&live).len() == 2);
}

#[tokio::test(start_paused = true)]
async fn past_max_disconnection_duration_the_client_gets_a_fresh_socket() {
    let config = RecoveryConfig::default().max_disconnection_duration(Duration::from_secs(10));
    let (_io, engine, mut seen) = server(config);
    let (mut c, sid, pid, s) = joined(&engine, &mut seen).await;
    s.emit("hello", &0).expect("emit");
    let last = offset(&c.recv().await);
    drop_transport(c, &s).await;
    tokio::time::sleep(Duration::from_secs(11)).await;
    let (_c, reply) = reconnect(&engine, &pid, Some(&last)).await;
    let (new_sid, new_pid) = ids(&reply);
    assert_ne!(new_sid, sid);
    assert_ne!(new_pid, pid);
    assert!(!seen.next().await.recovered);
}

#[tokio::test(start_paused = true)]
async fn a_client_that_got_no_event_yet_recovers_its_rooms_and_what_it_missed() {
    let (io, engine, mut seen) = server(RecoveryConfig::default());
    // Traffic before it connected is not replayed to it.
    io.emit("before", &0).expect("emit");
    let (c, sid, pid, s) = joined(&engine, &mut seen).await;
    s.join("room");
    drop_transport(c, &s).await;
    io.to("room").emit("missed", &1).expect("emit");
    let (mut c, reply) = reconnect(&engine, &pid, None).await;
    assert_eq!(ids(&reply).0, sid);
    let back = seen.next().await;
    assert!(back.recovered);
    assert!(back.socket.rooms().iter().any(|r| r == "room"));
    assert_eq!(args(&c.recv().await)[0], json!(1));
    c.assert_silent().await;
}

#[tokio::test(start_paused = true)]
async fn a_trimmed_offset_gives_a_fresh_socket_and_nothing_partial() {
    // Room for a few packets only.
    let config = RecoveryConfig::default().max_stored_bytes(2_000);
    let (io, engine, mut seen) = server(config);
    let (mut c, sid, pid, s) = joined(&engine, &mut seen).await;
    s.emit("hello", &0).expect("emit");
    let last = offset(&c.recv().await);
    drop_transport(c, &s).await;
    for i in 0..100 {
        io.emit("flood", &i).expect("emit");
    }
    let (mut c, reply) = reconnect(&engine, &pid, Some(&last)).await;
    assert_ne!(ids(&reply).0, sid);
    assert!(!seen.next().await.recovered);
    c.assert_silent().await;
}

#[tokio::test(start_paused = true)]
async fn an_offset_from_elsewhere_or_a_namespace_leave_gives_a_fresh_socket() {
    let (_io, engine, mut seen) = server(RecoveryConfig::default());
    let (mut c, sid, pid, s) = joined(&engine, &mut seen).await;
    s.emit("hello", &0).expect("emit");
    let last = offset(&c.recv().await);
    drop_transport(c, &s).await;
    // Another store's epoch: not ours.
    let (_, seq) = last.split_once('-').expect("epoch-seq");
    let foreign = format!("00000000-{seq}");
    let (_c2, reply) = reconnect(&engine, &pid, Some(&foreign)).await;
    assert_ne!(ids(&reply).0, sid);
    assert!(!seen.next().await.recovered);

    // A client that left the namespace itself does not come back.
    let (c, _sid, pid, s) = joined(&engine, &mut seen).await;
    let mut gone = reasons(&s);
    c.send("41").await;
    assert_eq!(
        gone.next().await,
        DisconnectReason::ClientNamespaceDisconnect
    );
    let (_c3, _reply) = reconnect(&engine, &pid, None).await;
    assert!(!seen.next().await.recovered);
}

#[tokio::test(start_paused = true)]
async fn the_same_client_recovers_a_second_and_a_third_time() {
    let (io, engine, mut seen) = server(RecoveryConfig::default());
    let (mut c, sid, pid, mut s) = joined(&engine, &mut seen).await;
    s.emit("n", &0).expect("emit");
    let mut last = offset(&c.recv().await);
    for round in 1..=3 {
        drop_transport(c, &s).await;
        io.to(sid.clone()).emit("n", &round).expect("emit");
        let (mut next, reply) = reconnect(&engine, &pid, Some(&last)).await;
        assert_eq!(ids(&reply), (sid.clone(), pid.clone()), "round {round}");
        let back = seen.next().await;
        assert!(back.recovered, "round {round}");
        s = back.socket;
        let packet = next.recv().await;
        assert_eq!(args(&packet)[0], json!(round));
        last = offset(&packet);
        c = next;
    }
    assert!(s.connected());
}

#[tokio::test(start_paused = true)]
async fn a_reconnect_before_the_server_noticed_the_drop_evicts_the_stale_socket() {
    let (io, engine, mut seen) = server(RecoveryConfig::default());
    let (mut c, sid, pid, old) = joined(&engine, &mut seen).await;
    old.join("room");
    old.emit("n", &0).expect("emit");
    let last = offset(&c.recv().await);
    let mut gone = reasons(&old);
    // The old connection is half-open: still open on the server, the client left it.
    io.to("room").emit("n", &1).expect("emit");
    let (mut fresh, reply) = reconnect(&engine, &pid, Some(&last)).await;
    assert_eq!(ids(&reply), (sid.clone(), pid.clone()));
    assert_eq!(gone.next().await, DisconnectReason::Replaced);
    let back = seen.next().await;
    assert!(back.recovered);
    assert!(back.socket.rooms().iter().any(|r| r == "room"));
    assert_eq!(args(&fresh.recv().await)[0], json!(1));
    // The evicted copy kept no session: the next drop and recovery start from the new one.
    io.to("room").emit("n", &2).expect("emit");
    let last = offset(&fresh.recv().await);
    drop_transport(fresh, &back.socket).await;
    drop(c);
    io.to("room").emit("n", &3).expect("emit");
    let (mut again, reply) = reconnect(&engine, &pid, Some(&last)).await;
    assert_eq!(ids(&reply).0, sid);
    assert!(seen.next().await.recovered);
    assert_eq!(args(&again.recv().await)[0], json!(3));
    again.assert_silent().await;
}

#[tokio::test(start_paused = true)]
async fn middleware_is_skipped_for_a_recovered_socket_unless_configured() {
    for skip in [true, false] {
        let io = SocketIo::builder()
            .config(
                SocketIoConfig::default()
                    .connection_state_recovery(RecoveryConfig::default().skip_middlewares(skip)),
            )
            .build();
        let (ran, mut runs) = channel();
        let (tx, mut seen) = channel();
        io.ns("/", move |socket: Socket| {
            let _ = tx.send((socket.recovered(), socket));
            async {}
        })
        .middleware(move |socket: Socket| {
            let ran = ran.clone();
            async move {
                let _ = ran.send(socket.recovered());
                Ok::<(), ConnectError>(())
            }
        });
        let engine = engine(&io);
        let mut c = Client::open(&engine);
        c.send("40").await;
        let (_sid, pid) = ids(&c.recv().await);
        assert!(!runs.next().await);
        let (recovered, s) = seen.next().await;
        assert!(!recovered);
        drop_transport(c, &s).await;
        let (_c, _reply) = reconnect(&engine, &pid, None).await;
        assert!(seen.next().await.0);
        if skip {
            runs.none().await;
        } else {
            assert!(runs.next().await, "the middleware sees a recovered socket");
        }
    }
}

#[tokio::test(start_paused = true)]
async fn without_recovery_the_reply_has_no_pid_and_events_no_offset() {
    let io = SocketIo::builder().build();
    let (c, s) = support::one(&io).await;
    let mut c = c;
    s.emit("e", &1).expect("emit");
    assert_eq!(c.recv().await, r#"42["e",1]"#);
    // A pid sent anyway is only auth data.
    let mut c2 = Client::open(&c.engine);
    c2.send(r#"40{"pid":"AAAAAAAAAAAAAAAAAAAA","offset":"x-1"}"#)
        .await;
    let reply = c2.recv().await;
    assert!(!reply.contains("pid"), "{reply}");
}

#[test]
fn the_store_keeps_its_byte_limit() {
    let store = SessionStore::new(RecoveryConfig::default().max_stored_bytes(10_000));
    let opts = BroadcastOptions::default();
    for i in 0..1_000 {
        let packet = EventPacket {
            event: "flood".into(),
            payload: Payload::from_value(&i).expect("json"),
        };
        store.record(&packet, &opts);
    }
    let (packets, bytes, _) = store.usage();
    assert!(bytes <= 10_000, "{bytes}");
    assert!(packets > 10 && packets < 1_000, "{packets}");
}

#[tokio::test(start_paused = true)]
async fn past_max_sessions_the_session_that_left_first_is_dropped() {
    let (_io, engine, mut seen) = server(RecoveryConfig::default().max_sessions(3));
    let mut pids = Vec::new();
    for _ in 0..4 {
        let mut c = Client::open(&engine);
        c.send("40").await;
        pids.push(ids(&c.recv().await));
        let s = seen.next().await.socket;
        drop_transport(c, &s).await;
    }
    let (_c, reply) = reconnect(&engine, &pids[0].1, None).await;
    assert_ne!(ids(&reply).0, pids[0].0, "the first one was dropped");
    assert!(!seen.next().await.recovered);
    let (_c, reply) = reconnect(&engine, &pids[1].1, None).await;
    assert_eq!(ids(&reply).0, pids[1].0, "the second one is kept");
    assert!(seen.next().await.recovered);
}

#[tokio::test(start_paused = true)]
async fn past_max_packet_age_what_a_client_missed_is_gone_and_it_starts_afresh() {
    let config = RecoveryConfig::default().max_packet_age(Duration::from_secs(5));
    let (io, engine, mut seen) = server(config);
    let (mut c, sid, pid, s) = joined(&engine, &mut seen).await;
    s.emit("n", &0).expect("emit");
    let last = offset(&c.recv().await);
    drop_transport(c, &s).await;
    io.to(sid.clone()).emit("n", &1).expect("emit");
    tokio::time::sleep(Duration::from_secs(6)).await;
    // Packets are trimmed as new ones come: this one drops the missed one, now too old.
    io.emit("n", &2).expect("emit");
    let (mut c, reply) = reconnect(&engine, &pid, Some(&last)).await;
    assert_ne!(ids(&reply).0, sid);
    assert!(!seen.next().await.recovered);
    c.assert_silent().await;
}

#[tokio::test(start_paused = true)]
async fn a_replay_larger_than_the_outbox_closes_the_connection_and_the_client_then_starts_afresh() {
    let (io, engine, mut seen) = server_with(
        RecoveryConfig::default(),
        EngineConfig::default().max_buffered_bytes(16 * 1024),
    );
    let (mut c, sid, pid, s) = joined(&engine, &mut seen).await;
    s.emit("n", &0).expect("emit");
    let last = offset(&c.recv().await);
    drop_transport(c, &s).await;
    // 40 KiB missed: each fits the 16 KiB outbox, all of them do not.
    let big = "x".repeat(1024);
    for _ in 0..40 {
        io.to(sid.clone()).emit("n", &big).expect("emit");
    }
    let mut c = Client::open(&engine);
    c.send(&format!("40{}", json!({ "pid": pid, "offset": last })))
        .await;
    // The outbox overflowed with the replay: everything queued, the CONNECT reply included,
    // is dropped with the connection, and the connect handler never ran.
    let before = c.assert_closed().await;
    assert!(before.len() < 40, "{} packets came", before.len());
    seen.none().await;
    // That session is not kept: the next try is a fresh socket.
    let (_c, reply) = reconnect(&engine, &pid, Some(&last)).await;
    assert_ne!(ids(&reply).0, sid);
    assert!(!seen.next().await.recovered);
}
