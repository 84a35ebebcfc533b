//! tether-axum: realtime sessions for axum, WebSocket first with HTTP long-polling fallback,
//! wire-compatible with Engine.IO v4 so the official clients work unchanged.
//!
//! [`EngineLayer`] mounts an Engine.IO engine at a path (default `/socket.io/`) in front of any
//! axum app; the handler you give it sees each session open, its messages, and its close
//! reason. See [`EngineLayer`] for a runnable echo server.
//!
//! Serve with `TCP_NODELAY` on: axum's `serve` leaves Nagle's algorithm on, which delays small
//! realtime frames by up to 40 ms. [`serve`] does it for you.

mod config;
mod dispatch;
mod layer;
mod respond;
mod serve;
mod ws;

pub use layer::{EngineLayer, EngineLayerBuilder, EngineService, ResponseFuture};
pub use serve::serve;
pub use tether_core::engine::{
    CloseReason, Engine, EngineConfig, EngineHandler, EngineSocket, Frame, Handshake, Message,
    ProtocolViolation, RequestError, SendError, Sid, TransportKind,
};
pub use tower_http::cors::CorsLayer;

pub use tether_core::{adapter, socket};

/// The protocol core, for what the short paths above do not cover.
pub use tether_core as core;
