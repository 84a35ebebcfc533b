//! A namespace: its sockets, its adapter, its connect handler and middlewares.

use bytestring::ByteString;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

use super::emit::ConnectError;
use super::handler::ErasedHandler;
use super::socket::Socket;
use crate::adapter::Adapter;
use crate::engine::Sid;
use crate::lazy::LazyMap;

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// A connect middleware, type-erased.
pub(crate) type Middleware =
    Arc<dyn Fn(Socket) -> BoxFuture<Result<(), ConnectError>> + Send + Sync>;

/// How a namespace is set up: shared by a static namespace and by every child of a dynamic one.
#[derive(Clone)]
pub(crate) struct NsSetup {
    pub(crate) on_connect: Arc<dyn ErasedHandler>,
    pub(crate) middlewares: Vec<Middleware>,
    pub(crate) adapter: Arc<dyn Fn() -> Arc<dyn Adapter> + Send + Sync>,
    /// The server's default wait for acknowledgements.
    pub(crate) ack_timeout: std::time::Duration,
}

/// The registry of a server's live dynamic children, by path. Weak: a child lives as long as
/// something uses it (its sockets, a broadcast operator, the server when children are kept).
pub(crate) type Children = Arc<Mutex<HashMap<ByteString, Weak<Namespace>>>>;

pub(crate) struct Namespace {
    pub(crate) path: ByteString,
    sockets: LazyMap<Sid, Socket>,
    pub(crate) adapter: Arc<dyn Adapter>,
    pub(crate) setup: NsSetup,
    ack_ids: AtomicU64,
    /// For a child of a dynamic namespace: the registry it leaves when dropped.
    children: Option<Children>,
    /// Whether a socket was ever accepted into it (a child is visible only from then on).
    accepted: AtomicBool,
}

impl Namespace {
    pub(crate) fn new(path: ByteString, setup: NsSetup) -> Arc<Namespace> {
        Self::build(path, setup, None)
    }

    /// A child of a dynamic namespace, registered (weakly) in `children`.
    pub(crate) fn child(path: ByteString, setup: NsSetup, children: &Children) -> Arc<Namespace> {
        Self::build(path, setup, Some(children.clone()))
    }

    fn build(path: ByteString, setup: NsSetup, children: Option<Children>) -> Arc<Namespace> {
        Arc::new(Namespace {
            path,
            sockets: LazyMap::default(),
            adapter: (setup.adapter)(),
            setup,
            ack_ids: AtomicU64::new(0),
            children,
            accepted: AtomicBool::new(false),
        })
    }

    /// Whether this is a child of a dynamic namespace.
    pub(crate) fn is_child(&self) -> bool {
        self.children.is_some()
    }

    /// Records that a socket was accepted; true the first time.
    pub(crate) fn accept(&self) -> bool {
        !self.accepted.swap(true, Ordering::AcqRel)
    }

    /// Whether a socket was ever accepted.
    pub(crate) fn is_accepted(&self) -> bool {
        self.accepted.load(Ordering::Acquire)
    }

    /// Ack ids are counted per namespace, so one id can serve a whole broadcast.
    pub(crate) fn next_ack_id(&self) -> u64 {
        self.ack_ids.fetch_add(1, Ordering::Relaxed)
    }

    /// The local socket with this id.
    pub(crate) fn socket(&self, sid: Sid) -> Option<Socket> {
        self.sockets.get()?.get(&sid).map(|s| s.value().clone())
    }

    pub(crate) fn insert(&self, socket: Socket) {
        self.sockets.force().insert(socket.id(), socket);
    }

    pub(crate) fn remove(&self, sid: Sid) {
        if let Some(sockets) = self.sockets.get() {
            sockets.remove(&sid);
        }
    }
}

impl Drop for Namespace {
    fn drop(&mut self) {
        let Some(children) = &self.children else {
            return;
        };
        let mut children = children.lock().unwrap_or_else(|e| e.into_inner());
        // Only this child's own entry: a new child of the same path may have replaced it.
        let me: *const Namespace = self;
        if children
            .get(&self.path)
            .is_some_and(|entry| std::ptr::eq(entry.as_ptr(), me))
        {
            children.remove(&self.path);
        }
    }
}
