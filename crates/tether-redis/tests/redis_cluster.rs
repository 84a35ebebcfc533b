//! The adapter kit's suite on a three-master Redis Cluster of the test's own, in sharded mode
//! (shard channels spread over the masters by slot, counted by SHARDNUMSUB summed over them)
//! and in classic mode (PUBLISH reaches every master; NUMSUB summed).
//!
//! The suite checks what arrives before a marker, so it needs one namespace's messages to
//! keep their order. Classic mode keeps it on a cluster (a namespace publishes through one
//! master); sharded mode keeps it on the namespace's channel only, as Node's does: room
//! channels live on other shards. So the suite runs sharded mode with static subscriptions,
//! and a test of its own checks that dynamic room channels deliver on a cluster.

mod support;

use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};
use support::RedisClusterServers;
use support::cluster::RedisCluster;
use tether_adapter_kit::suite::{self, Cluster, layout};
use tether_redis::{Mode, RedisConfig, SubscriptionMode};

async fn suite_on_a_cluster(mode: Mode) {
    let servers = RedisClusterServers::start();
    let urls = servers.urls();
    let round = AtomicUsize::new(0);
    let filter = std::env::var("TETHER_KIT_CASE").unwrap_or_default();
    suite::run_matching(&filter, || {
        let config = RedisConfig {
            prefix: format!("cluster{}", round.fetch_add(1, Ordering::Relaxed)),
            mode,
            ..RedisConfig::default()
        };
        let urls = urls.clone();
        async move { RedisCluster::on_redis_cluster(urls, config) }
    })
    .await;
    drop(servers);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sharded_mode_passes_the_suite_on_a_redis_cluster() {
    suite_on_a_cluster(Mode::Sharded(SubscriptionMode::Static)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamic_room_channels_deliver_on_a_redis_cluster() {
    let servers = RedisClusterServers::start();
    let config = RedisConfig {
        prefix: "rooms".into(),
        mode: Mode::Sharded(SubscriptionMode::Dynamic),
        ..RedisConfig::default()
    };
    let cluster = RedisCluster::on_redis_cluster(servers.urls(), config);
    // a on node 0 in r1; b on node 1 in r1 and r2; c on node 2 in r2.
    let (nodes, mut members) = layout(&cluster).await;
    cluster.settle().await;
    for (from, room, to) in [(0, "r1", [0, 1]), (2, "r2", [1, 2]), (1, "r2", [1, 2])] {
        nodes[from]
            .io
            .to(room)
            .emit("in-room", &room)
            .expect("published");
        for i in to {
            let (event, _, args) = members[i].client.event().await;
            assert_eq!((event.as_str(), args), ("in-room", vec![json!(room)]));
        }
    }
    drop(servers);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn classic_mode_passes_the_suite_on_a_redis_cluster() {
    suite_on_a_cluster(Mode::Classic).await;
}
