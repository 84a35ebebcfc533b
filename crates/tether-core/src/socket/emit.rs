//! Errors of emitting, and of refusing a connection.
//!
//! Layer: values of the lowest tier; they name only the engine's and the adapter's errors.

use serde::Serialize;

use crate::adapter::AdapterError;
use crate::engine::SendError;

/// Why an emit did not go out.
#[derive(Debug, thiserror::Error)]
pub enum EmitError {
    /// The data did not serialize to JSON.
    #[error("data does not serialize: {0}")]
    Serialize(#[from] serde_json::Error),
    /// The socket has disconnected.
    #[error("socket disconnected")]
    Disconnected,
    /// The connection's outbox is full (`max_buffered_bytes`): the client is not reading fast
    /// enough. Nothing was queued.
    #[error("outbox full: the client is not reading fast enough")]
    OutboxFull,
    /// The socket already waits for `max_pending_acks` acknowledgements.
    #[error("too many acknowledgements pending on this socket")]
    TooManyPendingAcks,
    /// The message is larger than the connection's outbox (`max_buffered_bytes`): it could
    /// never be queued. Nothing was sent, to anyone.
    #[error("message larger than max_buffered_bytes")]
    TooLarge,
    /// The local sockets got it, but the other nodes could not be reached.
    #[error("sent on this node only: {0}")]
    Adapter(#[from] AdapterError),
}

impl From<SendError> for EmitError {
    fn from(err: SendError) -> Self {
        match err {
            SendError::Closed => EmitError::Disconnected,
            SendError::OutboxFull => EmitError::OutboxFull,
            SendError::TooLarge => EmitError::TooLarge,
        }
    }
}

/// A middleware's refusal of a connection: the client receives a CONNECT_ERROR with this
/// message and data, and its `connect_error` event fires.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectError {
    /// `message` of the CONNECT_ERROR.
    pub message: String,
    /// `data` of the CONNECT_ERROR, left out when `None`.
    pub data: Option<serde_json::Value>,
}

impl ConnectError {
    /// A refusal with a message.
    pub fn new(message: impl Into<String>) -> ConnectError {
        ConnectError {
            message: message.into(),
            data: None,
        }
    }

    /// Adds data for the client.
    #[must_use]
    pub fn with_data<T: Serialize>(mut self, data: &T) -> ConnectError {
        self.data = serde_json::to_value(data).ok();
        self
    }

    pub(crate) fn to_json(&self) -> String {
        #[derive(Serialize)]
        struct Body<'a> {
            message: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            data: Option<&'a serde_json::Value>,
        }
        serde_json::to_string(&Body {
            message: &self.message,
            data: self.data.as_ref(),
        })
        .unwrap_or_else(|_| r#"{"message":"connection refused"}"#.to_owned())
    }
}

impl std::fmt::Display for ConnectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConnectError {}
