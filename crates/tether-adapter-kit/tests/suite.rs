//! The adapter suite on the two adapters that need no broker: `LocalAdapter` (one node) and
//! the kit's `MemoryCluster` (three nodes in this process, one silent for the timeouts).

use tether_adapter_kit::suite;
use tether_adapter_kit::{LocalHarness, MemoryHarness};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_adapter_passes_the_suite() {
    suite::run(|| async { LocalHarness }).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_cluster_passes_the_suite() {
    suite::run(|| async { MemoryHarness::new() }).await;
}
