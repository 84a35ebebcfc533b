//! The chat: open <http://127.0.0.1:3000/> in two tabs and talk.
//!
//! ```text
//! cargo run --release -p example-chat
//! ```
//!
//! Everyone in a room sees everyone's messages with the sender's id, join and leave notices,
//! and which transport each user is on (WebSocket, or long-polling when the browser or the
//! network can't do WebSocket). The page loads the bundled client from
//! `/socket.io/tether.min.js`. `PORT` picks another port; `CHAT_NO_WEBSOCKET=1` refuses WebSocket
//! upgrades, as a proxy that blocks them would, so every client falls back to polling.
//!
//! Several nodes: `cargo run --release -p example-chat -- --redis redis://127.0.0.1:6379` on
//! each (with its own `PORT`): messages and notices reach the users of every node through
//! Redis (Node nodes on `@socket.io/redis-adapter` included); each node's user list shows its
//! own users.
//!
//! Over TLS (https, wss): `--tls`, with `--cert FILE --key FILE` (PEM), or without them a
//! self-signed certificate for 127.0.0.1 made at start-up (`--cert-out FILE` writes its PEM,
//! for a client to trust): then `https://127.0.0.1:3000/`.
//!
//! `--metrics` serves the `tether_*` series at `/metrics` (Prometheus text format).
//! `--admin-ui DIR` serves the official Socket.IO Admin UI's files (`@socket.io/admin-ui`'s
//! `ui/dist`) at `/admin-ui/`, its namespace at `/admin` in development mode: user `admin`,
//! password `$CHAT_ADMIN_PASSWORD` (default `changeit`, for a demo only).

use axum::Router;
use axum::response::Html;
use axum::routing::get;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tether_axum::socket::{AckSender, Data, Socket, SocketIo, State};
use tether_axum::{EngineConfig, EngineLayer, TransportKind};

mod tls;

/// What the room list shows about one user.
#[derive(Debug, Clone, Serialize)]
struct User {
    id: String,
    room: String,
    transport: &'static str,
}

/// Everyone connected, by socket id.
type Users = Arc<Mutex<HashMap<String, User>>>;

const LOBBY: &str = "lobby";

fn transport_name(kind: TransportKind) -> &'static str {
    kind.as_str()
}

fn users_snapshot(users: &Users) -> Vec<User> {
    let mut list: Vec<User> = users
        .lock()
        .map(|u| u.values().cloned().collect())
        .unwrap_or_default();
    list.sort_by(|a, b| a.id.cmp(&b.id));
    list
}

fn update(users: &Users, id: &str, f: impl FnOnce(&mut User)) -> Option<User> {
    let mut map = users.lock().ok()?;
    let user = map.get_mut(id)?;
    f(user);
    Some(user.clone())
}

fn on_connect(socket: Socket, State(users): State<Users>) {
    let id = socket.id().to_string();
    let me = User {
        id: id.clone(),
        room: LOBBY.to_owned(),
        transport: transport_name(socket.transport()),
    };
    if let Ok(mut map) = users.lock() {
        map.insert(id.clone(), me.clone());
    }
    socket.join(LOBBY);
    let _ = socket.emit(
        "welcome",
        &serde_json::json!({ "id": id, "users": users_snapshot(&users) }),
    );
    let _ = socket.broadcast().emit("joined", &me);

    socket.on(
        "chat",
        |socket: Socket, Data(text): Data<String>, State(users): State<Users>| async move {
            let id = socket.id().to_string();
            let room = update(&users, &id, |_| {})
                .map(|u| u.room)
                .unwrap_or_else(|| LOBBY.to_owned());
            let text: String = text.chars().take(2000).collect();
            let msg = serde_json::json!({ "id": id, "room": room, "text": text });
            // To the room, the sender included: everyone sees the same order.
            let _ = socket.to(room.clone()).emit("chat", &msg);
            let _ = socket.emit("chat", &msg);
        },
    );

    socket.on("room", |socket: Socket, Data(room): Data<String>, State(users): State<Users>, ack: AckSender| async move {
        let room: String = room.trim().chars().take(40).collect();
        let room = if room.is_empty() { LOBBY.to_owned() } else { room };
        let id = socket.id().to_string();
        let mut from = String::new();
        let user = update(&users, &id, |u| {
            from = std::mem::replace(&mut u.room, room.clone());
        });
        socket.leave(from.clone());
        socket.join(room.clone());
        if let Some(user) = user {
            let _ = socket.broadcast().emit("moved", &serde_json::json!({ "id": id, "from": from, "to": user.room }));
        }
        let _ = ack.send(&room);
    });

    socket.on(
        "transport",
        |socket: Socket, State(users): State<Users>| async move {
            let name = transport_name(socket.transport());
            if let Some(user) = update(&users, &socket.id().to_string(), |u| u.transport = name) {
                let _ = socket.broadcast().emit("transport", &user);
                let _ = socket.emit("transport", &user);
            }
        },
    );

    socket.on_disconnect(move |socket: Socket, reason| async move {
        let id = socket.id().to_string();
        if let Ok(mut map) = users.lock() {
            map.remove(&id);
        }
        let _ = socket.broadcast().emit(
            "left",
            &serde_json::json!({ "id": id, "reason": reason.to_string() }),
        );
    });
}

fn app(
    no_websocket: bool,
    redis: Option<&tether_redis::RedisNode>,
    prometheus: Option<tether_axum::prometheus::PrometheusHandle>,
    admin_ui: Option<&str>,
) -> (
    Router,
    tether_axum::Engine<SocketIo>,
    Option<tether_admin::Admin>,
) {
    let users: Users = Arc::default();
    let mut builder = SocketIo::builder().state(users);
    if let Some(node) = redis {
        builder = builder.adapter(node.adapter());
    }
    let io = builder.build();
    io.ns("/", |socket: Socket, users: State<Users>| {
        on_connect(socket, users);
        async {}
    });
    let admin = admin_ui.map(|_| admin(&io));
    let layer = EngineLayer::builder()
        .config(EngineConfig::default().websocket(!no_websocket))
        .build(io);
    let engine = layer.engine().clone();
    let mut router = Router::new().route("/", get(|| async { Html(include_str!("index.html")) }));
    if let Some(handle) = prometheus {
        let metrics = tether_axum::core::metrics::Metrics::for_socketio(&engine);
        router = router.route("/metrics", tether_axum::prometheus::route(handle, metrics));
    }
    if let Some(dir) = admin_ui {
        router = router.nest_service("/admin-ui", tower_http::services::ServeDir::new(dir));
    }
    (router.layer(layer), engine, admin)
}

/// The Admin UI's namespace: user `admin`, the password from `CHAT_ADMIN_PASSWORD`.
fn admin(io: &SocketIo) -> tether_admin::Admin {
    let password = std::env::var("CHAT_ADMIN_PASSWORD").unwrap_or_else(|_| {
        tracing::warn!(
            "the Admin UI's password is the demo default, changeit: set CHAT_ADMIN_PASSWORD"
        );
        "changeit".to_owned()
    });
    let auth = bcrypt::hash(password, 10)
        .map_err(|e| e.to_string())
        .and_then(|hash| tether_admin::Auth::basic("admin", hash).map_err(|e| e.to_string()));
    let admin = auth.and_then(|auth| {
        tether_admin::instrument(io, tether_admin::AdminConfig::new(auth))
            .map_err(|e| e.to_string())
    });
    match admin {
        Ok(admin) => admin,
        Err(err) => {
            tracing::error!(%err, "cannot set up the Admin UI");
            std::process::exit(1);
        }
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let port = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(3000u16);
    let no_websocket = std::env::var("CHAT_NO_WEBSOCKET").is_ok_and(|v| v == "1");
    let args: Vec<String> = std::env::args().collect();
    // before the namespace exists: its histograms take their handles from the recorder
    let prometheus = match args.iter().any(|a| a == "--metrics") {
        true => match tether_axum::prometheus::install() {
            Ok(handle) => Some(handle),
            Err(err) => {
                tracing::error!(%err, "cannot install the metrics recorder");
                std::process::exit(1);
            }
        },
        false => None,
    };
    let redis_url = args
        .iter()
        .position(|a| a == "--redis")
        .map(|i| args.get(i + 1).cloned().unwrap_or_default());
    let redis = match redis_url {
        Some(url) => match tether_redis::RedisNode::connect(&url, Default::default()).await {
            Ok(node) => Some(node),
            Err(err) => {
                tracing::error!(%err, url, "cannot reach Redis");
                std::process::exit(1);
            }
        },
        None => None,
    };
    let value = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1).cloned())
    };
    let tls = if args.iter().any(|a| a == "--tls") {
        let files = match (value("--cert"), value("--key")) {
            (Some(cert), Some(key)) => Some((cert, key)),
            (None, None) => None,
            _ => {
                tracing::error!("--cert and --key go together");
                std::process::exit(2);
            }
        };
        let args = tls::TlsArgs {
            files,
            cert_out: value("--cert-out"),
        };
        match tls::config(&args) {
            Ok(config) => Some(config),
            Err(err) => {
                tracing::error!(%err, "cannot serve TLS");
                std::process::exit(2);
            }
        }
    } else {
        None
    };
    let scheme = if tls.is_some() { "https" } else { "http" };
    let admin_ui = value("--admin-ui");
    // `_admin` keeps the Admin UI's stats running as long as the server
    let (app, engine, _admin) = app(
        no_websocket,
        redis.as_ref(),
        prometheus,
        admin_ui.as_deref(),
    );
    if let Some(node) = &redis {
        node.ready("/").await;
        tracing::info!(uid = node.uid(), "on the Redis fleet");
    }
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let addr = listener.local_addr()?;
    tracing::info!(
        "chat on {scheme}://{addr}/ (WebSocket {})",
        if no_websocket { "refused" } else { "on" }
    );
    // The first line on stdout says where, for scripts and tests.
    {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening on {scheme}://{addr}")?;
        out.flush()?;
    }
    let shutdown = async move {
        let _ = tokio::signal::ctrl_c().await;
        let left = engine.shutdown(Duration::from_secs(5)).await;
        tracing::info!(left, "sessions closed, stopping");
    };
    match tls {
        Some(config) => {
            let acceptor = tether_axum::tokio_rustls::TlsAcceptor::from(config);
            tether_axum::serve_tls(listener, app, shutdown, Default::default(), acceptor).await
        }
        None => tether_axum::serve(listener, app, shutdown).await,
    }
}
