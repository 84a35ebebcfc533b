//! [`Members`]: a set that keeps its one element inline and allocates from the second on.
//!
//! Most sets of room membership hold one element: every socket is alone in the room of its
//! own id, and most sockets are in one or two rooms. A `HashSet` allocates a table for its
//! first element (about 100 to 150 bytes with the allocator's share, twice per socket); this
//! one allocates nothing until it holds two.

use std::collections::HashSet;
use std::collections::hash_set;
use std::hash::{BuildHasher, Hash};

/// A set of `T`: empty, one element inline, or a `HashSet`.
#[derive(Debug, Clone, Default)]
pub(crate) enum Members<T, S> {
    /// No element.
    #[default]
    Empty,
    /// One element, inline.
    One(T),
    /// Two or more (or one, after removals).
    Many(HashSet<T, S>),
}

impl<T: Eq + Hash, S: BuildHasher + Default> Members<T, S> {
    /// Adds `value`; false if it was there already.
    pub(crate) fn insert(&mut self, value: T) -> bool {
        if let Members::Many(set) = self {
            return set.insert(value);
        }
        match std::mem::take(self) {
            Members::One(first) if first != value => {
                let mut set = HashSet::with_capacity_and_hasher(2, S::default());
                set.insert(first);
                set.insert(value);
                *self = Members::Many(set);
                true
            }
            Members::One(first) => {
                *self = Members::One(first);
                false
            }
            _ => {
                *self = Members::One(value);
                true
            }
        }
    }

    /// Removes `value`; false if it was not there.
    pub(crate) fn remove<Q>(&mut self, value: &Q) -> bool
    where
        T: std::borrow::Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        match self {
            Members::Empty => false,
            Members::One(one) if (*one).borrow() == value => {
                *self = Members::Empty;
                true
            }
            Members::One(_) => false,
            Members::Many(set) => {
                let removed = set.remove(value);
                if set.is_empty() {
                    *self = Members::Empty;
                }
                removed
            }
        }
    }

    /// Whether `value` is in the set.
    pub(crate) fn contains<Q>(&self, value: &Q) -> bool
    where
        T: std::borrow::Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        match self {
            Members::Empty => false,
            Members::One(one) => (*one).borrow() == value,
            Members::Many(set) => set.contains(value),
        }
    }
}

impl<T, S> Members<T, S> {
    /// Whether the set is empty.
    pub(crate) fn is_empty(&self) -> bool {
        match self {
            Members::Empty => true,
            Members::One(_) => false,
            Members::Many(set) => set.is_empty(),
        }
    }

    /// The elements, in no order.
    pub(crate) fn iter(&self) -> Iter<'_, T> {
        match self {
            Members::Empty => Iter::One(None),
            Members::One(one) => Iter::One(Some(one)),
            Members::Many(set) => Iter::Many(set.iter()),
        }
    }
}

/// The elements of a [`Members`].
pub(crate) enum Iter<'a, T> {
    One(Option<&'a T>),
    Many(hash_set::Iter<'a, T>),
}

impl<'a, T> Iterator for Iter<'a, T> {
    type Item = &'a T;

    fn next(&mut self) -> Option<&'a T> {
        match self {
            Iter::One(one) => one.take(),
            Iter::Many(set) => set.next(),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match self {
            Iter::One(one) => (one.iter().len(), Some(one.iter().len())),
            Iter::Many(set) => set.size_hint(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::hash_map::RandomState;

    type Set = Members<String, RandomState>;

    fn sorted(set: &Set) -> Vec<String> {
        let mut v: Vec<String> = set.iter().cloned().collect();
        v.sort();
        v
    }

    #[test]
    fn grows_from_inline_to_a_table_and_back_to_empty() {
        let mut set = Set::default();
        assert!(set.is_empty() && set.iter().next().is_none());
        assert!(set.insert("a".into()));
        assert!(matches!(set, Members::One(_)), "one element stays inline");
        assert!(!set.insert("a".into()), "no duplicate");
        assert!(set.contains("a") && !set.contains("b"));
        assert!(set.insert("b".into()));
        assert!(set.insert("c".into()));
        assert!(matches!(set, Members::Many(_)));
        assert_eq!(set.iter().count(), 3);
        assert_eq!(sorted(&set), ["a", "b", "c"]);
        assert!(!set.remove("zz"));
        assert!(set.remove("b"));
        assert_eq!(sorted(&set), ["a", "c"]);
        assert!(set.remove("a") && set.remove("c"));
        assert!(set.is_empty());
        assert!(
            matches!(set, Members::Empty),
            "the table is freed when empty"
        );
    }

    #[test]
    fn removing_the_one_element() {
        let mut set = Set::default();
        set.insert("x".into());
        assert!(!set.remove("y"));
        assert_eq!(set.iter().count(), 1);
        assert!(set.remove("x"));
        assert!(set.is_empty() && !set.contains("x"));
        assert_eq!(set.iter().size_hint(), (0, Some(0)));
    }
}
