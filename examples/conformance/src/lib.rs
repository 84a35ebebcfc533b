//! The conformance fixture, the server the official protocol test suites expect:
//!
//! - `/engine.io/`: an Engine.IO v4 echo (every message sent back unchanged, text as text and
//!   binary as binary);
//! - `/socket.io/`: Socket.IO v5. Namespace `/` emits `auth` with the client's auth (or `{}`) on
//!   connect, answers `message` with `message-back` (same arguments, binary as binary) and acks
//!   `message-with-ack` with the same arguments; `/custom` emits `auth` on connect; any other
//!   namespace is refused.
//!
//! ```text
//! cargo run --release -p example-conformance -- --port 3000 --ping-interval 300 --ping-timeout 200 --connect-timeout 1000
//! ```

use axum::Router;
use std::time::Duration;
use tether_axum::socket::{AckSender, Bin, Payload, RawArgs, Socket, SocketIo, SocketIoConfig};
use tether_axum::{
    CloseReason, Engine, EngineConfig, EngineHandler, EngineLayer, EngineSocket, Message,
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
    /// Socket.IO `connectTimeout`.
    pub connect_timeout: Duration,
}

impl Default for Options {
    fn default() -> Self {
        let config = EngineConfig::default();
        Options {
            ping_interval: config.ping_interval,
            ping_timeout: config.ping_timeout,
            max_payload: config.max_payload,
            connect_timeout: SocketIoConfig::default().connect_timeout,
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

fn engine_config(opts: &Options) -> EngineConfig {
    EngineConfig::default()
        .ping_interval(opts.ping_interval)
        .ping_timeout(opts.ping_timeout)
        .max_payload(opts.max_payload)
}

/// The Engine.IO echo layer, for callers that want its engine too.
pub fn layer(opts: &Options) -> EngineLayer<Echo> {
    EngineLayer::builder()
        .config(engine_config(opts))
        .path("/engine.io/")
        .allow_any_origin()
        .build(Echo)
}

/// The Socket.IO server of the fixture.
pub fn socket_io(opts: &Options) -> SocketIo {
    let io = SocketIo::builder()
        .config(SocketIoConfig::default().connect_timeout(opts.connect_timeout))
        .build();
    io.ns("/", |socket: Socket| async move {
        let _ = socket.emit_payload(
            "auth",
            &Payload::from_raw(vec![socket.auth_raw().into()], vec![]),
        );
        socket.on(
            "message",
            |socket: Socket, RawArgs(args): RawArgs, Bin(bin): Bin| async move {
                let _ = socket.emit_payload("message-back", &Payload::from_raw(args, bin));
            },
        );
        socket.on(
            "message-with-ack",
            |RawArgs(args): RawArgs, Bin(bin): Bin, ack: AckSender| async move {
                let _ = ack.send_payload(Payload::from_raw(args, bin));
            },
        );
    });
    io.ns("/custom", |socket: Socket| async move {
        let _ = socket.emit_payload(
            "auth",
            &Payload::from_raw(vec![socket.auth_raw().into()], vec![]),
        );
    });
    io
}

/// The Socket.IO layer of the fixture.
pub fn socket_io_layer(opts: &Options) -> EngineLayer<SocketIo> {
    EngineLayer::builder()
        .config(engine_config(opts))
        .path("/socket.io/")
        .allow_any_origin()
        .build(socket_io(opts))
}

/// The fixture as an axum app: both servers.
pub fn app(opts: &Options) -> Router {
    app_with_engines(opts).0
}

/// The fixture as an axum app, with its two engines: for tests that watch the server's side
/// (a session opening, closing, holding a poll) instead of waiting for a time to pass.
pub fn app_with_engines(opts: &Options) -> (Router, Engine<Echo>, Engine<SocketIo>) {
    let (echo, sio) = (layer(opts), socket_io_layer(opts));
    let engines = (echo.engine().clone(), sio.engine().clone());
    (Router::new().layer(echo).layer(sio), engines.0, engines.1)
}

/// Serves the fixture on `listener` (with `TCP_NODELAY`) until the process ends.
pub async fn serve(listener: TcpListener, opts: Options) -> std::io::Result<()> {
    tether_axum::serve(listener, app(&opts), std::future::pending()).await
}
