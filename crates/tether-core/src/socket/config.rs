//! Socket.IO settings. `Default` is the reference server's defaults where it has them.

use std::time::Duration;

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
}

impl Default for SocketIoConfig {
    fn default() -> Self {
        SocketIoConfig {
            connect_timeout: Duration::from_millis(45_000),
            ack_timeout: Duration::from_millis(10_000),
            max_pending_acks: 1024,
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
}
