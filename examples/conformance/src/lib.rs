//! The conformance fixture: an Engine.IO v4 echo on `/engine.io/`, the server the official
//! Engine.IO protocol test suite expects (every message sent back unchanged, text as text and
//! binary as binary). Run it with
//!
//! ```text
//! cargo run --release -p example-conformance -- --port 3000 --ping-interval 300 --ping-timeout 200
//! ```

use axum::Router;
use std::time::Duration;
use tether_axum::{
    CloseReason, CorsLayer, EngineConfig, EngineHandler, EngineLayer, EngineSocket, Message,
};
use tokio::net::TcpListener;

/// The fixture's settings.
#[derive(Debug, Clone)]
pub struct Options {
    /// `pingInterval`.
    pub ping_interval: Duration,
    /// `pingTimeout`.
    pub ping_timeout: Duration,
    /// `maxPayload`.
    pub max_payload: usize,
}

impl Default for Options {
    fn default() -> Self {
        let config = EngineConfig::default();
        Options {
            ping_interval: config.ping_interval,
            ping_timeout: config.ping_timeout,
            max_payload: config.max_payload,
        }
    }
}

/// Sends every message back as it came.
#[derive(Debug)]
pub struct Echo;

impl EngineHandler for Echo {
    fn on_connect(&self, socket: EngineSocket) {
        tracing::info!(sid = %socket.sid(), transport = ?socket.transport(), "open");
    }

    fn on_message(&self, socket: &EngineSocket, message: Message) {
        let sent = match message {
            Message::Text(text) => socket.send_text(&text),
            Message::Binary(data) => socket.send_binary(data),
        };
        if let Err(err) = sent {
            tracing::warn!(sid = %socket.sid(), %err, "echo dropped");
        }
    }

    fn on_disconnect(&self, socket: &EngineSocket, reason: CloseReason) {
        tracing::info!(sid = %socket.sid(), %reason, "close");
    }
}

/// The layer of the fixture, for callers that want its engine too.
pub fn layer(opts: &Options) -> EngineLayer<Echo> {
    let config = EngineConfig::default()
        .ping_interval(opts.ping_interval)
        .ping_timeout(opts.ping_timeout)
        .max_payload(opts.max_payload);
    EngineLayer::builder()
        .config(config)
        .path("/engine.io/")
        .cors(CorsLayer::permissive())
        .build(Echo)
}

/// The fixture as an axum app.
pub fn app(opts: &Options) -> Router {
    Router::new().layer(layer(opts))
}

/// Serves the fixture on `listener` (with `TCP_NODELAY`) until the process ends.
pub async fn serve(listener: TcpListener, opts: Options) -> std::io::Result<()> {
    tether_axum::serve(listener, app(&opts), std::future::pending()).await
}
