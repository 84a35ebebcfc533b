//! The adapter kit's behaviour suite on tether-redis: three nodes of one cluster in this
//! process, each with its own connection to a redis-server of the test's own, so everything
//! between them goes through Redis (a raw subscriber to the request channel plays the node that
//! never answers).

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use support::RedisServer;
use support::cluster::RedisCluster;
use tether_adapter_kit::suite;
use tether_redis::{Mode, RedisConfig, SubscriptionMode};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_adapter_passes_the_suite() {
    let server = RedisServer::start();
    let url = server.url();
    let round = AtomicUsize::new(0);
    // TETHER_KIT_CASE=<part of a case name> runs only the matching cases.
    let filter = std::env::var("TETHER_KIT_CASE").unwrap_or_default();
    suite::run_matching(&filter, || {
        let prefix = format!("kit{}", round.fetch_add(1, Ordering::Relaxed));
        let url = url.clone();
        async move { RedisCluster::new(url, prefix) }
    })
    .await;
    drop(server);
}

/// The suite in sharded mode (SPUBLISH / SSUBSCRIBE on one Redis 7), in each subscription
/// mode: room channels come and go with the rooms in the dynamic ones.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sharded_adapter_passes_the_suite() {
    let server = RedisServer::start();
    let url = server.url();
    let round = AtomicUsize::new(0);
    let filter = std::env::var("TETHER_KIT_CASE").unwrap_or_default();
    for subscription in [
        SubscriptionMode::Dynamic,
        SubscriptionMode::Static,
        SubscriptionMode::DynamicPrivate,
    ] {
        suite::run_matching(&filter, || {
            let config = RedisConfig {
                prefix: format!("sharded{}", round.fetch_add(1, Ordering::Relaxed)),
                mode: Mode::Sharded(subscription),
                ..RedisConfig::default()
            };
            let url = url.clone();
            async move { RedisCluster::with_config(url, config) }
        })
        .await;
    }
    drop(server);
}
