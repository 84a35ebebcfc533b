//! tether-bench: a load generator for Socket.IO servers. It speaks Engine.IO v4 / Socket.IO v5
//! as a client over WebSocket and HTTP long-polling (its own small client, [`client`]), so it
//! drives tether, Node's `socket.io`, socketioxide or any server with the same events (see
//! `examples/bench-server`): `echo`, `join`, `broadcast` -> `news`, and `GET /stats`.
//!
//! Every scenario is bounded in time and in count, targets 127.0.0.1 only, prints a progress
//! line to stderr each second and one JSON line of results to stdout:
//!
//! ```text
//! tether-bench echo      --url http://127.0.0.1:3000 --clients 50 --transport websocket --size 32
//! tether-bench echo      --transport polling --ack --size 1024
//! tether-bench broadcast --clients 5000 --rate 0          # one emitter, flat out
//! tether-bench idle      --clients 10000 --pid 1234       # RSS per connection from /proc/1234
//! tether-bench handshake --transport polling --workers 16
//! tether-bench soak      --sessions 100000                # exits 1 unless the server recovers
//! ```
//!
//! Connection counts are capped so that client and server both stay under 20,000 open files
//! per process (a WebSocket takes one descriptor each side; a polling client up to two).

pub mod client;
mod histogram;
mod progress;
pub mod scenario;
mod target;

pub use histogram::Histogram;
pub use scenario::{Outcome, run};
pub use target::{Probe, Reading, Target, proc_cpu_seconds, proc_rss_kib};

use clap::{Args, Parser, Subcommand, ValueEnum};

/// The command line.
#[derive(Debug, Parser)]
#[command(name = "tether-bench", version, about)]
pub struct Cli {
    /// The scenario to run.
    #[command(subcommand)]
    pub scenario: Scenario,
}

/// One scenario and its settings.
#[derive(Debug, Clone, Subcommand)]
pub enum Scenario {
    /// C clients, each emits `echo` and waits for it to come back (or for its ack).
    Echo(EchoArgs),
    /// C receivers in a room, one emitter (WebSocket) asking the server to broadcast `news`.
    Broadcast(BroadcastArgs),
    /// C idle WebSocket connections: the server's RSS per connection and the connect rate.
    Idle(IdleArgs),
    /// New sessions per second (Engine.IO open + Socket.IO connect, then close).
    Handshake(HandshakeArgs),
    /// Connects and drops many sessions of every kind (clean, vanished mid-poll, vanished
    /// mid-upgrade, abandoned), then checks the server gets back to 0 sessions and its RSS to
    /// within the tolerance of the baseline. Exits 1 otherwise.
    Soak(SoakArgs),
}

/// Settings every scenario shares.
#[derive(Debug, Clone, Args)]
pub struct Common {
    /// The server, `http://127.0.0.1:PORT` (loopback addresses only).
    #[arg(long, default_value = "http://127.0.0.1:3000")]
    pub url: String,
    /// Engine.IO path on the server.
    #[arg(long, default_value = "/socket.io/")]
    pub path: String,
    /// A name for the server in the results (e.g. `tether`, `socketioxide`, `node`).
    #[arg(long, default_value = "server")]
    pub label: String,
    /// Upper bound on the scenario's main phase, in seconds.
    #[arg(long, default_value_t = 10.0)]
    pub duration: f64,
    /// Threads of the load generator's runtime (1 = a current-thread runtime).
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    /// No progress lines on stderr.
    #[arg(long)]
    pub quiet: bool,
    /// Where the server's memory is read: `GET <stats-url>` answering `{"sessions", "rss_kib"}`.
    /// Defaults to `<url>/stats`.
    #[arg(long)]
    pub stats_url: Option<String>,
    /// The server's process id: `idle` reads its RSS from `/proc/<pid>/status` instead of its
    /// stats URL; `broadcast` reports its CPU seconds from the first broadcast to the end of the
    /// drain, and CPU microseconds per delivery.
    #[arg(long)]
    pub pid: Option<u32>,
}

/// The transport a client uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TransportArg {
    /// WebSocket from the first request.
    Websocket,
    /// HTTP long-polling, never upgraded.
    Polling,
    /// tether's HTTP streaming (an event stream receives, POSTs send), never upgraded; tether
    /// servers only.
    Streaming,
}

/// What the clients speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ProtocolArg {
    /// Socket.IO v5 over Engine.IO v4.
    Socketio,
    /// Bare WebSocket text frames on `/` (the raw echo reference; echo and idle only).
    Raw,
}

/// `echo` settings.
#[derive(Debug, Clone, Args)]
pub struct EchoArgs {
    /// Shared settings.
    #[command(flatten)]
    pub common: Common,
    /// Concurrent clients.
    #[arg(long, default_value_t = 50)]
    pub clients: usize,
    /// Transport.
    #[arg(long, value_enum, default_value_t = TransportArg::Websocket)]
    pub transport: TransportArg,
    /// Protocol (`raw` for a bare WebSocket echo server).
    #[arg(long, value_enum, default_value_t = ProtocolArg::Socketio)]
    pub protocol: ProtocolArg,
    /// Ask for an ack instead of an emitted `echo`.
    #[arg(long)]
    pub ack: bool,
    /// Bytes of the string argument.
    #[arg(long, default_value_t = 32)]
    pub size: usize,
    /// Stop after this many round trips in all.
    #[arg(long, default_value_t = 10_000_000)]
    pub count: u64,
    /// A round trip not answered within this many seconds counts as missing (and ends that
    /// client).
    #[arg(long, default_value_t = 5.0)]
    pub timeout: f64,
}

/// `broadcast` settings.
#[derive(Debug, Clone, Args)]
pub struct BroadcastArgs {
    /// Shared settings.
    #[command(flatten)]
    pub common: Common,
    /// Receivers.
    #[arg(long, default_value_t = 1000)]
    pub clients: usize,
    /// Receivers' transport (the emitter always uses WebSocket).
    #[arg(long, value_enum, default_value_t = TransportArg::Websocket)]
    pub transport: TransportArg,
    /// Broadcasts per second (0 = flat out, limited by `--window`).
    #[arg(long, default_value_t = 0.0)]
    pub rate: f64,
    /// Broadcasts in flight at most (sent but not yet received by every receiver).
    #[arg(long, default_value_t = 8)]
    pub window: usize,
    /// Stop after this many broadcasts.
    #[arg(long, default_value_t = 100_000)]
    pub count: u64,
    /// Seconds to wait at the end for deliveries still on the way.
    #[arg(long, default_value_t = 5.0)]
    pub drain: f64,
    /// A second node of the same fleet (`http://127.0.0.1:PORT`): the receivers are split
    /// over `--url` and it, the emitter stays on `--url`, so half the deliveries cross the
    /// broker.
    #[arg(long)]
    pub url2: Option<String>,
    /// The second node's process id (with `--url2` and `--pid`): its CPU counts with the
    /// first node's, so `cpu_us_per_delivery` is the fleet's.
    #[arg(long, requires = "pid")]
    pub pid2: Option<u32>,
}

/// `idle` settings.
#[derive(Debug, Clone, Args)]
pub struct IdleArgs {
    /// Shared settings.
    #[command(flatten)]
    pub common: Common,
    /// Idle WebSocket connections to hold.
    #[arg(long, default_value_t = 5000)]
    pub clients: usize,
    /// Protocol (`raw` for a bare WebSocket server).
    #[arg(long, value_enum, default_value_t = ProtocolArg::Socketio)]
    pub protocol: ProtocolArg,
    /// Connections being opened at once.
    #[arg(long, default_value_t = 64)]
    pub concurrency: usize,
    /// Seconds to wait after the last connection before reading the server's memory.
    #[arg(long, default_value_t = 2.0)]
    pub settle: f64,
}

/// `handshake` settings.
#[derive(Debug, Clone, Args)]
pub struct HandshakeArgs {
    /// Shared settings.
    #[command(flatten)]
    pub common: Common,
    /// Workers, each opening and closing sessions one after another.
    #[arg(long, default_value_t = 16)]
    pub workers: usize,
    /// Transport.
    #[arg(long, value_enum, default_value_t = TransportArg::Websocket)]
    pub transport: TransportArg,
    /// Stop after this many sessions.
    #[arg(long, default_value_t = 200_000)]
    pub count: u64,
}

/// `soak` settings.
#[derive(Debug, Clone, Args)]
pub struct SoakArgs {
    /// Shared settings (`--duration` bounds the connect-and-drop phase).
    #[command(flatten)]
    pub common: Common,
    /// Sessions to open and drop in all (the kinds take turns).
    #[arg(long, default_value_t = 100_000)]
    pub sessions: u64,
    /// Sessions in progress at once.
    #[arg(long, default_value_t = 64)]
    pub concurrency: usize,
    /// Sessions of the warm-up round, after which the RSS baseline is read (0: none). The
    /// warm-up also lasts at least twice the server's pingInterval + pingTimeout, so that
    /// abandoned sessions pile up as high as in the main round and the allocator is as warm.
    #[arg(long, default_value_t = 20_000)]
    pub warmup: u64,
    /// Seconds to wait for the server to get back to 0 sessions (abandoned sessions last the
    /// server's pingInterval + pingTimeout).
    #[arg(long, default_value_t = 120.0)]
    pub settle: f64,
    /// RSS allowed above the baseline at the end, in percent.
    #[arg(long, default_value_t = 10.0)]
    pub rss_tolerance: f64,
}

impl Scenario {
    /// The settings every scenario has.
    pub fn common(&self) -> &Common {
        match self {
            Scenario::Echo(a) => &a.common,
            Scenario::Broadcast(a) => &a.common,
            Scenario::Idle(a) => &a.common,
            Scenario::Handshake(a) => &a.common,
            Scenario::Soak(a) => &a.common,
        }
    }
}

/// The error type of the bench tool.
pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// A result with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
