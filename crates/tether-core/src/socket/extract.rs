//! Extractors: what a handler's arguments can be. Each implements [`FromEvent`], taking what it
//! needs from the [`EventCtx`] of one event (or of a connection, for connect handlers).
//!
//! Layer: above the socket core. [`AckSender`] lives here: it is what a handler answers with.

use bytes::Bytes;
use bytestring::ByteString;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::sync::Arc;

use super::emit::EmitError;
use super::socket::{EventCtx, Socket};
use crate::protocol::{Payload, deserialize_args};

/// Why a handler could not be called.
#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    /// The arguments do not deserialize into the handler's `Data<T>`.
    #[error("event data does not match the handler: {0}")]
    Data(#[from] serde_json::Error),
    /// A `State<T>` whose type was never given to the server.
    #[error("no state of type {0} was given to the server")]
    MissingState(&'static str),
}

/// A value a handler argument can be built from.
pub trait FromEvent: Sized {
    /// Takes this argument from the event.
    fn from_event(ctx: &mut EventCtx) -> Result<Self, ExtractError>;
}

/// Deserializes the arguments as `T`. With exactly one argument, `T` is read from it; with
/// none or several, `T` is read from the array of all of them (so a tuple takes several).
/// A payload that does not fit `T` is logged and the handler is not called; use [`TryData`]
/// to see the error instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Data<T>(pub T);

/// Like [`Data`], but hands the deserialization result to the handler.
#[derive(Debug)]
pub struct TryData<T>(pub Result<T, serde_json::Error>);

/// The binary attachments of the event, in placeholder order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Bin(pub Vec<Bytes>);

/// The raw JSON of each argument, exactly as received.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RawArgs(pub Vec<ByteString>);

/// Application state given to the server with `state(...)`, cloned out for the handler.
#[derive(Debug, Clone)]
pub struct State<T>(pub T);

impl<T: DeserializeOwned> FromEvent for Data<T> {
    fn from_event(ctx: &mut EventCtx) -> Result<Self, ExtractError> {
        Ok(Data(deserialize_args(&ctx.args)?))
    }
}

impl<T: DeserializeOwned> FromEvent for TryData<T> {
    fn from_event(ctx: &mut EventCtx) -> Result<Self, ExtractError> {
        Ok(TryData(deserialize_args(&ctx.args)))
    }
}

impl FromEvent for Bin {
    fn from_event(ctx: &mut EventCtx) -> Result<Self, ExtractError> {
        Ok(Bin(ctx.attachments.clone()))
    }
}

impl FromEvent for RawArgs {
    fn from_event(ctx: &mut EventCtx) -> Result<Self, ExtractError> {
        Ok(RawArgs(ctx.args.clone()))
    }
}

impl FromEvent for Socket {
    fn from_event(ctx: &mut EventCtx) -> Result<Self, ExtractError> {
        Ok(ctx.socket.clone())
    }
}

impl FromEvent for AckSender {
    fn from_event(ctx: &mut EventCtx) -> Result<Self, ExtractError> {
        Ok(AckSender {
            socket: ctx.socket.clone(),
            id: ctx.ack_id.take(),
        })
    }
}

impl<T: Clone + Send + Sync + 'static> FromEvent for State<T> {
    fn from_event(ctx: &mut EventCtx) -> Result<Self, ExtractError> {
        ctx.socket
            .io_state::<T>()
            .map(State)
            .ok_or(ExtractError::MissingState(std::any::type_name::<T>()))
    }
}

impl<T: Send + Sync + 'static> FromEvent for Option<Arc<T>> {
    fn from_event(ctx: &mut EventCtx) -> Result<Self, ExtractError> {
        Ok(ctx.socket.io_state::<Arc<T>>())
    }
}

/// Sends the acknowledgement a client asked for with its event. If the client asked for none,
/// sending does nothing.
#[derive(Debug)]
pub struct AckSender {
    socket: Socket,
    id: Option<u64>,
}

impl AckSender {
    /// Whether the client is waiting for an acknowledgement.
    pub fn is_requested(&self) -> bool {
        self.id.is_some()
    }

    /// Acknowledges with one argument.
    pub fn send<T: Serialize + ?Sized>(self, value: &T) -> Result<(), EmitError> {
        self.send_payload(Payload::from_value(value)?)
    }

    /// Acknowledges with any arguments, binary included.
    pub fn send_payload(self, payload: Payload) -> Result<(), EmitError> {
        match self.id {
            Some(id) => self.socket.send_ack(id, &payload),
            None => Ok(()),
        }
    }
}
