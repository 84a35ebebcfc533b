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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_side_handler_that_panics_costs_only_its_answer() {
    use std::time::Duration;
    use tether_adapter_kit::suite::Node;
    use tether_core::adapter::AdapterError;
    use tether_core::socket::{EmitError, ServerEvent};

    let cluster = MemoryHarness::new();
    let a = Node::start(&cluster, "node-0".into()).await;
    let b = Node::start(&cluster, "node-1".into()).await;
    assert!(b.io.on_server_event("boom", |_ev: ServerEvent| async move {
        panic!("a handler bug");
    }));
    let asked =
        a.io.timeout(Duration::from_millis(500))
            .server_side_emit_with_ack("boom", &1)
            .await;
    assert!(
        matches!(
            asked,
            Err(EmitError::Adapter(AdapterError::Timeout {
                received: 0,
                expected: 1,
                ..
            }))
        ),
        "no answer from the panicking handler: {asked:?}"
    );
    // The node goes on answering.
    let answers =
        a.io.server_side_emit_with_ack("hello", &2)
            .await
            .expect("answered");
    assert_eq!(answers.len(), 1);
    assert_eq!(answers[0].data::<String>().expect("a name"), "node-1");
}
