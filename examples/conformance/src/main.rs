//! `cargo run --release -p example-conformance -- --port 3000 --ping-interval 300 --ping-timeout 200 --connect-timeout 1000`
//!
//! Prints `listening on http://127.0.0.1:PORT` once it accepts connections (`--port 0` picks a
//! free port).

use clap::Parser;
use std::io::Write;
use std::time::Duration;

/// Engine.IO v4 echo server for the official protocol test suite.
#[derive(Debug, Parser)]
struct Args {
    /// TCP port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 3000)]
    port: u16,
    /// pingInterval in milliseconds.
    #[arg(long, default_value_t = 25_000)]
    ping_interval: u64,
    /// pingTimeout in milliseconds.
    #[arg(long, default_value_t = 20_000)]
    ping_timeout: u64,
    /// maxPayload in bytes.
    #[arg(long, default_value_t = 1_000_000)]
    max_payload: usize,
    /// Socket.IO connectTimeout in milliseconds.
    #[arg(long, default_value_t = 45_000)]
    connect_timeout: u64,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port)).await?;
    let addr = listener.local_addr()?;
    let opts = example_conformance::Options {
        ping_interval: Duration::from_millis(args.ping_interval),
        ping_timeout: Duration::from_millis(args.ping_timeout),
        max_payload: args.max_payload,
        connect_timeout: Duration::from_millis(args.connect_timeout),
    };
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening on http://{addr}")?;
        out.flush()?;
    }
    example_conformance::serve(listener, opts).await
}
