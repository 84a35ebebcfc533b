//! [`RedisCluster`]: the adapter kit's `Cluster` on tether-redis: each node its own connection
//! to one redis-server, so everything between them goes through Redis (a raw subscriber to the
//! request channel plays the node that never answers).

use std::any::Any;
use std::sync::{Arc, Mutex};
use tether_adapter_kit::suite::Cluster;
use tether_core::adapter::BoxFuture;
use tether_core::socket::SocketIoBuilder;
use tether_redis::{Mode, RedisConfig, RedisNode};

/// A cluster of up to three nodes on one redis-server, under one prefix.
pub(crate) struct RedisCluster {
    url: String,
    /// A Redis Cluster's nodes, when the nodes connect to one (`url` is then the first).
    cluster: Vec<String>,
    config: RedisConfig,
    /// The nodes made so far, in order.
    pub(crate) nodes: Arc<Mutex<Vec<RedisNode>>>,
}

impl RedisCluster {
    /// A cluster on the Redis at `url`, its channels under `prefix`.
    pub(crate) fn new(url: String, prefix: String) -> RedisCluster {
        RedisCluster::with_config(
            url,
            RedisConfig {
                prefix,
                ..RedisConfig::default()
            },
        )
    }

    /// A cluster whose nodes have `config`.
    pub(crate) fn with_config(url: String, config: RedisConfig) -> RedisCluster {
        RedisCluster {
            url,
            cluster: Vec::new(),
            config,
            nodes: Arc::default(),
        }
    }

    /// A cluster whose nodes connect to the Redis Cluster of `urls`.
    pub(crate) fn on_redis_cluster(urls: Vec<String>, config: RedisConfig) -> RedisCluster {
        RedisCluster {
            url: urls[0].clone(),
            cluster: urls,
            config,
            nodes: Arc::default(),
        }
    }

    /// The `i`th node made.
    pub(crate) fn redis_node(&self, i: usize) -> RedisNode {
        self.nodes.lock().expect("not poisoned")[i].clone()
    }
}

impl Cluster for RedisCluster {
    fn max_nodes(&self) -> usize {
        3
    }

    fn node(&self, builder: SocketIoBuilder) -> BoxFuture<SocketIoBuilder> {
        let config = self.config.clone();
        let url = self.url.clone();
        let cluster = self.cluster.clone();
        let nodes = self.nodes.clone();
        Box::pin(async move {
            let node = if cluster.is_empty() {
                RedisNode::connect(&url, config).await
            } else {
                let urls: Vec<&str> = cluster.iter().map(String::as_str).collect();
                RedisNode::connect_cluster(&urls, config).await
            }
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
        let cluster = self.cluster.clone();
        let prefix = self.config.prefix.clone();
        let mode = self.config.mode;
        Box::pin(async move {
            if !cluster.is_empty() {
                // Counted by SHARDNUMSUB (or NUMSUB) on its shard, deaf to everything.
                let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
                let client = redis::cluster::ClusterClientBuilder::new(
                    cluster.iter().map(|u| format!("{u}?protocol=resp3")),
                )
                .use_protocol(redis::ProtocolVersion::RESP3)
                .push_sender(tx)
                .build()
                .expect("a cluster client");
                let mut conn = client.get_async_connection().await.expect("connects");
                match mode {
                    Mode::Classic => conn.subscribe(format!("{prefix}-request#/#")).await,
                    Mode::Sharded(_) => conn.ssubscribe(format!("{prefix}#/#")).await,
                }
                .expect("subscribes");
                return Some(Box::new((conn, rx)) as Box<dyn Any + Send>);
            }
            match mode {
                Mode::Classic => {
                    let client = redis::Client::open(url).expect("a url");
                    let mut pubsub = client.get_async_pubsub().await.expect("connects");
                    pubsub
                        .subscribe(format!("{prefix}-request#/#"))
                        .await
                        .expect("subscribes");
                    Some(Box::new(pubsub) as Box<dyn Any + Send>)
                }
                Mode::Sharded(_) => {
                    // Counted by SHARDNUMSUB, deaf to everything.
                    let client =
                        redis::Client::open(format!("{url}?protocol=resp3")).expect("a url");
                    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
                    let config = redis::AsyncConnectionConfig::new().set_push_sender(tx);
                    let mut conn = client
                        .get_multiplexed_async_connection_with_config(&config)
                        .await
                        .expect("connects");
                    redis::cmd("SSUBSCRIBE")
                        .arg(format!("{prefix}#/#"))
                        .exec_async(&mut conn)
                        .await
                        .expect("subscribes");
                    Some(Box::new((conn, rx)) as Box<dyn Any + Send>)
                }
            }
        })
    }

    fn has_all_rooms(&self) -> bool {
        self.config.mode == Mode::Classic
    }
}
