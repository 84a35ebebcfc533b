//! [`LocalAdapter`]: one node, rooms in memory.

use bytestring::ByteString;
use std::time::Duration;

use super::{
    AckSink, Adapter, AdapterCtx, AdapterError, BoxFuture, BroadcastOptions, EventPacket, Recorded,
    RecoveryConfig, Restore, Room, Rooms, SessionState, SessionStore, SocketData,
};
use crate::engine::Sid;
use crate::protocol::AckResponse;

/// The adapter of a single process: [`Rooms`] in memory, and no other node, so every
/// operation on the other nodes succeeds at once with nothing to do. With connection state
/// recovery on, it keeps the packets and sessions in a bounded [`SessionStore`].
#[derive(Debug, Default)]
pub struct LocalAdapter {
    rooms: Rooms,
    store: Option<SessionStore>,
}

impl LocalAdapter {
    /// The adapter of the namespace `ctx` names: with a [`SessionStore`] when the server has
    /// connection state recovery on.
    pub fn new(ctx: &AdapterCtx) -> LocalAdapter {
        match &ctx.recovery {
            Some(config) => LocalAdapter::with_recovery(config.clone()),
            None => LocalAdapter::default(),
        }
    }

    /// An adapter that stores packets and sessions for connection state recovery.
    pub fn with_recovery(config: RecoveryConfig) -> LocalAdapter {
        LocalAdapter {
            rooms: Rooms::default(),
            store: Some(SessionStore::new(config)),
        }
    }

    /// The recovery store, when there is one.
    pub fn store(&self) -> Option<&SessionStore> {
        self.store.as_ref()
    }
}

fn ready<T: Send + 'static>(value: T) -> BoxFuture<T> {
    Box::pin(std::future::ready(value))
}

impl Adapter for LocalAdapter {
    fn members(&self) -> &Rooms {
        &self.rooms
    }

    fn broadcast(&self, _: &EventPacket, _: &BroadcastOptions) -> Result<(), AdapterError> {
        Ok(())
    }

    fn broadcast_with_ack(
        &self,
        _: &EventPacket,
        _: &BroadcastOptions,
        _: AckSink,
    ) -> Result<(), AdapterError> {
        Ok(())
    }

    fn fetch_sockets(
        &self,
        _: &BroadcastOptions,
    ) -> BoxFuture<Result<Vec<SocketData>, AdapterError>> {
        ready(Ok(Vec::new()))
    }

    fn add_sockets(&self, _: &BroadcastOptions, _: &[Room]) -> BoxFuture<Result<(), AdapterError>> {
        ready(Ok(()))
    }

    fn del_sockets(&self, _: &BroadcastOptions, _: &[Room]) -> BoxFuture<Result<(), AdapterError>> {
        ready(Ok(()))
    }

    fn disconnect_sockets(
        &self,
        _: &BroadcastOptions,
        _: bool,
    ) -> BoxFuture<Result<(), AdapterError>> {
        ready(Ok(()))
    }

    fn server_side_emit(&self, _: &EventPacket) -> BoxFuture<Result<(), AdapterError>> {
        ready(Ok(()))
    }

    fn server_side_emit_with_ack(
        &self,
        _: &EventPacket,
        _: Duration,
    ) -> BoxFuture<Result<Vec<AckResponse>, AdapterError>> {
        ready(Ok(Vec::new()))
    }

    fn server_count(&self) -> BoxFuture<Result<usize, AdapterError>> {
        ready(Ok(1))
    }

    fn all_rooms(&self) -> BoxFuture<Result<Vec<Room>, AdapterError>> {
        ready(Ok(self.rooms.rooms()))
    }

    fn record(
        &self,
        packet: &EventPacket,
        opts: &BroadcastOptions,
    ) -> Result<Recorded, AdapterError> {
        Ok(match &self.store {
            Some(store) => Recorded::Now(store.record(packet, opts)),
            None => Recorded::Not,
        })
    }

    fn open_session(&self, pid: Sid, sid: Sid) {
        if let Some(store) = &self.store {
            store.open(pid, sid);
        }
    }

    fn close_session(&self, pid: Sid, state: Option<SessionState>) {
        if let Some(store) = &self.store {
            store.close(pid, state);
        }
    }

    fn restore_session(
        &self,
        pid: Sid,
        offset: Option<ByteString>,
    ) -> BoxFuture<Result<Option<Restore>, AdapterError>> {
        let found = self
            .store
            .as_ref()
            .and_then(|store| store.restore(pid, offset.as_deref()));
        ready(Ok(found))
    }

    fn replay(&self, offset: &str, rooms: &[Room]) -> Option<Vec<EventPacket>> {
        match &self.store {
            Some(store) => store.replay(offset, rooms),
            None => Some(Vec::new()),
        }
    }
}
