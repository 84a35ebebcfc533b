//! [`LocalAdapter`]: one node, rooms in memory.

use std::time::Duration;

use super::{
    AckSink, Adapter, AdapterError, BoxFuture, BroadcastOptions, EventPacket, Room, Rooms,
    SocketData,
};
use crate::protocol::AckResponse;

/// The adapter of a single process: [`Rooms`] in memory, and no other node, so every
/// operation on the other nodes succeeds at once with nothing to do.
#[derive(Debug, Default)]
pub struct LocalAdapter {
    rooms: Rooms,
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
}
