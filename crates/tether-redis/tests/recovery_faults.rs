//! Connection state recovery on Redis when Redis fails: while it is unreachable a recoverable
//! emit still reaches this node's client (without an offset: it cannot be stored) and the
//! caller gets `AdapterError::Unavailable`; once Redis is back, emits are stored and carry
//! offsets again, and a client dropped then recovers. Also the restore's bound: a client that
//! missed more than it may read starts afresh. (A Redis restarted without persistence
//! has lost the sessions and the stream of before: those clients start afresh.)

mod support;

use serde_json::{Value, json};
use std::time::Duration;
use support::RedisServer;
use tether_adapter_kit::{FakeClient, WAIT};
use tether_core::adapter::{AdapterError, RecoveryConfig};
use tether_core::engine::{Engine, EngineConfig};
use tether_core::socket::{EmitError, Socket, SocketIo, SocketIoConfig};
use tether_redis::{RedisConfig, RedisNode};
use tokio::sync::mpsc;
use tokio::time::timeout;

const NOTICE: Duration = Duration::from_secs(30);

struct Server {
    node: RedisNode,
    io: SocketIo,
    engine: Engine<SocketIo>,
    sockets: mpsc::UnboundedReceiver<Socket>,
}

async fn server(url: &str) -> Server {
    let config = RedisConfig {
        prefix: "recovery-faults".into(),
        ..RedisConfig::default()
    };
    let node = RedisNode::connect(url, config).await.expect("redis");
    let io = SocketIo::builder()
        .config(SocketIoConfig::default().connection_state_recovery(RecoveryConfig::default()))
        .adapter(node.adapter())
        .build();
    let (tx, sockets) = mpsc::unbounded_channel();
    io.ns("/", move |socket: Socket| {
        let _ = tx.send(socket);
        async {}
    });
    timeout(WAIT, node.ready("/")).await.expect("subscribed");
    let engine = Engine::new(EngineConfig::default(), io.clone());
    Server {
        node,
        io,
        engine,
        sockets,
    }
}

async fn connection_is(node: &RedisNode, up: bool) {
    let mut changes = node.connection();
    timeout(NOTICE, changes.wait_for(|now| *now == up))
        .await
        .expect("the node noticed")
        .expect("alive");
}

/// The arguments of the next event, and its offset (the last argument when it is a string).
async fn next(client: &mut FakeClient) -> (Vec<Value>, Option<String>) {
    let (_, _, args) = client.event().await;
    let offset = args.last().and_then(Value::as_str).map(str::to_owned);
    (args, offset)
}

#[tokio::test]
async fn while_redis_is_down_emits_reach_local_clients_without_an_offset_and_fail_then_recover() {
    let mut redis = RedisServer::start();
    let mut s = server(&redis.url()).await;
    let mut client = FakeClient::open(&s.engine);
    client.connect(&json!({})).await;
    let socket = timeout(WAIT, s.sockets.recv())
        .await
        .expect("joined")
        .expect("alive");
    socket.join("room");

    // Up: stored, delivered from Redis with the entry's id as offset.
    socket.emit("n", &1).expect("emit");
    let (args, offset) = next(&mut client).await;
    assert_eq!(args[0], json!(1));
    let first = offset.expect("an offset");
    assert_eq!(first.len(), 20, "{first}");

    redis.stop();
    connection_is(&s.node, false).await;
    let err = socket.emit("n", &2).expect_err("cannot be stored");
    assert!(
        matches!(err, EmitError::Adapter(AdapterError::Unavailable(_))),
        "{err:?}"
    );
    assert_eq!(
        next(&mut client).await.0,
        vec![json!(2)],
        "delivered here, without an offset"
    );
    let err = s.io.to("room").emit("n", &3).expect_err("cannot be stored");
    assert!(
        matches!(err, EmitError::Adapter(AdapterError::Unavailable(_))),
        "{err:?}"
    );
    assert_eq!(next(&mut client).await.0, vec![json!(3)]);

    redis.restart();
    connection_is(&s.node, true).await;
    // Back: stored again. (The stream of a restarted Redis with no persistence starts anew.)
    s.io.to("room").emit("n", &4).expect("stored");
    let (args, offset) = next(&mut client).await;
    assert_eq!(args[0], json!(4));
    assert!(offset.is_some(), "an offset again");

    // A client that connects now, is dropped and comes back, recovers from Redis.
    let mut c2 = FakeClient::open(&s.engine);
    c2.send("40{}").await;
    let reply: Value =
        serde_json::from_str(c2.recv().await.strip_prefix("40").expect("a CONNECT reply"))
            .expect("json");
    let pid = reply["pid"].as_str().expect("a pid").to_owned();
    let s2 = timeout(WAIT, s.sockets.recv())
        .await
        .expect("joined")
        .expect("alive");
    s2.join("room");
    s.io.to("room").emit("n", &5).expect("stored");
    assert_eq!(next(&mut client).await.0[0], json!(5));
    let (args, offset) = next(&mut c2).await;
    assert_eq!(args[0], json!(5));
    let last = offset.expect("an offset");
    // Dropping the fake client closes its connection under the socket (a recoverable
    // "forced server close").
    drop(c2);
    s.io.to("room").emit("n", &6).expect("stored");
    assert_eq!(next(&mut client).await.0[0], json!(6));
    let mut back = FakeClient::open(&s.engine);
    let id = back.connect(&json!({ "pid": pid, "offset": last })).await;
    let recovered = timeout(WAIT, s.sockets.recv())
        .await
        .expect("joined")
        .expect("alive");
    assert!(recovered.recovered());
    assert_eq!(recovered.id(), id);
    assert_eq!(id, s2.id());
    assert_eq!(next(&mut back).await.0[0], json!(6));
}

/// Joins a client to `/` and returns it with its pid and server-side socket.
async fn joined(s: &mut Server) -> (FakeClient, String, Socket) {
    let mut client = FakeClient::open(&s.engine);
    client.send("40{}").await;
    let reply: Value = serde_json::from_str(
        client
            .recv()
            .await
            .strip_prefix("40")
            .expect("a CONNECT reply"),
    )
    .expect("json");
    let pid = reply["pid"].as_str().expect("a pid").to_owned();
    let socket = timeout(WAIT, s.sockets.recv())
        .await
        .expect("joined")
        .expect("alive");
    (client, pid, socket)
}

#[tokio::test]
async fn a_client_that_missed_more_than_a_restore_reads_starts_afresh() {
    let redis = RedisServer::start();
    let mut s = server(&redis.url()).await;
    let (mut client, pid, socket) = joined(&mut s).await;
    socket.emit("n", &0).expect("emit");
    let last = next(&mut client).await.1.expect("an offset");
    drop(client);
    let over = tether_redis::recovery_wire::MAX_REPLAY + 1;
    for i in 0..over {
        // The publish queue is bounded: when it is full, let the publisher run and try again.
        loop {
            match s.io.to(socket.id().as_str()).emit("n", &i) {
                Ok(()) => break,
                Err(EmitError::Adapter(AdapterError::Unavailable(_))) => {
                    tokio::task::yield_now().await;
                }
                Err(err) => panic!("{err:?}"),
            }
        }
    }
    // One more that has surely reached Redis before the restore reads: the node's own copy
    // comes back to it through the stream's channel.
    let (mut watcher, _, w) = joined(&mut s).await;
    s.io.to(w.id().as_str()).emit("flag", &1).expect("emit");
    assert_eq!(watcher.event().await.0, "flag");
    let mut back = FakeClient::open(&s.engine);
    let id = back.connect(&json!({ "pid": pid, "offset": last })).await;
    let fresh = timeout(WAIT, s.sockets.recv())
        .await
        .expect("joined")
        .expect("alive");
    assert!(
        !fresh.recovered(),
        "{over} missed: more than a restore reads"
    );
    assert_ne!(id, socket.id());
}
