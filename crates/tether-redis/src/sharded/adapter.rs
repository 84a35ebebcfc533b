//! [`ShardedAdapter`]: one namespace of one node in sharded mode, as `createShardedAdapter`
//! does it. Every node SSUBSCRIBEs the namespace's channel `prefix#N#` and its own answer
//! channel `prefix#N#<uid>#`; in the dynamic subscription modes, also `prefix#N#<room>#` for
//! each room that has a member here (subscribed when the room appears, unsubscribed when it
//! empties, by one task per namespace that looks at the room's state when it gets to it, so
//! a quick join-leave-join cannot leave the subscription wrong). Nodes are counted with
//! `PUBSUB SHARDNUMSUB prefix#N#`.

use bytestring::ByteString;
use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;
use tether_core::adapter::{
    AckSink, Adapter, AdapterCtx, AdapterError, BoxFuture, BroadcastOptions, EventPacket,
    LocalNamespace, Room, Rooms, SocketData,
};
use tether_core::engine::Sid;
use tether_core::socket::AckResponse;
use tokio::sync::{mpsc, watch};

use crate::link::{Link, Mode, SubscriptionMode, unavailable};
use crate::pending::{Pending, Registry, Requests, Subscriber, ask, forget_after};
use crate::sharded::message::{Message, encode};
use crate::sharded::random_id;

/// A namespace's state, shared by its adapter, the node's dispatcher and its room task.
pub(crate) struct ShardedNs {
    pub(crate) node: Arc<Link>,
    pub(crate) nsp: ByteString,
    /// `prefix#N#`.
    pub(crate) main: String,
    /// `prefix#N#<uid>#`.
    pub(crate) own: String,
    pub(crate) local: Arc<dyn LocalNamespace>,
    pub(crate) rooms: Rooms,
    pub(crate) pending: Requests,
    subscription: SubscriptionMode,
    subscribed: watch::Sender<bool>,
    /// Rooms whose channel may need (un)subscribing.
    room_changes: mpsc::UnboundedSender<Room>,
    /// How many room changes were queued, and (as it grows) how many the room task did.
    changes_queued: AtomicU64,
    changes_done: watch::Sender<u64>,
}

impl Subscriber for ShardedNs {
    fn on_message(self: Arc<Self>, channel: &str, payload: &[u8]) -> bool {
        self.handle(channel, payload)
    }

    fn ready(&self) -> BoxFuture<()> {
        let mut subscribed = self.subscribed.subscribe();
        let mut done = self.changes_done.subscribe();
        let queued = self.changes_queued.load(Ordering::Acquire);
        Box::pin(async move {
            let _ = subscribed.wait_for(|done| *done).await;
            let _ = done.wait_for(|done| *done >= queued).await;
        })
    }
}

impl ShardedNs {
    /// The channel of `room`.
    pub(crate) fn room_channel(&self, room: &str) -> String {
        format!("{}{room}#", self.main)
    }

    /// The answer channel of node `uid`.
    pub(crate) fn answer_channel(&self, uid: &str) -> String {
        format!("{}{uid}#", self.main)
    }

    /// Whether `room` is one of this node's sockets' own rooms (Node's `sids.has(room)`).
    fn is_socket_room(&self, room: &str) -> bool {
        Sid::parse(room).is_some_and(|sid| !self.rooms.rooms_of(sid).is_empty())
    }

    /// Whether `room`, now, should have its channel subscribed here.
    fn wants_channel(&self, room: &str) -> bool {
        self.rooms.has_room(room)
            && match self.subscription {
                SubscriptionMode::Static => false,
                SubscriptionMode::Dynamic => !self.is_socket_room(room),
                SubscriptionMode::DynamicPrivate => true,
            }
    }

    /// Where a message goes: a plain broadcast to exactly one room uses the room's channel
    /// when the fleet's mode gives rooms channels (in `Dynamic`, not for a socket id: a
    /// 20-character room); everything else the namespace's channel.
    fn channel_for(&self, message: &Message) -> String {
        if let Message::Broadcast {
            opts,
            request_id: None,
            ..
        } = message
            && let [room] = opts.rooms.as_slice()
        {
            let dynamic = match self.subscription {
                SubscriptionMode::Static => false,
                // Node's `room.length === 20`, in UTF-16 units.
                SubscriptionMode::Dynamic => room.encode_utf16().count() != Sid::LEN,
                SubscriptionMode::DynamicPrivate => true,
            };
            if dynamic {
                return self.room_channel(room);
            }
        }
        self.main.clone()
    }

    /// Queues `message` for the channel it belongs on.
    pub(crate) fn publish(&self, message: &Message) -> Result<(), AdapterError> {
        let channel = self.channel_for(message);
        self.publish_on(channel, message)
    }

    /// Queues `message` for `channel`.
    pub(crate) fn publish_on(
        &self,
        channel: String,
        message: &Message,
    ) -> Result<(), AdapterError> {
        let payload = encode(&self.node.uid, &self.nsp, message).map_err(unavailable)?;
        self.node.publish(channel, payload, None)
    }

    /// Publishes `message` and waits until Redis took it.
    async fn publish_and_wait(&self, message: &Message) -> Result<(), AdapterError> {
        let payload = encode(&self.node.uid, &self.nsp, message).map_err(unavailable)?;
        self.node
            .publish_and_wait(self.channel_for(message), payload, None)
            .await
    }

    /// How many nodes serve the namespace, this one included (`SHARDNUMSUB` of its channel).
    async fn shardnumsub(&self) -> Result<usize, AdapterError> {
        self.node.count_subscribers("SHARDNUMSUB", &self.main).await
    }

    /// Asks the other nodes; one answer from each, within `timeout`.
    async fn ask<T: Send + 'static>(
        self: &Arc<Self>,
        op: &'static str,
        make: impl FnOnce(String) -> Message,
        pending: impl FnOnce(mpsc::UnboundedSender<T>) -> Pending,
        timeout: Duration,
    ) -> Result<Vec<T>, AdapterError> {
        let expected = self.shardnumsub().await?.saturating_sub(1);
        let id = random_id();
        let message = make(id.clone());
        let send = self.publish_and_wait(&message);
        ask(
            &self.pending,
            op,
            expected,
            id.clone(),
            pending,
            send,
            timeout,
        )
        .await
    }
}

/// Subscribes and unsubscribes room channels as rooms appear and empty, in one task per
/// namespace; unsubscribes all it holds when the namespace goes.
async fn room_channels(ns: Weak<ShardedNs>, mut changes: mpsc::UnboundedReceiver<Room>) {
    let mut held: HashSet<Room> = HashSet::new();
    let Some((mut conn, main)) = ns
        .upgrade()
        .map(|ns| (ns.node.conn.clone(), ns.main.clone()))
    else {
        return;
    };
    while let Some(room) = changes.recv().await {
        let Some(shared) = ns.upgrade() else {
            break;
        };
        let want = shared.wants_channel(&room);
        let channel = shared.room_channel(&room);
        drop(shared);
        let result = if want && !held.contains(&room) {
            held.insert(room.clone());
            conn.ssubscribe(&channel).await
        } else if !want && held.remove(&room) {
            conn.sunsubscribe(&channel).await
        } else {
            Ok(())
        };
        if let Err(err) = result {
            tracing::warn!(%err, channel, "a room channel could not be (un)subscribed");
        }
        if let Some(shared) = ns.upgrade() {
            shared.changes_done.send_modify(|done| *done += 1);
        }
    }
    for room in held {
        let _ = conn.sunsubscribe(&format!("{main}{room}#")).await;
    }
}

/// One namespace of one node on Redis, sharded mode.
pub(crate) struct ShardedAdapter {
    ns: Arc<ShardedNs>,
    registry: Arc<Registry>,
}

impl ShardedAdapter {
    pub(crate) fn new(node: Arc<Link>, registry: Arc<Registry>, ctx: AdapterCtx) -> ShardedAdapter {
        let subscription = match node.config.mode {
            Mode::Sharded(mode) => mode,
            Mode::Classic => SubscriptionMode::Static,
        };
        let main = format!("{}#{}#", node.config.prefix, ctx.nsp);
        let own = format!("{main}{}#", node.uid);
        let (subscribed, _) = watch::channel(false);
        let (room_changes, changes) = mpsc::unbounded_channel();
        let ns = Arc::new(ShardedNs {
            node,
            nsp: ctx.nsp.clone(),
            main,
            own,
            local: ctx.local,
            rooms: Rooms::default(),
            pending: Requests::default(),
            subscription,
            subscribed,
            room_changes,
            changes_queued: AtomicU64::new(0),
            changes_done: watch::Sender::new(0),
        });
        registry
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(ctx.nsp, Arc::downgrade(&ns) as Weak<dyn Subscriber>);
        tokio::spawn(room_channels(Arc::downgrade(&ns), changes));
        let shared = ns.clone();
        tokio::spawn(async move {
            let mut conn = shared.node.conn.clone();
            let result = async {
                conn.ssubscribe(&shared.main).await?;
                conn.ssubscribe(&shared.own).await
            }
            .await;
            match result {
                Ok(()) => {
                    shared.subscribed.send_replace(true);
                }
                Err(err) => tracing::error!(%err, nsp = &*shared.nsp, "could not subscribe"),
            }
        });
        ShardedAdapter { ns, registry }
    }

    fn rooms_changed(&self, rooms: impl IntoIterator<Item = Room>) {
        if self.ns.subscription == SubscriptionMode::Static {
            return;
        }
        for room in rooms {
            self.ns.changes_queued.fetch_add(1, Ordering::AcqRel);
            let _ = self.ns.room_changes.send(room);
        }
    }

    fn fire(&self, message: Message) -> BoxFuture<Result<(), AdapterError>> {
        let ns = self.ns.clone();
        Box::pin(async move { ns.publish_and_wait(&message).await })
    }
}

impl Drop for ShardedAdapter {
    fn drop(&mut self) {
        let mut registry = self.registry.write().unwrap_or_else(|e| e.into_inner());
        if registry
            .get(&self.ns.nsp)
            .is_some_and(|entry| std::ptr::addr_eq(entry.as_ptr(), Arc::as_ptr(&self.ns)))
        {
            registry.remove(&self.ns.nsp);
        }
        drop(registry);
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let mut conn = self.ns.node.conn.clone();
            let channels = [self.ns.main.clone(), self.ns.own.clone()];
            runtime.spawn(async move {
                for channel in channels {
                    let _ = conn.sunsubscribe(&channel).await;
                }
            });
        }
    }
}

impl std::fmt::Debug for ShardedAdapter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShardedAdapter")
            .field("nsp", &self.ns.nsp)
            .field("uid", &self.ns.node.uid)
            .finish_non_exhaustive()
    }
}

impl Adapter for ShardedAdapter {
    fn members(&self) -> &Rooms {
        &self.ns.rooms
    }

    fn add(&self, sid: Sid, rooms: &[Room]) {
        let new: Vec<Room> = rooms
            .iter()
            .filter(|room| !self.ns.rooms.has_room(room))
            .cloned()
            .collect();
        self.ns.rooms.add(sid, rooms);
        self.rooms_changed(new);
    }

    fn remove(&self, sid: Sid, rooms: &[Room]) {
        self.ns.rooms.remove(sid, rooms);
        let gone: Vec<Room> = rooms
            .iter()
            .filter(|room| !self.ns.rooms.has_room(room))
            .cloned()
            .collect();
        self.rooms_changed(gone);
    }

    fn remove_all(&self, sid: Sid) {
        let rooms = self.ns.rooms.rooms_of(sid);
        self.ns.rooms.remove_all(sid);
        let gone: Vec<Room> = rooms
            .into_iter()
            .filter(|room| !self.ns.rooms.has_room(room))
            .collect();
        self.rooms_changed(gone);
    }

    fn broadcast(&self, packet: &EventPacket, opts: &BroadcastOptions) -> Result<(), AdapterError> {
        self.ns.publish(&Message::Broadcast {
            packet: packet.clone(),
            opts: opts.clone(),
            request_id: None,
        })
    }

    fn broadcast_with_ack(
        &self,
        packet: &EventPacket,
        opts: &BroadcastOptions,
        sink: AckSink,
    ) -> Result<(), AdapterError> {
        let id = random_id();
        self.ns
            .pending
            .lock()
            .insert(id.clone(), Pending::BroadcastAck(sink));
        let message = Message::Broadcast {
            packet: packet.clone(),
            opts: opts.clone(),
            request_id: Some(id.clone()),
        };
        if let Err(err) = self.ns.publish(&message) {
            self.ns.pending.lock().remove(&id);
            return Err(err);
        }
        let timeout = opts
            .flags
            .timeout
            .unwrap_or(self.ns.node.config.requests_timeout);
        forget_after(Arc::downgrade(&self.ns), |ns| &ns.pending, id, timeout);
        Ok(())
    }

    fn fetch_sockets(
        &self,
        opts: &BroadcastOptions,
    ) -> BoxFuture<Result<Vec<SocketData>, AdapterError>> {
        let ns = self.ns.clone();
        let opts = opts.clone();
        let timeout = opts
            .flags
            .timeout
            .unwrap_or(ns.node.config.requests_timeout);
        Box::pin(async move {
            let answers = ns
                .ask(
                    "fetchSockets",
                    |request_id| Message::Fetch { opts, request_id },
                    Pending::Fetch,
                    timeout,
                )
                .await?;
            Ok(answers.into_iter().flatten().collect())
        })
    }

    fn add_sockets(
        &self,
        opts: &BroadcastOptions,
        rooms: &[Room],
    ) -> BoxFuture<Result<(), AdapterError>> {
        self.fire(Message::Join {
            opts: opts.clone(),
            rooms: rooms.to_vec(),
        })
    }

    fn del_sockets(
        &self,
        opts: &BroadcastOptions,
        rooms: &[Room],
    ) -> BoxFuture<Result<(), AdapterError>> {
        self.fire(Message::Leave {
            opts: opts.clone(),
            rooms: rooms.to_vec(),
        })
    }

    fn disconnect_sockets(
        &self,
        opts: &BroadcastOptions,
        close: bool,
    ) -> BoxFuture<Result<(), AdapterError>> {
        self.fire(Message::Disconnect {
            opts: opts.clone(),
            close,
        })
    }

    fn server_side_emit(&self, packet: &EventPacket) -> BoxFuture<Result<(), AdapterError>> {
        self.fire(Message::ServerSideEmit {
            packet: packet.clone(),
            request_id: None,
        })
    }

    fn server_side_emit_with_ack(
        &self,
        packet: &EventPacket,
        timeout: Duration,
    ) -> BoxFuture<Result<Vec<AckResponse>, AdapterError>> {
        let ns = self.ns.clone();
        let packet = packet.clone();
        Box::pin(async move {
            ns.ask(
                "serverSideEmit",
                |request_id| Message::ServerSideEmit {
                    packet,
                    request_id: Some(request_id),
                },
                Pending::ServerEmit,
                timeout,
            )
            .await
        })
    }

    fn server_count(&self) -> BoxFuture<Result<usize, AdapterError>> {
        let ns = self.ns.clone();
        Box::pin(async move { ns.shardnumsub().await })
    }

    /// Not in sharded mode: Node's sharded adapter has no `allRooms` either.
    fn all_rooms(&self) -> BoxFuture<Result<Vec<Room>, AdapterError>> {
        Box::pin(std::future::ready(Err(AdapterError::Unsupported(
            "allRooms in sharded mode (Node's sharded adapter has none either)",
        ))))
    }
}
