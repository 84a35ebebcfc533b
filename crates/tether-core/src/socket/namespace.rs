//! A namespace: its sockets, its adapter, its connect handler and middlewares.

use bytestring::ByteString;
use dashmap::DashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::emit::ConnectError;
use super::handler::ErasedHandler;
use super::socket::Socket;
use crate::adapter::Adapter;
use crate::engine::Sid;

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

pub(crate) struct Namespace {
    pub(crate) path: ByteString,
    pub(crate) sockets: DashMap<Sid, Socket>,
    pub(crate) adapter: Arc<dyn Adapter>,
    pub(crate) setup: NsSetup,
    ack_ids: AtomicU64,
}

impl Namespace {
    pub(crate) fn new(path: ByteString, setup: NsSetup) -> Arc<Namespace> {
        Arc::new(Namespace {
            path,
            sockets: DashMap::new(),
            adapter: (setup.adapter)(),
            setup,
            ack_ids: AtomicU64::new(0),
        })
    }

    /// Ack ids are counted per namespace, so one id can serve a whole broadcast.
    pub(crate) fn next_ack_id(&self) -> u64 {
        self.ack_ids.fetch_add(1, Ordering::Relaxed)
    }

    /// The local socket with this id.
    pub(crate) fn socket(&self, sid: Sid) -> Option<Socket> {
        self.sockets.get(&sid).map(|s| s.value().clone())
    }
}
