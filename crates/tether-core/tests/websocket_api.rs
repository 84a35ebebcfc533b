//! The server's side of the bundled client's `tether.WebSocket`: subprotocols offered in the
//! CONNECT's auth and picked by a namespace hook, close codes in DISCONNECT packets both ways.
//! No sockets: a real `Engine<SocketIo>` on its polling API, paused clock, the bytes the
//! client sends (client-js/test/websocket-facade-extensions.test.mjs checks the client's side
//! of the same strings).

mod support;

use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use support::{Client, channel, engine};
use tether_core::adapter::RecoveryConfig;
use tether_core::socket::{
    CloseFrame, DisconnectReason, NO_ACCEPTABLE_SUBPROTOCOL, Socket, SocketIo, SocketIoConfig,
};

/// The JSON of a CONNECT reply that starts with `prefix`.
fn reply_json(reply: &str, prefix: &str) -> Value {
    let json = reply
        .strip_prefix(prefix)
        .unwrap_or_else(|| panic!("{reply:?} does not start with {prefix:?}"));
    serde_json::from_str(json).expect("reply json")
}

/// A server whose `/chat` picks the first offered of `chat` and `superchat`, and records each
/// connected socket.
fn chat_server() -> (SocketIo, support::Rx<Socket>) {
    let io = SocketIo::builder().build();
    let (tx, rx) = channel();
    io.ns("/chat", move |socket: Socket| {
        let _ = tx.send(socket);
        async {}
    })
    .subprotocol(|_socket: &Socket, offered: &[String]| {
        offered
            .iter()
            .find(|p| *p == "chat" || *p == "superchat")
            .cloned()
    });
    (io, rx)
}

#[tokio::test(start_paused = true)]
async fn the_hook_picks_from_the_offer_and_the_reply_says_which() {
    let (io, mut sockets) = chat_server();
    let mut c = Client::open(&engine(&io));
    c.send(r#"40/chat,{"subprotocols":["v3","superchat","chat"],"token":"t"}"#)
        .await;
    let reply = reply_json(&c.recv().await, "40/chat,");
    let socket = sockets.next().await;
    assert_eq!(
        reply,
        json!({ "sid": socket.id().to_string(), "protocol": "superchat" })
    );
    assert_eq!(socket.protocol(), Some("superchat"));
    assert_eq!(socket.offered_protocols(), ["v3", "superchat", "chat"]);
    assert!(socket.is_websocket_api());
    assert_eq!(
        socket.auth::<Value>().unwrap()["token"],
        "t",
        "the auth is the client's, offer included"
    );
}

#[tokio::test(start_paused = true)]
async fn no_offer_connects_with_an_empty_protocol_and_official_clients_see_no_change() {
    let (io, mut sockets) = chat_server();
    let mut c = Client::open(&engine(&io));
    c.send(r#"40/chat,{"subprotocols":[]}"#).await;
    let reply = reply_json(&c.recv().await, "40/chat,");
    let socket = sockets.next().await;
    assert_eq!(
        reply["protocol"], "",
        "the reply tells the client close codes are read"
    );
    assert_eq!(socket.protocol(), None);
    assert!(socket.is_websocket_api());

    // an official client: the reply has exactly `sid`, the socket is an ordinary one
    let mut official = Client::open(&engine(&io));
    official.connect("/chat").await;
    let socket = sockets.next().await;
    assert!(!socket.is_websocket_api());
    assert_eq!(socket.offered_protocols(), [] as [String; 0]);
}

#[tokio::test(start_paused = true)]
async fn an_offer_the_server_cannot_take_is_refused_and_nothing_joins() {
    let io = SocketIo::builder().build();
    let (tx, mut connected) = channel::<String>();
    let panicky = tx.clone();
    let alien = tx.clone();
    io.ns("/none", move |s: Socket| {
        let _ = tx.send(s.ns().to_owned());
        async {}
    })
    .subprotocol(|_: &Socket, _: &[String]| None);
    io.ns("/alien", move |s: Socket| {
        let _ = alien.send(s.ns().to_owned());
        async {}
    })
    .subprotocol(|_: &Socket, _: &[String]| Some("not-offered".to_owned()));
    io.ns("/panics", move |s: Socket| {
        let _ = panicky.send(s.ns().to_owned());
        async {}
    })
    .subprotocol(|_: &Socket, _: &[String]| panic!("the hook failed"));
    io.ns("/nohook", |_: Socket| async {});
    let mut c = Client::open(&engine(&io));
    let refused = format!(r#"{{"message":"{NO_ACCEPTABLE_SUBPROTOCOL}"}}"#);
    for nsp in ["/none", "/alien", "/nohook"] {
        c.send(&format!(r#"40{nsp},{{"subprotocols":["chat"]}}"#))
            .await;
        assert_eq!(c.recv().await, format!("44{nsp},{refused}"));
    }
    c.send(r#"40/panics,{"subprotocols":["chat"]}"#).await;
    assert_eq!(
        c.recv().await,
        r#"44/panics,{"message":"Internal server error"}"#
    );
    connected.none().await;
    assert!(c.is_open(), "a refusal leaves the connection open");
    // and the namespace can still be joined, without an offer
    c.send(r#"40/none,{"subprotocols":[]}"#).await;
    assert!(c.recv().await.starts_with("40/none,"));
    assert_eq!(connected.next().await, "/none");
}

#[tokio::test(start_paused = true)]
async fn a_malformed_offer_is_refused_with_its_reason() {
    let (io, mut sockets) = chat_server();
    let mut c = Client::open(&engine(&io));
    for (auth, message) in [
        (
            r#"{"subprotocols":"chat"}"#,
            "subprotocols must be a list of strings",
        ),
        (
            r#"{"subprotocols":[7]}"#,
            "subprotocols must be a list of strings",
        ),
        (r#"{"subprotocols":["a b"]}"#, "invalid subprotocol name"),
        (r#"{"subprotocols":[""]}"#, "invalid subprotocol name"),
        (
            r#"{"subprotocols":["chat","chat"]}"#,
            "duplicate subprotocol",
        ),
    ] {
        c.send(&format!("40/chat,{auth}")).await;
        assert_eq!(
            c.recv().await,
            format!(r#"44/chat,{{"message":"{message}"}}"#),
            "{auth}"
        );
    }
    let names: Vec<String> = (0..33).map(|i| format!("p{i}")).collect();
    c.send(&format!("40/chat,{}", json!({ "subprotocols": names })))
        .await;
    assert_eq!(
        c.recv().await,
        r#"44/chat,{"message":"too many subprotocols"}"#
    );
    sockets.none().await;
    assert!(c.is_open());
}

#[tokio::test(start_paused = true)]
async fn middlewares_see_the_choice() {
    let io = SocketIo::builder().build();
    let seen = Arc::new(Mutex::new(None));
    let record = seen.clone();
    io.ns("/chat", |_: Socket| async {})
        .subprotocol(|_: &Socket, offered: &[String]| offered.last().cloned())
        .middleware(move |socket: Socket| {
            *record.lock().unwrap() = Some(socket.protocol().map(str::to_owned));
            async { Ok(()) }
        });
    let mut c = Client::open(&engine(&io));
    c.send(r#"40/chat,{"subprotocols":["a","b"]}"#).await;
    assert_eq!(reply_json(&c.recv().await, "40/chat,")["protocol"], "b");
    assert_eq!(*seen.lock().unwrap(), Some(Some("b".to_owned())));
}

#[tokio::test(start_paused = true)]
async fn the_reply_has_the_private_id_too_with_recovery_on() {
    let config = SocketIoConfig::default().connection_state_recovery(RecoveryConfig::default());
    let io = SocketIo::builder().config(config).build();
    io.ns("/chat", |_: Socket| async {})
        .subprotocol(|_: &Socket, offered: &[String]| offered.first().cloned());
    let mut c = Client::open(&engine(&io));
    c.send(r#"40/chat,{"subprotocols":["x"]}"#).await;
    let reply = reply_json(&c.recv().await, "40/chat,");
    let keys: Vec<&str> = reply
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys.len(), 3, "{reply}");
    assert!(reply["pid"].is_string() && reply["sid"].is_string());
    assert_eq!(reply["protocol"], "x");
}

/// What a socket's disconnect hook saw: the reason and the close frame.
type Seen = (DisconnectReason, Option<(u16, String)>);

fn closes(socket: &Socket) -> support::Rx<Seen> {
    let (tx, rx) = channel();
    socket.on_disconnect(move |socket: Socket, reason| {
        let frame = socket
            .close_frame()
            .map(|f| (f.code(), f.reason().to_owned()));
        let _ = tx.send((reason, frame));
        async {}
    });
    rx
}

#[tokio::test(start_paused = true)]
async fn the_clients_close_code_and_reason_reach_the_disconnect_hook() {
    let (io, mut sockets) = chat_server();
    let mut c = Client::open(&engine(&io));
    for (disconnect, expected) in [
        (
            r#"41/chat,{"code":4000,"reason":"bye"}"#,
            Some((4000, "bye".to_owned())),
        ),
        (r#"41/chat,{"code":1000}"#, Some((1000, String::new()))),
        ("41/chat,", None),
    ] {
        c.send(r#"40/chat,{"subprotocols":[]}"#).await;
        c.recv().await;
        let socket = sockets.next().await;
        let mut seen = closes(&socket);
        c.send(disconnect).await;
        assert_eq!(
            seen.next().await,
            (DisconnectReason::ClientNamespaceDisconnect, expected),
            "{disconnect}"
        );
        assert!(!socket.connected());
    }
    assert!(c.is_open(), "leaving a namespace keeps the connection");
}

#[tokio::test(start_paused = true)]
async fn a_disconnect_payload_that_is_not_a_close_frame_breaks_the_protocol() {
    for payload in [
        r#"{"code":1006}"#,
        r#"{"code":"4000"}"#,
        r#"{"reason":"no code"}"#,
        r#"{"code":4000,"reason":7}"#,
        "[4000]",
        "{",
    ] {
        let (io, mut sockets) = chat_server();
        let mut c = Client::open(&engine(&io));
        c.send(r#"40/chat,{"subprotocols":[]}"#).await;
        c.recv().await;
        let mut seen = closes(&sockets.next().await);
        c.send(&format!("41/chat,{payload}")).await;
        assert_eq!(c.assert_closed().await, Vec::<String>::new(), "{payload}");
        assert_eq!(seen.next().await, (DisconnectReason::ParseError, None));
    }
}

#[tokio::test(start_paused = true)]
async fn the_servers_close_code_reaches_a_tether_websocket_and_only_it() {
    let (io, mut sockets) = chat_server();
    let mut facade = Client::open(&engine(&io));
    facade.send(r#"40/chat,{"subprotocols":["chat"]}"#).await;
    facade.recv().await;
    let socket = sockets.next().await;
    let mut seen = closes(&socket);
    socket.disconnect_with(CloseFrame::new(4001, "kicked \"out\"").unwrap());
    assert_eq!(
        facade.recv().await,
        r#"41/chat,{"code":4001,"reason":"kicked \"out\""}"#
    );
    assert_eq!(
        seen.next().await,
        (
            DisconnectReason::ServerNamespaceDisconnect,
            Some((4001, "kicked \"out\"".to_owned()))
        )
    );
    // once gone, another close frame changes nothing
    socket.disconnect_with(CloseFrame::new(4002, "again").unwrap());
    assert_eq!(socket.close_frame().map(CloseFrame::code), Some(4001));
    facade.assert_silent().await;

    let mut official = Client::open(&engine(&io));
    official.connect("/chat").await;
    let socket = sockets.next().await;
    let mut seen = closes(&socket);
    socket.disconnect_with(CloseFrame::new(4001, "kicked").unwrap());
    assert_eq!(
        official.recv().await,
        "41/chat,",
        "a payload would break official clients"
    );
    assert_eq!(
        seen.next().await,
        (DisconnectReason::ServerNamespaceDisconnect, None)
    );
}

#[tokio::test(start_paused = true)]
async fn every_socket_of_a_namespace_can_be_one() {
    // tether.WebSockets and official clients side by side in one namespace
    let (io, mut all) = chat_server();
    let mut a = Client::open(&engine(&io));
    a.send(r#"40/chat,{"subprotocols":["chat"]}"#).await;
    assert_eq!(reply_json(&a.recv().await, "40/chat,")["protocol"], "chat");
    let mut b = Client::open(&engine(&io));
    b.connect("/chat").await;
    let (first, second) = (all.next().await, all.next().await);
    assert_eq!([first.protocol(), second.protocol()], [Some("chat"), None]);
    io.of("/chat").unwrap().emit("message", &"to all").unwrap();
    assert_eq!(a.recv().await, r#"42/chat,["message","to all"]"#);
    assert_eq!(b.recv().await, r#"42/chat,["message","to all"]"#);
}
