//! Why a session ended, in words a human can read.

use std::fmt;

/// Why an Engine.IO session closed. `Display` gives the reason string Socket.IO uses where one
/// exists (`"transport close"`, `"ping timeout"`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CloseReason {
    /// The peer's connection went away: the WebSocket closed, or a pending poll was dropped.
    TransportClose,
    /// The transport failed with an I/O or protocol error below Engine.IO.
    TransportError,
    /// The peer sent a `close` packet.
    ClientClose,
    /// No `pong` arrived within `pingTimeout` of a `ping`.
    PingTimeout,
    /// The peer sent bytes that are not an Engine.IO packet.
    ParseError,
    /// The peer broke a rule of the protocol (named by the inner text).
    ProtocolViolation(ProtocolViolation),
    /// The peer sent a WebSocket message larger than `maxPayload` (closed with code 1009).
    MessageTooLarge,
    /// The server closed the session (`EngineSocket::close`).
    ServerClose,
    /// The server is shutting down.
    ServerShutdown,
    /// The session did not join any Socket.IO namespace within `connectTimeout`.
    ConnectTimeout,
    /// The peer did not take a write within `write_timeout`: it stopped reading.
    WriteTimeout,
    /// A handler (the application's code) panicked while handling this session.
    HandlerPanic,
}

/// The protocol rules whose breach closes a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ProtocolViolation {
    /// A second long-poll GET arrived while one was pending.
    DuplicatePoll,
    /// A second POST arrived while one was being read.
    DuplicatePost,
    /// The client sent a `ping`; in v4 only the server pings.
    ClientPing,
    /// A POST with a binary content type (v4 clients always send text).
    BinaryPost,
    /// The outbox was over its byte limit when a frame had to be queued.
    SlowConsumer,
}

impl CloseReason {
    /// The reason as text.
    pub fn as_str(&self) -> &'static str {
        match self {
            CloseReason::TransportClose => "transport close",
            CloseReason::TransportError => "transport error",
            CloseReason::ClientClose => "forced close",
            CloseReason::PingTimeout => "ping timeout",
            CloseReason::ParseError => "parse error",
            CloseReason::ProtocolViolation(v) => v.as_str(),
            CloseReason::MessageTooLarge => "message too large",
            CloseReason::ServerClose => "forced server close",
            CloseReason::ServerShutdown => "server shutting down",
            CloseReason::ConnectTimeout => "connect timeout",
            CloseReason::WriteTimeout => "write timeout",
            CloseReason::HandlerPanic => "handler panic",
        }
    }

    /// Whether what is queued for the peer is still worth writing: true for the server's own
    /// closes (the peer is fine and may get a last message, e.g. Socket.IO's DISCONNECT), false
    /// when the peer is gone, broken or not reading.
    pub fn flushes(&self) -> bool {
        matches!(
            self,
            CloseReason::ServerClose
                | CloseReason::ServerShutdown
                | CloseReason::ConnectTimeout
                | CloseReason::HandlerPanic
        )
    }
}

impl ProtocolViolation {
    /// The rule as text.
    pub fn as_str(&self) -> &'static str {
        match self {
            ProtocolViolation::DuplicatePoll => "overlap from client: duplicate poll",
            ProtocolViolation::DuplicatePost => "overlap from client: duplicate post",
            ProtocolViolation::ClientPing => "invalid heartbeat direction",
            ProtocolViolation::BinaryPost => "binary content in a polling POST",
            ProtocolViolation::SlowConsumer => "slow consumer",
        }
    }
}

impl fmt::Display for CloseReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
