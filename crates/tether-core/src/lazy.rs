//! [`LazyMap`]: a concurrent map that allocates nothing until its first insert.
//!
//! A `DashMap` allocates its shards when it is created (eight here, about 1 KiB), and every
//! namespace and adapter holds a few: a server with many small (dynamic) namespaces would pay
//! that for each, used or not.

use dashmap::DashMap;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hash};
use std::sync::OnceLock;

/// A `DashMap` created on first insert.
pub(crate) struct LazyMap<K: Eq + Hash, V, S = RandomState>(OnceLock<DashMap<K, V, S>>);

impl<K: Eq + Hash + std::fmt::Debug, V: std::fmt::Debug, S: BuildHasher + Clone> std::fmt::Debug
    for LazyMap<K, V, S>
{
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("LazyMap").field(&self.0).finish()
    }
}

impl<K: Eq + Hash, V, S> Default for LazyMap<K, V, S> {
    fn default() -> Self {
        LazyMap(OnceLock::new())
    }
}

impl<K: Eq + Hash + Clone, V, S: BuildHasher + Clone + Default> LazyMap<K, V, S> {
    /// The map, if anything was ever inserted.
    pub(crate) fn get(&self) -> Option<&DashMap<K, V, S>> {
        self.0.get()
    }

    /// The map, created now if need be.
    pub(crate) fn force(&self) -> &DashMap<K, V, S> {
        self.0.get_or_init(DashMap::default)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocates_on_first_insert_only() {
        let map: LazyMap<u32, u32> = LazyMap::default();
        assert!(map.get().is_none());
        assert!(map.get().is_none_or(dashmap::DashMap::is_empty));
        map.force().insert(1, 2);
        assert_eq!(map.get().map(dashmap::DashMap::len), Some(1));
        assert_eq!(map.get().and_then(|m| m.get(&1).map(|v| *v)), Some(2));
    }
}
