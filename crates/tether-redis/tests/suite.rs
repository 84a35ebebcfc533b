//! The adapter kit's behaviour suite on tether-redis: three nodes of one cluster in this
//! process, each with its own connection to a redis-server of the test's own, so everything
//! between them goes through Redis (a raw subscriber to the request channel plays the node that
//! never answers).

mod support;

use std::any::Any;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use support::RedisServer;
use tether_adapter_kit::suite::{self, Cluster};
use tether_core::adapter::BoxFuture;
use tether_core::socket::SocketIoBuilder;
use tether_redis::{RedisConfig, RedisNode};

struct RedisCluster {
    url: String,
    prefix: String,
    nodes: Arc<Mutex<Vec<RedisNode>>>,
}

impl Cluster for RedisCluster {
    fn max_nodes(&self) -> usize {
        3
    }

    fn node(&self, builder: SocketIoBuilder) -> BoxFuture<SocketIoBuilder> {
        let config = RedisConfig {
            prefix: self.prefix.clone(),
            ..RedisConfig::default()
        };
        let url = self.url.clone();
        let nodes = self.nodes.clone();
        Box::pin(async move {
            let node = RedisNode::connect(&url, config)
                .await
                .expect("connects to redis");
            nodes.lock().expect("not poisoned").push(node.clone());
            builder.adapter(node.adapter())
        })
    }

    fn settle(&self) -> BoxFuture<()> {
        let nodes = self.nodes.lock().expect("not poisoned").clone();
        Box::pin(async move {
            for node in nodes {
                node.ready("/").await;
            }
        })
    }

    fn silent_node(&self) -> BoxFuture<Option<Box<dyn Any + Send>>> {
        let url = self.url.clone();
        let channel = format!("{}-request#/#", self.prefix);
        Box::pin(async move {
            let client = redis::Client::open(url).expect("a url");
            let mut pubsub = client.get_async_pubsub().await.expect("connects");
            pubsub.subscribe(&channel).await.expect("subscribes");
            Some(Box::new(pubsub) as Box<dyn Any + Send>)
        })
    }
}

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
        async move {
            RedisCluster {
                url,
                prefix,
                nodes: Arc::default(),
            }
        }
    })
    .await;
    drop(server);
}
