//! The long-polling transport: drives a session from GET and POST requests. HTTP itself stays
//! with the caller; these functions take the sid and the body and give back what to answer.

use bytes::Bytes;
use std::future::Future;
use tracing::Instrument;

use super::close::{CloseReason, ProtocolViolation};
use super::payload::decode_payload;
use super::request::RequestError;
use super::server::{Engine, EngineHandler};
use super::session::PollAnswer;
use super::sid::Sid;
use super::socket::{EngineSocket, now};

/// Why a POST body could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    /// The body is larger than `maxPayload`.
    #[error("body larger than maxPayload")]
    TooLarge,
    /// The connection failed while the body was read.
    #[error("body could not be read")]
    Io,
}

impl<H: EngineHandler> Engine<H> {
    /// Answers a long-poll GET: at once if packets are queued, otherwise when one is. If this
    /// future is dropped while held (the client went away), the session closes, as the
    /// reference server does for a poll closed prematurely.
    pub async fn poll(&self, sid: Sid) -> Result<Bytes, RequestError> {
        let span = tracing::debug_span!("session", %sid, request = "poll");
        self.poll_in_session(sid).instrument(span).await
    }

    async fn poll_in_session(&self, sid: Sid) -> Result<Bytes, RequestError> {
        let socket = self.session(sid)?;
        let id = match socket.with_session(|s| s.poll(now()))? {
            PollAnswer::Body(body) => return Ok(body),
            PollAnswer::Wait(id) => id,
        };
        let mut guard = DropGuard::new(&socket, move |s: &EngineSocket| {
            s.with_session(|session| session.poll_dropped(id, now()));
        });
        loop {
            socket.0.poll_wake.notified().await;
            if let PollAnswer::Body(body) = socket.with_session(|s| s.poll_wake(id, now())) {
                guard.disarm();
                return Ok(body);
            }
        }
    }

    /// Handles a POST: reads `body`, decodes the payload and delivers its messages in order.
    /// `binary_content` is true when the request's content type is binary, which v4 forbids.
    pub async fn post<F>(&self, sid: Sid, binary_content: bool, body: F) -> Result<(), RequestError>
    where
        F: Future<Output = Result<Bytes, BodyError>>,
    {
        let span = tracing::debug_span!("session", %sid, request = "post");
        self.post_in_session(sid, binary_content, body)
            .instrument(span)
            .await
    }

    async fn post_in_session<F>(
        &self,
        sid: Sid,
        binary_content: bool,
        body: F,
    ) -> Result<(), RequestError>
    where
        F: Future<Output = Result<Bytes, BodyError>>,
    {
        let socket = self.session(sid)?;
        socket.with_session(|s| s.post_begin(now()))?;
        let _posting = DropGuard::new(&socket, |s: &EngineSocket| {
            s.with_session(|session| session.post_end());
        });
        if binary_content {
            socket.close_with(CloseReason::ProtocolViolation(
                ProtocolViolation::BinaryPost,
            ));
            return Err(RequestError::BadRequest);
        }
        let body = match body.await {
            Ok(body) => body,
            Err(BodyError::TooLarge) => return Err(RequestError::PayloadTooLarge),
            Err(BodyError::Io) => return Err(RequestError::BadRequest),
        };
        let Ok(packets) = decode_payload(body) else {
            socket.with_session(|s| s.parse_error(now()));
            return Err(RequestError::BadRequest);
        };
        for packet in packets {
            let received =
                socket.with_session(|s| Some((s.receive(packet, now())?, s.transport())));
            if let Some((message, transport)) = received {
                self.deliver_message(&socket, message, transport);
            }
        }
        Ok(())
    }
}

/// Runs `on_drop` unless disarmed: how a dropped request future still reaches the session.
struct DropGuard<'a, F: FnMut(&EngineSocket)> {
    socket: &'a EngineSocket,
    on_drop: Option<F>,
}

impl<'a, F: FnMut(&EngineSocket)> DropGuard<'a, F> {
    fn new(socket: &'a EngineSocket, on_drop: F) -> Self {
        DropGuard {
            socket,
            on_drop: Some(on_drop),
        }
    }

    fn disarm(&mut self) {
        self.on_drop = None;
    }
}

impl<F: FnMut(&EngineSocket)> Drop for DropGuard<'_, F> {
    fn drop(&mut self) {
        if let Some(mut f) = self.on_drop.take() {
            f(self.socket);
        }
    }
}
