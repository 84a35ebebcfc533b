//! Socket.IO settings. `Default` is the reference server's defaults where it has them.
//!
//! Layer: a value of the socket layer's lowest tier; it names no other module.

use std::time::Duration;

use crate::adapter::RecoveryConfig;

/// Settings of the Socket.IO layer (the engine's are in `EngineConfig`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SocketIoConfig {
    /// A connection that joins no namespace within this time is closed. Default 45 s.
    pub connect_timeout: Duration,
    /// How long `emit_with_ack` waits for the answer by default. Default 10 s.
    pub ack_timeout: Duration,
    /// Acknowledgements a socket may await at once; past it `emit_with_ack` fails with
    /// `EmitError::TooManyPendingAcks`. Default 1,024.
    pub max_pending_acks: usize,
    /// Namespaces one connection may be in (or be connecting to) at once; a CONNECT past it
    /// gets a CONNECT_ERROR `{"message":"Too many namespaces"}`. Default 100.
    pub max_namespaces_per_connection: usize,
    /// The longest namespace name accepted, in bytes; a CONNECT to a longer one gets a
    /// CONNECT_ERROR `{"message":"Invalid namespace"}`. Default 256.
    pub max_namespace_len: usize,
    /// Whether a child of a dynamic namespace is removed when its last socket leaves (Node's
    /// `cleanupEmptyChildNamespaces`). Default true; with false, every child ever joined
    /// stays, with its rooms and handlers, for the life of the server.
    pub cleanup_empty_child_namespaces: bool,
    /// Connection state recovery (Socket.IO's `connectionStateRecovery`): off by default. When
    /// on, a client that reconnects within `max_disconnection_duration` gets its socket id,
    /// rooms, data and the events it missed back, if the adapter stores them
    /// ([`LocalAdapter`](crate::adapter::LocalAdapter) does).
    pub connection_state_recovery: Option<RecoveryConfig>,
}

impl Default for SocketIoConfig {
    fn default() -> Self {
        SocketIoConfig {
            connect_timeout: Duration::from_millis(45_000),
            ack_timeout: Duration::from_millis(10_000),
            max_pending_acks: 1024,
            max_namespaces_per_connection: 100,
            max_namespace_len: 256,
            cleanup_empty_child_namespaces: true,
            connection_state_recovery: None,
        }
    }
}

impl SocketIoConfig {
    /// Sets `connect_timeout`.
    #[must_use]
    pub fn connect_timeout(mut self, d: Duration) -> Self {
        self.connect_timeout = d;
        self
    }
    /// Sets `ack_timeout`.
    #[must_use]
    pub fn ack_timeout(mut self, d: Duration) -> Self {
        self.ack_timeout = d;
        self
    }
    /// Sets `max_pending_acks`.
    #[must_use]
    pub fn max_pending_acks(mut self, n: usize) -> Self {
        self.max_pending_acks = n;
        self
    }
    /// Sets `max_namespaces_per_connection`.
    #[must_use]
    pub fn max_namespaces_per_connection(mut self, n: usize) -> Self {
        self.max_namespaces_per_connection = n;
        self
    }
    /// Sets `max_namespace_len`.
    #[must_use]
    pub fn max_namespace_len(mut self, bytes: usize) -> Self {
        self.max_namespace_len = bytes;
        self
    }
    /// Sets `cleanup_empty_child_namespaces`.
    #[must_use]
    pub fn cleanup_empty_child_namespaces(mut self, on: bool) -> Self {
        self.cleanup_empty_child_namespaces = on;
        self
    }
    /// Turns connection state recovery on with these settings.
    #[must_use]
    pub fn connection_state_recovery(mut self, recovery: RecoveryConfig) -> Self {
        self.connection_state_recovery = Some(recovery);
        self
    }
}
