//! [`SocketIo`]: the Socket.IO server handle. It is the Engine.IO handler under the hood, owns
//! the connections and the namespace registry, and offers the cluster operations on the main
//! namespace.
//!
//! Layer: the top of the socket layer; it may name every module below, and nothing names it
//! (sockets reach it through the [`Server`] trait).

use bytestring::ByteString;
use dashmap::DashMap;
use serde::Serialize;
use std::any::Any;
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::{Arc, OnceLock, RwLock};

use super::broadcast::BroadcastOperator;
use super::client::Client;
use super::config::SocketIoConfig;
use super::emit::{ConnectError, EmitError};
use super::extract::{ExtractError, FromEvent};
use super::handler::{Handler, erase};
use super::registry::Registry;
use super::remote::RemoteSocket;
use super::server_event::{ServerEvent, ServerHandler};
use super::setup::{Middleware, NsSetup};
use super::socket::{EventCtx, Ns, Observer, Server, Socket, SocketEvent};
use super::stats::{DYNAMIC_LABEL, NsStats};
use super::typemap::TypeMap;
use crate::adapter::{Adapter, AdapterCtx, AdapterError, AdapterFactory, LocalAdapter, Room};
use crate::engine::{
    CloseReason, EngineHandler, EngineSocket, EngineStats, Message, Sid, SidHash, now,
};
use crate::protocol::AckResponse;

pub(crate) struct IoInner {
    config: SocketIoConfig,
    state: TypeMap,
    registry: Arc<Registry>,
    clients: DashMap<Sid, Arc<Client>, SidHash>,
    /// The main namespace when none was registered: nobody can join it, so broadcasts to it
    /// reach no local socket (the other nodes' may have one).
    unregistered_main: OnceLock<Arc<Ns>>,
    /// What sees every socket's events, once installed.
    observer: OnceLock<Box<dyn Observer>>,
    /// The counters of the engine serving this server, once it is attached.
    engine_stats: OnceLock<Arc<EngineStats>>,
}

impl Server for IoInner {
    fn config(&self) -> &SocketIoConfig {
        &self.config
    }

    fn state(&self) -> &TypeMap {
        &self.state
    }

    fn close_connection(&self, engine: &EngineSocket) {
        match self.clients.get(&engine.sid()).map(|c| c.value().clone()) {
            Some(client) => client.disconnect_all_and_close(),
            None => engine.close(),
        }
    }

    fn observer(&self) -> Option<&dyn Observer> {
        self.observer.get().map(|o| &**o)
    }
}

/// The Socket.IO server: register namespaces, then broadcast from anywhere. Cheap to clone.
///
/// ```
/// use tether_core::socket::{Data, Socket, SocketIo, AckSender};
///
/// let io = SocketIo::builder().build();
/// io.ns("/", |socket: Socket| async move {
///     socket.on("chat", |socket: Socket, Data(text): Data<String>, ack: AckSender| async move {
///         let _ = socket.broadcast().emit("chat", &text);
///         let _ = ack.send(&"ok");
///     });
/// });
/// ```
///
/// The cluster operations of Socket.IO work on the main namespace here, and on any namespace
/// or set of rooms through [`SocketIo::of`] and [`SocketIo::to`]; with a many-node adapter
/// they reach every node:
///
/// ```
/// use tether_core::socket::{ServerEvent, SocketIo};
///
/// # let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
/// # rt.block_on(async {
/// let io = SocketIo::builder().build();
/// io.ns("/", || async {}).on_server_event("hello", |mut ev: ServerEvent| async move {
///     let _ = ev.ack(&"hi from this node");
/// });
/// let sockets = io.fetch_sockets().await.unwrap();
/// assert!(sockets.is_empty());
/// io.sockets_join(["news"]).await.unwrap();
/// io.to("news").disconnect_sockets(true).await.unwrap();
/// assert_eq!(io.server_count().await, Ok(1));
/// // The other nodes' answers (none here: one node).
/// assert!(io.server_side_emit_with_ack("hello", &1).await.unwrap().is_empty());
/// # });
/// ```
#[derive(Clone)]
pub struct SocketIo(pub(crate) Arc<IoInner>);

/// A [`SocketIo`] that does not keep the server alive (for a task that should end with it).
#[derive(Clone, Debug)]
pub struct WeakSocketIo(std::sync::Weak<IoInner>);

impl WeakSocketIo {
    /// The server, while it exists.
    pub fn upgrade(&self) -> Option<SocketIo> {
        self.0.upgrade().map(SocketIo)
    }
}

impl fmt::Debug for IoInner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IoInner").finish_non_exhaustive()
    }
}

impl fmt::Debug for SocketIo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SocketIo")
            .field("config", &self.0.config)
            .field("connections", &self.0.clients.len())
            .finish_non_exhaustive()
    }
}

/// Builds a [`SocketIo`].
#[must_use]
pub struct SocketIoBuilder {
    config: SocketIoConfig,
    state: TypeMap,
    adapter: AdapterFactory,
}

impl fmt::Debug for SocketIoBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SocketIoBuilder")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl SocketIoBuilder {
    /// The Socket.IO settings.
    pub fn config(mut self, config: SocketIoConfig) -> Self {
        self.config = config;
        self
    }

    /// Adds app state, extracted in handlers with `State<T>` (one value per type).
    pub fn state<T: Clone + Send + Sync + 'static>(mut self, value: T) -> Self {
        self.state.insert(value);
        self
    }

    /// The adapter each namespace gets, made when the namespace is (default:
    /// [`LocalAdapter`]). `make` is given the namespace's path and its local sockets, where
    /// the other nodes' requests are applied. It runs where the namespace is made: in
    /// `SocketIo::ns` for a static namespace, on the connection's task for a dynamic child; an
    /// adapter that spawns tasks (to read its broker) needs a tokio runtime there.
    pub fn adapter<F, A>(mut self, make: F) -> Self
    where
        F: Fn(AdapterCtx) -> A + Send + Sync + 'static,
        A: Adapter,
    {
        self.adapter = Arc::new(move |ctx| Arc::new(make(ctx)) as Arc<dyn Adapter>);
        self
    }

    /// The server.
    pub fn build(self) -> SocketIo {
        let registry = Registry::new(
            self.adapter,
            self.config.ack_timeout,
            !self.config.cleanup_empty_child_namespaces,
            self.config.connection_state_recovery.clone(),
        );
        SocketIo(Arc::new(IoInner {
            config: self.config,
            state: self.state,
            registry: Arc::new(registry),
            clients: DashMap::default(),
            unregistered_main: OnceLock::new(),
            observer: OnceLock::new(),
            engine_stats: OnceLock::new(),
        }))
    }
}

/// A namespace being registered: add connect middlewares with [`NsBuilder::middleware`] and
/// server-side event handlers with [`NsBuilder::on_server_event`]. It is registered when this
/// value is dropped (at the end of the statement).
pub struct NsBuilder {
    io: Arc<IoInner>,
    target: NsTarget,
    setup: Option<NsSetup>,
}

enum NsTarget {
    Path(ByteString),
    Dynamic(Arc<dyn Fn(&str) -> bool + Send + Sync>),
}

impl fmt::Debug for NsBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NsBuilder").finish_non_exhaustive()
    }
}

fn server_handler<F, Fut>(f: F) -> ServerHandler
where
    F: Fn(ServerEvent) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let f = Arc::new(f);
    // The app's function runs when the future is first polled, inside the task that catches
    // its panic.
    Arc::new(move |event| {
        let f = f.clone();
        Box::pin(async move { f(event).await })
    })
}

impl NsBuilder {
    /// Adds a connect middleware: it sees the socket (handshake, auth) before it joins, and an
    /// `Err(ConnectError)` refuses it with a CONNECT_ERROR. Middlewares run in order.
    pub fn middleware<F, Fut>(mut self, f: F) -> Self
    where
        F: Fn(Socket) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), ConnectError>> + Send + 'static,
    {
        let m: Middleware = Arc::new(move |socket| Box::pin(f(socket)));
        if let Some(setup) = self.setup.as_mut() {
            setup.middlewares.push(m);
        }
        self
    }

    /// Picks the subprotocol of a `tether.WebSocket` client (the bundled client's WebSocket
    /// API) from the ones it offers, in its order; `None` refuses it with a CONNECT_ERROR
    /// ([`NO_ACCEPTABLE_SUBPROTOCOL`](super::NO_ACCEPTABLE_SUBPROTOCOL)), and its `onclose`
    /// sees 1006, as a browser fails a WebSocket whose server picks none. Without a hook,
    /// every offer is refused; a client that offers none never reaches the hook. The choice
    /// is [`Socket::protocol`], set before the middlewares run. The hook runs on the
    /// connection's task, before the middlewares: it must not block (a panic refuses the
    /// socket and is logged).
    pub fn subprotocol<F>(mut self, f: F) -> Self
    where
        F: Fn(&Socket, &[String]) -> Option<String> + Send + Sync + 'static,
    {
        if let Some(setup) = self.setup.as_mut() {
            setup.select_protocol = Some(Arc::new(f));
        }
        self
    }

    /// Handles `event` when another node emits it to the servers (Socket.IO's
    /// `serverSideEmit`). The handler runs in a task of its own; when the emitter asked for an
    /// answer, [`ServerEvent::ack`] gives it. One handler per event, the last one wins.
    pub fn on_server_event<F, Fut>(self, event: impl Into<ByteString>, f: F) -> Self
    where
        F: Fn(ServerEvent) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        if let Some(setup) = self.setup.as_ref() {
            setup
                .server_events
                .write()
                .unwrap_or_else(|e| e.into_inner())
                .insert(event.into(), server_handler(f));
        }
        self
    }
}

impl Drop for NsBuilder {
    fn drop(&mut self) {
        let Some(setup) = self.setup.take() else {
            return;
        };
        match &self.target {
            NsTarget::Path(path) => self.io.registry.register(path.clone(), setup),
            NsTarget::Dynamic(accepts) => self.io.registry.register_dynamic(accepts.clone(), setup),
        }
    }
}

impl SocketIo {
    /// Starts building a server.
    pub fn builder() -> SocketIoBuilder {
        SocketIoBuilder {
            config: SocketIoConfig::default(),
            state: TypeMap::default(),
            adapter: Arc::new(|ctx| Arc::new(LocalAdapter::new(&ctx)) as Arc<dyn Adapter>),
        }
    }

    /// The settings.
    pub fn config(&self) -> &SocketIoConfig {
        &self.0.config
    }

    /// Registers namespace `path` with its connect handler. The handler's extractors see the
    /// socket and, as `Data<T>`, the client's `auth` object.
    pub fn ns<H: Handler<T>, T: 'static>(
        &self,
        path: impl Into<ByteString>,
        on_connect: H,
    ) -> NsBuilder {
        let path = normalize(path.into());
        NsBuilder {
            io: self.0.clone(),
            setup: Some(setup(on_connect, path.clone())),
            target: NsTarget::Path(path),
        }
    }

    /// Registers a dynamic namespace: any path `accepts` returns true for becomes a namespace
    /// (a child) with this handler and middlewares when a client's connect to it is accepted.
    /// A refused connect leaves nothing behind; an empty child is removed (see
    /// `SocketIoConfig::cleanup_empty_child_namespaces`).
    pub fn dyn_ns<H, T, P>(&self, accepts: P, on_connect: H) -> NsBuilder
    where
        H: Handler<T>,
        T: 'static,
        P: Fn(&str) -> bool + Send + Sync + 'static,
    {
        NsBuilder {
            io: self.0.clone(),
            target: NsTarget::Dynamic(Arc::new(accepts)),
            setup: Some(setup(on_connect, ByteString::from_static(DYNAMIC_LABEL))),
        }
    }

    /// Handles server-side `event` on the main namespace `/`, registered already (see
    /// [`NsBuilder::on_server_event`]). False when `/` is not registered.
    pub fn on_server_event<F, Fut>(&self, event: impl Into<ByteString>, f: F) -> bool
    where
        F: Fn(ServerEvent) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let Some(setup) = self.0.registry.setup("/") else {
            return false;
        };
        setup
            .server_events
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(event.into(), server_handler(f));
        true
    }

    /// The sockets of namespace `path`, on every node, to broadcast to or operate on (none if
    /// it does not exist here: a dynamic child exists from its first accepted socket until its
    /// last leaves, unless `cleanup_empty_child_namespaces` is off).
    pub fn of(&self, path: impl Into<ByteString>) -> Option<BroadcastOperator> {
        self.0
            .registry
            .namespace(&normalize(path.into()))
            .map(BroadcastOperator::new)
    }

    /// A broadcast to `room` of the main namespace `/`.
    pub fn to(&self, room: impl Into<Room>) -> BroadcastOperator {
        self.main().to(room)
    }

    /// The main namespace leaving out the sockets of `room`.
    pub fn except(&self, room: impl Into<Room>) -> BroadcastOperator {
        self.main().except(room)
    }

    /// The main namespace on this node only.
    pub fn local(&self) -> BroadcastOperator {
        self.main().local()
    }

    /// The main namespace, with answers awaited for `timeout`.
    pub fn timeout(&self, timeout: std::time::Duration) -> BroadcastOperator {
        self.main().timeout(timeout)
    }

    /// Emits to every socket of the main namespace `/`.
    pub fn emit<T: Serialize + ?Sized>(&self, event: &str, data: &T) -> Result<(), EmitError> {
        self.main().emit(event, data)
    }

    /// Every socket of the main namespace, on every node.
    pub async fn fetch_sockets(&self) -> Result<Vec<RemoteSocket>, AdapterError> {
        self.main().fetch_sockets().await
    }

    /// Makes every socket of the main namespace, on every node, join `rooms`.
    pub async fn sockets_join(
        &self,
        rooms: impl IntoIterator<Item = impl Into<Room>>,
    ) -> Result<(), AdapterError> {
        self.main().sockets_join(rooms).await
    }

    /// Makes every socket of the main namespace, on every node, leave `rooms`.
    pub async fn sockets_leave(
        &self,
        rooms: impl IntoIterator<Item = impl Into<Room>>,
    ) -> Result<(), AdapterError> {
        self.main().sockets_leave(rooms).await
    }

    /// Disconnects every socket of the main namespace, on every node (with `close`, their
    /// whole connections).
    pub async fn disconnect_sockets(&self, close: bool) -> Result<(), AdapterError> {
        self.main().disconnect_sockets(close).await
    }

    /// Emits `event` to the other nodes' server-side handlers of the main namespace.
    pub async fn server_side_emit<T: Serialize + ?Sized>(
        &self,
        event: &str,
        data: &T,
    ) -> Result<(), EmitError> {
        self.main().server_side_emit(event, data).await
    }

    /// Emits `event` to the other nodes' server-side handlers and gathers one answer per node.
    pub async fn server_side_emit_with_ack<T: Serialize + ?Sized>(
        &self,
        event: &str,
        data: &T,
    ) -> Result<Vec<AckResponse>, EmitError> {
        self.main().server_side_emit_with_ack(event, data).await
    }

    /// How many nodes serve the main namespace, this one included.
    pub async fn server_count(&self) -> Result<usize, AdapterError> {
        self.main().server_count().await
    }

    fn main(&self) -> BroadcastOperator {
        self.of("/").unwrap_or_else(|| {
            let ns = self.0.unregistered_main.get_or_init(|| {
                self.0.registry.make(
                    ByteString::from_static("/"),
                    &setup(|| async {}, ByteString::from_static("/")),
                    false,
                )
            });
            BroadcastOperator::new(ns.clone())
        })
    }

    /// The counters of every registered namespace (one for all the children of each dynamic
    /// namespace, labelled [`DYNAMIC_LABEL`]), in no particular order.
    pub fn namespace_stats(&self) -> Vec<Arc<NsStats>> {
        self.0.registry.stats()
    }

    /// Rooms on this node besides each socket's own, by namespace label (see
    /// [`NsStats::label`]; the children of dynamic namespaces are summed).
    pub fn local_room_counts(&self) -> HashMap<String, u64> {
        let mut counts = HashMap::new();
        for ns in self.0.registry.all() {
            let (rooms, sockets) = ns.adapter.members().counts();
            *counts.entry(ns.stats.label().to_owned()).or_insert(0) +=
                rooms.saturating_sub(sockets) as u64;
        }
        counts
    }

    /// A handle that does not keep the server alive.
    pub fn downgrade(&self) -> WeakSocketIo {
        WeakSocketIo(Arc::downgrade(&self.0))
    }

    /// Installs the observer of every socket's events (the Admin UI's live view); one per
    /// server. `Err` gives it back when one is installed already.
    pub fn observe<O: Observer>(&self, observer: O) -> Result<(), O> {
        let mut slot = Some(observer);
        self.0
            .observer
            .get_or_init(|| Box::new(slot.take().unwrap_or_else(|| unreachable!("taken once"))));
        match slot {
            None => Ok(()),
            Some(observer) => Err(observer),
        }
    }

    /// The counters of the engine serving this server (see [`EngineStats`]), once an engine
    /// was made with it.
    pub fn engine_stats(&self) -> Option<Arc<EngineStats>> {
        self.0.engine_stats.get().cloned()
    }

    /// Every namespace on this node with a socket accepted into it (the children of dynamic
    /// ones by their own paths), and how many sockets it has here.
    pub fn namespaces(&self) -> Vec<(ByteString, usize)> {
        self.0
            .registry
            .all()
            .into_iter()
            .filter(|ns| !ns.is_child() || ns.is_accepted())
            .map(|ns| (ns.path.clone(), ns.len()))
            .collect()
    }

    /// A local socket of namespace `nsp` by id.
    pub fn local_socket(&self, nsp: &str, id: Sid) -> Option<Socket> {
        self.0.registry.namespace(nsp)?.socket(id)
    }

    /// How many Engine.IO connections are open.
    pub fn connection_count(&self) -> usize {
        self.0.clients.len()
    }
}

fn setup<H: Handler<T>, T: 'static>(on_connect: H, label: ByteString) -> NsSetup {
    NsSetup {
        stats: Arc::new(NsStats::new(label)),
        on_connect: erase(on_connect),
        middlewares: Vec::new(),
        server_events: Arc::new(RwLock::new(HashMap::new())),
        select_protocol: None,
    }
}

fn normalize(path: ByteString) -> ByteString {
    if path.starts_with('/') {
        path
    } else {
        ByteString::from(format!("/{path}"))
    }
}

impl Socket {
    /// The server this socket belongs to. Use this (or a `SocketIo` handler argument) rather
    /// than capturing the server in a handler it is registered on: that would be a reference
    /// cycle, and the server would never be freed.
    pub fn io(&self) -> SocketIo {
        let server: Arc<dyn Any + Send + Sync> = self.0.server.clone();
        match server.downcast::<IoInner>() {
            Ok(inner) => SocketIo(inner),
            // Sockets are made only by the clients of an `IoInner`, with it as their server.
            Err(_) => unreachable!("a socket's server is the SocketIo that made it"),
        }
    }
}

impl FromEvent for SocketIo {
    fn from_event(ctx: &mut EventCtx) -> Result<Self, ExtractError> {
        Ok(ctx.socket.io())
    }
}

impl EngineHandler for SocketIo {
    fn on_connect(&self, socket: EngineSocket) {
        let deadline = now() + self.0.config.connect_timeout;
        socket.set_close_deadline(Some((deadline, CloseReason::ConnectTimeout)));
        let server: Arc<dyn Server> = self.0.clone();
        let client = Client::new(socket.clone(), server, self.0.registry.clone());
        self.0.clients.insert(socket.sid(), Arc::new(client));
    }

    fn on_message(&self, socket: &EngineSocket, message: Message) {
        let client = self.0.clients.get(&socket.sid()).map(|c| c.value().clone());
        if let Some(client) = client {
            client.on_message(message);
        }
    }

    fn on_disconnect(&self, socket: &EngineSocket, reason: CloseReason) {
        if let Some((_, client)) = self.0.clients.remove(&socket.sid()) {
            client.on_close(reason);
        }
    }

    fn on_upgrade(&self, socket: &EngineSocket) {
        let Some(observer) = self.0.observer.get() else {
            return;
        };
        let client = self.0.clients.get(&socket.sid()).map(|c| c.value().clone());
        for socket in client.map(|c| c.sockets()).unwrap_or_default() {
            observer.observe(SocketEvent::Upgraded(&socket));
        }
    }

    fn attach(&self, stats: Arc<EngineStats>) {
        let _ = self.0.engine_stats.set(stats);
    }

    /// Acknowledgements the server awaits, on every connection.
    fn in_flight(&self) -> usize {
        self.0
            .clients
            .iter()
            .map(|c| c.value().pending_acks())
            .sum()
    }
}
