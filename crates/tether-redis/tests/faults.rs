//! What a tether-redis fleet does when Redis fails: it restarts under the nodes (they notice,
//! fail their emits to the other nodes with an error while it is gone, keep delivering locally,
//! and come back by themselves: resubscribed, counted, broadcasting), and it stalls (a Redis
//! that reads nothing blocks nobody's local traffic, and what queued meanwhile arrives after).
//! A node that never answers is the kit suite's `silent node` case (tests/suite.rs).

mod support;

use serde_json::json;
use std::time::Duration;
use support::RedisServer;
use support::cluster::RedisCluster;
use tether_adapter_kit::suite::Node;
use tether_adapter_kit::{FakeClient, WAIT};
use tether_core::adapter::AdapterError;
use tether_core::socket::EmitError;
use tether_redis::{RedisConfig, RedisNode};
use tokio::time::timeout;

/// Longest wait for a node to notice Redis went or came back (its pings back off to 2 s).
const NOTICE: Duration = Duration::from_secs(30);

/// The command timeout of the nodes of a test that pauses Redis: far longer than any pause,
/// so the pause reads as a slow Redis, not a lost one.
const PAUSE: Duration = Duration::from_secs(120);

async fn connection_is(node: &RedisNode, up: bool) {
    let mut changes = node.connection();
    timeout(NOTICE, changes.wait_for(|now| *now == up))
        .await
        .unwrap_or_else(|_| {
            panic!(
                "the node did not see redis {}",
                if up { "back" } else { "go" }
            )
        })
        .expect("the node is alive");
}

/// Two nodes, each with one client, subscribed.
async fn two_nodes(server: &RedisServer) -> (RedisCluster, Vec<Node>, Vec<FakeClient>) {
    two_nodes_with(RedisCluster::new(server.url(), "faults".into())).await
}

async fn two_nodes_with(cluster: RedisCluster) -> (RedisCluster, Vec<Node>, Vec<FakeClient>) {
    let mut nodes = vec![
        Node::start(&cluster, "node-0".into()).await,
        Node::start(&cluster, "node-1".into()).await,
    ];
    for i in 0..2 {
        timeout(WAIT, cluster.redis_node(i).ready("/"))
            .await
            .expect("subscribed in time");
    }
    let mut clients = Vec::new();
    for node in &mut nodes {
        clients.push(node.client(json!({})).await.0);
    }
    (cluster, nodes, clients)
}

async fn expect_event(client: &mut FakeClient, name: &str, data: serde_json::Value) {
    let (got, _, args) = client.event().await;
    assert_eq!((got.as_str(), args), (name, vec![data]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_restart_fails_emits_meanwhile_and_heals_by_itself() {
    let mut server = RedisServer::start();
    let (cluster, nodes, mut clients) = two_nodes(&server).await;
    nodes[0].io.emit("before", &1).expect("published");
    expect_event(&mut clients[0], "before", json!(1)).await;
    expect_event(&mut clients[1], "before", json!(1)).await;

    server.stop();
    for i in 0..2 {
        connection_is(&cluster.redis_node(i), false).await;
    }
    // Redis is gone: the caller is told, and this node's own clients still get the event.
    match nodes[0].io.emit("while-down", &2) {
        Err(EmitError::Adapter(AdapterError::Unavailable(why))) => {
            assert!(why.contains("unreachable"), "{why}");
        }
        other => panic!("expected Unavailable, got {other:?}"),
    }
    expect_event(&mut clients[0], "while-down", json!(2)).await;
    let count = timeout(WAIT * 3, nodes[1].io.server_count())
        .await
        .expect("fails in time, never hangs");
    assert!(
        matches!(count, Err(AdapterError::Unavailable(_))),
        "{count:?}"
    );

    // A fresh, empty Redis on the same port: both nodes come back with their subscriptions.
    server.restart();
    for i in 0..2 {
        connection_is(&cluster.redis_node(i), true).await;
    }
    for node in &nodes {
        let count = timeout(WAIT, node.io.server_count())
            .await
            .expect("in time");
        assert_eq!(count, Ok(2), "both nodes resubscribed");
    }
    nodes[0].io.emit("after", &3).expect("published");
    nodes[1].io.emit("after", &4).expect("published");
    for client in &mut clients {
        // Each client gets both, its own node's first; the one emitted while down never came.
        let mut got = Vec::new();
        for _ in 0..2 {
            let (name, _, args) = client.event().await;
            assert_eq!(name, "after");
            got.push(args[0].clone());
        }
        got.sort_by_key(|v| v.as_i64());
        assert_eq!(got, [json!(3), json!(4)]);
    }
    nodes[0].io.emit("marker", &0).expect("published");
    let (name, _, _) = clients[1].event().await;
    assert_eq!(
        name, "marker",
        "nothing from while Redis was down arrived late"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_redis_blocks_no_local_traffic_and_loses_nothing() {
    let server = RedisServer::start();
    let config = RedisConfig {
        command_timeout: PAUSE,
        ..RedisConfig::default()
    };
    let (_cluster, nodes, mut clients) =
        two_nodes_with(RedisCluster::with_config(server.url(), config)).await;
    server.pause();
    // Redis reads nothing now; every emit still returns at once and is delivered here.
    for i in 0..20 {
        nodes[0].io.emit("n", &i).expect("queued");
    }
    for i in 0..20 {
        expect_event(&mut clients[0], "n", json!(i)).await;
    }
    // A local-only emit on the other node is not held up by the stalled publishes either.
    nodes[1].io.local().emit("local", &0).expect("delivered");
    expect_event(&mut clients[1], "local", json!(0)).await;
    server.resume();
    for i in 0..20 {
        expect_event(&mut clients[1], "n", json!(i)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_publish_queue_fails_the_emit_and_keeps_what_it_took() {
    let server = RedisServer::start();
    let config = RedisConfig {
        max_queued_publishes: 2,
        command_timeout: PAUSE,
        ..RedisConfig::default()
    };
    let (_cluster, nodes, mut clients) =
        two_nodes_with(RedisCluster::with_config(server.url(), config)).await;
    server.pause();
    // At most one round trip in flight (a batch of what was queued, two at most) and two
    // queued: of ten emits, the later ones are refused.
    let mut taken = Vec::new();
    let mut refused = 0;
    for i in 0..10 {
        match nodes[0].io.emit("n", &i) {
            Ok(()) => taken.push(json!(i)),
            Err(EmitError::Adapter(AdapterError::Unavailable(why))) => {
                assert!(why.contains("queue is full"), "{why}");
                refused += 1;
            }
            Err(other) => panic!("unexpected {other}"),
        }
    }
    assert!((2..=4).contains(&taken.len()), "{taken:?}");
    assert_eq!(taken.len() + refused, 10);
    for i in 0..10 {
        expect_event(&mut clients[0], "n", json!(i)).await;
    }
    server.resume();
    for want in &taken {
        expect_event(&mut clients[1], "n", want.clone()).await;
    }
    nodes[0].io.emit("marker", &0).expect("room again");
    expect_event(&mut clients[1], "marker", json!(0)).await;
}
