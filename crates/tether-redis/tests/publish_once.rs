//! A broadcast is encoded and published once per emit, whatever the number of nodes: Redis's
//! own command statistics count one PUBLISH (SPUBLISH in sharded mode) for an emit that three
//! nodes' clients receive.

mod support;

use serde_json::json;
use support::RedisServer;
use support::cluster::RedisCluster;
use tether_adapter_kit::suite::Node;
use tether_redis::{Mode, RedisConfig, SubscriptionMode};

/// `calls` of `command` in `INFO commandstats`.
async fn calls(conn: &mut redis::aio::MultiplexedConnection, command: &str) -> u64 {
    let info: String = redis::cmd("INFO")
        .arg("commandstats")
        .query_async(conn)
        .await
        .expect("INFO");
    let prefix = format!("cmdstat_{command}:calls=");
    info.lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .and_then(|rest| rest.split(',').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

async fn once(mode: Mode, command: &str) {
    let server = RedisServer::start();
    let config = RedisConfig {
        prefix: "once".into(),
        mode,
        ..RedisConfig::default()
    };
    let cluster = RedisCluster::with_config(server.url(), config);
    let mut nodes = Vec::new();
    for i in 0..3 {
        nodes.push(Node::start(&cluster, format!("node-{i}")).await);
    }
    let mut clients = Vec::new();
    for node in &mut nodes {
        let (client, socket) = node.client(json!({})).await;
        socket.join("room");
        clients.push(client);
    }
    for i in 0..3 {
        cluster.redis_node(i).ready("/").await;
    }
    let client = redis::Client::open(server.url()).expect("a url");
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .expect("connects");
    let before = calls(&mut conn, command).await;
    nodes[0].io.to("room").emit("news", &1).expect("published");
    for client in &mut clients {
        let (event, _, args) = client.event().await;
        assert_eq!((event.as_str(), args), ("news", vec![json!(1)]));
    }
    assert_eq!(
        calls(&mut conn, command).await - before,
        1,
        "one {command} for three nodes"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn classic_mode_publishes_once_per_emit() {
    once(Mode::Classic, "publish").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sharded_mode_publishes_once_per_emit() {
    once(Mode::Sharded(SubscriptionMode::Dynamic), "spublish").await;
}
