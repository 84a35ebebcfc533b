//! The server's namespaces: static ones by path, dynamic ones by predicate with their live
//! children, each made with its adapter.
//!
//! Layer: names the namespace, its setup and the namespace operations (whose [`NsHandle`] each
//! adapter gets); no client, no server handle.

use bytestring::ByteString;
use std::collections::HashMap;
use std::sync::{Arc, RwLock, Weak};
use std::time::Duration;

use super::namespace::{Children, Namespace};
use super::ops::NsHandle;
use super::setup::NsSetup;
use super::socket::{Ns, Socket};
use super::stats::NsStats;
use crate::adapter::{AdapterCtx, AdapterFactory, RecoveryConfig};

type NsPredicate = Arc<dyn Fn(&str) -> bool + Send + Sync>;

pub(crate) struct Registry {
    /// Static namespaces, and the dynamic children kept when cleanup is off.
    nsps: RwLock<HashMap<ByteString, (Arc<Ns>, NsSetup)>>,
    dynamic: RwLock<Vec<(NsPredicate, NsSetup)>>,
    /// Every live child of a dynamic namespace, accepted or still in middleware.
    children: Children<Socket>,
    adapter: AdapterFactory,
    ack_timeout: Duration,
    keep_children: bool,
    recovery: Option<RecoveryConfig>,
}

impl Registry {
    pub(crate) fn new(
        adapter: AdapterFactory,
        ack_timeout: Duration,
        keep_children: bool,
        recovery: Option<RecoveryConfig>,
    ) -> Registry {
        Registry {
            nsps: RwLock::new(HashMap::new()),
            dynamic: RwLock::new(Vec::new()),
            children: Children::default(),
            adapter,
            ack_timeout,
            keep_children,
            recovery,
        }
    }

    /// A namespace with its adapter.
    pub(crate) fn make(&self, path: ByteString, setup: &NsSetup, child: bool) -> Arc<Ns> {
        let server_events = setup.server_events.clone();
        let factory = self.adapter.clone();
        let children = child.then(|| self.children.clone());
        let recovery = self.recovery.clone();
        Namespace::build(
            path.clone(),
            self.ack_timeout,
            children,
            recovery.is_some(),
            setup.stats.clone(),
            move |me: &Weak<Ns>| {
                factory(AdapterCtx {
                    nsp: path,
                    local: Arc::new(NsHandle {
                        ns: me.clone(),
                        server_events,
                    }),
                    recovery,
                })
            },
        )
    }

    /// Registers a static namespace.
    pub(crate) fn register(&self, path: ByteString, setup: NsSetup) {
        let ns = self.make(path.clone(), &setup, false);
        self.nsps
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(path, (ns, setup));
    }

    /// Registers a dynamic namespace.
    pub(crate) fn register_dynamic(&self, accepts: NsPredicate, setup: NsSetup) {
        self.dynamic
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .push((accepts, setup));
    }

    fn registered(&self, path: &str) -> Option<(Arc<Ns>, NsSetup)> {
        self.nsps
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(path)
            .cloned()
    }

    fn child(&self, path: &str) -> Option<Arc<Ns>> {
        self.children
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(path)
            .and_then(Weak::upgrade)
    }

    /// The namespace a CONNECT to `path` joins, with its setup: a static one, or the child of
    /// the first dynamic namespace whose predicate accepts the path. A new child is not
    /// registered yet: it is shared by the connects to its path and forgotten if none is
    /// accepted (see [`Registry::accepted`]).
    pub(crate) fn namespace_for_connect(&self, path: &ByteString) -> Option<(Arc<Ns>, NsSetup)> {
        if let Some(found) = self.registered(path) {
            return Some(found);
        }
        let setup = self
            .dynamic
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .find(|(accepts, _)| accepts(path))
            .map(|(_, setup)| setup.clone())?;
        let children = self.children.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(ns) = children.get(path).and_then(Weak::upgrade) {
            return Some((ns, setup));
        }
        drop(children);
        // Made outside the lock: the adapter factory is the app's code.
        let made = self.make(path.clone(), &setup, true);
        let mut children = self.children.lock().unwrap_or_else(|e| e.into_inner());
        // Another connect may have made the child meanwhile: that one wins.
        let ns = match children.get(path).and_then(Weak::upgrade) {
            Some(ns) => ns,
            None => {
                children.insert(path.clone(), Arc::downgrade(&made));
                made.clone()
            }
        };
        // The loser is dropped after the lock is released: its `Drop` takes the lock.
        drop(children);
        drop(made);
        Some((ns, setup))
    }

    /// A socket was accepted into `ns`. A dynamic child becomes visible to `of`, and, when
    /// empty children are kept, the server holds on to it from now on.
    pub(crate) fn accepted(&self, ns: &Arc<Ns>, setup: &NsSetup) {
        if ns.is_child() && ns.accept() && self.keep_children {
            self.nsps
                .write()
                .unwrap_or_else(|e| e.into_inner())
                .entry(ns.path.clone())
                .or_insert_with(|| (ns.clone(), setup.clone()));
        }
    }

    /// The namespace at `path` for the server's own use: static, or a child a socket was
    /// accepted into that still exists.
    pub(crate) fn namespace(&self, path: &str) -> Option<Arc<Ns>> {
        self.registered(path)
            .map(|(ns, _)| ns)
            .or_else(|| self.child(path).filter(|ns| ns.is_accepted()))
    }

    /// The counters of every registration: each static namespace's, and each dynamic one's
    /// (shared by its children), once each.
    pub(crate) fn stats(&self) -> Vec<Arc<NsStats>> {
        let mut all: Vec<Arc<NsStats>> = Vec::new();
        let statics = self.nsps.read().unwrap_or_else(|e| e.into_inner());
        let dynamic = self.dynamic.read().unwrap_or_else(|e| e.into_inner());
        let setups = statics
            .values()
            .map(|(_, s)| s)
            .chain(dynamic.iter().map(|(_, s)| s));
        for setup in setups {
            if !all.iter().any(|s| Arc::ptr_eq(s, &setup.stats)) {
                all.push(setup.stats.clone());
            }
        }
        all
    }

    /// Every live namespace once: the static ones, and the dynamic children (accepted or not).
    pub(crate) fn all(&self) -> Vec<Arc<Ns>> {
        let mut all: Vec<Arc<Ns>> = self
            .nsps
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .map(|(ns, _)| ns.clone())
            .collect();
        let children: Vec<Arc<Ns>> = self
            .children
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .filter_map(Weak::upgrade)
            .collect();
        for child in children {
            if !all.iter().any(|ns| Arc::ptr_eq(ns, &child)) {
                all.push(child);
            }
        }
        all
    }

    /// The setup of the static namespace at `path`.
    pub(crate) fn setup(&self, path: &str) -> Option<NsSetup> {
        self.registered(path).map(|(_, setup)| setup)
    }
}
