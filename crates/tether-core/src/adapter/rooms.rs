//! [`Rooms`]: room membership on this node, the part every adapter keeps in memory.

use std::collections::HashSet;
use std::collections::hash_map::RandomState;

use super::members::Members;
use super::{BroadcastOptions, Room};
use crate::engine::{Sid, SidHash};
use crate::lazy::LazyMap;

/// Which local sockets are in which rooms, and which of them options select. Its maps are
/// allocated when the first socket joins a room, so an unused namespace costs next to nothing.
/// [`super::LocalAdapter`] is this alone; an adapter for many nodes keeps one too, for the
/// sockets of its own node.
///
/// ```
/// use tether_core::adapter::{BroadcastOptions, Rooms};
/// use tether_core::engine::Sid;
/// let rooms = Rooms::default();
/// let (a, b) = (Sid::random(), Sid::random());
/// rooms.add(a, &["lobby".into()]);
/// rooms.add(b, &["lobby".into(), "vip".into()]);
/// let opts = BroadcastOptions { rooms: vec!["lobby".into()], except: vec!["vip".into()], ..Default::default() };
/// assert_eq!(rooms.targets(&opts), vec![a]);
/// ```
#[derive(Debug, Default)]
pub struct Rooms {
    rooms: LazyMap<Room, Members<Sid, SidHash>>,
    sockets: LazyMap<Sid, Members<Room, RandomState>, SidHash>,
}

impl Rooms {
    /// Adds a socket to rooms (a socket is known once it is in any room).
    pub fn add(&self, sid: Sid, rooms: &[Room]) {
        let all = self.rooms.force();
        let mut own = self.sockets.force().entry(sid).or_default();
        for room in rooms {
            own.insert(room.clone());
            all.entry(room.clone()).or_default().insert(sid);
        }
    }

    /// Removes a socket from rooms.
    pub fn remove(&self, sid: Sid, rooms: &[Room]) {
        let (Some(all), Some(sockets)) = (self.rooms.get(), self.sockets.get()) else {
            return;
        };
        if let Some(mut own) = sockets.get_mut(&sid) {
            for room in rooms {
                own.remove(room);
            }
        }
        for room in rooms {
            all.remove_if_mut(room, |_, members| {
                members.remove(&sid);
                members.is_empty()
            });
        }
    }

    /// Removes a socket from every room.
    pub fn remove_all(&self, sid: Sid) {
        let (Some(all), Some(sockets)) = (self.rooms.get(), self.sockets.get()) else {
            return;
        };
        if let Some((_, rooms)) = sockets.remove(&sid) {
            for room in rooms.iter() {
                all.remove_if_mut(room, |_, members| {
                    members.remove(&sid);
                    members.is_empty()
                });
            }
        }
    }

    /// The rooms a socket is in.
    pub fn rooms_of(&self, sid: Sid) -> Vec<Room> {
        self.sockets
            .get()
            .and_then(|sockets| {
                sockets
                    .get(&sid)
                    .map(|rooms| rooms.iter().cloned().collect())
            })
            .unwrap_or_default()
    }

    /// Every room with at least one socket (socket-id rooms included).
    pub fn rooms(&self) -> Vec<Room> {
        self.rooms
            .get()
            .map(|all| all.iter().map(|e| e.key().clone()).collect())
            .unwrap_or_default()
    }

    /// How many rooms have a socket in them (socket-id rooms included), and how many sockets
    /// are in any room; without copying either.
    pub fn counts(&self) -> (usize, usize) {
        (
            self.rooms.get().map_or(0, |all| all.len()),
            self.sockets.get().map_or(0, |all| all.len()),
        )
    }

    /// Whether `room` has a socket in it.
    pub fn has_room(&self, room: &str) -> bool {
        self.rooms.get().is_some_and(|all| all.contains_key(room))
    }

    /// The sockets `opts` selects, each once.
    pub fn targets(&self, opts: &BroadcastOptions) -> Vec<Sid> {
        let (Some(all), Some(sockets)) = (self.rooms.get(), self.sockets.get()) else {
            return Vec::new();
        };
        let excluded = |sid: &Sid| {
            opts.except
                .iter()
                .any(|room| all.get(room).is_some_and(|members| members.contains(sid)))
        };
        if opts.rooms.is_empty() {
            return sockets
                .iter()
                .map(|e| *e.key())
                .filter(|sid| !excluded(sid))
                .collect();
        }
        // One room: its members are each there once, no set needed (the common broadcast; the
        // set cost a hash and a rehash per member).
        if let [room] = opts.rooms.as_slice() {
            let Some(members) = all.get(room) else {
                return Vec::new();
            };
            let mut out: Vec<Sid> = members.iter().copied().collect();
            drop(members);
            if !opts.except.is_empty() {
                out.retain(|sid| !excluded(sid));
            }
            return out;
        }
        let mut seen = HashSet::<Sid, SidHash>::default();
        let mut out = Vec::new();
        for room in &opts.rooms {
            if let Some(members) = all.get(room) {
                for sid in members.iter() {
                    if seen.insert(*sid) {
                        out.push(*sid);
                    }
                }
            }
        }
        out.retain(|sid| !excluded(sid));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted(mut v: Vec<Sid>) -> Vec<Sid> {
        v.sort_by_key(|s| s.to_string());
        v
    }

    #[test]
    fn rooms_union_except_and_cleanup() {
        let a = Rooms::default();
        let (s1, s2, s3) = (Sid::random(), Sid::random(), Sid::random());
        a.add(s1, &["r1".into()]);
        a.add(s2, &["r1".into(), "r2".into(), s2.as_str().into()]);
        a.add(s3, &["r2".into()]);
        let t = a.targets(&BroadcastOptions::to(["r1", "r2"]));
        assert_eq!(
            sorted(t),
            sorted(vec![s1, s2, s3]),
            "s2 is in both rooms, once"
        );
        let t = a.targets(&BroadcastOptions {
            rooms: vec!["r2".into()],
            except: vec!["r1".into()],
            ..Default::default()
        });
        assert_eq!(t, vec![s3]);
        let t = a.targets(&BroadcastOptions {
            rooms: vec!["r1".into()],
            except: vec![s2.as_str().into()],
            ..Default::default()
        });
        assert_eq!(t, vec![s1], "a socket id is a room to leave out");
        let t = a.targets(&BroadcastOptions::to(["r1"]));
        assert_eq!(sorted(t), sorted(vec![s1, s2]), "one room: its members");
        assert!(a.targets(&BroadcastOptions::to(["nobody"])).is_empty());
        assert_eq!(a.targets(&BroadcastOptions::default()).len(), 3);
        a.remove(s2, &["r1".into()]);
        assert_eq!(
            a.rooms_of(s2).len(),
            2,
            "r2 and its own room: {:?}",
            a.rooms_of(s2)
        );
        a.remove_all(s3);
        a.remove_all(s2);
        assert_eq!(a.rooms(), vec![Room::from("r1")]);
        assert!(a.has_room("r1") && !a.has_room("r2"));
        assert!(a.rooms_of(s3).is_empty());
    }
}
