//! The adapter test kit: one behaviour suite every tether adapter passes ([`suite::run`]), an
//! in-process cluster adapter ([`MemoryCluster`]) to run it on several nodes in one process,
//! and a fake client ([`FakeClient`]) that drives a node's engine without HTTP.
//!
//! An adapter crate runs the suite from one test:
//!
//! ```no_run
//! use tether_adapter_kit::suite::{self, Cluster};
//! use tether_adapter_kit::{MemoryCluster, MemoryHarness};
//!
//! #[tokio::test]
//! async fn memory_cluster_passes_the_suite() {
//!     suite::run(|| async { MemoryHarness::new() }).await;
//! }
//! ```

mod client;
mod harness;
mod memory;
pub mod suite;

pub use client::{FakeClient, WAIT, parse_event};
pub use harness::{LocalHarness, MemoryHarness};
pub use memory::{DEFAULT_TIMEOUT, MemoryAdapter, MemoryCluster, SilentNode};
