//! Why a Socket.IO socket disconnected, in the words Socket.IO uses.
//!
//! Layer: a value of the lowest tier; it names only the engine's close reasons.

use std::fmt;

use crate::engine::{CloseReason, ProtocolViolation};

/// Why a socket left its namespace. `Display` gives Socket.IO's reason strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DisconnectReason {
    /// The client left the namespace (`socket.disconnect()` on the client).
    ClientNamespaceDisconnect,
    /// The server called [`Socket::disconnect`](super::Socket::disconnect).
    ServerNamespaceDisconnect,
    /// The connection under the socket closed: the peer went away.
    TransportClose,
    /// The connection failed.
    TransportError,
    /// No pong within `pingTimeout`.
    PingTimeout,
    /// The server closed the whole connection.
    ForcedServerClose,
    /// The client sent something that is not a valid packet.
    ParseError,
    /// The server is shutting down.
    ServerShutdown,
    /// The socket could not keep up with a broadcast and was dropped (see the slow-consumer
    /// policy in the module docs).
    SlowConsumer,
    /// A handler panicked where the socket cannot go on: its connect handler, or the raw
    /// Engine.IO layer under it. (A panicking event handler costs only its event.)
    HandlerPanic,
    /// Connection state recovery: the client reconnected and recovered this socket's session
    /// while this copy was still connected (its old connection is dead, unnoticed yet). The
    /// new socket has the same id.
    Replaced,
}

impl DisconnectReason {
    /// The reason as text.
    pub fn as_str(self) -> &'static str {
        match self {
            DisconnectReason::ClientNamespaceDisconnect => "client namespace disconnect",
            DisconnectReason::ServerNamespaceDisconnect => "server namespace disconnect",
            DisconnectReason::TransportClose => "transport close",
            DisconnectReason::TransportError => "transport error",
            DisconnectReason::PingTimeout => "ping timeout",
            DisconnectReason::ForcedServerClose => "forced server close",
            DisconnectReason::ParseError => "parse error",
            DisconnectReason::ServerShutdown => "server shutting down",
            DisconnectReason::SlowConsumer => "slow consumer",
            DisconnectReason::HandlerPanic => "handler panic",
            DisconnectReason::Replaced => "replaced by a recovered connection",
        }
    }

    /// Whether a client that lost its socket for this reason can recover it (connection
    /// state recovery): Node's list, the connection was lost or closed under the socket.
    pub fn is_recoverable(self) -> bool {
        matches!(
            self,
            DisconnectReason::TransportClose
                | DisconnectReason::TransportError
                | DisconnectReason::PingTimeout
                | DisconnectReason::ForcedServerClose
                | DisconnectReason::ServerShutdown
        )
    }
}

impl From<CloseReason> for DisconnectReason {
    fn from(reason: CloseReason) -> Self {
        match reason {
            // A client closing its connection (the `close` packet) is a transport close to
            // Socket.IO, as in the reference server.
            CloseReason::TransportClose | CloseReason::ClientClose => {
                DisconnectReason::TransportClose
            }
            CloseReason::TransportError
            | CloseReason::MessageTooLarge
            | CloseReason::WriteTimeout => DisconnectReason::TransportError,
            CloseReason::HandlerPanic => DisconnectReason::HandlerPanic,
            CloseReason::PingTimeout => DisconnectReason::PingTimeout,
            CloseReason::ProtocolViolation(ProtocolViolation::SlowConsumer) => {
                DisconnectReason::SlowConsumer
            }
            CloseReason::ParseError | CloseReason::ProtocolViolation(_) => {
                DisconnectReason::ParseError
            }
            CloseReason::ServerShutdown => DisconnectReason::ServerShutdown,
            _ => DisconnectReason::ForcedServerClose,
        }
    }
}

impl fmt::Display for DisconnectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
