//! tether-axum: realtime sessions for axum, WebSocket first with HTTP long-polling fallback,
//! wire-compatible with Engine.IO v4 and Socket.IO v5 so the official clients work unchanged.
//!
//! Socket.IO in an axum app:
//!
//! ```no_run
//! use axum::{Router, routing::get};
//! use tether_axum::socket::{AckSender, Data, Socket};
//!
//! # async fn run() -> std::io::Result<()> {
//! let (layer, io) = tether_axum::layer();
//! io.ns("/", |socket: Socket| async move {
//!     socket.on("chat", |socket: Socket, Data(text): Data<String>, ack: AckSender| async move {
//!         let _ = socket.broadcast().emit("chat", &text);
//!         let _ = ack.send(&"ok");
//!     });
//! });
//! let app = Router::new().route("/", get(|| async { "hi" })).layer(layer);
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//! tether_axum::serve(listener, app, std::future::pending()).await
//! # }
//! ```
//!
//! Settings: `EngineLayer::builder().config(EngineConfig::default()...).build(io)` with an `io`
//! from `SocketIo::builder()...build()`. For raw Engine.IO sessions without Socket.IO, give
//! [`EngineLayer`] your own [`EngineHandler`] instead (see [`EngineLayer`]).
//!
//! Serve with `TCP_NODELAY` on: axum's `serve` leaves Nagle's algorithm on, which delays small
//! realtime frames by up to 40 ms. [`serve`] does it for you.

mod client;
mod config;

pub use config::AllowedOrigins;
mod dispatch;
mod gate;
mod layer;
#[cfg(feature = "prometheus")]
pub mod prometheus;
mod read_ahead;
mod respond;
mod serve;
mod ws;

pub use config::{DEFAULT_WS_READ_BUFFER, DEFAULT_WS_READ_BUFFER_READ_AHEAD};
pub use gate::{AllowRequest, HandshakeLimit};
pub use layer::{EngineLayer, EngineLayerBuilder, EngineService, ResponseFuture};
pub use read_ahead::ReadAhead;
#[cfg(feature = "tls")]
pub use serve::serve_tls;
pub use serve::{ServeConfig, serve, serve_with};
pub use tether_core::engine::{
    CloseReason, Engine, EngineConfig, EngineHandler, EngineSocket, Frame, Handshake, Message,
    ProtocolViolation, RequestError, STREAM_PADDING, SendError, Sid, TransportKind,
};
/// rustls for tokio, as [`serve_tls`] takes it (feature `tls`).
#[cfg(feature = "tls")]
pub use tokio_rustls;

pub use tether_core::{adapter, socket};

/// An [`EngineLayer`] serving Socket.IO.
pub type SocketIoLayer = EngineLayer<socket::SocketIo>;

/// Socket.IO with every default (path `/socket.io/`, Socket.IO's timeouts and limits): the layer
/// to add to your router and the server to register namespaces on.
pub fn layer() -> (SocketIoLayer, socket::SocketIo) {
    let io = socket::SocketIo::builder().build();
    (EngineLayer::builder().build(io.clone()), io)
}

/// The protocol core, for what the short paths above do not cover.
pub use tether_core as core;
