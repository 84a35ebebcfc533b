//! The adapter kit's behaviour suite on tether-redis: three nodes of one cluster in this
//! process, each with its own connection to a redis-server of the test's own, so everything
//! between them goes through Redis (a raw subscriber to the request channel plays the node that
//! never answers).

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use support::RedisServer;
use support::cluster::RedisCluster;
use tether_adapter_kit::suite;

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
