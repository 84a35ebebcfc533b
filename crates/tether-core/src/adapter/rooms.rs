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
    /// Rooms and their members, but for each socket's room of its own id (see [`Joined`]).
    rooms: LazyMap<Room, Members<Sid, SidHash>>,
    sockets: LazyMap<Sid, Joined, SidHash>,
}

/// The rooms of one socket. The room named by its own id (which nearly every socket is in,
/// alone) is a flag rather than an entry in the room table: that entry cost about 180 bytes
/// per socket.
#[derive(Debug, Default)]
struct Joined {
    /// In the room of its own id.
    own: bool,
    /// Its other rooms.
    rooms: Members<Room, RandomState>,
}

impl Rooms {
    /// Adds a socket to rooms (a socket is known once it is in any room).
    pub fn add(&self, sid: Sid, rooms: &[Room]) {
        // Lock order, here and everywhere: the socket table, then the room table.
        let mut joined = self.sockets.force().entry(sid).or_default();
        let all = self.rooms.force();
        for room in rooms {
            if **room == *sid.as_str() {
                joined.own = true;
                continue;
            }
            joined.rooms.insert(room.clone());
            all.entry(room.clone()).or_default().insert(sid);
        }
    }

    /// Removes a socket from rooms.
    pub fn remove(&self, sid: Sid, rooms: &[Room]) {
        let (Some(all), Some(sockets)) = (self.rooms.get(), self.sockets.get()) else {
            return;
        };
        if let Some(mut joined) = sockets.get_mut(&sid) {
            for room in rooms {
                if **room == *sid.as_str() {
                    joined.own = false;
                } else {
                    joined.rooms.remove(room);
                }
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
        if let Some((_, joined)) = sockets.remove(&sid) {
            for room in joined.rooms.iter() {
                all.remove_if_mut(room, |_, members| {
                    members.remove(&sid);
                    members.is_empty()
                });
            }
        }
    }

    /// The rooms a socket is in.
    pub fn rooms_of(&self, sid: Sid) -> Vec<Room> {
        let Some(joined) = self.sockets.get().and_then(|sockets| sockets.get(&sid)) else {
            return Vec::new();
        };
        let own = joined.own.then(|| Room::from(sid.as_str()));
        own.into_iter()
            .chain(joined.rooms.iter().cloned())
            .collect()
    }

    /// The socket whose own-id room `room` is, if that socket is in it.
    fn own_room(&self, room: &str) -> Option<Sid> {
        let sid = Sid::parse(room)?;
        let joined = self.sockets.get()?.get(&sid)?;
        joined.own.then_some(sid)
    }

    /// The sockets in their own-id rooms whose ids are not also rooms of the table.
    fn own_rooms(&self) -> Vec<Sid> {
        let Some(sockets) = self.sockets.get() else {
            return Vec::new();
        };
        let owners: Vec<Sid> = sockets
            .iter()
            .filter(|e| e.value().own)
            .map(|e| *e.key())
            .collect();
        match self.rooms.get() {
            Some(all) => owners
                .into_iter()
                .filter(|sid| !all.contains_key(sid.as_str()))
                .collect(),
            None => owners,
        }
    }

    /// Every room with at least one socket (socket-id rooms included).
    pub fn rooms(&self) -> Vec<Room> {
        let mut rooms: Vec<Room> = self
            .rooms
            .get()
            .map(|all| all.iter().map(|e| e.key().clone()).collect())
            .unwrap_or_default();
        rooms.extend(self.own_rooms().iter().map(|sid| Room::from(sid.as_str())));
        rooms
    }

    /// How many rooms have a socket in them (socket-id rooms included), and how many sockets
    /// are in any room; without copying the rooms.
    pub fn counts(&self) -> (usize, usize) {
        (
            self.rooms.get().map_or(0, |all| all.len()) + self.own_rooms().len(),
            self.sockets.get().map_or(0, |all| all.len()),
        )
    }

    /// Whether `room` has a socket in it.
    pub fn has_room(&self, room: &str) -> bool {
        self.rooms.get().is_some_and(|all| all.contains_key(room)) || self.own_room(room).is_some()
    }

    /// Whether `sid` is in `room`.
    fn is_in(&self, sid: &Sid, room: &str) -> bool {
        if room == sid.as_str() {
            return self
                .sockets
                .get()
                .and_then(|sockets| sockets.get(sid).map(|joined| joined.own))
                .unwrap_or(false);
        }
        let in_table = self
            .rooms
            .get()
            .and_then(|all| all.get(room).map(|members| members.contains(sid)));
        in_table.unwrap_or(false)
    }

    /// The sockets `opts` selects, each once.
    pub fn targets(&self, opts: &BroadcastOptions) -> Vec<Sid> {
        let Some(sockets) = self.sockets.get() else {
            return Vec::new();
        };
        // No table guard is held while `excluded` runs: it takes its own.
        let excluded = |sid: &Sid| opts.except.iter().any(|room| self.is_in(sid, room));
        let mut out: Vec<Sid> = if opts.rooms.is_empty() {
            sockets.iter().map(|e| *e.key()).collect()
        } else if let [room] = opts.rooms.as_slice() {
            // One room: its members are each there once, no set needed (the common broadcast;
            // the set cost a hash and a rehash per member).
            let mut out: Vec<Sid> = self
                .rooms
                .get()
                .and_then(|all| {
                    all.get(room)
                        .map(|members| members.iter().copied().collect())
                })
                .unwrap_or_default();
            if let Some(owner) = self.own_room(room)
                && !out.contains(&owner)
            {
                out.push(owner);
            }
            out
        } else {
            let mut seen = HashSet::<Sid, SidHash>::default();
            let mut out = Vec::new();
            for room in &opts.rooms {
                let members: Vec<Sid> = self
                    .rooms
                    .get()
                    .and_then(|all| all.get(room).map(|m| m.iter().copied().collect()))
                    .unwrap_or_default();
                for sid in members.into_iter().chain(self.own_room(room)) {
                    if seen.insert(sid) {
                        out.push(sid);
                    }
                }
            }
            out
        };
        if !opts.except.is_empty() {
            out.retain(|sid| !excluded(sid));
        }
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

    #[test]
    fn a_socket_id_room_is_a_room_like_any_other() {
        let a = Rooms::default();
        let (s1, s2) = (Sid::random(), Sid::random());
        let own = |sid: Sid| Room::from(sid.as_str());
        a.add(s1, &[own(s1)]);
        a.add(s2, &[own(s2), "r".into()]);
        assert_eq!(a.counts(), (3, 2), "two own rooms and r; two sockets");
        assert!(a.has_room(s1.as_str()) && a.has_room("r"));
        assert_eq!(a.targets(&BroadcastOptions::to([s1.as_str()])), vec![s1]);
        assert_eq!(
            sorted(a.targets(&BroadcastOptions::to([s1.as_str(), s2.as_str(), "r"]))),
            sorted(vec![s1, s2]),
            "each once"
        );
        let all_but_s2 = BroadcastOptions {
            except: vec![own(s2)],
            ..Default::default()
        };
        assert_eq!(a.targets(&all_but_s2), vec![s1]);
        let mut rooms = a.rooms();
        rooms.sort();
        let mut expected = vec![own(s1), own(s2), Room::from("r")];
        expected.sort();
        assert_eq!(rooms, expected);

        // s1 joins the room named after s2: s2's room has both, once each.
        a.add(s1, &[own(s2)]);
        assert_eq!(
            sorted(a.targets(&BroadcastOptions::to([s2.as_str()]))),
            sorted(vec![s1, s2])
        );
        assert_eq!(a.counts().0, 3, "s2's room counted once");
        assert_eq!(a.rooms().len(), 3);

        // Leaving one's own room, as Socket.IO allows.
        a.remove(s2, &[own(s2)]);
        assert_eq!(a.targets(&BroadcastOptions::to([s2.as_str()])), vec![s1]);
        assert_eq!(a.rooms_of(s2), vec![Room::from("r")]);
        a.remove(s1, &[own(s2)]);
        assert!(!a.has_room(s2.as_str()));
        assert!(a.targets(&BroadcastOptions::to([s2.as_str()])).is_empty());
        assert_eq!(a.counts(), (2, 2), "s1's own room and r");
        // Still known: a broadcast to all reaches it.
        assert_eq!(a.targets(&BroadcastOptions::default()).len(), 2);
        a.remove_all(s1);
        assert!(!a.has_room(s1.as_str()));
        assert!(a.rooms_of(s1).is_empty());
        assert_eq!(a.counts(), (1, 1));
    }
}
