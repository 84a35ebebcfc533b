//! When the other nodes cannot be reached: every cluster operation does this node's part and
//! reports the adapter's error, never a panic, a hang or a silent loss. Driven by the fake
//! client of `support`, on tokio's paused clock, with an adapter whose broker is down.

mod support;

use std::time::Duration;
use support::{engine, joined, sockets_of};
use tether_core::adapter::{
    AckSink, Adapter, AdapterError, BoxFuture, BroadcastOptions, EventPacket, Room, Rooms,
    SocketData,
};
use tether_core::socket::{AckError, AckResponse, EmitError, SocketIo};

/// This node's rooms work; every request to the other nodes fails.
#[derive(Default)]
struct Down(Rooms);

fn down() -> AdapterError {
    AdapterError::Unavailable("broker down".into())
}

fn failed<T: Send + 'static>() -> BoxFuture<Result<T, AdapterError>> {
    Box::pin(async { Err(down()) })
}

impl Adapter for Down {
    fn members(&self) -> &Rooms {
        &self.0
    }
    fn broadcast(&self, _: &EventPacket, _: &BroadcastOptions) -> Result<(), AdapterError> {
        Err(down())
    }
    fn broadcast_with_ack(
        &self,
        _: &EventPacket,
        _: &BroadcastOptions,
        _: AckSink,
    ) -> Result<(), AdapterError> {
        Err(down())
    }
    fn fetch_sockets(
        &self,
        _: &BroadcastOptions,
    ) -> BoxFuture<Result<Vec<SocketData>, AdapterError>> {
        failed()
    }
    fn add_sockets(&self, _: &BroadcastOptions, _: &[Room]) -> BoxFuture<Result<(), AdapterError>> {
        failed()
    }
    fn del_sockets(&self, _: &BroadcastOptions, _: &[Room]) -> BoxFuture<Result<(), AdapterError>> {
        failed()
    }
    fn disconnect_sockets(
        &self,
        _: &BroadcastOptions,
        _: bool,
    ) -> BoxFuture<Result<(), AdapterError>> {
        failed()
    }
    fn server_side_emit(&self, _: &EventPacket) -> BoxFuture<Result<(), AdapterError>> {
        failed()
    }
    fn server_side_emit_with_ack(
        &self,
        _: &EventPacket,
        _: Duration,
    ) -> BoxFuture<Result<Vec<AckResponse>, AdapterError>> {
        failed()
    }
    fn server_count(&self) -> BoxFuture<Result<usize, AdapterError>> {
        failed()
    }
    fn all_rooms(&self) -> BoxFuture<Result<Vec<Room>, AdapterError>> {
        failed()
    }
}

fn io_down() -> SocketIo {
    SocketIo::builder().adapter(|_| Down::default()).build()
}

#[tokio::test(start_paused = true)]
async fn an_emit_reaches_this_node_and_reports_the_rest() {
    let io = io_down();
    let mut sockets = sockets_of(&io, "/");
    let mut all = joined(&engine(&io), &mut sockets, 2).await;
    let sent = io.emit("news", &1);
    assert!(
        matches!(sent, Err(EmitError::Adapter(AdapterError::Unavailable(_)))),
        "{sent:?}"
    );
    for (client, _) in &mut all {
        assert_eq!(
            client.recv().await,
            r#"42["news",1]"#,
            "the local sockets got it"
        );
    }
    // `local()` does not ask the adapter at all.
    io.local()
        .emit("here", &2)
        .expect("a local emit needs no other node");
    for (client, _) in &mut all {
        assert_eq!(client.recv().await, r#"42["here",2]"#);
    }
}

#[tokio::test(start_paused = true)]
async fn broadcast_acks_give_this_node_s_answers_and_say_the_rest_is_missing() {
    let io = io_down();
    let mut sockets = sockets_of(&io, "/");
    let mut all = joined(&engine(&io), &mut sockets, 1).await;
    let mut acks = io
        .timeout(Duration::from_secs(1))
        .emit_with_ack("q", &0)
        .expect("emitted");
    assert_eq!(
        acks.next().await,
        Some(Err(AckError::Adapter)),
        "the other nodes are missing"
    );
    let (client, _) = &mut all[0];
    assert_eq!(client.recv().await, r#"420["q",0]"#);
    client.send("430[5]").await;
    let answer = acks.next().await.expect("an answer").expect("not an error");
    assert_eq!(answer.data::<u32>().expect("a number"), 5);
    assert_eq!(acks.next().await, None, "the node count is this one: done");
}

#[tokio::test(start_paused = true)]
async fn requests_fail_with_the_adapter_s_error_after_the_local_part() {
    let io = io_down();
    let mut sockets = sockets_of(&io, "/");
    let mut all = joined(&engine(&io), &mut sockets, 1).await;
    let socket = all[0].1.clone();
    assert_eq!(io.fetch_sockets().await.map(|s| s.len()), Err(down()));
    // Local answers need no other node.
    let here = socket
        .namespace()
        .local()
        .fetch_sockets()
        .await
        .expect("this node answers");
    assert_eq!(here.len(), 1);
    assert_eq!(here[0].id(), socket.id());
    assert_eq!(io.sockets_join(["x"]).await, Err(down()));
    assert!(
        socket.rooms().iter().any(|r| r == "x"),
        "joined here all the same"
    );
    assert_eq!(io.sockets_leave(["x"]).await, Err(down()));
    assert!(
        socket.rooms().iter().all(|r| r != "x"),
        "left here all the same"
    );
    assert!(matches!(
        io.server_side_emit("e", &1).await,
        Err(EmitError::Adapter(_))
    ));
    assert!(matches!(
        io.server_side_emit_with_ack("e", &1).await,
        Err(EmitError::Adapter(_))
    ));
    assert_eq!(io.server_count().await, Err(down()));
    assert_eq!(io.to("any").all_rooms().await, Err(down()));
    assert_eq!(io.disconnect_sockets(false).await, Err(down()));
    assert!(!socket.connected(), "disconnected here all the same");
    assert_eq!(all[0].0.recv().await, "41");
}
