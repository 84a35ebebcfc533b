//! [`Conn`]: a node's one connection to Redis, to a single server (the `redis` crate's
//! connection manager: reconnected, resubscribed) or to a Redis Cluster (its cluster
//! connection: commands routed by slot, shard channels subscribed on their shard). Both speak
//! RESP3 and hand pub/sub messages to the node's dispatcher.

use redis::aio::{ConnectionLike, ConnectionManager};
use redis::cluster_async::ClusterConnection;
use redis::cluster_routing::{Route, RoutingInfo, SingleNodeRoutingInfo, SlotAddr};
use redis::{Cmd, Pipeline, RedisFuture, RedisResult, Value};

use crate::recovery_wire::RECORD;

/// A message to publish: channel, payload, order key (see [`Conn::publish`]), and how to
/// store it first when it is recoverable.
pub(crate) type Outgoing<'a> = (&'a str, &'a [u8], Option<&'a str>, Option<&'a Record>);

/// How a recoverable message is stored before it is published.
#[derive(Debug, Clone)]
pub(crate) struct Record {
    /// The stream.
    pub(crate) stream: String,
    /// Where the offset's placeholder starts in the payload.
    pub(crate) at: usize,
    /// The oldest stream id kept (`MINID ~`).
    pub(crate) min_id: String,
}

/// A node's connection.
#[derive(Clone)]
pub(crate) enum Conn {
    /// One Redis server.
    Single(ConnectionManager),
    /// A Redis Cluster.
    Cluster(ClusterConnection),
}

impl ConnectionLike for Conn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Conn::Single(conn) => conn.req_packed_command(cmd),
            Conn::Cluster(conn) => conn.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        cmd: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Conn::Single(conn) => conn.req_packed_commands(cmd, offset, count),
            Conn::Cluster(conn) => conn.req_packed_commands(cmd, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Conn::Single(conn) => conn.get_db(),
            Conn::Cluster(conn) => conn.get_db(),
        }
    }
}

impl Conn {
    /// Publishes `(channel, payload, order)` messages in order: on one server as one pipeline
    /// (one round trip); on a cluster one by one, each routed as [`Conn::publish`] says.
    pub(crate) async fn publish_all<'a>(
        &mut self,
        command: &'static str,
        batch: impl ExactSizeIterator<Item = Outgoing<'a>>,
    ) -> RedisResult<()> {
        match self {
            Conn::Single(conn) => {
                let mut pipe = redis::pipe();
                for (channel, payload, _, record) in batch {
                    match record {
                        None => pipe.cmd(command).arg(channel).arg(payload),
                        Some(record) => pipe
                            .cmd("EVAL")
                            .arg(RECORD)
                            .arg(1)
                            .arg(&record.stream)
                            .arg(payload)
                            .arg(record.at)
                            .arg(channel)
                            .arg(&record.min_id),
                    };
                }
                pipe.exec_async(conn).await
            }
            Conn::Cluster(_) => {
                // Recovery is not offered on a cluster: nothing here is recorded.
                for (channel, payload, order, _) in batch {
                    self.publish(command, channel, payload, order).await?;
                }
                Ok(())
            }
        }
    }

    /// PUBLISH or SPUBLISH `payload` on `channel`; on a cluster, a PUBLISH with an `order` key
    /// goes to the master owning that key's slot.
    pub(crate) async fn publish(
        &mut self,
        command: &'static str,
        channel: &str,
        payload: &[u8],
        order: Option<&str>,
    ) -> RedisResult<()> {
        let mut cmd = redis::cmd(command);
        cmd.arg(channel).arg(payload);
        match (self, order) {
            (Conn::Cluster(conn), Some(key)) if command == "PUBLISH" => {
                let route = Route::with_key(key, SlotAddr::Master);
                conn.route_command(
                    cmd,
                    RoutingInfo::SingleNode(SingleNodeRoutingInfo::SpecificNode(route)),
                )
                .await
                .map(drop)
            }
            (conn, _) => cmd.query_async::<redis::Value>(conn).await.map(drop),
        }
    }

    /// SUBSCRIBE one channel.
    pub(crate) async fn subscribe(&mut self, channel: &str) -> RedisResult<()> {
        match self {
            Conn::Single(conn) => conn.subscribe(channel).await,
            Conn::Cluster(conn) => conn.subscribe(channel).await,
        }
    }

    /// UNSUBSCRIBE one channel.
    pub(crate) async fn unsubscribe(&mut self, channel: &str) -> RedisResult<()> {
        match self {
            Conn::Single(conn) => conn.unsubscribe(channel).await,
            Conn::Cluster(conn) => conn.unsubscribe(channel).await,
        }
    }

    /// PSUBSCRIBE one pattern.
    pub(crate) async fn psubscribe(&mut self, pattern: &str) -> RedisResult<()> {
        match self {
            Conn::Single(conn) => conn.psubscribe(pattern).await,
            Conn::Cluster(conn) => conn.psubscribe(pattern).await,
        }
    }

    /// PUNSUBSCRIBE one pattern.
    pub(crate) async fn punsubscribe(&mut self, pattern: &str) -> RedisResult<()> {
        match self {
            Conn::Single(conn) => conn.punsubscribe(pattern).await,
            Conn::Cluster(conn) => conn.punsubscribe(pattern).await,
        }
    }

    /// SSUBSCRIBE one shard channel. On one server, a plain command (one channel, so one
    /// confirmation, which the connection takes for the reply and records for resubscribing);
    /// on a cluster, on the shard that owns the channel's slot.
    pub(crate) async fn ssubscribe(&mut self, channel: &str) -> RedisResult<()> {
        match self {
            Conn::Single(conn) => redis::cmd("SSUBSCRIBE").arg(channel).exec_async(conn).await,
            Conn::Cluster(conn) => conn.ssubscribe(channel).await,
        }
    }

    /// SUNSUBSCRIBE one shard channel.
    pub(crate) async fn sunsubscribe(&mut self, channel: &str) -> RedisResult<()> {
        match self {
            Conn::Single(conn) => {
                redis::cmd("SUNSUBSCRIBE")
                    .arg(channel)
                    .exec_async(conn)
                    .await
            }
            Conn::Cluster(conn) => conn.sunsubscribe(channel).await,
        }
    }
}

/// The subscriber count in a `PUBSUB NUMSUB` / `SHARDNUMSUB` reply (an array of channel,
/// count pairs, or a map of them in RESP3 and from a cluster, which sums its nodes' counts).
pub(crate) fn subscriber_count(reply: &Value) -> usize {
    let count = |v: &Value| redis::from_redis_value_ref::<usize>(v).unwrap_or(0);
    match reply {
        Value::Array(items) => items.chunks(2).filter_map(|p| p.get(1)).map(count).sum(),
        Value::Map(pairs) => pairs.iter().map(|(_, v)| count(v)).sum(),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_read_from_either_reply_shape() {
        let name = || Value::BulkString(b"socket.io-request#/#".to_vec());
        assert_eq!(
            subscriber_count(&Value::Array(vec![name(), Value::Int(2)])),
            2
        );
        assert_eq!(
            subscriber_count(&Value::Map(vec![(name(), Value::Int(3))])),
            3
        );
        assert_eq!(subscriber_count(&Value::Nil), 0);
    }
}
