//! The tether server the bench tool drives (see the library docs for its events).
//!
//! ```text
//! cargo run --release -p example-bench-server -- --port 0
//! ```

use clap::Parser;
use std::io::Write;
use std::time::Duration;

/// tether's Socket.IO bench server.
#[derive(Debug, Parser)]
struct Args {
    /// TCP port on 127.0.0.1 (0 picks a free one; the chosen one is printed).
    #[arg(long, default_value_t = 3000)]
    port: u16,
    /// pingInterval in milliseconds.
    #[arg(long, default_value_t = 25_000)]
    ping_interval: u64,
    /// pingTimeout in milliseconds.
    #[arg(long, default_value_t = 20_000)]
    ping_timeout: u64,
    /// Sessions the server accepts at once.
    #[arg(long, default_value_t = 100_000)]
    max_sessions: usize,
    /// Join a fleet on this Redis (tether-redis, classic mode); subscribed before
    /// `listening on` is printed.
    #[arg(long)]
    redis: Option<String>,
    /// Connection state recovery on (defaults: 2 minutes, 64 MiB stored per namespace).
    #[arg(long)]
    recovery: bool,
    /// Observability on: Prometheus metrics at `/metrics` and the Admin UI's namespace at
    /// `/admin` in production mode.
    #[arg(long)]
    observe: bool,
    /// The WebSocket read buffer in bytes (default: tether-axum's).
    #[arg(long)]
    ws_read_buffer: Option<usize>,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let observe = match args.observe {
        true => Some(tether_axum::prometheus::install().map_err(std::io::Error::other)?),
        false => None,
    };
    let redis = match &args.redis {
        Some(url) => Some(
            tether_redis::RedisNode::connect(url, tether_redis::RedisConfig::default())
                .await
                .map_err(std::io::Error::other)?,
        ),
        None => None,
    };
    let opts = bench_server::Options {
        ping_interval: Duration::from_millis(args.ping_interval),
        ping_timeout: Duration::from_millis(args.ping_timeout),
        max_sessions: args.max_sessions,
        redis: redis.clone(),
        recovery: args.recovery,
        observe,
        ws_read_buffer: args.ws_read_buffer,
    };
    let app = bench_server::app(&opts);
    if let Some(node) = &redis {
        node.ready("/").await;
    }
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port)).await?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening on http://{}", listener.local_addr()?)?;
        out.flush()?;
    }
    bench_server::serve_app(listener, app).await
}
