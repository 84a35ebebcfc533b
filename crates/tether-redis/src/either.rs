//! [`RedisAdapter`]: the adapter a [`crate::RedisNode`] makes for each namespace, in the mode
//! its config says (classic or sharded); it forwards every call.

use bytestring::ByteString;
use std::time::Duration;
use tether_core::adapter::{
    AckSink, Adapter, AdapterError, BoxFuture, BroadcastOptions, EventPacket, Recorded, Restore,
    Room, Rooms, SessionState, SocketData,
};
use tether_core::engine::Sid;
use tether_core::socket::AckResponse;

/// One namespace of one node on Redis (made by [`crate::RedisNode::adapter`]).
pub struct RedisAdapter(Box<dyn Adapter>);

impl std::fmt::Debug for RedisAdapter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisAdapter").finish_non_exhaustive()
    }
}

impl RedisAdapter {
    pub(crate) fn new(inner: impl Adapter) -> RedisAdapter {
        RedisAdapter(Box::new(inner))
    }
}

impl Adapter for RedisAdapter {
    fn members(&self) -> &Rooms {
        self.0.members()
    }
    fn add(&self, sid: Sid, rooms: &[Room]) {
        self.0.add(sid, rooms);
    }
    fn remove(&self, sid: Sid, rooms: &[Room]) {
        self.0.remove(sid, rooms);
    }
    fn remove_all(&self, sid: Sid) {
        self.0.remove_all(sid);
    }
    fn rooms_of(&self, sid: Sid) -> Vec<Room> {
        self.0.rooms_of(sid)
    }
    fn local_rooms(&self) -> Vec<Room> {
        self.0.local_rooms()
    }
    fn targets(&self, opts: &BroadcastOptions) -> Vec<Sid> {
        self.0.targets(opts)
    }
    fn broadcast(&self, packet: &EventPacket, opts: &BroadcastOptions) -> Result<(), AdapterError> {
        self.0.broadcast(packet, opts)
    }
    fn broadcast_with_ack(
        &self,
        packet: &EventPacket,
        opts: &BroadcastOptions,
        sink: AckSink,
    ) -> Result<(), AdapterError> {
        self.0.broadcast_with_ack(packet, opts, sink)
    }
    fn fetch_sockets(
        &self,
        opts: &BroadcastOptions,
    ) -> BoxFuture<Result<Vec<SocketData>, AdapterError>> {
        self.0.fetch_sockets(opts)
    }
    fn add_sockets(
        &self,
        opts: &BroadcastOptions,
        rooms: &[Room],
    ) -> BoxFuture<Result<(), AdapterError>> {
        self.0.add_sockets(opts, rooms)
    }
    fn del_sockets(
        &self,
        opts: &BroadcastOptions,
        rooms: &[Room],
    ) -> BoxFuture<Result<(), AdapterError>> {
        self.0.del_sockets(opts, rooms)
    }
    fn disconnect_sockets(
        &self,
        opts: &BroadcastOptions,
        close: bool,
    ) -> BoxFuture<Result<(), AdapterError>> {
        self.0.disconnect_sockets(opts, close)
    }
    fn server_side_emit(&self, packet: &EventPacket) -> BoxFuture<Result<(), AdapterError>> {
        self.0.server_side_emit(packet)
    }
    fn server_side_emit_with_ack(
        &self,
        packet: &EventPacket,
        timeout: Duration,
    ) -> BoxFuture<Result<Vec<AckResponse>, AdapterError>> {
        self.0.server_side_emit_with_ack(packet, timeout)
    }
    fn server_count(&self) -> BoxFuture<Result<usize, AdapterError>> {
        self.0.server_count()
    }
    fn all_rooms(&self) -> BoxFuture<Result<Vec<Room>, AdapterError>> {
        self.0.all_rooms()
    }
    fn record(
        &self,
        packet: &EventPacket,
        opts: &BroadcastOptions,
    ) -> Result<Recorded, AdapterError> {
        self.0.record(packet, opts)
    }
    fn open_session(&self, pid: Sid, sid: Sid) {
        self.0.open_session(pid, sid);
    }
    fn session_data(&self, pid: Sid, data: &serde_json::Value) {
        self.0.session_data(pid, data);
    }
    fn close_session(&self, pid: Sid, state: Option<SessionState>) {
        self.0.close_session(pid, state);
    }
    fn restore_session(
        &self,
        pid: Sid,
        offset: Option<ByteString>,
    ) -> BoxFuture<Result<Option<Restore>, AdapterError>> {
        self.0.restore_session(pid, offset)
    }
    fn replay(&self, offset: &str, rooms: &[Room]) -> Option<Vec<EventPacket>> {
        self.0.replay(offset, rooms)
    }
}
