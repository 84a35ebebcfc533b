//! [`ClassicAdapter`]: one namespace of one node on Redis, in the classic protocol of
//! `@socket.io/redis-adapter` 8.3.0. This node's rooms stay in memory ([`Rooms`]); what the
//! other nodes must do is published, and what they ask arrives through the node's dispatcher
//! ([`NsShared::on_message`], in `dispatch.rs`).

use bytestring::ByteString;
use std::collections::HashMap;
use std::sync::{Arc, MutexGuard, Weak};
use std::time::Duration;
use tether_core::adapter::{
    AckSink, Adapter, AdapterCtx, AdapterError, BoxFuture, BroadcastOptions, EventPacket,
    LocalNamespace, Recorded, Restore, Room, Rooms, SessionState, SocketData,
};
use tether_core::engine::Sid;
use tether_core::socket::AckResponse;
use tokio::sync::{mpsc, watch};

use crate::broadcast;
use crate::channels::Channels;
use crate::conn::Conn;
use crate::link::{Link, unavailable};
use crate::pending::{Pending, Registry, Requests, Subscriber, ask, forget_after};
use crate::recovery::Recovery;
use crate::requests::{Request, encode_request};

/// A namespace's state, shared by its adapter and the node's dispatcher.
pub(crate) struct NsShared {
    pub(crate) node: Arc<Link>,
    pub(crate) nsp: ByteString,
    pub(crate) channels: Channels,
    /// What orders this namespace's publishes on a Redis Cluster (see `Publish::order`).
    order: Arc<str>,
    pub(crate) local: Arc<dyn LocalNamespace>,
    pub(crate) rooms: Rooms,
    pub(crate) pending: Requests,
    subscribed: watch::Sender<bool>,
    /// Connection state recovery, when the server turned it on (one Redis server only).
    pub(crate) recovery: Option<Arc<Recovery>>,
}

impl Subscriber for NsShared {
    fn on_message(self: Arc<Self>, channel: &str, payload: &[u8]) -> bool {
        self.handle(channel, payload)
    }

    fn ready(&self) -> BoxFuture<()> {
        let mut subscribed = self.subscribed.subscribe();
        Box::pin(async move {
            let _ = subscribed.wait_for(|done| *done).await;
        })
    }
}

impl NsShared {
    /// Queues a message on `channel`.
    pub(crate) fn publish(&self, channel: String, payload: Vec<u8>) -> Result<(), AdapterError> {
        self.node
            .publish(channel, payload, Some(self.order.clone()))
    }

    /// How many nodes are subscribed to the namespace's request channel, this one included.
    pub(crate) async fn numsub(&self) -> Result<usize, AdapterError> {
        self.node
            .count_subscribers("NUMSUB", self.channels.request())
            .await
    }

    fn request_id() -> String {
        Sid::random().as_str()[..6].to_owned()
    }

    /// Asks the other nodes; one answer from each, within `timeout`.
    async fn ask<T: Send + 'static>(
        self: &Arc<Self>,
        op: &'static str,
        make: impl FnOnce(String) -> Request,
        pending: impl FnOnce(mpsc::UnboundedSender<T>) -> Pending,
        timeout: Duration,
    ) -> Result<Vec<T>, AdapterError> {
        let expected = self.numsub().await?.saturating_sub(1);
        let id = Self::request_id();
        let send = async {
            let request = encode_request(&make(id.clone())).map_err(unavailable)?;
            self.node
                .publish_and_wait(
                    self.channels.request().to_owned(),
                    request,
                    Some(self.order.clone()),
                )
                .await
        };
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

    pub(crate) fn lock_pending(&self) -> MutexGuard<'_, HashMap<String, Pending>> {
        self.pending.lock()
    }
}

/// One namespace of one node on Redis, classic mode.
pub(crate) struct ClassicAdapter {
    ns: Arc<NsShared>,
    registry: Arc<Registry>,
}

impl std::fmt::Debug for ClassicAdapter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClassicAdapter")
            .field("nsp", &self.ns.nsp)
            .field("uid", &self.ns.node.uid)
            .finish_non_exhaustive()
    }
}

impl ClassicAdapter {
    pub(crate) fn new(node: Arc<Link>, registry: Arc<Registry>, ctx: AdapterCtx) -> ClassicAdapter {
        let channels = Channels::new(&node.config.prefix, &ctx.nsp);
        let (subscribed, _) = watch::channel(false);
        let recovery = match (&ctx.recovery, &node.conn) {
            (Some(config), Conn::Single(_)) => {
                Some(Recovery::new(node.clone(), ctx.nsp.clone(), config.clone()))
            }
            (Some(_), Conn::Cluster(_)) => {
                tracing::warn!(
                    nsp = &*ctx.nsp,
                    "connection state recovery is not offered on a Redis Cluster: clients will not recover"
                );
                None
            }
            (None, _) => None,
        };
        let ns = Arc::new(NsShared {
            node: node.clone(),
            nsp: ctx.nsp.clone(),
            order: Arc::from(channels.broadcast()),
            channels,
            local: ctx.local,
            rooms: Rooms::default(),
            pending: Requests::default(),
            subscribed,
            recovery,
        });
        if let Some(recovery) = &ns.recovery {
            let weak = Arc::downgrade(&ns);
            recovery.start(move |sid| {
                weak.upgrade()
                    .map(|ns| ns.rooms.rooms_of(sid))
                    .unwrap_or_default()
            });
        }
        registry
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(ctx.nsp, Arc::downgrade(&ns) as Weak<dyn Subscriber>);
        let shared = ns.clone();
        tokio::spawn(async move {
            let mut conn = shared.node.conn.clone();
            let c = &shared.channels;
            let result = async {
                conn.psubscribe(&c.pattern()).await?;
                conn.subscribe(c.request()).await?;
                conn.subscribe(c.response()).await?;
                conn.subscribe(&c.response_for(&shared.node.uid)).await?;
                if let Some(recovery) = &shared.recovery {
                    conn.subscribe(&recovery.own).await?;
                    conn.subscribe(&recovery.keys.evict).await?;
                }
                Ok::<(), redis::RedisError>(())
            }
            .await;
            match result {
                Ok(()) => {
                    if let Some(recovery) = &shared.recovery {
                        recovery.sync().await;
                    }
                    // `send` would not store the value with no receiver yet.
                    shared.subscribed.send_replace(true);
                }
                Err(err) => tracing::error!(%err, nsp = &*shared.nsp, "could not subscribe"),
            }
        });
        ClassicAdapter { ns, registry }
    }
}

impl Drop for ClassicAdapter {
    fn drop(&mut self) {
        let node = self.ns.node.clone();
        let channels = self.ns.channels.clone();
        let mut registry = self.registry.write().unwrap_or_else(|e| e.into_inner());
        // Only its own entry: a new namespace of the same path may have taken the place.
        if registry
            .get(&self.ns.nsp)
            .is_some_and(|entry| std::ptr::addr_eq(entry.as_ptr(), Arc::as_ptr(&self.ns)))
        {
            registry.remove(&self.ns.nsp);
        }
        drop(registry);
        let uid = node.uid.clone();
        let recovery = self
            .ns
            .recovery
            .as_ref()
            .map(|r| (r.own.clone(), r.keys.evict.clone()));
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            let mut conn = node.conn.clone();
            runtime.spawn(async move {
                let _ = conn.punsubscribe(&channels.pattern()).await;
                let _ = conn.unsubscribe(channels.request()).await;
                let _ = conn.unsubscribe(channels.response()).await;
                let _ = conn.unsubscribe(&channels.response_for(&uid)).await;
                if let Some((own, evict)) = recovery {
                    let _ = conn.unsubscribe(&own).await;
                    let _ = conn.unsubscribe(&evict).await;
                }
            });
        }
    }
}

impl ClassicAdapter {
    /// The channel a broadcast goes on: one room's own, or the namespace's.
    fn channel_for(&self, opts: &BroadcastOptions) -> String {
        match opts.rooms.as_slice() {
            [room] => self.ns.channels.room(room),
            _ => self.ns.channels.broadcast().to_owned(),
        }
    }
}

fn ready<T: Send + 'static>(value: T) -> BoxFuture<T> {
    Box::pin(std::future::ready(value))
}

impl Adapter for ClassicAdapter {
    fn members(&self) -> &Rooms {
        &self.ns.rooms
    }

    fn add(&self, sid: Sid, rooms: &[Room]) {
        self.ns.rooms.add(sid, rooms);
        if let Some(recovery) = &self.ns.recovery {
            recovery.sessions.touched(sid);
        }
    }

    fn remove(&self, sid: Sid, rooms: &[Room]) {
        self.ns.rooms.remove(sid, rooms);
        if let Some(recovery) = &self.ns.recovery {
            recovery.sessions.touched(sid);
        }
    }

    fn record(
        &self,
        packet: &EventPacket,
        opts: &BroadcastOptions,
    ) -> Result<Recorded, AdapterError> {
        let Some(recovery) = &self.ns.recovery else {
            return Ok(Recorded::Not);
        };
        recovery.record(self.channel_for(opts), packet, opts)?;
        Ok(Recorded::Relayed)
    }

    fn open_session(&self, pid: Sid, sid: Sid) {
        if let Some(recovery) = &self.ns.recovery {
            recovery.sessions.open(pid, sid, recovery.position());
        }
    }

    fn session_data(&self, pid: Sid, data: &serde_json::Value) {
        if let Some(recovery) = &self.ns.recovery {
            recovery.sessions.data(pid, data);
        }
    }

    fn close_session(&self, pid: Sid, state: Option<SessionState>) {
        if let Some(recovery) = &self.ns.recovery {
            recovery.sessions.close(pid, state);
        }
    }

    fn restore_session(
        &self,
        pid: Sid,
        offset: Option<ByteString>,
    ) -> BoxFuture<Result<Option<Restore>, AdapterError>> {
        let Some(recovery) = self.ns.recovery.clone() else {
            return ready(Ok(None));
        };
        Box::pin(async move { recovery.restore(pid, offset).await })
    }

    fn replay(&self, offset: &str, rooms: &[Room]) -> Option<Vec<EventPacket>> {
        match &self.ns.recovery {
            Some(recovery) => recovery.replay(offset, rooms),
            None => Some(Vec::new()),
        }
    }

    fn broadcast(&self, packet: &EventPacket, opts: &BroadcastOptions) -> Result<(), AdapterError> {
        let payload = broadcast::encode(&self.ns.node.uid, &self.ns.nsp, packet, opts)
            .map_err(unavailable)?;
        self.ns.publish(self.channel_for(opts), payload)
    }

    fn broadcast_with_ack(
        &self,
        packet: &EventPacket,
        opts: &BroadcastOptions,
        sink: AckSink,
    ) -> Result<(), AdapterError> {
        let id = NsShared::request_id();
        let request = Request::Broadcast {
            uid: Some(self.ns.node.uid.clone()),
            request_id: id.clone(),
            nsp: self.ns.nsp.clone(),
            packet: packet.clone(),
            opts: opts.clone(),
        };
        let payload = encode_request(&request).map_err(unavailable)?;
        self.ns
            .lock_pending()
            .insert(id.clone(), Pending::BroadcastAck(sink));
        if let Err(err) = self
            .ns
            .publish(self.ns.channels.request().to_owned(), payload)
        {
            self.ns.lock_pending().remove(&id);
            return Err(err);
        }
        // The answers are awaited for the broadcast's timeout, then forgotten.
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
        let uid = Some(ns.node.uid.clone());
        let opts = opts.clone();
        let timeout = opts
            .flags
            .timeout
            .unwrap_or(ns.node.config.requests_timeout);
        Box::pin(async move {
            let answers = ns
                .ask(
                    "fetchSockets",
                    |request_id| Request::Fetch {
                        uid,
                        request_id,
                        opts,
                    },
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
        let request = Request::Join {
            uid: Some(self.ns.node.uid.clone()),
            opts: opts.clone(),
            rooms: rooms.to_vec(),
        };
        self.fire(request)
    }

    fn del_sockets(
        &self,
        opts: &BroadcastOptions,
        rooms: &[Room],
    ) -> BoxFuture<Result<(), AdapterError>> {
        let request = Request::Leave {
            uid: Some(self.ns.node.uid.clone()),
            opts: opts.clone(),
            rooms: rooms.to_vec(),
        };
        self.fire(request)
    }

    fn disconnect_sockets(
        &self,
        opts: &BroadcastOptions,
        close: bool,
    ) -> BoxFuture<Result<(), AdapterError>> {
        let request = Request::Disconnect {
            uid: Some(self.ns.node.uid.clone()),
            opts: opts.clone(),
            close,
        };
        self.fire(request)
    }

    fn server_side_emit(&self, packet: &EventPacket) -> BoxFuture<Result<(), AdapterError>> {
        let request = Request::ServerSideEmit {
            uid: Some(self.ns.node.uid.clone()),
            request_id: None,
            packet: packet.clone(),
        };
        self.fire(request)
    }

    fn server_side_emit_with_ack(
        &self,
        packet: &EventPacket,
        timeout: Duration,
    ) -> BoxFuture<Result<Vec<AckResponse>, AdapterError>> {
        let ns = self.ns.clone();
        let uid = Some(ns.node.uid.clone());
        let packet = packet.clone();
        Box::pin(async move {
            ns.ask(
                "serverSideEmit",
                |request_id| Request::ServerSideEmit {
                    uid,
                    request_id: Some(request_id),
                    packet,
                },
                Pending::ServerEmit,
                timeout,
            )
            .await
        })
    }

    fn server_count(&self) -> BoxFuture<Result<usize, AdapterError>> {
        let ns = self.ns.clone();
        Box::pin(async move { ns.numsub().await })
    }

    fn all_rooms(&self) -> BoxFuture<Result<Vec<Room>, AdapterError>> {
        let ns = self.ns.clone();
        let uid = Some(ns.node.uid.clone());
        let timeout = ns.node.config.requests_timeout;
        Box::pin(async move {
            let theirs = ns
                .ask(
                    "allRooms",
                    |request_id| Request::AllRooms { uid, request_id },
                    Pending::Rooms,
                    timeout,
                )
                .await?;
            let mut rooms = ns.rooms.rooms();
            rooms.extend(theirs.into_iter().flatten());
            rooms.sort();
            rooms.dedup();
            Ok(rooms)
        })
    }
}

impl ClassicAdapter {
    /// Publishes a request nobody answers, and waits until Redis took it.
    fn fire(&self, request: Request) -> BoxFuture<Result<(), AdapterError>> {
        let ns = self.ns.clone();
        match encode_request(&request) {
            Ok(payload) => Box::pin(async move {
                ns.node
                    .publish_and_wait(
                        ns.channels.request().to_owned(),
                        payload,
                        Some(ns.order.clone()),
                    )
                    .await
            }),
            Err(err) => ready(Err(unavailable(err))),
        }
    }
}
