//! The suite's [`Cluster`] for the adapters of tether-core and of this kit.

use std::any::Any;
use tether_core::adapter::{BoxFuture, LocalAdapter};
use tether_core::socket::SocketIoBuilder;

use crate::memory::MemoryCluster;
use crate::suite::Cluster;

/// [`LocalAdapter`]: one node.
#[derive(Debug, Default)]
pub struct LocalHarness;

impl Cluster for LocalHarness {
    fn max_nodes(&self) -> usize {
        1
    }

    fn node(&self, builder: SocketIoBuilder) -> BoxFuture<SocketIoBuilder> {
        Box::pin(async move { builder.adapter(|_| LocalAdapter::default()) })
    }

    fn silent_node(&self) -> BoxFuture<Option<Box<dyn Any + Send>>> {
        Box::pin(async { None })
    }
}

/// [`MemoryCluster`]: three nodes in one process.
#[derive(Debug, Default)]
pub struct MemoryHarness(MemoryCluster);

impl MemoryHarness {
    /// A fresh cluster.
    pub fn new() -> MemoryHarness {
        MemoryHarness::default()
    }
}

impl Cluster for MemoryHarness {
    fn max_nodes(&self) -> usize {
        3
    }

    fn node(&self, builder: SocketIoBuilder) -> BoxFuture<SocketIoBuilder> {
        let adapter = self.0.adapter();
        Box::pin(async move { builder.adapter(adapter) })
    }

    fn silent_node(&self) -> BoxFuture<Option<Box<dyn Any + Send>>> {
        let silent = self.0.silent_node("/");
        Box::pin(async move { Some(Box::new(silent) as Box<dyn Any + Send>) })
    }
}
