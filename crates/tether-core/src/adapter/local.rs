//! [`LocalAdapter`]: rooms in this process.

use std::collections::HashSet;

use super::{Adapter, BroadcastOptions, Room};
use crate::engine::Sid;
use crate::lazy::LazyMap;

/// Rooms kept in memory, for one process. Its maps are allocated when the first socket joins
/// a room, so an unused namespace costs next to nothing.
#[derive(Debug, Default)]
pub struct LocalAdapter {
    rooms: LazyMap<Room, HashSet<Sid>>,
    sockets: LazyMap<Sid, HashSet<Room>>,
}

impl Adapter for LocalAdapter {
    fn add(&self, sid: Sid, rooms: &[Room]) {
        let all = self.rooms.force();
        let mut own = self.sockets.force().entry(sid).or_default();
        for room in rooms {
            own.insert(room.clone());
            all.entry(room.clone()).or_default().insert(sid);
        }
    }

    fn remove(&self, sid: Sid, rooms: &[Room]) {
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

    fn remove_all(&self, sid: Sid) {
        let (Some(all), Some(sockets)) = (self.rooms.get(), self.sockets.get()) else {
            return;
        };
        if let Some((_, rooms)) = sockets.remove(&sid) {
            for room in rooms {
                all.remove_if_mut(&room, |_, members| {
                    members.remove(&sid);
                    members.is_empty()
                });
            }
        }
    }

    fn rooms_of(&self, sid: Sid) -> Vec<Room> {
        self.sockets
            .get()
            .and_then(|sockets| {
                sockets
                    .get(&sid)
                    .map(|rooms| rooms.iter().cloned().collect())
            })
            .unwrap_or_default()
    }

    fn rooms(&self) -> Vec<Room> {
        self.rooms
            .get()
            .map(|all| all.iter().map(|e| e.key().clone()).collect())
            .unwrap_or_default()
    }

    fn targets(&self, opts: &BroadcastOptions) -> Vec<Sid> {
        let (Some(all), Some(sockets)) = (self.rooms.get(), self.sockets.get()) else {
            return Vec::new();
        };
        let excluded = |sid: &Sid| {
            opts.except_sid == Some(*sid)
                || opts
                    .except
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
        let mut seen = HashSet::new();
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

    #[test]
    fn rooms_union_except_and_cleanup() {
        let a = LocalAdapter::default();
        let (s1, s2, s3) = (Sid::random(), Sid::random(), Sid::random());
        a.add(s1, &["r1".into()]);
        a.add(s2, &["r1".into(), "r2".into()]);
        a.add(s3, &["r2".into()]);
        let mut t = a.targets(&BroadcastOptions {
            rooms: vec!["r1".into(), "r2".into()],
            ..Default::default()
        });
        t.sort_by_key(|s| s.to_string());
        let mut want = vec![s1, s2, s3];
        want.sort_by_key(|s| s.to_string());
        assert_eq!(t, want);
        let t = a.targets(&BroadcastOptions {
            rooms: vec!["r2".into()],
            except: vec!["r1".into()],
            ..Default::default()
        });
        assert_eq!(t, vec![s3]);
        let t = a.targets(&BroadcastOptions {
            except_sid: Some(s2),
            rooms: vec!["r1".into()],
            ..Default::default()
        });
        assert_eq!(t, vec![s1]);
        assert_eq!(a.targets(&BroadcastOptions::default()).len(), 3);
        a.remove(s2, &["r1".into()]);
        assert_eq!(a.rooms_of(s2), vec![Room::from("r2")]);
        a.remove_all(s3);
        a.remove_all(s2);
        assert_eq!(a.rooms(), vec![Room::from("r1")]);
        assert!(a.rooms_of(s3).is_empty());
    }
}
