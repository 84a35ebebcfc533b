//! The adapter suite on the two adapters that need no broker: `LocalAdapter` (one node) and
//! the kit's `MemoryCluster` (three nodes in this process, one silent for the timeouts).

use futures_util::FutureExt;
use std::panic::AssertUnwindSafe;
use tether_adapter_kit::suite;
use tether_adapter_kit::{LocalHarness, MemoryHarness};
use tether_core::adapter::{BoxFuture, LocalAdapter};
use tether_core::socket::SocketIoBuilder;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_adapter_passes_the_suite() {
    suite::run(|| async { LocalHarness }).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_cluster_passes_the_suite() {
    suite::run(|| async { MemoryHarness::new() }).await;
}

/// `LocalAdapter` passed off as a three-node cluster: its nodes never hear of each other.
struct Lonely;

impl suite::Cluster for Lonely {
    fn max_nodes(&self) -> usize {
        3
    }

    fn node(&self, builder: SocketIoBuilder) -> BoxFuture<SocketIoBuilder> {
        Box::pin(async move { builder.adapter(|_| LocalAdapter::default()) })
    }

    fn silent_node(&self) -> BoxFuture<Option<Box<dyn std::any::Any + Send>>> {
        Box::pin(async { None })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_suite_fails_an_adapter_that_does_not_cross_nodes() {
    for case in ["fetch_sockets returns", "server_count and all_rooms"] {
        let outcome = AssertUnwindSafe(suite::run_matching(case, || async { Lonely }))
            .catch_unwind()
            .await;
        let panic = outcome.expect_err("a cluster whose nodes do not talk must fail");
        let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
        assert!(
            message.contains(case),
            "the failed case is named: {message}"
        );
    }
}
