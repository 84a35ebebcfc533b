//! Events, extractors and acknowledgements.

use bytes::Bytes;
use serde::Deserialize;
use serde_json::{Value, json};
use std::time::Duration;
use tether_core::socket::{
    AckError, AckResponse, AckSender, Bin, Data, DisconnectReason, EmitError, Payload, RawArgs,
    Socket, SocketIo, SocketIoConfig, State, TryData,
};
use tokio::time::Instant;

use crate::support::{PH0, PH1, channel, engine, io_with, joined, one, reasons, sockets_of};

// ---------------------------------------------------------------------------------------------
// Events and extractors

#[derive(Debug, PartialEq, Deserialize)]
struct Chat {
    text: String,
    n: u32,
}

#[tokio::test(start_paused = true)]
async fn data_takes_one_argument_or_a_tuple_of_several() {
    let io = SocketIo::builder().build();
    let (c, s) = one(&io).await;
    let (tx1, mut one_arg) = channel();
    s.on("one", move |Data(chat): Data<Chat>| {
        let _ = tx1.send(chat);
        async {}
    });
    let (tx2, mut many) = channel();
    s.on("many", move |Data(t): Data<(u32, String, bool)>| {
        let _ = tx2.send(t);
        async {}
    });
    let (tx3, mut numbered) = channel();
    s.on("1", move |Data(n): Data<u32>| {
        let _ = tx3.send(n);
        async {}
    });
    c.send(r#"42["one",{"text":"hi","n":3}]"#).await;
    let want = Chat {
        text: "hi".into(),
        n: 3,
    };
    assert_eq!(one_arg.next().await, want);
    c.send(r#"42["many",1,"a",true]"#).await;
    assert_eq!(many.next().await, (1, "a".to_owned(), true));
    // A number is a valid event name (`42[1,2]` is accepted).
    c.send("42[1,2]").await;
    assert_eq!(numbered.next().await, 2);
    assert!(c.is_open());
}

#[tokio::test(start_paused = true)]
async fn try_data_sees_the_error_and_data_skips_the_handler() {
    let io = SocketIo::builder().build();
    let (mut c, s) = one(&io).await;
    let (tx1, mut tried) = channel();
    s.on("try", move |TryData(r): TryData<u32>| {
        let _ = tx1.send(r.is_ok());
        async {}
    });
    let (tx2, mut strict) = channel();
    s.on("strict", move |Data(n): Data<u32>, ack: AckSender| {
        let _ = tx2.send(n);
        async move { ack.send(&n) }
    });
    c.send(r#"42["try","x"]"#).await;
    assert!(!tried.next().await);
    c.send(r#"42["try",7]"#).await;
    assert!(tried.next().await);
    // A wrong payload: not called, so no ack either, and the connection stays.
    c.send(r#"421["strict","x"]"#).await;
    strict.none().await;
    c.assert_silent().await;
    c.send(r#"422["strict",5]"#).await;
    assert_eq!(strict.next().await, 5);
    assert_eq!(c.recv().await, "432[5]");
}

#[tokio::test(start_paused = true)]
async fn bin_gets_the_attachments_in_placeholder_order() {
    let io = SocketIo::builder().build();
    let (c, s) = one(&io).await;
    let (tx, mut got) = channel();
    s.on("bin", move |Data(v): Data<Value>, Bin(b): Bin| {
        let _ = tx.send((v, b));
        async {}
    });
    c.send(&format!("451-[\"bin\",{PH0}]\x1ebAQID")).await;
    let (v, b) = got.next().await;
    assert_eq!(v, json!({"_placeholder": true, "num": 0}));
    assert_eq!(b, [Bytes::from_static(&[1, 2, 3])]);
    c.send(&format!("452-[\"bin\",[{PH1},{PH0}]]\x1ebAQID\x1ebBAUG"))
        .await;
    let (_, b) = got.next().await;
    assert_eq!(
        b,
        [
            Bytes::from_static(&[1, 2, 3]),
            Bytes::from_static(&[4, 5, 6])
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn echo_keeps_the_json_and_the_binary_frames_exactly() {
    let io = SocketIo::builder().build();
    let (mut c, s) = one(&io).await;
    s.on(
        "message",
        |s: Socket, RawArgs(a): RawArgs, Bin(b): Bin| async move {
            s.emit_payload("message-back", &Payload::from_raw(a, b))
        },
    );
    c.send(r#"42["message",1,"2",{"3":[true]}]"#).await;
    assert_eq!(c.recv().await, r#"42["message-back",1,"2",{"3":[true]}]"#);
    c.send(&format!("452-[\"message\",{PH0},{PH1}]\x1ebAQID\x1ebBAUG"))
        .await;
    assert_eq!(
        c.recv().await,
        format!("452-[\"message-back\",{PH0},{PH1}]")
    );
    assert_eq!(c.recv().await, "bAQID");
    assert_eq!(c.recv().await, "bBAUG");
}

#[derive(Debug, Clone)]
struct Greeting(&'static str);

#[tokio::test(start_paused = true)]
async fn state_comes_from_the_builder_and_missing_state_skips_the_handler() {
    let io = SocketIo::builder().state(Greeting("hello")).build();
    let (mut c, s) = one(&io).await;
    s.on(
        "greet",
        |State(g): State<Greeting>, ack: AckSender| async move { ack.send(&g.0) },
    );
    s.on(
        "missing",
        |State(n): State<u64>, ack: AckSender| async move { ack.send(&n) },
    );
    c.send(r#"421["greet"]"#).await;
    assert_eq!(c.recv().await, r#"431["hello"]"#);
    c.send(r#"422["missing"]"#).await;
    c.assert_silent().await;
}

#[tokio::test(start_paused = true)]
async fn invalid_packets_close_the_connection() {
    let io = SocketIo::builder().build();
    let mut sockets = sockets_of(&io, "/");
    let engine = engine(&io);
    let cases = [
        r#"42{}"#.to_owned(),
        r#"42["disconnect"]"#.to_owned(),
        r#"450-["x"]"#.to_owned(),
        r#"42abc["x"]"#.to_owned(),
        r#"40"str""#.to_owned(),
        "4abc".to_owned(),
        "bAQID".to_owned(),
        format!("451-[\"x\",{PH0}]\x1e42[\"y\"]"),
    ];
    for bad in cases {
        let (mut c, s) = joined(&engine, &mut sockets, 1).await.pop().unwrap();
        let mut gone = reasons(&s);
        c.send(&bad).await;
        c.assert_closed().await;
        assert_eq!(gone.next().await, DisconnectReason::ParseError, "{bad}");
    }
}

#[tokio::test(start_paused = true)]
async fn placeholder_out_of_range_closes_the_connection() {
    let io = SocketIo::builder().build();
    let (mut c, s) = one(&io).await;
    let (tx, mut called) = channel();
    s.on("x", move |Bin(b): Bin| {
        let _ = tx.send(b.len());
        async {}
    });
    c.send("451-[\"x\",{\"_placeholder\":true,\"num\":3}]\x1ebAQID")
        .await;
    c.assert_closed().await;
    called.none().await;
}

// ---------------------------------------------------------------------------------------------
// Acknowledgements

#[tokio::test(start_paused = true)]
async fn client_asks_and_the_ack_sender_answers_with_the_same_id_and_namespace() {
    let io = SocketIo::builder().build();
    let mut admin = sockets_of(&io, "/admin");
    let (mut c, s) = one(&io).await;
    let add = |Data((a, b)): Data<(i32, i32)>, ack: AckSender| async move { ack.send(&(a + b)) };
    s.on("add", add);
    s.on(
        "message-with-ack",
        |RawArgs(a): RawArgs, Bin(b): Bin, ack: AckSender| async move {
            ack.send_payload(Payload::from_raw(a, b))
        },
    );
    c.send(r#"421["add",2,3]"#).await;
    assert_eq!(c.recv().await, "431[5]");
    c.send(r#"42456["message-with-ack",1,"2",{"3":[false]}]"#)
        .await;
    assert_eq!(c.recv().await, r#"43456[1,"2",{"3":[false]}]"#);
    c.send(&format!(
        "452-789[\"message-with-ack\",{PH0},{PH1}]\x1ebAQID\x1ebBAUG"
    ))
    .await;
    assert_eq!(c.recv().await, format!("462-789[{PH0},{PH1}]"));
    assert_eq!(c.recv().await, "bAQID");
    assert_eq!(c.recv().await, "bBAUG");
    // No ack id: the ack sender sends nothing.
    c.send(r#"42["add",1,1]"#).await;
    c.assert_silent().await;
    c.connect("/admin").await;
    admin.next().await.on("add", add);
    c.send(r#"42/admin,17["add",1,1]"#).await;
    assert_eq!(c.recv().await, "43/admin,17[2]");
}

#[tokio::test(start_paused = true)]
async fn emit_with_ack_gets_the_client_answer() {
    let io = SocketIo::builder().build();
    let (mut c, s) = one(&io).await;
    let ack = s.emit_with_ack("q", &"hi").unwrap();
    assert_eq!(c.recv().await, r#"420["q","hi"]"#);
    c.send(r#"430["ok",1]"#).await;
    let answer = ack.await.unwrap();
    assert_eq!(
        answer.data::<(String, u32)>().unwrap(),
        ("ok".to_owned(), 1)
    );
    // A binary answer.
    let ack = s.emit_with_ack("q", &2).unwrap();
    assert_eq!(c.recv().await, r#"421["q",2]"#);
    c.send(&format!("461-1[{PH0}]\x1ebAQID")).await;
    let answer = ack.await.unwrap();
    assert_eq!(answer.attachments, [Bytes::from_static(&[1, 2, 3])]);
}

/// Asserts that `ms` milliseconds (give or take a tick) passed on the paused clock.
fn took_about(start: Instant, ms: u64) {
    let took = start.elapsed();
    let want = Duration::from_millis(ms);
    assert!(
        took >= want && took < want + Duration::from_millis(300),
        "{took:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn emit_with_ack_times_out_and_a_late_answer_is_ignored() {
    let io = io_with(SocketIoConfig::default().ack_timeout(Duration::from_secs(2)));
    let (mut c, s) = one(&io).await;
    let start = Instant::now();
    let pending = s.emit_with_ack("q", &1).unwrap();
    assert_eq!(pending.await.unwrap_err(), AckError::Timeout);
    took_about(start, 2000);
    assert_eq!(c.recv().await, r#"420["q",1]"#);
    c.send("430[1]").await;
    c.assert_silent().await;
    assert!(s.connected());
    // `AckFuture::timeout` overrides the server default.
    let start = Instant::now();
    let pending = s.emit_with_ack("q", &2).unwrap();
    let pending = pending.timeout(Duration::from_millis(500));
    assert_eq!(pending.await.unwrap_err(), AckError::Timeout);
    took_about(start, 500);
    // Broadcast acks wait the same server default.
    let start = Instant::now();
    let answers = io.of("/").unwrap().emit_with_ack("q", &3).unwrap().await;
    assert_eq!(answers, [Err(AckError::Timeout)]);
    took_about(start, 2000);
}

#[tokio::test(start_paused = true)]
async fn an_ack_with_an_unknown_id_is_ignored() {
    let io = SocketIo::builder().build();
    let (mut c, s) = one(&io).await;
    let mut pending = s.emit_with_ack("q", &1).unwrap();
    assert_eq!(c.recv().await, r#"420["q",1]"#);
    c.send("4399[1]").await;
    c.assert_silent().await;
    assert!(
        tokio::time::timeout(Duration::from_millis(100), &mut pending)
            .await
            .is_err()
    );
    c.send("430[7]").await;
    assert_eq!(pending.await.unwrap().data::<u32>().unwrap(), 7);
}

#[tokio::test(start_paused = true)]
async fn pending_acks_fail_with_disconnected_when_the_socket_leaves() {
    let io = SocketIo::builder().build();
    let mut sockets = sockets_of(&io, "/");
    let engine = engine(&io);
    let (mut c, s) = joined(&engine, &mut sockets, 1).await.pop().unwrap();
    let pending = s.emit_with_ack("q", &1).unwrap();
    assert_eq!(c.recv().await, r#"420["q",1]"#);
    c.send("41").await;
    assert_eq!(pending.await.unwrap_err(), AckError::Disconnected);
    assert!(matches!(
        s.emit_with_ack("q", &2),
        Err(EmitError::Disconnected)
    ));
    // The same when the whole connection closes.
    c.connect("/").await;
    let s = sockets.next().await;
    let pending = s.emit_with_ack("q", &3).unwrap();
    assert!(c.recv().await.ends_with(r#"["q",3]"#));
    c.send("1").await;
    assert_eq!(pending.await.unwrap_err(), AckError::Disconnected);
}

#[tokio::test(start_paused = true)]
async fn max_pending_acks_refuses_more() {
    let io = io_with(SocketIoConfig::default().max_pending_acks(2));
    let (mut c, s) = one(&io).await;
    let first = s.emit_with_ack("q", &0).unwrap();
    let second = s.emit_with_ack("q", &1).unwrap();
    assert!(matches!(
        s.emit_with_ack("q", &2),
        Err(EmitError::TooManyPendingAcks)
    ));
    assert_eq!(c.recv().await, r#"420["q",0]"#);
    assert_eq!(c.recv().await, r#"421["q",1]"#);
    c.assert_silent().await;
    c.send("430[]").await;
    assert_eq!(first.await.unwrap(), AckResponse::default());
    let third = s.emit_with_ack("q", &3).unwrap();
    assert!(c.recv().await.ends_with(r#"["q",3]"#));
    // Dropping a pending ack frees its slot too.
    drop(second);
    let _fourth = s.emit_with_ack("q", &4).unwrap();
    drop(third);
}
