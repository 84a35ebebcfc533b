//! The behaviour suite: every operation of the adapter trait, checked end to end on several
//! nodes of one cluster in one process, each node a real `SocketIo` with fake clients.
//!
//! An adapter runs it with [`run`], given a way to make a fresh cluster ([`Cluster`]). Each
//! case uses as many nodes as the cluster allows (up to three), so a single-process adapter
//! passes the same checks on one node.

mod broadcast;
mod cluster_ops;
mod servers;

use futures_util::FutureExt;
use serde_json::{Value, json};
use std::any::Any;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::time::Duration;
use tether_core::adapter::BoxFuture;
use tether_core::engine::{Engine, EngineConfig, Sid};
use tether_core::socket::{ServerEvent, Socket, SocketIo, SocketIoBuilder};
use tokio::sync::mpsc;
use tokio::time::timeout;

use crate::client::{FakeClient, WAIT};

/// A cluster of the adapter under test.
pub trait Cluster: Send + Sync + 'static {
    /// The most nodes one cluster can have (1 for a single-process adapter).
    fn max_nodes(&self) -> usize;
    /// Sets the adapter of a new node of this cluster on `builder`.
    fn node(&self, builder: SocketIoBuilder) -> BoxFuture<SocketIoBuilder>;
    /// Adds a member of namespace `/` that counts as a node but never answers, kept while the
    /// returned guard lives; `None` if this adapter cannot have one.
    fn silent_node(&self) -> BoxFuture<Option<Box<dyn Any + Send>>>;
    /// Resolves once every node made so far hears the others (their namespace `/` is
    /// subscribed, for a broker, and the room channels of the rooms they have, for one that
    /// subscribes per room). At once by default.
    fn settle(&self) -> BoxFuture<()> {
        Box::pin(async {})
    }
    /// Whether the adapter answers `all_rooms` (Node's sharded adapter, and so tether's, has
    /// none: there it must say `Unsupported`). True by default.
    fn has_all_rooms(&self) -> bool {
        true
    }
}

/// How long a case that expects a timeout waits for it.
pub const SHORT: Duration = Duration::from_millis(1500);

/// One node of a cluster: a server, its engine, and what its handlers report.
pub struct Node {
    /// Its name (`node-0`, ...), which its server-side `hello` handler answers with.
    pub name: String,
    /// The server.
    pub io: SocketIo,
    /// Its engine, which fake clients connect to.
    pub engine: Engine<SocketIo>,
    sockets: mpsc::UnboundedReceiver<Socket>,
    notes: mpsc::UnboundedReceiver<Value>,
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Node")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Node {
    /// A node of `cluster`. Its `/` hands each socket to the test; its server-side `hello`
    /// answers with the node's name, and `note` is reported.
    pub async fn start<C: Cluster>(cluster: &C, name: String) -> Node {
        let io = cluster.node(SocketIo::builder()).await.build();
        let (tx, sockets) = mpsc::unbounded_channel();
        let (note_tx, notes) = mpsc::unbounded_channel();
        let me = name.clone();
        io.ns("/", move |socket: Socket| {
            let _ = tx.send(socket);
            async {}
        })
        .on_server_event("hello", move |mut ev: ServerEvent| {
            let me = me.clone();
            async move {
                let _ = ev.ack(&me);
            }
        })
        .on_server_event("note", move |ev: ServerEvent| {
            let _ = note_tx.send(ev.data::<Value>().unwrap_or(Value::Null));
            async {}
        });
        let engine = Engine::new(EngineConfig::default(), io.clone());
        Node {
            name,
            io,
            engine,
            sockets,
            notes,
        }
    }

    /// A client joined to `/` with `auth`, and its socket on this node.
    pub async fn client(&mut self, auth: Value) -> (FakeClient, Socket) {
        let mut client = FakeClient::open(&self.engine);
        let id = client.connect(&auth).await;
        let socket = timeout(WAIT, self.sockets.recv())
            .await
            .expect("the connect handler ran")
            .expect("the node is alive");
        assert_eq!(socket.id(), id);
        (client, socket)
    }

    /// The next `note` a server-side emit brought here.
    pub async fn note(&mut self) -> Value {
        timeout(WAIT, self.notes.recv())
            .await
            .expect("a note within the wait")
            .expect("the node is alive")
    }

    /// Whether a `note` came here (without waiting).
    pub fn has_note(&mut self) -> bool {
        self.notes.try_recv().is_ok()
    }
}

/// A client of the suite's standard layout, with what the test knows about it.
#[derive(Debug)]
pub struct Member {
    /// Its name (`a`, `b`, ...).
    pub name: &'static str,
    /// The node it is on.
    pub node: usize,
    /// The client.
    pub client: FakeClient,
    /// Its socket, on its node.
    pub socket: Socket,
}

impl Member {
    /// Its socket id.
    pub fn id(&self) -> Sid {
        self.socket.id()
    }
}

/// The standard layout on up to three nodes: `a` on node 0 in `r1`; `b` on node 1 in `r1`
/// and `r2`; `c` on node 2 in `r2`; `d` on node 0 in no room. Each has `auth`
/// `{"name": <name>}` and data `{"name": <name>}`.
pub async fn layout<C: Cluster>(cluster: &C) -> (Vec<Node>, Vec<Member>) {
    let n = cluster.max_nodes().clamp(1, 3);
    let mut nodes = Vec::new();
    for i in 0..n {
        nodes.push(Node::start(cluster, format!("node-{i}")).await);
    }
    cluster.settle().await;
    let plan: [(&'static str, usize, &[&str]); 4] = [
        ("a", 0, &["r1"]),
        ("b", 1, &["r1", "r2"]),
        ("c", 2, &["r2"]),
        ("d", 0, &[]),
    ];
    let mut members = Vec::new();
    for (name, node, rooms) in plan {
        let node = node % n;
        let (client, socket) = nodes[node].client(json!({ "name": name })).await;
        for room in rooms {
            socket.join(*room);
        }
        socket
            .set_data(&json!({ "name": name }))
            .expect("data serializes");
        members.push(Member {
            name,
            node,
            client,
            socket,
        });
    }
    // A broker adapter may subscribe per room (sharded Redis): those too.
    cluster.settle().await;
    (nodes, members)
}

/// The names of the events `member` receives before the next `marker`.
pub async fn before_marker(member: &mut Member) -> Vec<String> {
    let mut seen = Vec::new();
    loop {
        let (name, _, _) = member.client.event().await;
        if name == "marker" {
            return seen;
        }
        seen.push(name);
    }
}

/// Emits `marker` to everyone from `io`, then checks what each member got before it.
pub async fn expect_before_marker(io: &SocketIo, members: &mut [Member], want: &[(&str, &[&str])]) {
    io.emit("marker", &0).expect("marker emitted");
    for member in members.iter_mut() {
        let expected: Vec<String> = want
            .iter()
            .find(|(name, _)| *name == member.name)
            .map(|(_, events)| events.iter().map(|e| (*e).to_owned()).collect())
            .unwrap_or_default();
        assert_eq!(
            before_marker(member).await,
            expected,
            "what {} received",
            member.name
        );
    }
}

type Case<C> = (&'static str, fn(C) -> BoxFuture<()>);

fn cases<C: Cluster>() -> Vec<Case<C>> {
    vec![
        (
            "broadcast reaches rooms on every node, once, minus except",
            |c| Box::pin(async move { broadcast::rooms_and_except(c).await }),
        ),
        ("a local broadcast stays on its node", |c| {
            Box::pin(async move { broadcast::local_flag(c).await })
        }),
        ("broadcast acks are counted from every node", |c| {
            Box::pin(async move { broadcast::acks_from_every_node(c).await })
        }),
        (
            "broadcast acks end with the timeout when a client is silent",
            |c| Box::pin(async move { broadcast::acks_timeout(c).await }),
        ),
        (
            "fetch_sockets returns every node's sockets with data",
            |c| Box::pin(async move { cluster_ops::fetch_with_data(c).await }),
        ),
        (
            "sockets_join / sockets_leave and RemoteSocket join, leave, emit",
            |c| Box::pin(async move { cluster_ops::remote_join_leave(c).await }),
        ),
        (
            "disconnect_sockets and RemoteSocket::disconnect on any node",
            |c| Box::pin(async move { cluster_ops::remote_disconnect(c).await }),
        ),
        ("server-side emit, with and without acks", |c| {
            Box::pin(async move { servers::server_side_emit(c).await })
        }),
        ("server_count and all_rooms count every node", |c| {
            Box::pin(async move { servers::count_and_rooms(c).await })
        }),
        ("a node that never answers times requests out", |c| {
            Box::pin(async move { servers::silent_node_timeouts(c).await })
        }),
    ]
}

/// Runs every case, each on a fresh cluster from `new_cluster`, and fails listing the cases
/// that failed.
pub async fn run<C, F, Fut>(new_cluster: F)
where
    C: Cluster,
    F: Fn() -> Fut,
    Fut: Future<Output = C>,
{
    run_matching("", new_cluster).await;
}

/// Runs the cases whose name contains `filter` (see [`run`]).
pub async fn run_matching<C, F, Fut>(filter: &str, new_cluster: F)
where
    C: Cluster,
    F: Fn() -> Fut,
    Fut: Future<Output = C>,
{
    let mut failed = Vec::new();
    let chosen: Vec<_> = cases::<C>()
        .into_iter()
        .filter(|(name, _)| name.contains(filter))
        .collect();
    assert!(!chosen.is_empty(), "no case matches {filter:?}");
    for (name, case) in chosen {
        let cluster = new_cluster().await;
        match AssertUnwindSafe(case(cluster)).catch_unwind().await {
            Ok(()) => tracing::info!(case = name, "passed"),
            Err(panic) => {
                let why = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                    .unwrap_or_default();
                failed.push(format!("{name}: {why}"));
            }
        }
    }
    assert!(
        failed.is_empty(),
        "adapter suite cases failed:\n{}",
        failed.join("\n")
    );
}
