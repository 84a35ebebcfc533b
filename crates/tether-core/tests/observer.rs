//! `SocketIo::observe`: an observer sees what every socket does, in order (the Admin UI's live
//! view is built on it). A real `Engine<SocketIo>` on its polling API, paused clock.

mod support;

use std::sync::{Arc, Mutex};
use support::{Client, channel, engine};
use tether_core::socket::{Data, Observer, Socket, SocketEvent, SocketIo};

#[derive(Clone, Default)]
struct Seen(Arc<Mutex<Vec<String>>>);

impl Observer for Seen {
    fn observe(&self, event: SocketEvent<'_>) {
        let line = match event {
            SocketEvent::Connected(s) => format!("connected {} {:?}", s.ns(), s.rooms().len()),
            SocketEvent::Disconnected(s, reason) => format!("disconnected {} {reason}", s.ns()),
            SocketEvent::Joined(_, room) => format!("joined {room}"),
            SocketEvent::Left(s, room) if &**room == s.id().as_str() => "left own".to_owned(),
            SocketEvent::Left(_, room) => format!("left {room}"),
            SocketEvent::Received(_, event, payload) => {
                format!("received {event} {}", payload.args().join(","))
            }
            SocketEvent::Sent(_, event, payload) => {
                format!("sent {event} {}", payload.args().join(","))
            }
            SocketEvent::Upgraded(_) => "upgraded".to_owned(),
            SocketEvent::DataChanged(s) => format!("data {}", s.data_value()),
            _ => "other".to_owned(),
        };
        self.0.lock().expect("not poisoned").push(line);
    }
}

impl Seen {
    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().expect("not poisoned"))
    }
}

#[tokio::test(start_paused = true)]
async fn an_observer_sees_a_sockets_life_in_order() {
    let io = SocketIo::builder().build();
    let seen = Seen::default();
    assert!(io.observe(seen.clone()).is_ok());
    assert!(
        io.observe(Seen::default()).is_err(),
        "one observer per server"
    );
    let (tx, mut sockets) = channel();
    io.ns("/", move |socket: Socket| {
        socket.on(
            "join",
            |socket: Socket, Data(room): Data<String>| async move {
                socket.join(room.clone());
                socket.join(room); // already in: not seen twice
                let _ = socket.set_data(&"alice");
                let _ = socket.emit("joined", &true);
            },
        );
        let _ = tx.send(socket);
        async {}
    });
    let engine = engine(&io);
    let mut c = Client::open(&engine);
    c.connect("/").await;
    let socket = sockets.next().await;
    assert_eq!(seen.take(), ["connected / 1"]);
    c.send(r#"42["join","lobby"]"#).await;
    assert_eq!(c.recv().await, r#"42["joined",true]"#);
    io.to("lobby").emit("news", &1).unwrap();
    assert_eq!(c.recv().await, r#"42["news",1]"#);
    socket.leave("nowhere");
    assert_eq!(
        seen.take(),
        [
            r#"received join "lobby""#,
            "joined lobby",
            r#"data "alice""#,
            "sent joined true",
            "sent news 1",
        ]
    );
    // the DISCONNECT is handled inside the POST: everything is seen once it returns
    c.send("41").await;
    let mut tail = seen.take();
    assert_eq!(tail.remove(0), "disconnected / client namespace disconnect");
    tail.sort();
    assert_eq!(tail, ["left lobby", "left own"], "its rooms after it");
}

/// A broadcast is seen once per recipient (the broadcast asks its first recipient whether an
/// observer watches, and reaches the rest under the socket table's guard).
#[tokio::test(start_paused = true)]
async fn an_observer_sees_each_recipient_of_a_broadcast() {
    let io = SocketIo::builder().build();
    let seen = Seen::default();
    assert!(io.observe(seen.clone()).is_ok());
    io.ns("/", |socket: Socket| {
        socket.join("lobby");
        async {}
    });
    let engine = engine(&io);
    let mut clients = Vec::new();
    for _ in 0..3 {
        let mut c = Client::open(&engine);
        c.connect("/").await;
        clients.push(c);
    }
    seen.take();
    io.to("lobby").emit("news", &2).unwrap();
    for c in &mut clients {
        assert_eq!(c.recv().await, r#"42["news",2]"#);
    }
    assert_eq!(seen.take(), ["sent news 2"; 3]);
}
