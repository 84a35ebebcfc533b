//! Rooms, broadcast, slow consumers and disconnects.

use std::time::Duration;
use tether_core::engine::{Direction, Engine, EngineConfig, TransportKind};
use tether_core::socket::{
    AckError, DisconnectReason, EmitError, Payload, RawArgs, Socket, SocketIo, SocketIoConfig,
};

use crate::support::{Client, engine, io_with, joined, one, reasons, sockets_of};

// ---------------------------------------------------------------------------------------------
// Rooms and broadcast

fn sorted(mut rooms: Vec<bytestring::ByteString>) -> Vec<String> {
    let mut out: Vec<String> = rooms.drain(..).map(|r| r.to_string()).collect();
    out.sort();
    out
}

#[tokio::test(start_paused = true)]
async fn join_leave_and_rooms_include_the_own_id() {
    let io = SocketIo::builder().build();
    let (c, s) = one(&io).await;
    let own = s.id().to_string();
    assert_eq!(sorted(s.rooms()), std::slice::from_ref(&own));
    s.join("a");
    s.join("b");
    let mut want = vec!["a".to_owned(), "b".to_owned(), own.clone()];
    want.sort();
    assert_eq!(sorted(s.rooms()), want);
    s.leave("a");
    want.retain(|r| r != "a");
    assert_eq!(sorted(s.rooms()), want);
    c.send("41").await;
    assert!(s.rooms().is_empty());
    assert!(io.of("/").unwrap().rooms().is_empty());
}

#[tokio::test(start_paused = true)]
async fn to_several_rooms_reaches_the_union_once_and_except_removes() {
    let io = SocketIo::builder().build();
    let mut sockets = sockets_of(&io, "/");
    let mut all = joined(&engine(&io), &mut sockets, 4).await;
    all[0].1.join("r1");
    all[1].1.join("r1");
    all[1].1.join("r2");
    all[2].1.join("r2");
    let expect = async |all: &mut [(Client, Socket)], who: &[usize], packet: &str| {
        for &i in who {
            assert_eq!(all[i].0.recv().await, packet, "client {i}");
        }
        for (c, _) in all.iter_mut() {
            c.assert_silent().await;
        }
    };
    io.to("r1").to("r2").emit("x", &1).unwrap();
    expect(&mut all, &[0, 1, 2], r#"42["x",1]"#).await;
    io.to("r1").except("r2").emit("y", &2).unwrap();
    expect(&mut all, &[0], r#"42["y",2]"#).await;
    io.of("/").unwrap().except("r1").emit("z", &3).unwrap();
    expect(&mut all, &[2, 3], r#"42["z",3]"#).await;
    // From a socket: the sender is left out, even when it is in the room.
    all[0].1.broadcast().emit("b", &4).unwrap();
    expect(&mut all, &[1, 2, 3], r#"42["b",4]"#).await;
    all[1].1.to("r1").emit("t", &5).unwrap();
    expect(&mut all, &[0], r#"42["t",5]"#).await;
    // Every socket is in the room of its own id.
    let dm = all[3].1.id().to_string();
    all[0].1.to(dm).emit("dm", &6).unwrap();
    expect(&mut all, &[3], r#"42["dm",6]"#).await;
}

#[tokio::test(start_paused = true)]
async fn of_reaches_only_that_namespace() {
    let io = SocketIo::builder().build();
    let _root = sockets_of(&io, "/");
    let _admin = sockets_of(&io, "/admin");
    let engine = engine(&io);
    let mut root_only = Client::open(&engine);
    root_only.connect("/").await;
    let mut both = Client::open(&engine);
    both.connect("/").await;
    both.connect("/admin").await;
    io.of("/admin").unwrap().emit("a", &1).unwrap();
    assert_eq!(both.recv().await, r#"42/admin,["a",1]"#);
    root_only.assert_silent().await;
    assert!(io.of("/missing").is_none());
}

#[tokio::test(start_paused = true)]
async fn broadcast_acks_are_collected_from_every_socket() {
    let io = SocketIo::builder().build();
    let mut sockets = sockets_of(&io, "/");
    let mut all = joined(&engine(&io), &mut sockets, 3).await;
    let acks = io
        .of("/")
        .unwrap()
        .timeout(Duration::from_secs(1))
        .emit_with_ack("q", &"?")
        .unwrap();
    for (c, _) in &mut all {
        assert_eq!(c.recv().await, r#"420["q","?"]"#);
    }
    all[0].0.send("430[10]").await;
    all[1].0.send("430[20]").await;
    let mut answers: Vec<_> = acks
        .await
        .into_iter()
        .map(|a| a.map(|r| r.data::<u32>().expect("a number")))
        .collect();
    // Both answers (in no set order: they were waiting together), then one timeout for the
    // socket that never answered.
    assert_eq!(answers.pop(), Some(Err(AckError::Timeout)));
    let mut values: Vec<u32> = answers.into_iter().flatten().collect();
    values.sort_unstable();
    assert_eq!(values, [10, 20]);
}

#[tokio::test(start_paused = true)]
async fn a_broadcast_with_ack_reports_a_socket_at_its_pending_ack_limit() {
    let io = io_with(SocketIoConfig::default().max_pending_acks(1));
    let mut sockets = sockets_of(&io, "/");
    let mut all = joined(&engine(&io), &mut sockets, 2).await;
    // The first socket already awaits one acknowledgement: its limit.
    let _first = all[0].1.emit_with_ack("first", &1).unwrap();
    assert_eq!(all[0].0.recv().await, r#"420["first",1]"#);
    let acks = io
        .of("/")
        .unwrap()
        .timeout(Duration::from_secs(1))
        .emit_with_ack("q", &"?")
        .unwrap();
    assert_eq!(all[1].0.recv().await, r#"421["q","?"]"#);
    all[1].0.send("431[7]").await;
    let answers: Vec<_> = acks
        .await
        .into_iter()
        .map(|a| a.map(|r| r.data::<u32>().expect("a number")))
        .collect();
    // The socket at its limit is reported first (the event was not sent to it).
    assert_eq!(answers, [Err(AckError::TooManyPending), Ok(7)]);
}

// ---------------------------------------------------------------------------------------------
// Slow consumers

/// A server whose connections buffer at most 64 bytes, a reading client and a stalled one.
async fn fast_and_slow() -> (SocketIo, (Client, Socket), (Client, Socket)) {
    let io = SocketIo::builder().build();
    let mut sockets = sockets_of(&io, "/");
    let engine = Engine::new(EngineConfig::default().max_buffered_bytes(64), io.clone());
    let mut fast = Client::open(&engine);
    fast.connect("/").await;
    let fast_socket = sockets.next().await;
    let mut slow = Client::stalled(&engine);
    slow.connect("/").await;
    let slow_socket = sockets.next().await;
    (io, (fast, fast_socket), (slow, slow_socket))
}

/// 50 bytes on the wire: one fits in the 64-byte outbox, two do not.
fn big() -> String {
    "x".repeat(40)
}

fn big_packet(event: &str) -> String {
    format!("42[\"{event}\",\"{}\"]", big())
}

#[tokio::test(start_paused = true)]
async fn a_broadcast_disconnects_a_slow_consumer_and_others_still_receive() {
    let (io, (mut fast, fast_socket), (mut slow, slow_socket)) = fast_and_slow().await;
    let mut gone = reasons(&slow_socket);
    io.emit("b", &big()).unwrap();
    assert_eq!(fast.recv().await, big_packet("b"));
    io.emit("b", &big()).unwrap();
    assert_eq!(fast.recv().await, big_packet("b"));
    assert_eq!(gone.next().await, DisconnectReason::SlowConsumer);
    assert!(!slow_socket.connected());
    slow.assert_closed().await;
    assert!(fast_socket.connected());
    // A broadcast counts what it queued once it is done, and the refusal as it happens: the
    // two CONNECT replies, the first broadcast to both, the second to the fast one only.
    let stats = fast.engine.stats();
    assert_eq!(
        stats.packets(Direction::Out, TransportKind::Polling),
        2 + 2 + 1
    );
    assert_eq!(stats.outbox_full(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_volatile_broadcast_skips_a_slow_consumer() {
    let (io, (mut fast, _), (mut slow, slow_socket)) = fast_and_slow().await;
    let mut gone = reasons(&slow_socket);
    io.emit("b", &big()).unwrap();
    assert_eq!(fast.recv().await, big_packet("b"));
    io.of("/").unwrap().volatile().emit("v", &big()).unwrap();
    slow_socket.volatile().emit("v", &big()).unwrap();
    assert_eq!(fast.recv().await, big_packet("v"));
    gone.none().await;
    assert!(slow_socket.connected() && slow.is_open());
    assert_eq!(slow.recv().await, big_packet("b"));
    assert_eq!(slow.engine.socket(slow.sid).unwrap().buffered_bytes(), 0);
}

#[tokio::test(start_paused = true)]
async fn a_direct_emit_to_a_full_outbox_fails_and_keeps_the_socket() {
    let (_io, _fast, (mut slow, slow_socket)) = fast_and_slow().await;
    slow_socket.emit("d", &big()).unwrap();
    assert!(matches!(
        slow_socket.emit("d", &big()),
        Err(EmitError::OutboxFull)
    ));
    assert!(slow_socket.connected() && slow.is_open());
    assert_eq!(slow.recv().await, big_packet("d"));
}

// ---------------------------------------------------------------------------------------------
// Disconnect

#[tokio::test(start_paused = true)]
async fn client_disconnect_gets_no_reply_and_the_connection_stays() {
    let io = SocketIo::builder().build();
    let mut sockets = sockets_of(&io, "/");
    let _custom = sockets_of(&io, "/custom");
    let (mut c, s) = joined(&engine(&io), &mut sockets, 1).await.pop().unwrap();
    let mut gone = reasons(&s);
    c.send("41").await;
    assert_eq!(
        gone.next().await,
        DisconnectReason::ClientNamespaceDisconnect
    );
    c.assert_silent().await;
    assert!(!s.connected());
    // Joining again gives a new socket; leaving another namespace leaves `/` alone.
    let again = c.connect("/").await;
    assert_ne!(again, s.id().as_str());
    let s = sockets.next().await;
    s.on("echo", |s: Socket, RawArgs(a): RawArgs| async move {
        s.emit_payload("echo", &Payload::from_raw(a, vec![]))
    });
    c.connect("/custom").await;
    c.send("41/custom,").await;
    c.send(r#"42["echo",1]"#).await;
    assert_eq!(c.recv().await, r#"42["echo",1]"#);
}

#[tokio::test(start_paused = true)]
async fn server_disconnect_sends_disconnect_and_keeps_the_connection() {
    let io = SocketIo::builder().build();
    let mut root = sockets_of(&io, "/");
    let mut admin = sockets_of(&io, "/admin");
    let mut c = Client::open(&engine(&io));
    c.connect("/").await;
    c.connect("/admin").await;
    let (s, a) = (root.next().await, admin.next().await);
    let (mut s_gone, mut a_gone) = (reasons(&s), reasons(&a));
    a.disconnect();
    assert_eq!(c.recv().await, "41/admin,");
    assert_eq!(
        a_gone.next().await,
        DisconnectReason::ServerNamespaceDisconnect
    );
    assert!(matches!(a.emit("x", &1), Err(EmitError::Disconnected)));
    s.disconnect();
    assert_eq!(c.recv().await, "41");
    assert_eq!(
        s_gone.next().await,
        DisconnectReason::ServerNamespaceDisconnect
    );
    c.assert_silent().await;
    // The namespace can be joined again on the same connection.
    c.connect("/admin").await;
}

#[tokio::test(start_paused = true)]
async fn engine_close_is_a_transport_close_for_every_namespace() {
    let io = SocketIo::builder().build();
    let mut root = sockets_of(&io, "/");
    let mut admin = sockets_of(&io, "/admin");
    let mut c = Client::open(&engine(&io));
    c.connect("/").await;
    c.connect("/admin").await;
    let (s, a) = (root.next().await, admin.next().await);
    let (mut s_gone, mut a_gone) = (reasons(&s), reasons(&a));
    c.send("1").await;
    assert_eq!(s_gone.next().await, DisconnectReason::TransportClose);
    assert_eq!(a_gone.next().await, DisconnectReason::TransportClose);
    assert!(
        c.assert_closed().await.is_empty(),
        "no packets sent on close"
    );
    assert_eq!(io.connection_count(), 0);
}

#[tokio::test(start_paused = true)]
async fn socket_close_ends_the_connection_for_every_namespace() {
    let io = SocketIo::builder().build();
    let mut root = sockets_of(&io, "/");
    let mut admin = sockets_of(&io, "/admin");
    let mut c = Client::open(&engine(&io));
    c.connect("/").await;
    c.connect("/admin").await;
    let (s, a) = (root.next().await, admin.next().await);
    let (mut s_gone, mut a_gone) = (reasons(&s), reasons(&a));
    s.close();
    // Every namespace gets a DISCONNECT first, as from the reference server: official
    // clients then report "io server disconnect" and do not reconnect by themselves.
    let mut got = vec![c.recv().await, c.recv().await];
    got.sort();
    assert_eq!(got, ["41", "41/admin,"]);
    assert_eq!(
        s_gone.next().await,
        DisconnectReason::ServerNamespaceDisconnect
    );
    assert_eq!(
        a_gone.next().await,
        DisconnectReason::ServerNamespaceDisconnect
    );
    c.assert_closed().await;
}
