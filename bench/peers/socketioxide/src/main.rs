//! socketioxide peer for the tether benchmarks, with the same events as
//! `examples/bench-server`:
//!
//! - `echo(data)`: acks `data` when the client asked for an ack, else emits `echo(data)` back;
//! - `join(room)`: joins `room`, acks `true`;
//! - `broadcast(data[, room])`: emits `news(data)` to every socket of `/`, or to `room`;
//! - `GET /stats`: `{"sessions": <sockets on />, "rss_kib": <VmRSS>}`.
//!
//! `bench-peer-socketioxide --port 0` prints `listening on http://127.0.0.1:PORT`.
//! `--ping-interval MS` and `--ping-timeout MS` set the heartbeat. `--redis URL` joins a fleet
//! on that Redis with socketioxide-redis (its own protocol: socketioxide nodes only).

use axum::routing::get;
use axum::{Json, Router};
use serde_json::Value;
use socketioxide::SocketIo;
use socketioxide::adapter::Adapter;
use socketioxide::extract::{AckSender, Data, SocketRef, TryData};
use socketioxide::handler::FromMessageParts;
use socketioxide::socket::Socket;
use std::convert::Infallible;
use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

/// Whether the client asked for an ack (socketioxide's `AckSender` does not say).
struct AckRequested(bool);

impl<A: Adapter> FromMessageParts<A> for AckRequested {
    type Error = Infallible;
    fn from_message_parts(
        _: &Arc<Socket<A>>,
        _: &mut socketioxide::handler::Value,
        ack_id: &Option<i64>,
    ) -> Result<Self, Infallible> {
        Ok(AckRequested(ack_id.is_some()))
    }
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|r| r.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

fn text_arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The connect handler, for any adapter.
fn on_connect<A: Adapter>(
    handle: SocketIo<A>,
) -> impl Fn(SocketRef<A>) + Clone + Send + Sync + 'static {
    move |s: SocketRef<A>| {
        s.on(
            "echo",
            async |s: SocketRef<A>,
                   Data(data): Data<Value>,
                   ack: AckSender<A>,
                   AckRequested(asked): AckRequested| {
                if asked {
                    let _ = ack.send(&data);
                } else {
                    let _ = s.emit("echo", &data);
                }
            },
        );
        s.on(
            "join",
            async |s: SocketRef<A>, Data(room): Data<String>, ack: AckSender<A>| {
                s.join(room);
                let _ = ack.send(&true);
            },
        );
        let io = handle.clone();
        s.on(
            "broadcast",
            async move |TryData(args): TryData<(Value, String)>, Data(one): Data<Value>| {
                let _ = match args {
                    Ok((data, room)) => io.to(room).emit("news", &data).await,
                    Err(_) => io.emit("news", &one).await,
                };
            },
        );
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let port = arg("--port", 3000) as u16;
    let builder = SocketIo::builder()
        .ping_interval(Duration::from_millis(arg("--ping-interval", 25_000)))
        .ping_timeout(Duration::from_millis(arg("--ping-timeout", 20_000)));
    // The handlers are registered in the closure's body, not in its future: socketioxide sends
    // the CONNECT reply before it spawns the connect handler's future, so events a fast client
    // sends right after connecting would find no handler yet and be dropped (seen as `missing`
    // by the bench).
    match text_arg("--redis") {
        None => {
            let (layer, io) = builder.build_layer();
            let connect = on_connect(io.clone());
            io.ns("/", move |s: SocketRef| {
                connect(s);
                async {}
            });
            serve(port, layer, move || io.sockets().len()).await
        }
        Some(url) => {
            let url = if url.contains("protocol=") {
                url
            } else {
                format!("{url}?protocol=resp3")
            };
            let client = redis::Client::open(url).map_err(std::io::Error::other)?;
            let adapter = socketioxide_redis::RedisAdapterCtr::new_with_redis(&client)
                .await
                .map_err(std::io::Error::other)?;
            let (layer, io) = builder
                .with_adapter::<socketioxide_redis::RedisAdapter<_>>(adapter)
                .build_layer();
            let connect = on_connect(io.clone());
            io.ns(
                "/",
                move |s: SocketRef<socketioxide_redis::RedisAdapter<_>>| {
                    connect(s);
                    async {}
                },
            )
            .await
            .map_err(std::io::Error::other)?;
            serve(port, layer, move || io.local().sockets().len()).await
        }
    }
}

async fn serve<L>(
    port: u16,
    layer: L,
    sessions: impl Fn() -> usize + Clone + Send + Sync + 'static,
) -> std::io::Result<()>
where
    L: tower::Layer<axum::routing::Route> + Clone + Send + Sync + 'static,
    L::Service:
        tower::Service<axum::extract::Request, Error = Infallible> + Clone + Send + Sync + 'static,
    <L::Service as tower::Service<axum::extract::Request>>::Response:
        axum::response::IntoResponse + 'static,
    <L::Service as tower::Service<axum::extract::Request>>::Future: Send + 'static,
{
    let app =
        Router::new()
            .route(
                "/stats",
                get(move || {
                    let sessions = sessions();
                    async move {
                        Json(serde_json::json!({ "sessions": sessions, "rss_kib": rss_kib() }))
                    }
                }),
            )
            .layer(layer);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening on http://{}", listener.local_addr()?)?;
        out.flush()?;
    }
    // TCP_NODELAY, as tether_axum::serve does, so both are measured without Nagle's delay.
    use axum::serve::ListenerExt;
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(listener, app).await
}
