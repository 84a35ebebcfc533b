//! The tether Socket.IO server that `tether-bench` drives, with the events every peer in
//! `bench/peers/` implements the same way:
//!
//! - `echo(...args)`: with an ack id, acknowledges with the same arguments; without one, emits
//!   `echo(...args)` back (binary attachments included);
//! - `join(room)`: joins `room`, acknowledges with `true`;
//! - `broadcast(data[, room])`: emits `news(data)` to every socket of `/` (the sender
//!   included), or only to the sockets in `room` when a second argument is given;
//! - `GET /stats`: `{"sessions": <open Engine.IO sessions>, "rss_kib": <VmRSS of the process>}`.
//!
//! ```text
//! cargo run --release -p example-bench-server -- --port 0
//! ```

use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;
use tether_axum::adapter::RecoveryConfig;
use tether_axum::core::metrics::Metrics;
use tether_axum::socket::{
    AckSender, Bin, BroadcastOperator, Payload, RawArgs, Socket, SocketIo, SocketIoConfig,
};
use tether_axum::{EngineConfig, EngineLayer};
use tokio::net::TcpListener;

/// The server's settings.
#[derive(Debug, Clone)]
pub struct Options {
    /// `pingInterval`.
    pub ping_interval: Duration,
    /// `pingTimeout`.
    pub ping_timeout: Duration,
    /// Sessions accepted at once.
    pub max_sessions: usize,
    /// A node of a fleet on Redis (tether-redis, classic mode), or alone.
    pub redis: Option<tether_redis::RedisNode>,
    /// Connection state recovery on (what it costs: every broadcast is stored, and carries
    /// its offset).
    pub recovery: bool,
    /// Observability on, as production would run it: this Prometheus recorder (the caller
    /// installed it before calling [`app`]) with `/metrics`, and the Admin UI's namespace in
    /// production mode (no auth).
    pub observe: Option<tether_axum::prometheus::PrometheusHandle>,
    /// The WebSocket read buffer in bytes (`None`: tether-axum's default).
    pub ws_read_buffer: Option<usize>,
}

impl Default for Options {
    fn default() -> Self {
        let config = EngineConfig::default();
        Options {
            ping_interval: config.ping_interval,
            ping_timeout: config.ping_timeout,
            max_sessions: 100_000,
            redis: None,
            recovery: false,
            observe: None,
            ws_read_buffer: None,
        }
    }
}

/// What `GET /stats` answers.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Stats {
    /// Open Engine.IO sessions.
    pub sessions: usize,
    /// Resident memory of this process in KiB (`VmRSS` in `/proc/self/status`; 0 elsewhere).
    pub rss_kib: u64,
}

/// The resident set size of this process in KiB, from `/proc/self/status` (0 if unreadable).
pub fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmRSS:"))
                .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

fn on_connect(socket: &Socket, io: SocketIo) {
    socket.on(
        "echo",
        |socket: Socket, RawArgs(args): RawArgs, Bin(bin): Bin, ack: AckSender| async move {
            let payload = Payload::from_raw(args, bin);
            let _ = if ack.is_requested() {
                ack.send_payload(payload)
            } else {
                socket.emit_payload("echo", &payload)
            };
        },
    );
    socket.on(
        "join",
        |socket: Socket, RawArgs(args): RawArgs, ack: AckSender| async move {
            if let Some(room) = args
                .first()
                .and_then(|a| serde_json::from_str::<String>(a).ok())
            {
                socket.join(room);
            }
            let _ = ack.send(&true);
        },
    );
    socket.on(
        "broadcast",
        move |RawArgs(mut args): RawArgs, Bin(bin): Bin| {
            let io = io.clone();
            async move {
                let room = args
                    .get(1)
                    .and_then(|a| serde_json::from_str::<String>(a).ok());
                args.truncate(1);
                let op: Option<BroadcastOperator> = match room {
                    Some(room) => Some(io.to(room)),
                    None => io.of("/"),
                };
                if let Some(op) = op {
                    let _ = op.emit_payload("news", &Payload::from_raw(args, bin));
                }
            }
        },
    );
}

/// The app: Socket.IO on `/socket.io/` and `GET /stats`.
pub fn app(opts: &Options) -> Router {
    let mut builder = SocketIo::builder();
    if opts.recovery {
        builder = builder
            .config(SocketIoConfig::default().connection_state_recovery(RecoveryConfig::default()));
    }
    if let Some(node) = &opts.redis {
        builder = builder.adapter(node.adapter());
    }
    let io = builder.build();
    let handle = io.clone();
    io.ns("/", move |socket: Socket| {
        on_connect(&socket, handle.clone());
        async {}
    });
    let config = EngineConfig::default()
        .ping_interval(opts.ping_interval)
        .ping_timeout(opts.ping_timeout)
        .max_sessions(opts.max_sessions);
    let admin = opts.observe.as_ref().map(|_| {
        let config = tether_admin::AdminConfig::new(tether_admin::Auth::None)
            .mode(tether_admin::Mode::Production);
        tether_admin::instrument(&io, config).map(Arc::new)
    });
    let mut layer = EngineLayer::builder().config(config);
    if let Some(bytes) = opts.ws_read_buffer {
        layer = layer.ws_read_buffer(bytes);
    }
    let layer = layer.build(io);
    let engine = layer.engine().clone();
    let mut router = Router::new();
    if let Some(handle) = opts.observe.clone() {
        let metrics = Metrics::for_socketio(&engine);
        router = router.route("/metrics", tether_axum::prometheus::route(handle, metrics));
    }
    // the admin's stats run as long as the /stats route (the server) lives
    let admin = admin.and_then(Result::ok);
    router
        .route(
            "/stats",
            get(move || {
                let _admin = &admin;
                let sessions = engine.session_count();
                async move {
                    Json(Stats {
                        sessions,
                        rss_kib: rss_kib(),
                    })
                }
            }),
        )
        .layer(layer)
}

/// Serves [`app`] on `listener` (with `TCP_NODELAY`) until the process ends.
pub async fn serve(listener: TcpListener, opts: &Options) -> std::io::Result<()> {
    serve_app(listener, app(opts)).await
}

/// Serves an app made by [`app`] (with `TCP_NODELAY`) until the process ends.
pub async fn serve_app(listener: TcpListener, app: Router) -> std::io::Result<()> {
    tether_axum::serve(listener, app, std::future::pending()).await
}
