//! [`MemoryCluster`]: an adapter whose nodes live in one process and talk over channels, the
//! way the nodes of a Redis cluster talk over pub/sub: each node has one ordered inbox per
//! namespace, requests wait for one answer per other node, and a node can be made silent to
//! test timeouts.

use bytestring::ByteString;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tether_core::adapter::{
    AckSink, Adapter, AdapterCtx, AdapterError, BoxFuture, BroadcastOptions, EventPacket,
    LocalNamespace, Reply, Room, Rooms, SocketData,
};
use tether_core::socket::AckResponse;
use tokio::sync::{mpsc, oneshot};

/// How long a request waits for the other nodes when its options give no timeout (the Redis
/// adapter's `requestsTimeout` default).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// A request or message from one node to another.
enum Msg {
    Broadcast(EventPacket, BroadcastOptions),
    BroadcastAck(EventPacket, BroadcastOptions, AckSink),
    Fetch(BroadcastOptions, oneshot::Sender<Vec<u8>>),
    Join(BroadcastOptions, Vec<Room>),
    Leave(BroadcastOptions, Vec<Room>),
    Disconnect(BroadcastOptions, bool),
    ServerEmit(EventPacket, Option<oneshot::Sender<AckResponse>>),
    AllRooms(oneshot::Sender<Vec<Room>>),
}

struct Member {
    node: usize,
    inbox: mpsc::UnboundedSender<Msg>,
}

#[derive(Default)]
struct Bus {
    /// The members of each namespace, in join order.
    namespaces: Mutex<HashMap<ByteString, Vec<Member>>>,
    nodes: AtomicUsize,
}

impl Bus {
    fn others(&self, nsp: &str, me: usize) -> Vec<mpsc::UnboundedSender<Msg>> {
        self.namespaces
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(nsp)
            .map(|members| {
                members
                    .iter()
                    .filter(|m| m.node != me)
                    .map(|m| m.inbox.clone())
                    .collect()
            })
            .unwrap_or_default()
    }

    fn count(&self, nsp: &str) -> usize {
        self.namespaces
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(nsp)
            .map_or(0, Vec::len)
    }

    fn join(&self, nsp: &ByteString, node: usize, inbox: mpsc::UnboundedSender<Msg>) {
        self.namespaces
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(nsp.clone())
            .or_default()
            .push(Member { node, inbox });
    }

    fn leave(&self, nsp: &str, node: usize) {
        let mut namespaces = self.namespaces.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(members) = namespaces.get_mut(nsp) {
            members.retain(|m| m.node != node);
        }
    }
}

/// A cluster in one process. Cheap to clone; every node built with [`MemoryCluster::adapter`]
/// joins it.
///
/// ```
/// use tether_adapter_kit::MemoryCluster;
/// use tether_core::socket::SocketIo;
///
/// let cluster = MemoryCluster::new();
/// let a = SocketIo::builder().adapter(cluster.adapter()).build();
/// let b = SocketIo::builder().adapter(cluster.adapter()).build();
/// # let _ = (a, b);
/// ```
#[derive(Clone, Default)]
pub struct MemoryCluster {
    bus: Arc<Bus>,
}

impl std::fmt::Debug for MemoryCluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryCluster").finish_non_exhaustive()
    }
}

/// A member that counts as a node of a namespace but never answers. Dropping it removes it.
pub struct SilentNode {
    bus: Arc<Bus>,
    nsp: ByteString,
    node: usize,
}

impl std::fmt::Debug for SilentNode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SilentNode")
            .field("node", &self.node)
            .finish_non_exhaustive()
    }
}

impl Drop for SilentNode {
    fn drop(&mut self) {
        self.bus.leave(&self.nsp, self.node);
    }
}

impl MemoryCluster {
    /// An empty cluster.
    pub fn new() -> MemoryCluster {
        MemoryCluster::default()
    }

    /// The adapter factory of one new node (give it to `SocketIoBuilder::adapter`).
    pub fn adapter(&self) -> impl Fn(AdapterCtx) -> MemoryAdapter + Send + Sync + 'static {
        let bus = self.bus.clone();
        let node = bus.nodes.fetch_add(1, Ordering::Relaxed);
        move |ctx| MemoryAdapter::join(bus.clone(), node, ctx)
    }

    /// Adds a node to namespace `nsp` that receives everything and answers nothing.
    pub fn silent_node(&self, nsp: &str) -> SilentNode {
        let node = self.bus.nodes.fetch_add(1, Ordering::Relaxed);
        let (tx, mut rx) = mpsc::unbounded_channel::<Msg>();
        tokio::spawn(async move { while rx.recv().await.is_some() {} });
        let nsp = ByteString::from(nsp);
        self.bus.join(&nsp, node, tx);
        SilentNode {
            bus: self.bus.clone(),
            nsp,
            node,
        }
    }
}

/// One node's adapter for one namespace of a [`MemoryCluster`].
pub struct MemoryAdapter {
    bus: Arc<Bus>,
    node: usize,
    nsp: ByteString,
    rooms: Arc<Rooms>,
}

impl std::fmt::Debug for MemoryAdapter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryAdapter")
            .field("node", &self.node)
            .field("nsp", &self.nsp)
            .finish_non_exhaustive()
    }
}

impl Drop for MemoryAdapter {
    fn drop(&mut self) {
        self.bus.leave(&self.nsp, self.node);
    }
}

/// Applies the other nodes' messages, in order, as a subscriber would.
async fn serve(
    local: Arc<dyn LocalNamespace>,
    rooms: std::sync::Weak<Rooms>,
    mut inbox: mpsc::UnboundedReceiver<Msg>,
) {
    while let Some(msg) = inbox.recv().await {
        match msg {
            Msg::Broadcast(packet, opts) => {
                local.broadcast(&packet, &opts);
            }
            Msg::BroadcastAck(packet, opts, sink) => local.broadcast_with_ack(&packet, &opts, sink),
            Msg::Fetch(opts, reply) => {
                // Through JSON, as on a real wire.
                let sockets = local.fetch_sockets(&opts);
                let _ = reply.send(serde_json::to_vec(&sockets).unwrap_or_default());
            }
            Msg::Join(opts, r) => local.add_sockets(&opts, &r),
            Msg::Leave(opts, r) => local.del_sockets(&opts, &r),
            Msg::Disconnect(opts, close) => local.disconnect_sockets(&opts, close),
            Msg::ServerEmit(packet, reply) => {
                let Some(reply) = reply else {
                    local.server_side_emit(packet, None);
                    continue;
                };
                let (slot, answer) = Reply::channel();
                if local.server_side_emit(packet, Some(slot)) {
                    tokio::spawn(async move {
                        if let Ok(answer) = answer.await {
                            let _ = reply.send(answer);
                        }
                    });
                }
            }
            Msg::AllRooms(reply) => {
                let _ = reply.send(rooms.upgrade().map(|r| r.rooms()).unwrap_or_default());
            }
        }
    }
}

/// Waits for one answer per receiver, all within `timeout`.
async fn gather<T: Send + 'static>(
    op: &'static str,
    waits: Vec<oneshot::Receiver<T>>,
    timeout: Duration,
) -> Result<Vec<T>, AdapterError> {
    use futures_util::StreamExt;
    let expected = waits.len();
    let mut got = Vec::with_capacity(expected);
    // A node that left (or dropped the request) never answers: its wait just ends.
    let mut pending: futures_util::stream::FuturesUnordered<_> = waits.into_iter().collect();
    let deadline = tokio::time::sleep(timeout);
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            next = pending.next() => match next {
                Some(Ok(answer)) => got.push(answer),
                Some(Err(_)) => {}
                None => break,
            },
            () = &mut deadline => break,
        }
    }
    if got.len() < expected {
        return Err(AdapterError::Timeout {
            op,
            received: got.len(),
            expected,
        });
    }
    Ok(got)
}

impl MemoryAdapter {
    fn join(bus: Arc<Bus>, node: usize, ctx: AdapterCtx) -> MemoryAdapter {
        let rooms = Arc::new(Rooms::default());
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(serve(ctx.local, Arc::downgrade(&rooms), rx));
        bus.join(&ctx.nsp, node, tx);
        MemoryAdapter {
            bus,
            node,
            nsp: ctx.nsp,
            rooms,
        }
    }

    fn send(&self, msg: impl Fn() -> Msg) -> usize {
        let others = self.bus.others(&self.nsp, self.node);
        for inbox in &others {
            let _ = inbox.send(msg());
        }
        others.len()
    }

    fn ask<T: Send + 'static>(
        &self,
        msg: impl Fn(oneshot::Sender<T>) -> Msg,
    ) -> Vec<oneshot::Receiver<T>> {
        self.bus
            .others(&self.nsp, self.node)
            .into_iter()
            .map(|inbox| {
                let (tx, rx) = oneshot::channel();
                let _ = inbox.send(msg(tx));
                rx
            })
            .collect()
    }
}

fn ready<T: Send + 'static>(value: T) -> BoxFuture<T> {
    Box::pin(std::future::ready(value))
}

impl Adapter for MemoryAdapter {
    fn members(&self) -> &Rooms {
        &self.rooms
    }

    fn broadcast(&self, packet: &EventPacket, opts: &BroadcastOptions) -> Result<(), AdapterError> {
        self.send(|| Msg::Broadcast(packet.clone(), opts.clone()));
        Ok(())
    }

    fn broadcast_with_ack(
        &self,
        packet: &EventPacket,
        opts: &BroadcastOptions,
        sink: AckSink,
    ) -> Result<(), AdapterError> {
        self.send(|| Msg::BroadcastAck(packet.clone(), opts.clone(), sink.clone()));
        Ok(())
    }

    fn fetch_sockets(
        &self,
        opts: &BroadcastOptions,
    ) -> BoxFuture<Result<Vec<SocketData>, AdapterError>> {
        let waits = self.ask(|tx| Msg::Fetch(opts.clone(), tx));
        let timeout = opts.flags.timeout.unwrap_or(DEFAULT_TIMEOUT);
        Box::pin(async move {
            let mut all = Vec::new();
            for json in gather("fetchSockets", waits, timeout).await? {
                let sockets: Vec<SocketData> = serde_json::from_slice(&json)
                    .map_err(|err| AdapterError::Unavailable(format!("bad fetch answer: {err}")))?;
                all.extend(sockets);
            }
            Ok(all)
        })
    }

    fn add_sockets(
        &self,
        opts: &BroadcastOptions,
        rooms: &[Room],
    ) -> BoxFuture<Result<(), AdapterError>> {
        self.send(|| Msg::Join(opts.clone(), rooms.to_vec()));
        ready(Ok(()))
    }

    fn del_sockets(
        &self,
        opts: &BroadcastOptions,
        rooms: &[Room],
    ) -> BoxFuture<Result<(), AdapterError>> {
        self.send(|| Msg::Leave(opts.clone(), rooms.to_vec()));
        ready(Ok(()))
    }

    fn disconnect_sockets(
        &self,
        opts: &BroadcastOptions,
        close: bool,
    ) -> BoxFuture<Result<(), AdapterError>> {
        self.send(|| Msg::Disconnect(opts.clone(), close));
        ready(Ok(()))
    }

    fn server_side_emit(&self, packet: &EventPacket) -> BoxFuture<Result<(), AdapterError>> {
        self.send(|| Msg::ServerEmit(packet.clone(), None));
        ready(Ok(()))
    }

    fn server_side_emit_with_ack(
        &self,
        packet: &EventPacket,
        timeout: Duration,
    ) -> BoxFuture<Result<Vec<AckResponse>, AdapterError>> {
        let waits = self.ask(|tx| Msg::ServerEmit(packet.clone(), Some(tx)));
        Box::pin(gather("serverSideEmit", waits, timeout))
    }

    fn server_count(&self) -> BoxFuture<Result<usize, AdapterError>> {
        ready(Ok(self.bus.count(&self.nsp)))
    }

    fn all_rooms(&self) -> BoxFuture<Result<Vec<Room>, AdapterError>> {
        let waits = self.ask(Msg::AllRooms);
        let mut rooms = self.rooms.rooms();
        Box::pin(async move {
            for theirs in gather("allRooms", waits, DEFAULT_TIMEOUT).await? {
                rooms.extend(theirs);
            }
            rooms.sort();
            rooms.dedup();
            Ok(rooms)
        })
    }
}
