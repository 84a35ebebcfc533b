//! Every session's next deadline in one min-heap, so the ticker wakes when the earliest is due
//! and touches only the sessions whose deadline has come: its cost follows the deadlines that
//! fire, not the number of sessions.
//!
//! Entries are never removed early. Each session remembers the deadline it last scheduled; an
//! entry that no longer matches it is stale and is skipped when it comes up. A session
//! schedules again only when its next deadline moves earlier than the one it has in the heap
//! (an upgrade starting, a close waiting for a poll), so there is at most one stale entry per
//! such event; when its deadline moves later (a pong arrived), the old entry fires early, finds
//! nothing due and schedules the real deadline.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;
use std::fmt;
use std::sync::Mutex;
use std::time::Instant;

/// A min-heap of `(deadline, value)`, safe to share.
pub(crate) struct Deadlines<T> {
    heap: Mutex<BinaryHeap<Reverse<Entry<T>>>>,
}

struct Entry<T> {
    at: Instant,
    /// Order of insertion, to break ties without comparing values.
    seq: u64,
    value: T,
}

impl<T> PartialEq for Entry<T> {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl<T> Eq for Entry<T> {}
impl<T> PartialOrd for Entry<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<T> Ord for Entry<T> {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

impl<T> Default for Deadlines<T> {
    fn default() -> Self {
        Deadlines {
            heap: Mutex::new(BinaryHeap::new()),
        }
    }
}

impl<T> fmt::Debug for Deadlines<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Deadlines")
            .field("len", &self.len())
            .field("next", &self.next())
            .finish()
    }
}

static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

impl<T> Deadlines<T> {
    fn lock(&self) -> std::sync::MutexGuard<'_, BinaryHeap<Reverse<Entry<T>>>> {
        self.heap.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds `value` due at `at`. True when it is now the earliest entry: whoever sleeps until
    /// the earliest must wake up sooner.
    pub(crate) fn schedule(&self, at: Instant, value: T) -> bool {
        let seq = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut heap = self.lock();
        let earliest = heap.peek().is_none_or(|Reverse(e)| at < e.at);
        heap.push(Reverse(Entry { at, seq, value }));
        earliest
    }

    /// The earliest deadline.
    pub(crate) fn next(&self) -> Option<Instant> {
        self.lock().peek().map(|Reverse(e)| e.at)
    }

    /// Removes and returns every entry due by `now`, earliest first.
    pub(crate) fn pop_due(&self, now: Instant) -> Vec<(Instant, T)> {
        let mut heap = self.lock();
        let mut due = Vec::new();
        while heap.peek().is_some_and(|Reverse(e)| e.at <= now) {
            if let Some(Reverse(e)) = heap.pop() {
                due.push((e.at, e.value));
            }
        }
        due
    }

    /// How many entries the heap holds (stale ones included).
    pub(crate) fn len(&self) -> usize {
        self.lock().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn pops_only_what_is_due_in_order_and_ties_keep_insertion_order() {
        let t0 = Instant::now();
        let ms = |n| t0 + Duration::from_millis(n);
        let d = Deadlines::default();
        for (at, v) in [(30, 'c'), (10, 'a'), (20, 'b'), (10, 'x'), (40, 'd')] {
            d.schedule(ms(at), v);
        }
        assert!(d.pop_due(ms(9)).is_empty());
        let due: Vec<char> = d.pop_due(ms(20)).into_iter().map(|(_, v)| v).collect();
        assert_eq!(due, ['a', 'x', 'b']);
        assert_eq!(d.next(), Some(ms(30)));
        assert_eq!(d.len(), 2);
    }

    #[test]
    fn a_tick_with_nothing_due_looks_at_nothing_whatever_the_number_of_entries() {
        let t0 = Instant::now();
        let d = Deadlines::default();
        for i in 0..100_000u64 {
            d.schedule(t0 + Duration::from_secs(25) + Duration::from_nanos(i), i);
        }
        // A thousand ticks before any deadline: each returns nothing and removes nothing.
        for n in 0..1000 {
            assert!(d.pop_due(t0 + Duration::from_millis(n)).is_empty());
        }
        assert_eq!(d.len(), 100_000);
        let due = d.pop_due(t0 + Duration::from_secs(25) + Duration::from_nanos(9));
        assert_eq!(due.len(), 10);
    }
}
