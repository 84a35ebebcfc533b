//! Engine settings. `Default` is the reference server's documented defaults.

use std::time::Duration;

/// Settings of an Engine.IO server. Build it with consuming setters:
///
/// ```
/// use std::time::Duration;
/// use tether_core::engine::EngineConfig;
/// let config = EngineConfig::default()
///     .ping_interval(Duration::from_millis(300))
///     .ping_timeout(Duration::from_millis(200));
/// assert_eq!(config.max_payload, 1_000_000);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineConfig {
    /// Time between the server's pings (handshake `pingInterval`). Default 25 s.
    pub ping_interval: Duration,
    /// How long the client has to answer a ping (handshake `pingTimeout`). Default 20 s.
    pub ping_timeout: Duration,
    /// Largest POST body or WebSocket message accepted, in bytes (handshake `maxPayload`), and
    /// the size at which outgoing polling batches are cut. Default 1,000,000.
    pub max_payload: usize,
    /// How long a WebSocket upgrade may take from its opening to the `upgrade` packet. Default 10 s.
    pub upgrade_timeout: Duration,
    /// Bytes a session may hold for its peer, queued or being written, before sends fail with
    /// `SendError::OutboxFull`; a message larger than this fails with `SendError::TooLarge`.
    /// Default 1 MiB.
    pub max_buffered_bytes: usize,
    /// Sessions this process holds at most; further handshakes get 503. Default 100,000.
    pub max_sessions: usize,
    /// Sessions one remote address may hold at once (an IPv6 address counts by its /64, see
    /// [`super::AddressKey`]); further handshakes from it get 429. Needs the peer address in
    /// the handshake (`tether_axum::serve` gives it). Default: no limit, since behind a
    /// reverse proxy every client has the proxy's address.
    pub max_sessions_per_address: Option<usize>,
    /// How long one write to a WebSocket (at most the 64 KiB write batch) may wait for the
    /// peer to take it; past it the session closes with reason "write timeout". A peer that
    /// stopped reading cannot hold a connection, its task and its buffers for longer.
    /// Default 20 s.
    pub write_timeout: Duration,
    /// Whether HTTP long-polling is allowed. Default true.
    pub polling: bool,
    /// Whether WebSocket is allowed (direct and as an upgrade). Default true.
    pub websocket: bool,
    /// Whether polling and streaming sessions are offered the upgrade to WebSocket. Default
    /// true.
    pub allow_upgrades: bool,
    /// Whether HTTP streaming (`transport=streaming`, our extension: a `text/event-stream`
    /// GET receives, POSTs send) is allowed. Only a client that asks for it by name gets
    /// it: official clients never see it offered. Default true.
    pub streaming: bool,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            ping_interval: Duration::from_millis(25_000),
            ping_timeout: Duration::from_millis(20_000),
            max_payload: 1_000_000,
            upgrade_timeout: Duration::from_millis(10_000),
            max_buffered_bytes: 1 << 20,
            max_sessions: 100_000,
            max_sessions_per_address: None,
            write_timeout: Duration::from_secs(20),
            polling: true,
            websocket: true,
            allow_upgrades: true,
            streaming: true,
        }
    }
}

impl EngineConfig {
    /// Sets `ping_interval`.
    #[must_use]
    pub fn ping_interval(mut self, d: Duration) -> Self {
        self.ping_interval = d;
        self
    }
    /// Sets `ping_timeout`.
    #[must_use]
    pub fn ping_timeout(mut self, d: Duration) -> Self {
        self.ping_timeout = d;
        self
    }
    /// Sets `max_payload`.
    #[must_use]
    pub fn max_payload(mut self, bytes: usize) -> Self {
        self.max_payload = bytes;
        self
    }
    /// Sets `upgrade_timeout`.
    #[must_use]
    pub fn upgrade_timeout(mut self, d: Duration) -> Self {
        self.upgrade_timeout = d;
        self
    }
    /// Sets `max_buffered_bytes`.
    #[must_use]
    pub fn max_buffered_bytes(mut self, bytes: usize) -> Self {
        self.max_buffered_bytes = bytes;
        self
    }
    /// Sets `max_sessions`.
    #[must_use]
    pub fn max_sessions(mut self, n: usize) -> Self {
        self.max_sessions = n;
        self
    }
    /// Sets `max_sessions_per_address`.
    #[must_use]
    pub fn max_sessions_per_address(mut self, n: usize) -> Self {
        self.max_sessions_per_address = Some(n);
        self
    }
    /// Sets `write_timeout`.
    #[must_use]
    pub fn write_timeout(mut self, d: Duration) -> Self {
        self.write_timeout = d;
        self
    }
    /// Allows or forbids HTTP long-polling.
    #[must_use]
    pub fn polling(mut self, on: bool) -> Self {
        self.polling = on;
        self
    }
    /// Allows or forbids WebSocket.
    #[must_use]
    pub fn websocket(mut self, on: bool) -> Self {
        self.websocket = on;
        self
    }
    /// Offers or withholds the upgrade from polling (and streaming) to WebSocket.
    #[must_use]
    pub fn allow_upgrades(mut self, on: bool) -> Self {
        self.allow_upgrades = on;
        self
    }
    /// Allows or forbids HTTP streaming.
    #[must_use]
    pub fn streaming(mut self, on: bool) -> Self {
        self.streaming = on;
        self
    }

    /// How often a graceful shutdown looks again at the work in flight: a tenth of the
    /// shorter heartbeat period, between 5 ms and 250 ms. (The heartbeat ticker does not
    /// poll: it sleeps until the next deadline.)
    pub fn tick(&self) -> Duration {
        (self.ping_interval.min(self.ping_timeout) / 10)
            .clamp(Duration::from_millis(5), Duration::from_millis(250))
    }
}
