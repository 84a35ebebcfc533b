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
//! - `transport`: acks the transport name.
//!
//! Namespace `/admin` refuses clients whose `auth.token` is not `"secret"` with
//! `{"message":"unauthorized","data":{"code":401}}`.

use axum::Router;
use clap::Parser;
use serde::Deserialize;
use serde_json::Value;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tether_axum::socket::{
    AckSender, Bin, ConnectError, Data, Payload, RawArgs, Socket, SocketIo, SocketIoConfig, State,
};
use tether_axum::{EngineConfig, EngineLayer, TransportKind};

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
        let name = match socket.transport() {
            TransportKind::Polling => "polling",
            TransportKind::WebSocket => "websocket",
        };
        let _ = ack.send(name);
    });
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

fn socket_io_of(socket: &Socket) -> Option<tether_axum::socket::BroadcastOperator> {
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

fn app(args: &Args) -> Router {
    let reasons: Reasons = Arc::default();
    let io = SocketIo::builder()
        .config(SocketIoConfig::default())
        .state(reasons)
        .build();
    io.ns("/", |socket: Socket, reasons: State<Reasons>| {
        on_connect(socket, reasons);
        async {}
    });
    io.ns("/admin", |socket: Socket| async move {
        let _ = socket.emit("hello", "admin");
    })
    .middleware(|socket: Socket| async move {
        let token = socket
            .auth::<Value>()
            .ok()
            .and_then(|a| a.get("token").cloned());
        if token == Some(Value::from("secret")) {
            Ok(())
        } else {
            Err(ConnectError::new("unauthorized").with_data(&serde_json::json!({ "code": 401 })))
        }
    });
    let config = EngineConfig::default()
        .ping_interval(Duration::from_millis(args.ping_interval))
        .ping_timeout(Duration::from_millis(args.ping_timeout));
    let layer = EngineLayer::builder()
        .config(config)
        .allow_any_origin()
        .build(io);
    Router::new().layer(layer)
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port)).await?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening on http://{}", listener.local_addr()?)?;
        out.flush()?;
    }
    tether_axum::serve(listener, app(&args), std::future::pending()).await
}
