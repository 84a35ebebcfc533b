//! The first thing to run: an echo server on tether's engine, with a page that talks to it.
//!
//! ```text
//! cargo run --release -p example-echo        # then open http://127.0.0.1:3000/
//! ```
//!
//! `PORT` picks another port. Every message a client sends comes back to it; Ctrl-C closes every
//! session cleanly before the server stops.

use axum::Router;
use axum::response::Html;
use axum::routing::get;
use std::time::Duration;
use tether_axum::{CloseReason, EngineHandler, EngineLayer, EngineSocket, Message};

/// Sends each message back to its sender.
struct Echo;

impl EngineHandler for Echo {
    fn on_connect(&self, socket: EngineSocket) {
        tracing::info!(sid = %socket.sid(), transport = ?socket.transport(), "connected");
    }

    fn on_message(&self, socket: &EngineSocket, message: Message) {
        let sent = match message {
            Message::Text(text) => socket.send_text(&text),
            Message::Binary(data) => socket.send_binary(data),
        };
        if let Err(err) = sent {
            tracing::warn!(sid = %socket.sid(), %err, "echo not sent");
        }
    }

    fn on_disconnect(&self, socket: &EngineSocket, reason: CloseReason) {
        tracing::info!(sid = %socket.sid(), %reason, "disconnected");
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let layer = EngineLayer::builder().build(Echo);
    let engine = layer.engine().clone();
    let app = Router::new()
        .route("/", get(|| async { Html(include_str!("index.html")) }))
        .layer(layer);
    let port = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(3000u16);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    tracing::info!("echo server on http://{}/", listener.local_addr()?);
    let shutdown = async move {
        let _ = tokio::signal::ctrl_c().await;
        let left = engine.shutdown(Duration::from_secs(5)).await;
        tracing::info!(left, "sessions closed, stopping");
    };
    tether_axum::serve(listener, app, shutdown).await
}
