//! A namespace on this node: its sockets by id, its adapter, its ack ids, and, for a child of
//! a dynamic namespace, the registry it leaves when it is dropped.
//!
//! Layer: generic over the socket type `S`, so it names neither sockets nor handlers; it names
//! the adapter trait only.

use bytestring::ByteString;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use super::stats::NsStats;
use crate::adapter::Adapter;
use crate::engine::{Sid, SidHash};
use crate::lazy::LazyMap;

/// The registry of a server's live dynamic children, by path. Weak: a child lives as long as
/// something uses it (its sockets, a broadcast operator, the server when children are kept).
pub(crate) type Children<S> = Arc<Mutex<HashMap<ByteString, Weak<Namespace<S>>>>>;

pub(crate) struct Namespace<S> {
    pub(crate) path: ByteString,
    sockets: LazyMap<Sid, S, SidHash>,
    pub(crate) adapter: Arc<dyn Adapter>,
    /// The default wait for acknowledgements.
    pub(crate) ack_timeout: Duration,
    ack_ids: AtomicU64,
    /// For a child of a dynamic namespace: the registry it leaves when dropped.
    children: Option<Children<S>>,
    /// Whether a socket was ever accepted (a child is visible only from then on).
    accepted: AtomicBool,
    /// With connection state recovery on: held while a recoverable packet gets its offset and
    /// is queued for its local recipients, and while a recovered socket gets what it missed
    /// and becomes a recipient, so every outbox holds offsets in order and no packet falls
    /// between a replay and live traffic.
    pub(crate) recovery: Option<Mutex<()>>,
    /// The namespace's counters (a dynamic namespace's children share theirs).
    pub(crate) stats: Arc<NsStats>,
}

impl<S: Clone> Namespace<S> {
    /// A namespace whose adapter `adapter` makes, given a handle on the namespace itself.
    pub(crate) fn build(
        path: ByteString,
        ack_timeout: Duration,
        children: Option<Children<S>>,
        recovery: bool,
        stats: Arc<NsStats>,
        adapter: impl FnOnce(&Weak<Namespace<S>>) -> Arc<dyn Adapter>,
    ) -> Arc<Namespace<S>> {
        Arc::new_cyclic(|me| Namespace {
            path,
            sockets: LazyMap::default(),
            adapter: adapter(me),
            ack_timeout,
            ack_ids: AtomicU64::new(0),
            children,
            accepted: AtomicBool::new(false),
            recovery: recovery.then(|| Mutex::new(())),
            stats,
        })
    }

    /// The recovery order lock, when recovery is on.
    pub(crate) fn order(&self) -> Option<std::sync::MutexGuard<'_, ()>> {
        self.recovery
            .as_ref()
            .map(|m| m.lock().unwrap_or_else(|e| e.into_inner()))
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
    pub(crate) fn socket(&self, sid: Sid) -> Option<S> {
        self.sockets.get()?.get(&sid).map(|s| s.value().clone())
    }

    /// Runs `f` on the local socket with this id under the socket table's read guard, without
    /// a clone of it: the way a broadcast reaches each recipient (a clone and its drop were
    /// two atomic operations on a cache line of each recipient's). `f` must not reach this
    /// namespace's socket table (insert, remove): the guard is held.
    pub(crate) fn with_socket<R>(&self, sid: Sid, f: impl FnOnce(&S) -> R) -> Option<R> {
        let entry = self.sockets.get()?.get(&sid)?;
        Some(f(entry.value()))
    }

    /// How many local sockets it has.
    pub(crate) fn len(&self) -> usize {
        self.sockets.get().map_or(0, |s| s.len())
    }

    pub(crate) fn insert(&self, sid: Sid, socket: S) {
        self.sockets.force().insert(sid, socket);
    }

    pub(crate) fn remove(&self, sid: Sid) {
        if let Some(sockets) = self.sockets.get() {
            sockets.remove(&sid);
        }
    }
}

impl<S> Drop for Namespace<S> {
    fn drop(&mut self) {
        let Some(children) = &self.children else {
            return;
        };
        let mut children = children.lock().unwrap_or_else(|e| e.into_inner());
        // Only this child's own entry: a new child of the same path may have replaced it.
        let me: *const Namespace<S> = self;
        if children
            .get(&self.path)
            .is_some_and(|entry| std::ptr::eq(entry.as_ptr(), me))
        {
            children.remove(&self.path);
        }
    }
}
