//! Socket.IO layer tests with no sockets: a real `Engine<SocketIo>` driven through its polling
//! API by the fake client in `support`, on tokio's paused clock. Wire strings are the ones
//! PROTOCOL.md Part 2 gives (the Engine.IO `4` prefix included).
//!
//! This file: namespaces, middlewares, the connect timeout. `socketio_layer/events.rs`: events,
//! extractors and acknowledgements. `socketio_layer/rooms.rs`: rooms, broadcast, slow consumers
//! and disconnects.

#[path = "socketio_layer/events.rs"]
mod events;
#[path = "socketio_layer/rooms.rs"]
mod rooms;
mod support;

use serde_json::{Value, json};
use std::time::Duration;
use support::{Client, channel, engine, io_with, one, reasons, socket_id, sockets_of};
use tether_core::socket::{ConnectError, Data, Payload, RawArgs, Socket, SocketIo, SocketIoConfig};
use tokio::time::{Instant, sleep};

// ---------------------------------------------------------------------------------------------
// Namespaces

#[tokio::test(start_paused = true)]
async fn connect_to_main_namespace_replies_with_exactly_a_new_sid() {
    let io = SocketIo::builder().build();
    let (tx, mut seen) = channel();
    io.ns("/", move |s: Socket, Data(auth): Data<Value>| {
        let _ = tx.send((s.id().to_string(), s.ns().to_owned(), auth));
        async {}
    });
    let mut c = Client::open(&engine(&io));
    let id = c.connect("/").await;
    assert_ne!(id, c.sid.as_str(), "the socket id is not the session id");
    assert_eq!(seen.next().await, (id, "/".to_owned(), json!({})));
}

#[tokio::test(start_paused = true)]
async fn connect_handler_emits_follow_the_reply_in_the_same_body() {
    let io = SocketIo::builder().build();
    io.ns("/", |s: Socket, RawArgs(auth): RawArgs| async move {
        s.emit_payload("auth", &Payload::from_raw(auth, vec![]))
    });
    let mut c = Client::open(&engine(&io));
    c.send(r#"40{"token":"123","a":1}"#).await;
    let body = c.recv_body().await;
    let (reply, event) = body.split_once('\x1e').expect("two packets in one body");
    socket_id(reply, "40");
    assert_eq!(event, r#"42["auth",{"token":"123","a":1}]"#);
}

#[tokio::test(start_paused = true)]
async fn unknown_namespace_is_refused_and_the_connection_stays_open() {
    let io = SocketIo::builder().build();
    let _sockets = sockets_of(&io, "/");
    let mut c = Client::open(&engine(&io));
    c.send("40/nope,").await;
    assert_eq!(c.recv().await, r#"44/nope,{"message":"Invalid namespace"}"#);
    // `40/nope` without the comma names the same namespace.
    c.send("40/nope").await;
    assert_eq!(c.recv().await, r#"44/nope,{"message":"Invalid namespace"}"#);
    assert!(c.is_open());
    c.connect("/").await;
}

#[tokio::test(start_paused = true)]
async fn dynamic_namespace_matches_by_predicate() {
    let io = SocketIo::builder().build();
    let (tx, mut seen) = channel();
    io.dyn_ns(
        |path: &str| path.starts_with("/dyn-"),
        move |s: Socket| {
            let _ = tx.send(s.ns().to_owned());
            async {}
        },
    );
    let mut c = Client::open(&engine(&io));
    c.connect("/dyn-1").await;
    assert_eq!(seen.next().await, "/dyn-1");
    c.connect("/dyn-2").await;
    assert_eq!(seen.next().await, "/dyn-2");
    c.send("40/other,").await;
    assert_eq!(
        c.recv().await,
        r#"44/other,{"message":"Invalid namespace"}"#
    );
    // Each matched path is a namespace of its own.
    io.of("/dyn-1")
        .expect("created on connect")
        .emit("hi", &1)
        .unwrap();
    assert_eq!(c.recv().await, r#"42/dyn-1,["hi",1]"#);
    c.assert_silent().await;
}

#[tokio::test(start_paused = true)]
async fn a_dynamic_child_exists_once_accepted_and_goes_when_empty_unless_kept() {
    for keep in [false, true] {
        let io = io_with(SocketIoConfig::default().cleanup_empty_child_namespaces(!keep));
        let (release, wait) = tokio::sync::watch::channel(false);
        io.dyn_ns(
            |path: &str| path.starts_with("/team-"),
            |_s: Socket| async {},
        )
        .middleware(move |socket: Socket| {
            let mut wait = wait.clone();
            async move {
                let _ = wait.wait_for(|go| *go).await;
                if socket.ns() == "/team-refused" {
                    Err(ConnectError::new("no"))
                } else {
                    Ok(())
                }
            }
        });
        let mut c = Client::open(&engine(&io));
        c.send("40/team-a,").await;
        c.send("40/team-refused,").await;
        sleep(Duration::from_millis(10)).await;
        // Not yet accepted: not a namespace the server knows.
        assert!(
            io.of("/team-a").is_none(),
            "created before its middleware accepted"
        );
        release.send(true).expect("the middleware waits");
        let mut got = vec![c.recv().await, c.recv().await];
        got.sort();
        assert!(got[0].starts_with("40/team-a,"), "{got:?}");
        assert_eq!(got[1], r#"44/team-refused,{"message":"no"}"#);
        assert!(io.of("/team-a").is_some());
        assert!(io.of("/team-refused").is_none(), "a refused child exists");
        c.send("41/team-a,").await;
        c.send(r#"42/team-a,["late"]"#).await;
        c.assert_closed().await;
        assert_eq!(io.of("/team-a").is_some(), keep, "keep = {keep}");
    }
}

#[tokio::test(start_paused = true)]
async fn namespaces_per_connection_and_name_length_are_capped() {
    let io = io_with(SocketIoConfig::default().max_namespaces_per_connection(3));
    io.dyn_ns(|path: &str| path.starts_with("/n"), |_s: Socket| async {});
    let mut c = Client::open(&engine(&io));
    for n in 0..3 {
        c.connect(&format!("/n{n}")).await;
    }
    c.send("40/n3,").await;
    assert_eq!(c.recv().await, r#"44/n3,{"message":"Too many namespaces"}"#);
    // Leaving one makes room.
    c.send("41/n0,").await;
    c.connect("/n3").await;
    // A name past max_namespace_len (256 bytes) is not looked up at all.
    let long = format!("/n{}", "x".repeat(300));
    c.send(&format!("40{long},")).await;
    assert_eq!(
        c.recv().await,
        format!(r#"44{long},{{"message":"Invalid namespace"}}"#)
    );
    assert!(c.is_open());
}

#[tokio::test(start_paused = true)]
async fn two_namespaces_on_one_connection_get_different_socket_ids() {
    let io = SocketIo::builder().build();
    let mut root = sockets_of(&io, "/");
    let mut admin = sockets_of(&io, "/admin");
    let mut c = Client::open(&engine(&io));
    let a = c.connect("/").await;
    let b = c.connect("/admin").await;
    assert_ne!(a, b);
    assert_ne!(b, c.sid.as_str());
    assert_eq!(root.next().await.id().as_str(), a);
    let admin_socket = admin.next().await;
    assert_eq!(admin_socket.id().as_str(), b);
    assert_eq!(admin_socket.ns(), "/admin");
}

#[tokio::test(start_paused = true)]
async fn second_connect_to_a_joined_namespace_closes_the_connection() {
    let io = SocketIo::builder().build();
    let (mut c, s) = one(&io).await;
    let mut gone = reasons(&s);
    c.send("40").await;
    c.assert_closed().await;
    gone.next().await;
    assert!(!s.connected());
}

#[tokio::test(start_paused = true)]
async fn packets_for_a_namespace_not_joined_close_the_connection() {
    let io = SocketIo::builder().build();
    let _root = sockets_of(&io, "/");
    let _custom = sockets_of(&io, "/custom");
    let engine = engine(&io);
    let cases = [
        (false, r#"42["x"]"#),
        (true, r#"42/custom,["x"]"#),
        (true, "43/custom,0[]"),
        (true, "41/custom,"),
    ];
    for (join_root, packet) in cases {
        let mut c = Client::open(&engine);
        if join_root {
            c.connect("/").await;
        }
        c.send(packet).await;
        let before = c.assert_closed().await;
        assert!(before.is_empty(), "{packet}: {before:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// Middlewares

#[tokio::test(start_paused = true)]
async fn middleware_refusal_sends_connect_error_and_keeps_the_connection() {
    let io = SocketIo::builder().build();
    let (tx, mut connected) = channel::<String>();
    let tx2 = tx.clone();
    io.ns("/", move |s: Socket| {
        let _ = tx.send(s.ns().to_owned());
        async {}
    })
    .middleware(|_s: Socket| async { Err(ConnectError::new("no").with_data(&json!({"a": 1}))) });
    io.ns("/plain", move |s: Socket| {
        let _ = tx2.send(s.ns().to_owned());
        async {}
    })
    .middleware(|_s: Socket| async { Err(ConnectError::new("nope")) });
    let _open = sockets_of(&io, "/open");
    let mut c = Client::open(&engine(&io));
    c.send("40").await;
    assert_eq!(c.recv().await, r#"44{"message":"no","data":{"a":1}}"#);
    c.send("40/plain,").await;
    assert_eq!(c.recv().await, r#"44/plain,{"message":"nope"}"#);
    connected.none().await;
    // Still open: a retry is refused again (not treated as a second CONNECT), others work.
    c.send("40").await;
    assert_eq!(c.recv().await, r#"44{"message":"no","data":{"a":1}}"#);
    c.connect("/open").await;
    connected.none().await;
}

#[tokio::test(start_paused = true)]
async fn middlewares_run_in_order_and_the_first_refusal_wins() {
    let io = SocketIo::builder().build();
    let (log, mut order) = channel::<u8>();
    let (l0, l1, l2, l3, l4, l5) = (
        log.clone(),
        log.clone(),
        log.clone(),
        log.clone(),
        log.clone(),
        log,
    );
    io.ns("/", move |_s: Socket| {
        let _ = l0.send(0);
        async {}
    })
    .middleware(move |_s: Socket| {
        let _ = l1.send(1);
        async { Ok(()) }
    })
    .middleware(move |_s: Socket| {
        let _ = l2.send(2);
        async { Err(ConnectError::new("second")) }
    })
    .middleware(move |_s: Socket| {
        let _ = l3.send(3);
        async { Err(ConnectError::new("third")) }
    });
    // Passing middlewares that wait: the connect handler runs after both, then the reply.
    io.ns("/pass", move |_s: Socket| {
        let _ = l4.send(9);
        async {}
    })
    .middleware(|s: Socket| async move {
        sleep(Duration::from_millis(100)).await;
        match s.auth::<Value>() {
            Ok(auth) if auth == json!({"ok": true}) => Ok(()),
            _ => Err(ConnectError::new("bad auth")),
        }
    })
    .middleware(move |_s: Socket| {
        let _ = l5.send(8);
        async { Ok(()) }
    });
    let mut c = Client::open(&engine(&io));
    c.send("40").await;
    assert_eq!(c.recv().await, r#"44{"message":"second"}"#);
    assert_eq!((order.next().await, order.next().await), (1, 2));
    order.none().await;
    c.send(r#"40/pass,{"ok":true}"#).await;
    socket_id(&c.recv().await, "40/pass,");
    assert_eq!((order.next().await, order.next().await), (8, 9));
}

#[tokio::test(start_paused = true)]
async fn a_refused_socket_leaves_the_rooms_its_middleware_joined() {
    let io = SocketIo::builder().build();
    io.ns("/", || async {}).middleware(|s: Socket| async move {
        s.join("vip");
        Err(ConnectError::new("no"))
    });
    let mut c = Client::open(&engine(&io));
    c.send("40").await;
    assert_eq!(c.recv().await, r#"44{"message":"no"}"#);
    assert_eq!(
        io.of("/").unwrap().rooms(),
        Vec::<bytestring::ByteString>::new()
    );
}

// ---------------------------------------------------------------------------------------------
// Connect timeout

fn quick_connect_timeout() -> SocketIo {
    io_with(SocketIoConfig::default().connect_timeout(Duration::from_secs(1)))
}

#[tokio::test(start_paused = true)]
async fn no_connect_within_connect_timeout_closes_the_session() {
    let io = quick_connect_timeout();
    let _sockets = sockets_of(&io, "/");
    let start = Instant::now();
    let mut c = Client::open(&engine(&io));
    sleep(Duration::from_millis(900)).await;
    assert!(c.is_open());
    c.assert_closed().await;
    let took = start.elapsed();
    assert!(
        took >= Duration::from_secs(1) && took < Duration::from_millis(1500),
        "{took:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_joined_namespace_clears_the_connect_timeout_but_a_refusal_does_not() {
    let io = quick_connect_timeout();
    let _sockets = sockets_of(&io, "/");
    io.ns("/locked", || async {})
        .middleware(|_s: Socket| async { Err(ConnectError::new("no")) });
    let engine = engine(&io);
    let mut joined = Client::open(&engine);
    joined.connect("/").await;
    let mut refused = Client::open(&engine);
    refused.send("40/locked,").await;
    assert_eq!(refused.recv().await, r#"44/locked,{"message":"no"}"#);
    refused.assert_closed().await;
    sleep(Duration::from_secs(5)).await;
    joined.assert_silent().await;
}
