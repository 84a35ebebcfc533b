//! A Socket.IO server with one event per feature, driven by the interop tests that run the
//! official `socket.io-client` (tests/js). Prints `listening on http://127.0.0.1:PORT`.
//!
//! ```text
//! cargo run --release -p example-testbed -- --port 0
//! ```
//!
//! Namespace `/` (events, each answered through the client's ack):
//! - `echo(...args)`: acks the same arguments (binary included);
//! - `join(room)` / `leave(room)`: acks the socket's rooms afterwards;
//! - `broadcast({to?, except?, event, data, self?})`: emits `event(data)` to rooms `to` minus
//!   rooms `except` (from the socket, so without the sender unless `self` is true); acks the
//!   number of recipients;
//! - `ask({event, data, timeout})`: emits `event(data)` to this client with an ack request and
//!   acks `{answer}` or `{error}` (e.g. after the timeout in ms);
//! - `seq(n)`: emits `seq(n)` back (numbered traffic across an upgrade);
//! - `disconnect-me`: the server makes the socket leave `/`; `close-me`: closes the connection
//!   after a DISCONNECT for each namespace (`socket.close()`, final for the client); `drop-me`:
//!   closes the connection without one (`socket.conn().close()`: the client reconnects);
//! - `reasons`: acks the disconnect reasons the server saw so far, as `[[id, reason], ...]`;
//! - `transport`: acks the transport name;
//! - `set-data(value)`: stores any JSON as the socket's data (`socket.set_data`); acks `true`;
//! - `get-data()`: acks the socket's data;
//! - `recovered()`: acks whether the socket recovered an earlier one's state;
//! - `burst({to?, event, count, start?, rate?})`: emits `event(i)` for `i` in `start..start +
//!   count` to every socket of `/` in rooms `to` (all when empty), the sender included; at
//!   `rate` events per second when given (from a task of its own; the ack comes once the
//!   task started), else at once; acks `count`.
//!
//! Cluster operations on every socket of `/` in rooms `to` (all when empty) minus rooms
//! `except` (a socket id is a room), the sender included unless excluded; each acks
//! `{error}` when the operation fails:
//! - `fetch({rooms?, except?})` (`to` for `rooms` too): acks `{sockets: [{id, rooms, data,
//!   handshake, auth}, ...]}` (`fetch_sockets`; `rooms` sorted, own id included; `handshake`
//!   typed as Node's `socket.handshake`; `auth` from it);
//! - `sockets-join({to?, except?, rooms})` / `sockets-leave(...)` (`in` for `to` too): makes
//!   them join / leave `rooms`; acks `true`;
//! - `disconnect-sockets({to?, except?, close?})`: disconnects them from `/` (with `close`,
//!   closes their connections); acks `true`;
//! - `ask-all({to?, except?, event, data, timeout})`: emits `event(data)` to them with an ack
//!   request (timeout in ms); acks `{answers, errors}`: the first argument of each answer, and
//!   each failure's message (`"no acknowledgement within the timeout"` last if some were
//!   missing), in the order received;
//! - `bcast-ack({to?, except?, event, data, timeout})`: the same as a broadcast with acks;
//!   acks `{error, acks}` (`error` null, or the timeout's message when some were missing);
//! - `all-rooms()`: acks `{rooms}`, every node's rooms sorted, socket ids included (`{error}`
//!   in sharded mode, which has none);
//! - `ss-emit({event, data, timeout?})`: a server-side emit with acks to the other nodes
//!   (timeout in ms, default 5,000); acks `{error, responses}`;
//! - `settle()`: acks `true` once this node's Redis subscriptions are in place, room channels
//!   included (sharded mode subscribes a room's channel after the room appears).
//!
//! Its server-side handler `server-ping(data)` answers `{pong: data}`. With `--redis URL`
//! (and `--redis-prefix`, default `socket.io`) it joins a fleet on that Redis, Node nodes on
//! `@socket.io/redis-adapter` included, and is subscribed before it prints `listening on`;
//! `--redis-specific-response-channel` is Node's `publishOnSpecificResponseChannel`;
//! `--sharded` (with `--subscription-mode static|dynamic|dynamic-private`, default dynamic)
//! speaks `createShardedAdapter`'s protocol.
//!
//! `--recovery` turns connection state recovery on (`--max-disconnection-ms`, default
//! 120,000): the connect handler runs for a recovered socket too, and a drop is recorded in
//! `reasons` when it happens.
//!
//! Namespace `/admin` refuses clients whose `auth.token` is not `"secret"` with
//! `{"message":"unauthorized","data":{"code":401}}`.
//!
//! `--metrics` serves the `tether_*` series at `/metrics` (Prometheus text format).
//! `--admin-ui DIR` serves the official Admin UI's files (`@socket.io/admin-ui`'s `ui/dist`)
//! at `/admin-ui/` and puts its admin namespace at `/admin` (user `admin`, password
//! `changeit`; `--admin-mode production` for stats only) instead of the token-checked one.
//!
//! Namespace `/ws` serves `tether.WebSocket` (subprotocols, close codes both ways): see
//! `websocket_api.rs`.

mod admin;
mod websocket_api;

use axum::Router;
use clap::Parser;
use serde::Deserialize;
use serde_json::Value;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tether_axum::adapter::RecoveryConfig;
use tether_axum::core::metrics::Metrics;
use tether_axum::prometheus::PrometheusHandle;
use tether_axum::socket::{
    AckSender, Bin, BroadcastOperator, Data, Payload, RawArgs, RemoteSocket, ServerEvent, Socket,
    SocketIo, SocketIoConfig, State,
};
use tether_axum::{EngineConfig, EngineLayer};

/// Socket.IO test server.
#[derive(Debug, Parser)]
struct Args {
    /// TCP port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// pingInterval in milliseconds.
    #[arg(long, default_value_t = 25_000)]
    ping_interval: u64,
    /// pingTimeout in milliseconds.
    #[arg(long, default_value_t = 20_000)]
    ping_timeout: u64,
    /// Join a fleet on this Redis (`redis://127.0.0.1:6379`), wire-compatible with Node's
    /// `@socket.io/redis-adapter`; subscribed before `listening on` is printed.
    #[arg(long)]
    redis: Option<String>,
    /// The Redis channels' prefix (Node's `key`).
    #[arg(long, default_value = "socket.io")]
    redis_prefix: String,
    /// Answer other nodes' requests on the asker's own channel (Node's
    /// `publishOnSpecificResponseChannel`); the fleet must agree on it.
    #[arg(long)]
    redis_specific_response_channel: bool,
    /// Speak the sharded protocol (Node's `createShardedAdapter`: SPUBLISH / SSUBSCRIBE,
    /// Redis 7+) instead of the classic one.
    #[arg(long)]
    sharded: bool,
    /// In sharded mode, which room channels to subscribe (Node's `subscriptionMode`).
    #[arg(long, value_enum, default_value_t = Subscription::Dynamic)]
    subscription_mode: Subscription,
    /// Connection state recovery (Socket.IO's `connectionStateRecovery`).
    #[arg(long)]
    recovery: bool,
    /// With `--recovery`: how long a client may be away and still recover, in milliseconds.
    #[arg(long, default_value_t = 120_000)]
    max_disconnection_ms: u64,
    /// Serve the `tether_*` metrics at `/metrics` (Prometheus text format).
    #[arg(long)]
    metrics: bool,
    /// Serve the official Admin UI's files from this directory at `/admin-ui/`, with the admin
    /// namespace at `/admin` (user `admin`, password `changeit`) in place of the token-checked
    /// one.
    #[arg(long)]
    admin_ui: Option<std::path::PathBuf>,
    /// With `--admin-ui`: the admin's mode.
    #[arg(long, value_enum, default_value_t = admin::AdminMode::Development)]
    admin_mode: admin::AdminMode,
}

/// Node's `subscriptionMode` values.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Subscription {
    Static,
    Dynamic,
    DynamicPrivate,
}

/// Disconnect reasons seen, oldest first.
type Reasons = Arc<Mutex<Vec<(String, String)>>>;

#[derive(Debug, Deserialize)]
struct Broadcast {
    #[serde(default)]
    to: Vec<String>,
    #[serde(default)]
    except: Vec<String>,
    event: String,
    data: Value,
    #[serde(default, rename = "self")]
    include_self: bool,
}

#[derive(Debug, Deserialize)]
struct Ask {
    event: String,
    data: Value,
    timeout: u64,
}

/// The sockets a cluster operation reaches: rooms `to` (every socket when empty) minus `except`.
#[derive(Debug, Default, Deserialize)]
struct Select {
    #[serde(default, alias = "in")]
    to: Vec<String>,
    #[serde(default)]
    except: Vec<String>,
}

/// What `fetch` selects: `rooms` (or `to`) and `except`.
#[derive(Debug, Deserialize)]
struct FetchSelect {
    #[serde(default, alias = "to")]
    rooms: Vec<String>,
    #[serde(default)]
    except: Vec<String>,
}

/// `bcast-ack`'s request.
#[derive(Debug, Deserialize)]
struct BcastAck {
    #[serde(flatten)]
    select: Select,
    event: String,
    data: Value,
    timeout: u64,
}

#[derive(Debug, Deserialize)]
struct RoomsOp {
    #[serde(flatten)]
    select: Select,
    rooms: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct DisconnectSockets {
    #[serde(flatten)]
    select: Select,
    #[serde(default)]
    close: bool,
}

#[derive(Debug, Deserialize)]
struct AskAll {
    #[serde(flatten)]
    select: Select,
    event: String,
    data: Value,
    timeout: u64,
}

fn on_connect(socket: Socket, reasons: State<Reasons>) {
    let reasons = reasons.0;
    socket.on_disconnect(move |socket: Socket, reason| async move {
        if let Ok(mut list) = reasons.lock() {
            list.push((socket.id().to_string(), reason.to_string()));
        }
    });
    socket.on(
        "echo",
        |RawArgs(args): RawArgs, Bin(bin): Bin, ack: AckSender| async move {
            let _ = ack.send_payload(Payload::from_raw(args, bin));
        },
    );
    socket.on(
        "join",
        |socket: Socket, Data(room): Data<String>, ack: AckSender| async move {
            socket.join(room);
            let _ = ack.send(&socket.rooms());
        },
    );
    socket.on(
        "leave",
        |socket: Socket, Data(room): Data<String>, ack: AckSender| async move {
            socket.leave(room);
            let _ = ack.send(&socket.rooms());
        },
    );
    socket.on("broadcast", broadcast);
    socket.on("ask", ask);
    socket.on("seq", |socket: Socket, Data(n): Data<u64>| async move {
        let _ = socket.emit("seq", &n);
    });
    socket.on("disconnect-me", |socket: Socket| async move {
        socket.disconnect()
    });
    socket.on("close-me", |socket: Socket| async move { socket.close() });
    socket.on(
        "drop-me",
        |socket: Socket| async move { socket.conn().close() },
    );
    socket.on(
        "reasons",
        |State(reasons): State<Reasons>, ack: AckSender| async move {
            let list = reasons.lock().map(|l| l.clone()).unwrap_or_default();
            let _ = ack.send(&list);
        },
    );
    socket.on("transport", |socket: Socket, ack: AckSender| async move {
        let _ = ack.send(socket.transport().as_str());
    });
    socket.on(
        "set-data",
        |socket: Socket, Data(value): Data<Value>, ack: AckSender| async move {
            let answer = match socket.set_data(&value) {
                Ok(()) => Value::Bool(true),
                Err(err) => error_json(&err),
            };
            let _ = ack.send(&answer);
        },
    );
    socket.on("get-data", |socket: Socket, ack: AckSender| async move {
        let _ = ack.send(&socket.data_value());
    });
    socket.on("recovered", |socket: Socket, ack: AckSender| async move {
        let _ = ack.send(&socket.recovered());
    });
    socket.on("burst", burst);
    socket.on("fetch", fetch);
    socket.on(
        "sockets-join",
        |socket: Socket, Data(r): Data<RoomsOp>, ack: AckSender| async move {
            let answer = match select(&socket, r.select) {
                Some(op) => done_json(op.sockets_join(r.rooms).await),
                None => no_namespace(),
            };
            let _ = ack.send(&answer);
        },
    );
    socket.on(
        "sockets-leave",
        |socket: Socket, Data(r): Data<RoomsOp>, ack: AckSender| async move {
            let answer = match select(&socket, r.select) {
                Some(op) => done_json(op.sockets_leave(r.rooms).await),
                None => no_namespace(),
            };
            let _ = ack.send(&answer);
        },
    );
    socket.on(
        "disconnect-sockets",
        |socket: Socket, Data(d): Data<DisconnectSockets>, ack: AckSender| async move {
            let answer = match select(&socket, d.select) {
                Some(op) => done_json(op.disconnect_sockets(d.close).await),
                None => no_namespace(),
            };
            let _ = ack.send(&answer);
        },
    );
    socket.on("ask-all", ask_all);
    socket.on("bcast-ack", bcast_ack);
    socket.on("all-rooms", all_rooms);
    socket.on("ss-emit", ss_emit);
    socket.on(
        "settle",
        |State(redis): State<Option<tether_redis::RedisNode>>, ack: AckSender| async move {
            if let Some(node) = redis {
                node.ready("/").await;
            }
            let _ = ack.send(&true);
        },
    );
}

#[derive(Debug, Deserialize)]
struct Burst {
    #[serde(default)]
    to: Vec<String>,
    event: String,
    count: u64,
    #[serde(default)]
    start: u64,
    rate: Option<u64>,
}

/// Bounds a burst: a test's traffic, not a load generator.
const MAX_BURST: u64 = 100_000;

async fn burst(socket: Socket, Data(b): Data<Burst>, ack: AckSender) {
    if b.count > MAX_BURST || b.rate == Some(0) {
        let _ = ack.send(&serde_json::json!({ "error": "count above 100000, or rate 0" }));
        return;
    }
    let mut op = socket.namespace();
    for room in &b.to {
        op = op.to(room.clone());
    }
    let Some(rate) = b.rate else {
        for i in b.start..b.start + b.count {
            let _ = op.emit(&b.event, &i);
        }
        let _ = ack.send(&b.count);
        return;
    };
    let period = Duration::from_nanos(1_000_000_000 / rate);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
        for i in b.start..b.start + b.count {
            tick.tick().await;
            let _ = op.emit(&b.event, &i);
        }
    });
    let _ = ack.send(&b.count);
}

/// The operator on every socket of the sender's namespace, narrowed by `sel`.
fn select(socket: &Socket, sel: Select) -> Option<BroadcastOperator> {
    let mut op = socket_io_of(socket)?;
    for room in sel.to {
        op = op.to(room);
    }
    for room in sel.except {
        op = op.except(room);
    }
    Some(op)
}

fn error_json(err: &dyn std::fmt::Display) -> Value {
    serde_json::json!({ "error": err.to_string() })
}

fn no_namespace() -> Value {
    error_json(&"the namespace is gone")
}

/// `true`, or `{error}`.
fn done_json<E: std::fmt::Display>(res: Result<(), E>) -> Value {
    match res {
        Ok(()) => Value::Bool(true),
        Err(err) => error_json(&err),
    }
}

/// A fetched socket: `{id, rooms (sorted), data, handshake (as Node's), auth}`.
fn remote_json(s: &RemoteSocket) -> Value {
    let mut rooms: Vec<String> = s.rooms().iter().map(ToString::to_string).collect();
    rooms.sort();
    serde_json::json!({
        "id": s.id().to_string(),
        "rooms": rooms,
        "data": s.data_value().clone(),
        "handshake": serde_json::to_value(s.handshake()).unwrap_or(Value::Null),
        "auth": s.handshake().auth.clone(),
    })
}

/// `fetch({rooms, except})`: every node's matching sockets; acks `{sockets}` or `{error}`.
async fn fetch(socket: Socket, Data(sel): Data<FetchSelect>, ack: AckSender) {
    let sel = Select {
        to: sel.rooms,
        except: sel.except,
    };
    let answer = match select(&socket, sel) {
        Some(op) => match op.fetch_sockets().await {
            Ok(sockets) => {
                serde_json::json!({ "sockets": sockets.iter().map(remote_json).collect::<Vec<_>>() })
            }
            Err(err) => error_json(&err),
        },
        None => no_namespace(),
    };
    let _ = ack.send(&answer);
}

/// `all-rooms()`: every node's rooms (socket-id rooms included); acks `{rooms}` (sorted) or
/// `{error}` (sharded mode has none).
async fn all_rooms(socket: Socket, ack: AckSender) {
    let answer = match socket_io_of(&socket) {
        Some(op) => match op.all_rooms().await {
            Ok(rooms) => {
                let mut rooms: Vec<String> = rooms.iter().map(ToString::to_string).collect();
                rooms.sort();
                serde_json::json!({ "rooms": rooms })
            }
            Err(err) => error_json(&err),
        },
        None => no_namespace(),
    };
    let _ = ack.send(&answer);
}

/// `bcast-ack({to, except, event, data, timeout})`: a broadcast with acks to every node's
/// matching sockets (the sender included); acks `{error, acks}`, `error` null when every
/// client answered in time.
async fn bcast_ack(socket: Socket, Data(b): Data<BcastAck>, ack: AckSender) {
    let Some(op) = select(&socket, b.select) else {
        let _ = ack.send(&no_namespace());
        return;
    };
    let stream = match op
        .timeout(Duration::from_millis(b.timeout))
        .emit_with_ack(&b.event, &b.data)
    {
        Ok(stream) => stream,
        Err(err) => {
            let _ = ack.send(&serde_json::json!({ "error": err.to_string(), "acks": [] }));
            return;
        }
    };
    let mut acks = Vec::new();
    let mut error = Value::Null;
    for result in stream.await {
        match result {
            Ok(res) => acks.push(res.data::<Value>().unwrap_or(Value::Null)),
            Err(err) => error = Value::String(err.to_string()),
        }
    }
    let _ = ack.send(&serde_json::json!({ "error": error, "acks": acks }));
}

async fn ask_all(socket: Socket, Data(a): Data<AskAll>, ack: AckSender) {
    let Some(op) = select(&socket, a.select) else {
        let _ = ack.send(&no_namespace());
        return;
    };
    let stream = match op
        .timeout(Duration::from_millis(a.timeout))
        .emit_with_ack(&a.event, &a.data)
    {
        Ok(stream) => stream,
        Err(err) => {
            let _ = ack.send(&error_json(&err));
            return;
        }
    };
    let mut answers = Vec::new();
    let mut errors = Vec::new();
    for result in stream.await {
        match result {
            Ok(res) => answers.push(res.data::<Value>().unwrap_or(Value::Null)),
            Err(err) => errors.push(err.to_string()),
        }
    }
    let _ = ack.send(&serde_json::json!({ "answers": answers, "errors": errors }));
}

async fn broadcast(socket: Socket, Data(b): Data<Broadcast>, ack: AckSender) {
    let mut op = if b.include_self {
        match socket_io_of(&socket) {
            Some(op) => op,
            None => return,
        }
    } else {
        socket.broadcast()
    };
    for room in b.to {
        op = op.to(room);
    }
    for room in b.except {
        op = op.except(room);
    }
    let count = op.sockets().len();
    let _ = op.emit(&b.event, &b.data);
    let _ = ack.send(&count);
}

fn socket_io_of(socket: &Socket) -> Option<BroadcastOperator> {
    socket.io().of(socket.ns())
}

async fn ask(socket: Socket, Data(a): Data<Ask>, ack: AckSender) {
    let answer = match socket.emit_with_ack(&a.event, &a.data) {
        Ok(fut) => match fut.timeout(Duration::from_millis(a.timeout)).await {
            Ok(res) => serde_json::json!({ "answer": res.data::<Value>().unwrap_or(Value::Null) }),
            Err(err) => serde_json::json!({ "error": err.to_string() }),
        },
        Err(err) => serde_json::json!({ "error": err.to_string() }),
    };
    let _ = ack.send(&answer);
}

#[derive(Debug, Deserialize)]
struct SsEmit {
    event: String,
    data: Value,
    #[serde(default)]
    timeout: Option<u64>,
}

/// `ss-emit({event, data, timeout?})`: a server-side emit with acks to the other nodes; acks
/// `{error, responses}`.
async fn ss_emit(socket: Socket, Data(req): Data<SsEmit>, ack: AckSender) {
    let op = socket
        .io()
        .timeout(Duration::from_millis(req.timeout.unwrap_or(5_000)));
    let answer = match op.server_side_emit_with_ack(&req.event, &req.data).await {
        Ok(responses) => {
            let responses: Vec<Value> = responses
                .iter()
                .map(|r| r.data::<Value>().unwrap_or(Value::Null))
                .collect();
            serde_json::json!({ "error": null, "responses": responses })
        }
        Err(err) => serde_json::json!({ "error": err.to_string(), "responses": [] }),
    };
    let _ = ack.send(&answer);
}

fn app(
    args: &Args,
    redis: Option<&tether_redis::RedisNode>,
    prometheus: Option<PrometheusHandle>,
) -> (Router, Option<tether_admin::Admin>) {
    let reasons: Reasons = Arc::default();
    let mut config = SocketIoConfig::default();
    if args.recovery {
        config = config.connection_state_recovery(
            RecoveryConfig::default()
                .max_disconnection_duration(Duration::from_millis(args.max_disconnection_ms)),
        );
    }
    let mut builder = SocketIo::builder()
        .config(config)
        .state(reasons)
        .state(redis.cloned());
    if let Some(node) = redis {
        builder = builder.adapter(node.adapter());
    }
    let io = builder.build();
    io.ns("/", |socket: Socket, reasons: State<Reasons>| {
        on_connect(socket, reasons);
        async {}
    })
    .on_server_event("server-ping", |mut ev: ServerEvent| async move {
        let data = ev.data::<Value>().unwrap_or(Value::Null);
        let _ = ev.ack(&serde_json::json!({ "pong": data }));
    });
    websocket_api::register(&io);
    let admin = args
        .admin_ui
        .as_ref()
        .map(|_| admin::admin_ui(&io, args.admin_mode));
    if admin.is_none() {
        admin::token_admin(&io);
    }
    let config = EngineConfig::default()
        .ping_interval(Duration::from_millis(args.ping_interval))
        .ping_timeout(Duration::from_millis(args.ping_timeout));
    let layer = EngineLayer::builder()
        .config(config)
        .allow_any_origin()
        .build(io);
    let mut router = Router::new();
    if let Some(handle) = prometheus {
        let metrics = Metrics::for_socketio(layer.engine());
        router = router.route("/metrics", tether_axum::prometheus::route(handle, metrics));
    }
    if let Some(dir) = &args.admin_ui {
        router = router.nest_service("/admin-ui", tower_http::services::ServeDir::new(dir));
    }
    (router.layer(layer), admin)
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    // before any namespace exists: their histograms take their handles from it
    let prometheus = match args.metrics {
        true => match tether_axum::prometheus::install() {
            Ok(handle) => Some(handle),
            Err(err) => {
                eprintln!("error: cannot install the metrics recorder: {err}");
                std::process::exit(1);
            }
        },
        false => None,
    };
    let redis = match &args.redis {
        Some(url) => {
            let config = tether_redis::RedisConfig {
                prefix: args.redis_prefix.clone(),
                publish_on_specific_response_channel: args.redis_specific_response_channel,
                mode: if args.sharded {
                    tether_redis::Mode::Sharded(match args.subscription_mode {
                        Subscription::Static => tether_redis::SubscriptionMode::Static,
                        Subscription::Dynamic => tether_redis::SubscriptionMode::Dynamic,
                        Subscription::DynamicPrivate => {
                            tether_redis::SubscriptionMode::DynamicPrivate
                        }
                    })
                } else {
                    tether_redis::Mode::Classic
                },
                ..tether_redis::RedisConfig::default()
            };
            match tether_redis::RedisNode::connect(url, config).await {
                Ok(node) => Some(node),
                Err(err) => {
                    eprintln!("error: cannot reach Redis at {url}: {err}");
                    std::process::exit(1);
                }
            }
        }
        None => None,
    };
    // `_admin` keeps the admin's stats running as long as the server
    let (app, _admin) = app(&args, redis.as_ref(), prometheus);
    if let Some(node) = &redis {
        node.ready("/").await;
        node.ready("/admin").await;
        node.ready("/ws").await;
    }
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port)).await?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening on http://{}", listener.local_addr()?)?;
        out.flush()?;
    }
    tether_axum::serve(listener, app, std::future::pending()).await
}
