//! Acknowledgements: answering a client's ack ([`AckSender`]) and awaiting a client's answer to
//! ours ([`AckFuture`]), with a timeout.

use bytes::Bytes;
use bytestring::ByteString;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::time::Sleep;

use super::emit::EmitError;
use super::extract::deserialize_args;
use super::payload::Payload;
use super::socket::Socket;

/// A client's answer to an ack: its arguments and attachments.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AckResponse {
    /// Each argument's raw JSON.
    pub args: Vec<ByteString>,
    /// Binary attachments.
    pub attachments: Vec<Bytes>,
}

impl AckResponse {
    /// Deserializes the arguments, with the same rule as `Data<T>` (one argument: `T` from it;
    /// otherwise from the array of all).
    pub fn data<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        deserialize_args(&self.args)
    }
}

/// Why no answer to an ack came.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AckError {
    /// No answer within the timeout.
    #[error("no acknowledgement within the timeout")]
    Timeout,
    /// The socket disconnected first (or, in a broadcast, was closed as a slow consumer).
    #[error("socket disconnected before acknowledging")]
    Disconnected,
    /// In a broadcast: the socket already awaited `max_pending_acks` acknowledgements, so
    /// the event was not sent to it.
    #[error("too many acknowledgements pending on this socket: the event was not sent to it")]
    TooManyPending,
    /// In a volatile broadcast: the socket's outbox was full, so the event was dropped for it.
    #[error("the socket was not keeping up: the volatile event was dropped for it")]
    Dropped,
}

/// Sends the acknowledgement a client asked for with its event. If the client asked for none,
/// sending does nothing.
#[derive(Debug)]
pub struct AckSender {
    socket: Socket,
    id: Option<u64>,
}

impl AckSender {
    pub(crate) fn new(socket: Socket, id: Option<u64>) -> AckSender {
        AckSender { socket, id }
    }

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

/// The client's answer to [`Socket::emit_with_ack`], or [`AckError`] at the timeout.
#[derive(Debug)]
#[must_use = "the answer is lost unless awaited"]
pub struct AckFuture {
    rx: oneshot::Receiver<AckResponse>,
    timeout: Pin<Box<Sleep>>,
    cleanup: Option<(Socket, u64)>,
}

impl AckFuture {
    pub(crate) fn new(
        rx: oneshot::Receiver<AckResponse>,
        timeout: Duration,
        socket: Socket,
        id: u64,
    ) -> Self {
        AckFuture {
            rx,
            timeout: Box::pin(tokio::time::sleep(timeout)),
            cleanup: Some((socket, id)),
        }
    }
}

impl AckFuture {
    /// Waits `timeout` from now instead of the default `ack_timeout`.
    pub fn timeout(mut self, timeout: Duration) -> AckFuture {
        self.timeout
            .as_mut()
            .reset(tokio::time::Instant::now() + timeout);
        self
    }
}

impl Future for AckFuture {
    type Output = Result<AckResponse, AckError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if let Poll::Ready(answer) = Pin::new(&mut self.rx).poll(cx) {
            self.cleanup = None;
            return Poll::Ready(answer.map_err(|_| AckError::Disconnected));
        }
        if self.timeout.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Err(AckError::Timeout));
        }
        Poll::Pending
    }
}

impl Drop for AckFuture {
    fn drop(&mut self) {
        if let Some((socket, id)) = self.cleanup.take() {
            socket.forget_ack(id);
        }
    }
}
