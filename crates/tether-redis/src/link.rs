//! [`Link`]: what every namespace of a node shares: its id, its settings, its one RESP3
//! connection, its ordered publish queue and its view of Redis's health. The lowest module of
//! the crate's Redis side.

use std::sync::Arc;
use std::time::Duration;
use tether_core::adapter::AdapterError;
use tokio::sync::{mpsc, oneshot};

use crate::channels::DEFAULT_PREFIX;
use crate::conn::{Conn, Record, subscriber_count};
use crate::health::{Dropped, Health, is_connection_error};

/// Settings of a node, Node's adapter options where it has them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisConfig {
    /// The channels' prefix, Node's `key`. Default `socket.io`.
    pub prefix: String,
    /// How long a request waits for the other nodes without a `timeout` of its own, Node's
    /// `requestsTimeout`. Default 5 s.
    pub requests_timeout: Duration,
    /// Answer on the requester's own channel, Node's `publishOnSpecificResponseChannel`.
    /// Default false (the common response channel).
    pub publish_on_specific_response_channel: bool,
    /// Messages waiting to be published; past it an emit fails with `AdapterError::Unavailable`
    /// (Redis is not keeping up, or is down). Default 10,000.
    pub max_queued_publishes: usize,
    /// How long a command (a publish, a count) may wait for Redis's answer before the
    /// connection counts as lost and is made again. Default 5 s.
    pub command_timeout: Duration,
    /// Which protocol the fleet speaks; every node of a namespace must speak the same one.
    /// Default [`Mode::Classic`].
    pub mode: Mode,
}

/// The protocols of Node's Redis adapters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// `createAdapter`: PUBLISH / PSUBSCRIBE, requests and answers on channels of their own;
    /// the emitter reaches it.
    #[default]
    Classic,
    /// `createShardedAdapter`: SPUBLISH / SSUBSCRIBE (Redis 7+, a Redis Cluster spreads the
    /// channels over its shards); no `all_rooms`, no emitter.
    Sharded(SubscriptionMode),
}

/// Which room channels a sharded node subscribes to, Node's `subscriptionMode`; the whole
/// fleet must use the same one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SubscriptionMode {
    /// Only the namespace's channel: every broadcast goes there.
    Static,
    /// A channel per room that is not a socket id, subscribed while the room has a member
    /// here; a broadcast to exactly one such room goes to its channel. Node's default.
    #[default]
    Dynamic,
    /// As `Dynamic`, socket-id rooms included.
    DynamicPrivate,
}

impl Default for RedisConfig {
    fn default() -> Self {
        RedisConfig {
            prefix: DEFAULT_PREFIX.to_owned(),
            requests_timeout: Duration::from_secs(5),
            publish_on_specific_response_channel: false,
            max_queued_publishes: 10_000,
            command_timeout: Duration::from_secs(5),
            mode: Mode::Classic,
        }
    }
}

/// A message to publish, and who waits for its result.
pub(crate) struct Publish {
    pub(crate) channel: String,
    pub(crate) payload: Vec<u8>,
    /// On a Redis Cluster, a PUBLISH goes to the master owning this key's slot, so that what
    /// one namespace publishes keeps its order (the cluster bus forwards each master's
    /// messages in order); `None` routes by the channel (SPUBLISH must).
    pub(crate) order: Option<Arc<str>>,
    pub(crate) done: Option<oneshot::Sender<Result<(), AdapterError>>>,
    /// Connection state recovery: store the message in a stream first, its offset in place
    /// (one script call, see `recovery_wire::RECORD`).
    pub(crate) record: Option<Record>,
}

/// A node's link to Redis.
pub(crate) struct Link {
    pub(crate) uid: String,
    pub(crate) config: RedisConfig,
    pub(crate) conn: Conn,
    pub(crate) publish: mpsc::Sender<Publish>,
    pub(crate) health: Arc<Health>,
}

/// `AdapterError::Unavailable` with `err`'s text.
pub(crate) fn unavailable(err: impl std::fmt::Display) -> AdapterError {
    AdapterError::Unavailable(err.to_string())
}

impl Link {
    /// Queues a message; fails at once while Redis is unreachable or the queue is full.
    fn enqueue(&self, msg: Publish) -> Result<(), AdapterError> {
        if !self.health.is_up() {
            self.health.dropped(Dropped::Unreachable);
            return Err(unavailable("redis is unreachable"));
        }
        self.publish.try_send(msg).map_err(|_| {
            self.health.dropped(Dropped::QueueFull);
            unavailable("the publish queue is full (Redis is slow or down)")
        })
    }

    /// Queues `payload` for `channel` (see `Publish::order`).
    pub(crate) fn publish(
        &self,
        channel: String,
        payload: Vec<u8>,
        order: Option<Arc<str>>,
    ) -> Result<(), AdapterError> {
        self.enqueue(Publish {
            channel,
            payload,
            order,
            done: None,
            record: None,
        })
    }

    /// Queues a recoverable message: stored in its stream, then published, in this node's
    /// publish order.
    pub(crate) fn publish_recorded(
        &self,
        channel: String,
        payload: Vec<u8>,
        record: Record,
    ) -> Result<(), AdapterError> {
        self.enqueue(Publish {
            channel,
            payload,
            order: None,
            done: None,
            record: Some(record),
        })
    }

    /// Publishes and waits until Redis took it.
    pub(crate) async fn publish_and_wait(
        &self,
        channel: String,
        payload: Vec<u8>,
        order: Option<Arc<str>>,
    ) -> Result<(), AdapterError> {
        let (done, result) = oneshot::channel();
        self.enqueue(Publish {
            channel,
            payload,
            order,
            done: Some(done),
            record: None,
        })?;
        result
            .await
            .unwrap_or_else(|_| Err(unavailable("the publisher stopped")))
    }

    /// Subscribers of `channel` (`PUBSUB NUMSUB` or `SHARDNUMSUB`, as `subcommand` says),
    /// summed over a cluster's masters; a lost connection marks Redis down.
    pub(crate) async fn count_subscribers(
        &self,
        subcommand: &'static str,
        channel: &str,
    ) -> Result<usize, AdapterError> {
        let mut conn = self.conn.clone();
        let reply: redis::Value = redis::cmd("PUBSUB")
            .arg(subcommand)
            .arg(channel)
            .query_async(&mut conn)
            .await
            .map_err(|err| {
                if is_connection_error(&err) {
                    self.health.mark_down(&err);
                }
                unavailable(err)
            })?;
        Ok(subscriber_count(&reply))
    }

    /// PUBLISH, or SPUBLISH in sharded mode.
    pub(crate) fn publish_command(&self) -> &'static str {
        match self.config.mode {
            Mode::Classic => "PUBLISH",
            Mode::Sharded(_) => "SPUBLISH",
        }
    }
}
