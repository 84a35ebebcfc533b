//! [`RedisNode`]: one tether node's link to Redis: one RESP3 connection (publish, `PUBSUB
//! NUMSUB` and every subscription, so `NUMSUB` counts the node exactly once per namespace),
//! reconnected and resubscribed by the `redis` crate's connection manager; one task that
//! dispatches what arrives to the namespace it is for; one task that publishes in order; one
//! that, while Redis is unreachable, pings it until it answers (see `health.rs`).

use redis::aio::ConnectionManagerConfig;
use redis::{PushInfo, PushKind};
use std::sync::{Arc, Weak};
use std::time::Duration;
use tokio::sync::{mpsc, watch};

use crate::adapter::ClassicAdapter;
use crate::conn::Conn;
use crate::either::RedisAdapter;
use crate::health::{Dropped, Health, is_connection_error};
use crate::link::{Link, Mode, Publish, RedisConfig};
use crate::pending::{Registry, Subscriber};
use crate::sharded::ShardedAdapter;
use tether_core::adapter::{AdapterCtx, AdapterError};

/// One node of a Redis-backed cluster. Cheap to clone; give [`RedisNode::adapter`] to
/// `SocketIoBuilder::adapter`.
///
/// ```no_run
/// # async fn run() -> Result<(), redis::RedisError> {
/// use tether_core::socket::SocketIo;
/// use tether_redis::{RedisConfig, RedisNode};
///
/// let node = RedisNode::connect("redis://127.0.0.1:6379", RedisConfig::default()).await?;
/// let io = SocketIo::builder().adapter(node.adapter()).build();
/// io.ns("/", || async {});
/// node.ready("/").await; // subscribed: other nodes' broadcasts arrive from now on
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisNode {
    link: Arc<Link>,
    namespaces: Arc<Registry>,
}

impl std::fmt::Debug for RedisNode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisNode")
            .field("uid", &self.link.uid)
            .field("config", &self.link.config)
            .finish_non_exhaustive()
    }
}

/// A node id as Node makes one: in classic mode `uid2(6)`, 6 characters of `[A-Za-z0-9_-]`
/// (the start of a fresh random socket id, which has that alphabet); in sharded mode 8 random
/// bytes in hex.
fn uid(mode: Mode) -> String {
    match mode {
        Mode::Classic => tether_core::engine::Sid::random().as_str()[..6].to_owned(),
        Mode::Sharded(_) => crate::sharded::random_id(),
    }
}

impl RedisNode {
    /// Connects to Redis at `url` (`redis://host:port/db`; RESP3 is turned on).
    pub async fn connect(url: &str, config: RedisConfig) -> redis::RedisResult<RedisNode> {
        let client = redis::Client::open(with_resp3(url))?;
        let (push_tx, push_rx) = mpsc::unbounded_channel::<PushInfo>();
        let manager_config = ConnectionManagerConfig::new()
            .set_push_sender(push_tx)
            .set_automatic_resubscription()
            .set_connection_timeout(Some(Duration::from_secs(5)))
            // A down Redis at start-up fails in a few seconds; later losses retry the same
            // way on each command, in the background.
            .set_number_of_retries(3)
            .set_max_delay(Duration::from_secs(2))
            .set_response_timeout(Some(config.command_timeout));
        let conn = client
            .get_connection_manager_with_config(manager_config)
            .await?;
        Ok(RedisNode::start(Conn::Single(conn), push_rx, config))
    }

    /// Connects to the Redis Cluster that `urls` are nodes of (one is enough; the others are
    /// found from it). Shard channels (sharded mode) are subscribed on the shard that owns
    /// them; classic mode works too, as PUBLISH reaches every node of a cluster.
    ///
    /// ```no_run
    /// # async fn run() -> Result<(), redis::RedisError> {
    /// use tether_redis::{Mode, RedisConfig, RedisNode, SubscriptionMode};
    /// let config = RedisConfig { mode: Mode::Sharded(SubscriptionMode::Dynamic), ..RedisConfig::default() };
    /// let node = RedisNode::connect_cluster(&["redis://127.0.0.1:7000"], config).await?;
    /// # Ok(()) }
    /// ```
    pub async fn connect_cluster(
        urls: &[&str],
        config: RedisConfig,
    ) -> redis::RedisResult<RedisNode> {
        let (push_tx, push_rx) = mpsc::unbounded_channel::<PushInfo>();
        let client = redis::cluster::ClusterClientBuilder::new(urls.iter().map(|u| with_resp3(u)))
            .use_protocol(redis::ProtocolVersion::RESP3)
            .push_sender(push_tx)
            .connection_timeout(Duration::from_secs(5))
            .response_timeout(config.command_timeout)
            .retries(3)
            .build()?;
        let conn = client.get_async_connection().await?;
        Ok(RedisNode::start(Conn::Cluster(conn), push_rx, config))
    }

    fn start(
        conn: Conn,
        push_rx: mpsc::UnboundedReceiver<PushInfo>,
        config: RedisConfig,
    ) -> RedisNode {
        let (publish, publish_rx) = mpsc::channel(config.max_queued_publishes.max(1));
        let health = Arc::new(Health::connected());
        let link = Arc::new(Link {
            uid: uid(config.mode),
            config,
            conn,
            publish,
            health: health.clone(),
        });
        let namespaces = Arc::new(Registry::default());
        tokio::spawn(publisher(
            link.conn.clone(),
            link.publish_command(),
            health.clone(),
            publish_rx,
        ));
        tokio::spawn(dispatcher(
            Arc::downgrade(&namespaces),
            Arc::downgrade(&health),
            push_rx,
        ));
        tokio::spawn(monitor(link.conn.clone(), Arc::downgrade(&health)));
        RedisNode { link, namespaces }
    }

    /// This node's id on the wire.
    pub fn uid(&self) -> &str {
        &self.link.uid
    }

    /// Whether Redis is reachable, as this node last saw it: `true` from the connect on, `false`
    /// from a lost connection or a failed command until Redis answers again (it is pinged
    /// meanwhile, and the subscriptions are restored before it counts as back). While `false`,
    /// emits to the other nodes fail with `AdapterError::Unavailable`.
    pub fn is_connected(&self) -> bool {
        self.link.health.is_up()
    }

    /// [`RedisNode::is_connected`] as it changes.
    pub fn connection(&self) -> watch::Receiver<bool> {
        self.link.health.watch()
    }

    /// The adapter factory for `SocketIoBuilder::adapter`.
    pub fn adapter(&self) -> impl Fn(AdapterCtx) -> RedisAdapter + Send + Sync + 'static {
        let (link, namespaces) = (self.link.clone(), self.namespaces.clone());
        move |ctx| match link.config.mode {
            Mode::Classic => {
                RedisAdapter::new(ClassicAdapter::new(link.clone(), namespaces.clone(), ctx))
            }
            Mode::Sharded(_) => {
                RedisAdapter::new(ShardedAdapter::new(link.clone(), namespaces.clone(), ctx))
            }
        }
    }

    /// Resolves once namespace `nsp` is subscribed (at once if it is; never if this node
    /// serves no such namespace). In sharded mode with room channels, the rooms that exist
    /// here when it is called are subscribed too.
    pub async fn ready(&self, nsp: &str) {
        let ns = self
            .namespaces
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(nsp)
            .and_then(Weak::upgrade);
        match ns {
            Some(ns) => {
                let ready = ns.ready();
                drop(ns);
                ready.await;
            }
            None => std::future::pending().await,
        }
    }
}

/// `url` with `protocol=resp3` unless it names a protocol.
fn with_resp3(url: &str) -> String {
    if url.contains("protocol=") {
        url.to_owned()
    } else if url.contains('?') {
        format!("{url}&protocol=resp3")
    } else {
        format!("{url}?protocol=resp3")
    }
}

/// The most messages one round trip to Redis carries.
const MAX_BATCH: usize = 256;

/// Publishes in order; each result goes to whoever waits for it. What queued while the last
/// round trip was out goes in the next one, as one pipeline (one round trip, in order), so a
/// busy namespace is not held to one publish per round trip. While Redis is unreachable what
/// is queued is dropped at once (and counted), not tried one by one.
async fn publisher(
    mut conn: Conn,
    command: &'static str,
    health: Arc<Health>,
    mut queue: mpsc::Receiver<Publish>,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let result = if health.is_up() {
            let messages = batch.iter().map(|m| {
                (
                    m.channel.as_str(),
                    m.payload.as_slice(),
                    m.order.as_deref(),
                    m.record.as_ref(),
                )
            });
            conn.publish_all(command, messages).await.map_err(|err| {
                health.publish_failed();
                if is_connection_error(&err) {
                    health.mark_down(&err);
                } else {
                    tracing::warn!(%err, messages = batch.len(), "publish failed");
                }
                AdapterError::Unavailable(format!("publish failed: {err}"))
            })
        } else {
            for _ in &batch {
                health.dropped(Dropped::Unreachable);
            }
            Err(AdapterError::Unavailable("redis is unreachable".into()))
        };
        for msg in batch.drain(..) {
            if let Some(done) = msg.done {
                let _ = done.send(result.clone());
            }
        }
    }
}

/// While Redis is unreachable, pings it (each ping makes the connection manager reconnect,
/// which resubscribes before it answers) until it answers.
async fn monitor(mut conn: Conn, health: Weak<Health>) {
    const FIRST: Duration = Duration::from_millis(100);
    const MAX: Duration = Duration::from_secs(2);
    loop {
        let Some(mut changes) = health.upgrade().map(|h| h.watch()) else {
            return;
        };
        if changes.wait_for(|up| !*up).await.is_err() {
            return;
        }
        drop(changes);
        let mut delay = FIRST;
        loop {
            let answered = redis::cmd("PING")
                .query_async::<redis::Value>(&mut conn)
                .await
                .is_ok();
            let Some(health) = health.upgrade() else {
                return;
            };
            if answered {
                health.mark_up();
                break;
            }
            drop(health);
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(MAX);
        }
    }
}

/// The channel and payload of a pub/sub message.
fn message(info: PushInfo) -> Option<(String, Vec<u8>)> {
    let mut data = info.data.into_iter();
    let (channel, payload) = match info.kind {
        PushKind::Message | PushKind::SMessage => (data.next()?, data.next()?),
        PushKind::PMessage => {
            let _pattern = data.next()?;
            (data.next()?, data.next()?)
        }
        _ => return None,
    };
    let channel: String = redis::from_redis_value(channel).ok()?;
    let payload: Vec<u8> = redis::from_redis_value(payload).ok()?;
    Some((channel, payload))
}

/// Hands each message to its namespace; never blocks on one (each namespace's work is
/// synchronous or spawns).
async fn dispatcher(
    namespaces: Weak<Registry>,
    health: Weak<Health>,
    mut pushes: mpsc::UnboundedReceiver<PushInfo>,
) {
    while let Some(info) = pushes.recv().await {
        if info.kind == PushKind::Disconnection {
            if let Some(health) = health.upgrade() {
                health.mark_down(&"the connection was lost");
            }
            continue;
        }
        let Some((channel, payload)) = message(info) else {
            continue;
        };
        let Some(namespaces) = namespaces.upgrade() else {
            return;
        };
        let namespaces: Vec<Arc<dyn Subscriber>> = namespaces
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .filter_map(Weak::upgrade)
            .collect();
        for ns in namespaces {
            if ns.on_message(&channel, &payload) {
                break;
            }
        }
    }
}
