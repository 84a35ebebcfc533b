//! Connection state recovery on Redis, the seam between a recovered socket's replay and live
//! traffic: a recorded packet that comes back from Redis enters the node's window of recent
//! entries (what a replay reads) in the same step as its local delivery, under the namespace's
//! recovery order lock. Were it in the window before the lock was taken, a socket recovered in
//! between would get it twice: in its replay, then live (CI saw it: tick 65 twice under 1,000
//! events/s during recoveries).
//!
//! The namespace here is a stand-in that reads the adapter's replay right before and right
//! after the adapter's admission step, the moments a recovered socket's join could fall on.

mod support;

use bytestring::ByteString;
use std::sync::{Arc, Mutex, OnceLock};
use support::RedisServer;
use tether_adapter_kit::WAIT;
use tether_core::adapter::{
    AckSink, Adapter, AdapterCtx, BroadcastOptions, EventPacket, LocalNamespace, Recorded,
    RecoveryConfig, Reply, Room, SocketData,
};
use tether_core::engine::Sid;
use tether_core::socket::Payload;
use tether_redis::{RedisAdapter, RedisConfig, RedisNode};
use tokio::sync::mpsc;
use tokio::time::timeout;

/// What the stand-in saw of one delivery.
#[derive(Debug)]
struct Seen {
    /// The packet's offset (its last argument).
    offset: String,
    /// How many packets a replay from `since` gave right before the admission step, and right
    /// after it (`None`: no `since` yet, or the window does not reach back to it).
    before: Option<usize>,
    after: Option<usize>,
    admitted: bool,
}

struct Standin {
    adapter: OnceLock<Arc<RedisAdapter>>,
    /// The offset a recovered socket's replay would read from.
    since: Mutex<Option<String>>,
    seen: mpsc::UnboundedSender<Seen>,
}

impl Standin {
    fn replayed(&self) -> Option<usize> {
        let since = self
            .since
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()?;
        let rooms: [Room; 0] = [];
        Some(self.adapter.get()?.replay(&since, &rooms)?.len())
    }
}

impl LocalNamespace for Standin {
    fn broadcast(&self, packet: &EventPacket, opts: &BroadcastOptions) -> usize {
        self.broadcast_admitted(packet, opts, &mut || true)
    }

    fn broadcast_admitted(
        &self,
        packet: &EventPacket,
        _opts: &BroadcastOptions,
        admit: &mut dyn FnMut() -> bool,
    ) -> usize {
        let before = self.replayed();
        let admitted = admit();
        let after = self.replayed();
        let offset = packet
            .payload
            .args()
            .last()
            .map(|a| a.trim_matches('"').to_owned())
            .unwrap_or_default();
        let _ = self.seen.send(Seen {
            offset,
            before,
            after,
            admitted,
        });
        usize::from(admitted)
    }

    fn broadcast_with_ack(&self, _: &EventPacket, _: &BroadcastOptions, sink: AckSink) {
        sink.reached(0);
    }
    fn fetch_sockets(&self, _: &BroadcastOptions) -> Vec<SocketData> {
        Vec::new()
    }
    fn add_sockets(&self, _: &BroadcastOptions, _: &[Room]) {}
    fn del_sockets(&self, _: &BroadcastOptions, _: &[Room]) {}
    fn disconnect_sockets(&self, _: &BroadcastOptions, _: bool) {}
    fn server_side_emit(&self, _: EventPacket, _: Option<Reply>) -> bool {
        false
    }
    fn evict(&self, _: Sid) -> bool {
        false
    }
}

fn tick(n: usize) -> EventPacket {
    EventPacket {
        event: "tick".into(),
        payload: Payload::from_raw(vec![ByteString::from(n.to_string())], Vec::new()),
    }
}

async fn node(url: &str) -> RedisNode {
    let config = RedisConfig {
        prefix: "recovery-seam".into(),
        ..RedisConfig::default()
    };
    RedisNode::connect(url, config).await.expect("redis")
}

/// A namespace `/` on `node` with recovery on, delivering to a stand-in.
async fn namespace(node: &RedisNode) -> (Arc<Standin>, mpsc::UnboundedReceiver<Seen>) {
    let (seen, deliveries) = mpsc::unbounded_channel();
    let standin = Arc::new(Standin {
        adapter: OnceLock::new(),
        since: Mutex::new(None),
        seen,
    });
    let adapter = node.adapter()(AdapterCtx {
        nsp: "/".into(),
        local: standin.clone(),
        recovery: Some(RecoveryConfig::default()),
    });
    assert!(standin.adapter.set(Arc::new(adapter)).is_ok());
    timeout(WAIT, node.ready("/")).await.expect("subscribed");
    (standin, deliveries)
}

async fn next(deliveries: &mut mpsc::UnboundedReceiver<Seen>) -> Seen {
    timeout(WAIT, deliveries.recv())
        .await
        .expect("a delivery in time")
        .expect("the stand-in lives")
}

#[tokio::test]
async fn a_recorded_packet_enters_the_replay_window_in_the_same_step_as_its_delivery() {
    let redis = RedisServer::start();
    let (a, b) = (node(&redis.url()).await, node(&redis.url()).await);
    let (on_a, mut at_a) = namespace(&a).await;
    let (on_b, mut at_b) = namespace(&b).await;
    let recorder = on_a.adapter.get().expect("set").clone();
    let all = BroadcastOptions::default();

    // The first packet gives the offset a replay reads from.
    assert!(matches!(
        recorder.record(&tick(0), &all),
        Ok(Recorded::Relayed)
    ));
    let first = next(&mut at_a).await;
    assert_eq!(next(&mut at_b).await.offset, first.offset);
    for standin in [&on_a, &on_b] {
        *standin.since.lock().expect("lock") = Some(first.offset.clone());
    }

    // On the node that recorded them and on the other: each packet is in no replay before it
    // is admitted, and in the replay after, so a socket joining on either side of the step
    // gets it once.
    for n in 1..=20 {
        assert!(matches!(
            recorder.record(&tick(n), &all),
            Ok(Recorded::Relayed)
        ));
        for (name, deliveries) in [("recording node", &mut at_a), ("other node", &mut at_b)] {
            let seen = next(deliveries).await;
            assert!(seen.admitted, "{name}: packet {n} delivered ({seen:?})");
            assert_eq!(seen.before, Some(n - 1), "{name}: packet {n} ({seen:?})");
            assert_eq!(seen.after, Some(n), "{name}: packet {n} ({seen:?})");
        }
    }
}

#[tokio::test]
async fn an_offset_seen_before_is_not_admitted_again() {
    let redis = RedisServer::start();
    let a = node(&redis.url()).await;
    let (on_a, mut at_a) = namespace(&a).await;
    let recorder = on_a.adapter.get().expect("set").clone();
    assert!(matches!(
        recorder.record(&tick(0), &BroadcastOptions::default()),
        Ok(Recorded::Relayed)
    ));
    let first = next(&mut at_a).await;
    assert!(first.admitted);

    // This node's own broadcast whose last argument is an old offset (not one it recorded
    // now) is not delivered: it is not in the stream's order, and this node sent it.
    let replayed = EventPacket {
        event: "tick".into(),
        payload: Payload::from_raw(
            vec![ByteString::from(format!("\"{}\"", first.offset))],
            Vec::new(),
        ),
    };
    recorder
        .broadcast(&replayed, &BroadcastOptions::default())
        .expect("published");
    let seen = next(&mut at_a).await;
    assert_eq!(seen.offset, first.offset);
    assert!(!seen.admitted, "{seen:?}");
}
