//! [`SocketIo`]: the Socket.IO server. It is the Engine.IO handler under the hood.

use bytestring::ByteString;
use dashmap::DashMap;
use serde::Serialize;
use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::{Arc, RwLock, Weak};

use super::broadcast::BroadcastOperator;
use super::client::Client;
use super::config::SocketIoConfig;
use super::emit::{ConnectError, EmitError};
use super::handler::{Handler, erase};
use super::namespace::{Children, Middleware, Namespace, NsSetup};
use super::socket::Socket;
use crate::adapter::{Adapter, LocalAdapter, Room};
use crate::engine::{CloseReason, EngineHandler, EngineSocket, Message, Sid, now};

/// Values of any type, one per type: the app state handlers extract with `State<T>`.
#[derive(Default)]
pub(crate) struct TypeMap(HashMap<TypeId, Box<dyn Any + Send + Sync>>);

impl TypeMap {
    pub(crate) fn get<T: Clone + Send + Sync + 'static>(&self) -> Option<T> {
        self.0
            .get(&TypeId::of::<T>())
            .and_then(|v| v.downcast_ref::<T>())
            .cloned()
    }
}

type NsPredicate = Arc<dyn Fn(&str) -> bool + Send + Sync>;

pub(crate) struct IoInner {
    pub(crate) config: SocketIoConfig,
    pub(crate) state: TypeMap,
    /// Static namespaces, and the dynamic children kept when cleanup is off.
    nsps: RwLock<HashMap<ByteString, Arc<Namespace>>>,
    dynamic: RwLock<Vec<(NsPredicate, NsSetup)>>,
    /// Every live child of a dynamic namespace, accepted or still in middleware.
    children: Children,
    clients: DashMap<Sid, Arc<Client>>,
    adapter: Arc<dyn Fn() -> Arc<dyn Adapter> + Send + Sync>,
}

impl IoInner {
    fn registered(&self, path: &str) -> Option<Arc<Namespace>> {
        self.nsps
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(path)
            .cloned()
    }

    fn child(&self, path: &str) -> Option<Arc<Namespace>> {
        self.children
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(path)
            .and_then(Weak::upgrade)
    }

    /// The namespace a CONNECT to `path` joins: a static one, or the child of the first
    /// dynamic namespace whose predicate accepts the path. A new child is not registered yet:
    /// it is shared by the connects to its path and forgotten if none is accepted (see
    /// [`IoInner::accepted`]).
    pub(crate) fn namespace_for_connect(&self, path: &ByteString) -> Option<Arc<Namespace>> {
        if let Some(ns) = self.registered(path) {
            return Some(ns);
        }
        let setup = self
            .dynamic
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .find(|(accepts, _)| accepts(path))
            .map(|(_, setup)| setup.clone())?;
        let mut children = self.children.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(ns) = children.get(path).and_then(Weak::upgrade) {
            return Some(ns);
        }
        let ns = Namespace::child(path.clone(), setup, &self.children);
        children.insert(path.clone(), Arc::downgrade(&ns));
        Some(ns)
    }

    /// A socket was accepted into `ns`. A dynamic child becomes visible to `of`, and, when
    /// empty children are kept, the server holds on to it from now on.
    pub(crate) fn accepted(&self, ns: &Arc<Namespace>) {
        if ns.is_child() && ns.accept() && !self.config.cleanup_empty_child_namespaces {
            self.nsps
                .write()
                .unwrap_or_else(|e| e.into_inner())
                .entry(ns.path.clone())
                .or_insert_with(|| ns.clone());
        }
    }

    /// The namespace at `path` for the server's own use: static, or a child a socket was
    /// accepted into that still exists.
    pub(crate) fn namespace(&self, path: &str) -> Option<Arc<Namespace>> {
        self.registered(path)
            .or_else(|| self.child(path).filter(|ns| ns.is_accepted()))
    }

    /// A socket of `engine` left namespace `nsp` on the server's word.
    pub(crate) fn client_left(&self, engine: &EngineSocket, nsp: &str) {
        if let Some(client) = self.clients.get(&engine.sid()).map(|c| c.value().clone()) {
            client.forget(nsp);
        }
    }

    /// Disconnects every socket of `engine`'s connection, then closes it.
    pub(crate) fn close_client(&self, engine: &EngineSocket) {
        match self.clients.get(&engine.sid()).map(|c| c.value().clone()) {
            Some(client) => client.disconnect_all_and_close(),
            None => engine.close(),
        }
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
#[derive(Clone)]
pub struct SocketIo(pub(crate) Arc<IoInner>);

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
    adapter: Arc<dyn Fn() -> Arc<dyn Adapter> + Send + Sync>,
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
        self.state.0.insert(TypeId::of::<T>(), Box::new(value));
        self
    }

    /// The adapter each namespace gets (default: [`LocalAdapter`]).
    pub fn adapter<F, A>(mut self, make: F) -> Self
    where
        F: Fn() -> A + Send + Sync + 'static,
        A: Adapter,
    {
        self.adapter = Arc::new(move || Arc::new(make()) as Arc<dyn Adapter>);
        self
    }

    /// The server.
    pub fn build(self) -> SocketIo {
        SocketIo(Arc::new(IoInner {
            config: self.config,
            state: self.state,
            nsps: RwLock::new(HashMap::new()),
            dynamic: RwLock::new(Vec::new()),
            children: Children::default(),
            clients: DashMap::new(),
            adapter: self.adapter,
        }))
    }
}

/// A namespace being registered: add connect middlewares with [`NsBuilder::middleware`].
/// It is registered when this value is dropped (at the end of the statement).
pub struct NsBuilder {
    io: Arc<IoInner>,
    target: NsTarget,
    setup: Option<NsSetup>,
}

enum NsTarget {
    Path(ByteString),
    Dynamic(NsPredicate),
}

impl fmt::Debug for NsBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NsBuilder").finish_non_exhaustive()
    }
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
}

impl Drop for NsBuilder {
    fn drop(&mut self) {
        let Some(setup) = self.setup.take() else {
            return;
        };
        match &self.target {
            NsTarget::Path(path) => {
                let ns = Namespace::new(path.clone(), setup);
                self.io
                    .nsps
                    .write()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(path.clone(), ns);
            }
            NsTarget::Dynamic(accepts) => self
                .io
                .dynamic
                .write()
                .unwrap_or_else(|e| e.into_inner())
                .push((accepts.clone(), setup)),
        }
    }
}

impl SocketIo {
    /// Starts building a server.
    pub fn builder() -> SocketIoBuilder {
        SocketIoBuilder {
            config: SocketIoConfig::default(),
            state: TypeMap::default(),
            adapter: Arc::new(|| Arc::new(LocalAdapter::default()) as Arc<dyn Adapter>),
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
        NsBuilder {
            io: self.0.clone(),
            target: NsTarget::Path(normalize(path.into())),
            setup: Some(self.setup(on_connect)),
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
            setup: Some(self.setup(on_connect)),
        }
    }

    fn setup<H: Handler<T>, T: 'static>(&self, on_connect: H) -> NsSetup {
        NsSetup {
            on_connect: erase(on_connect),
            middlewares: Vec::new(),
            adapter: self.0.adapter.clone(),
            ack_timeout: self.0.config.ack_timeout,
        }
    }

    /// A broadcast to every socket of namespace `path` (none if it does not exist: a dynamic
    /// child exists from its first accepted socket until its last leaves, unless
    /// `cleanup_empty_child_namespaces` is off).
    pub fn of(&self, path: impl Into<ByteString>) -> Option<BroadcastOperator> {
        self.0
            .namespace(&normalize(path.into()))
            .map(BroadcastOperator::new)
    }

    /// A broadcast to `room` of the main namespace `/`.
    pub fn to(&self, room: impl Into<Room>) -> BroadcastOperator {
        self.main().to(room)
    }

    /// Emits to every socket of the main namespace `/`.
    pub fn emit<T: Serialize + ?Sized>(&self, event: &str, data: &T) -> Result<(), EmitError> {
        self.main().emit(event, data)
    }

    fn main(&self) -> BroadcastOperator {
        self.of("/").unwrap_or_else(|| {
            // No "/" registered: an empty namespace nobody can join, so the broadcast reaches none.
            let setup = self.setup(|| async {});
            BroadcastOperator::new(Namespace::new(ByteString::from_static("/"), setup))
        })
    }

    /// How many Engine.IO connections are open.
    pub fn connection_count(&self) -> usize {
        self.0.clients.len()
    }
}

fn normalize(path: ByteString) -> ByteString {
    if path.starts_with('/') {
        path
    } else {
        ByteString::from(format!("/{path}"))
    }
}

impl EngineHandler for SocketIo {
    fn on_connect(&self, socket: EngineSocket) {
        let deadline = now() + self.0.config.connect_timeout;
        socket.set_close_deadline(Some((deadline, CloseReason::ConnectTimeout)));
        self.0
            .clients
            .insert(socket.sid(), Arc::new(Client::new(socket)));
    }

    fn on_message(&self, socket: &EngineSocket, message: Message) {
        let client = self.0.clients.get(&socket.sid()).map(|c| c.value().clone());
        if let Some(client) = client {
            client.on_message(&self.0, message);
        }
    }

    fn on_disconnect(&self, socket: &EngineSocket, reason: CloseReason) {
        if let Some((_, client)) = self.0.clients.remove(&socket.sid()) {
            client.on_close(reason);
        }
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
