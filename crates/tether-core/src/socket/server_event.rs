//! [`ServerEvent`]: an event another node of the cluster emitted to this server (Socket.IO's
//! `serverSideEmit`), with the way to answer it.
//!
//! Layer: names the adapter's reply slot and the protocol's payload only.

use bytestring::ByteString;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::sync::Arc;

use crate::adapter::{BoxFuture, Reply};
use crate::protocol::{Payload, deserialize_args};

/// A server-side event from another node.
#[derive(Debug)]
pub struct ServerEvent {
    /// The event name.
    pub event: ByteString,
    /// Its arguments.
    pub payload: Payload,
    reply: Option<Reply>,
}

impl ServerEvent {
    pub(crate) fn new(event: ByteString, payload: Payload, reply: Option<Reply>) -> ServerEvent {
        ServerEvent {
            event,
            payload,
            reply,
        }
    }

    /// Deserializes the arguments, with the rule of `Data<T>` (one argument: `T` from it;
    /// otherwise from the array of all).
    pub fn data<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        deserialize_args(self.payload.args())
    }

    /// Whether the emitting node waits for an answer.
    pub fn wants_ack(&self) -> bool {
        self.reply.is_some()
    }

    /// Answers with one value (a no-op when no answer was asked for, or once answered).
    pub fn ack<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), serde_json::Error> {
        let payload = Payload::from_value(value)?;
        if let Some(reply) = self.reply.take() {
            reply.send(payload.into());
        }
        Ok(())
    }
}

/// A registered server-side event handler, type-erased.
pub(crate) type ServerHandler = Arc<dyn Fn(ServerEvent) -> BoxFuture<()> + Send + Sync>;
