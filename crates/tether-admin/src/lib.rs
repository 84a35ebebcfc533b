//! tether-admin: a server for the official Socket.IO Admin UI (`@socket.io/admin-ui`), so the UI
//! works against tether unchanged: its admin namespace (default `/admin`) with basic auth, the
//! `config` and `session` events, `server_stats` every 2 s from the same counters the
//! Prometheus metrics publish, the live view of every socket in development mode, and the UI's
//! commands (join, leave, disconnect, emit) cluster-wide through the adapter.
//!
//! ```no_run
//! use tether_admin::{AdminConfig, Auth, Mode};
//! use tether_core::socket::SocketIo;
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let io = SocketIo::builder().build();
//! // a bcrypt hash of the password, e.g. from `htpasswd -nbBC 10 admin changeit`
//! let hash = "$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy";
//! let config = AdminConfig::new(Auth::basic("admin", hash)?).mode(Mode::Production);
//! let admin = tether_admin::instrument(&io, config)?;
//! // ... serve io; drop `admin` to stop its stats
//! # drop(admin);
//! # Ok(())
//! # }
//! ```
//!
//! What differs from Node's `instrument()`, on purpose:
//! - `session` goes out after the CONNECT reply (Node sends it before, the UI misses it, and a
//!   page reload asks for the password again);
//! - the session store is [`MemoryStore`] by default, per node, at most [`MAX_SESSIONS`] ids;
//! - `uptime` counts from [`instrument`], not from the process start;
//! - a socket of another tether node shows its transport as `unknown` (Node nodes record it
//!   in `data._admin`, which tether reads);
//! - the bcrypt check runs on a blocking thread.
//!
//! Production mode installs no observer: the per-socket path does not change at all.

mod auth;
mod features;
mod live;
mod serialize;
mod stats;

pub use auth::{Auth, AuthError, INVALID_CREDENTIALS, MAX_SESSIONS, MemoryStore, SessionStore};
pub use features::{Feature, Mode, supported};

use bytestring::ByteString;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tether_core::engine::TransportKind;
use tether_core::socket::{
    BroadcastOperator, ConnectError, Payload, RawArgs, Socket, SocketIo, WeakSocketIo,
};

use live::Live;
use stats::{Reading, ServerStats};

/// How the admin namespace works.
#[derive(Clone)]
pub struct AdminConfig {
    namespace: String,
    auth: Auth,
    readonly: bool,
    server_id: Option<String>,
    mode: Mode,
    store: Arc<dyn SessionStore>,
    stats_interval: Duration,
}

impl std::fmt::Debug for AdminConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminConfig")
            .field("namespace", &self.namespace)
            .field("auth", &self.auth)
            .field("readonly", &self.readonly)
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

impl AdminConfig {
    /// Namespace `/admin`, development mode, commands allowed, `serverId` the hostname,
    /// sessions in memory, stats every 2 s.
    pub fn new(auth: Auth) -> AdminConfig {
        AdminConfig {
            namespace: "/admin".to_owned(),
            auth,
            readonly: false,
            server_id: None,
            mode: Mode::Development,
            store: Arc::new(MemoryStore::default()),
            stats_interval: Duration::from_secs(2),
        }
    }

    /// Another namespace for the UI (the UI's "Admin namespace" field).
    pub fn namespace(mut self, path: impl Into<String>) -> AdminConfig {
        let path = path.into();
        self.namespace = if path.starts_with('/') {
            path
        } else {
            format!("/{path}")
        };
        self
    }

    /// No commands: the UI only looks.
    pub fn readonly(mut self, readonly: bool) -> AdminConfig {
        self.readonly = readonly;
        self
    }

    /// The name of this node on the servers page; every node of a cluster needs its own.
    pub fn server_id(mut self, id: impl Into<String>) -> AdminConfig {
        self.server_id = Some(id.into());
        self
    }

    /// Development (the live view) or production (stats only).
    pub fn mode(mut self, mode: Mode) -> AdminConfig {
        self.mode = mode;
        self
    }

    /// Where login sessions are kept.
    pub fn store(mut self, store: impl SessionStore) -> AdminConfig {
        self.store = Arc::new(store);
        self
    }

    /// How often `server_stats` goes out (the UI marks a server unhealthy after 10 s
    /// without one); at least 100 ms.
    pub fn stats_interval(mut self, every: Duration) -> AdminConfig {
        self.stats_interval = every.max(Duration::from_millis(100));
        self
    }
}

/// Why the admin could not be set up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminError {
    /// The server has an observer already (development mode needs it).
    AlreadyObserved,
    /// The admin namespace is not registered (a registration raced this one).
    NoNamespace,
}

impl std::fmt::Display for AdminError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AdminError::AlreadyObserved => f.write_str("the server has an observer already"),
            AdminError::NoNamespace => f.write_str("the admin namespace is not registered"),
        }
    }
}

impl std::error::Error for AdminError {}

/// The running admin: its `server_stats` stop when it is dropped.
#[derive(Debug)]
pub struct Admin {
    stats: tokio::task::JoinHandle<()>,
}

impl Drop for Admin {
    fn drop(&mut self) {
        self.stats.abort();
    }
}

/// A socket that logged in with the password: its new session id goes out after the CONNECT
/// reply.
#[derive(Debug, Clone)]
struct NewSession(String);

/// Registers the admin namespace on `io` and starts its `server_stats` (call within a tokio
/// runtime). In development mode it installs the server's observer.
pub fn instrument(io: &SocketIo, config: AdminConfig) -> Result<Admin, AdminError> {
    let features = supported(config.mode, config.readonly);
    let names: Vec<&'static str> = features.iter().map(|f| f.as_str()).collect();
    let development = config.mode == Mode::Development;
    let readonly = config.readonly;
    let (auth, store) = (config.auth.clone(), config.store.clone());
    let on_connect = move |socket: Socket| {
        let names = names.clone();
        async move {
            if let Some(NewSession(id)) = socket.get::<NewSession>() {
                let _ = socket.emit("session", &id);
            }
            let _ = socket.emit("config", &json!({ "supportedFeatures": names }));
            if !readonly {
                commands(&socket);
            }
            if development {
                let _ = socket.emit("all_sockets", &all_sockets(&socket.io()).await);
            }
        }
    };
    io.ns(config.namespace.clone(), on_connect)
        .middleware(move |socket: Socket| {
            let (auth, store) = (auth.clone(), store.clone());
            async move { login(&socket, &auth, &*store).await }
        });
    let admin = io
        .of(config.namespace.clone())
        .ok_or(AdminError::NoNamespace)?;
    if development {
        let live = Live {
            admin_ns: config.namespace.clone(),
            admin: admin.clone(),
        };
        io.observe(live).map_err(|_| AdminError::AlreadyObserved)?;
    }
    let server_id = config.server_id.clone().unwrap_or_else(stats::hostname);
    let stats = tokio::spawn(emit_stats(
        io.downgrade(),
        admin,
        server_id,
        config.stats_interval,
    ));
    Ok(Admin { stats })
}

/// The admin middleware: a known session id, or the user's name and password, else
/// `invalid credentials`.
async fn login(socket: &Socket, auth: &Auth, store: &dyn SessionStore) -> Result<(), ConnectError> {
    if matches!(auth, Auth::None) {
        return Ok(());
    }
    let given = socket.auth::<Value>().unwrap_or(Value::Null);
    if let Some(id) = given.get("sessionId").and_then(Value::as_str)
        && store.exists(id)
    {
        return Ok(());
    }
    let username = given.get("username").and_then(Value::as_str);
    let password = given.get("password").and_then(Value::as_str);
    if auth.check(username, password).await {
        let id = auth::session_id();
        store.save(&id);
        socket.insert(NewSession(id));
        return Ok(());
    }
    Err(ConnectError::new(INVALID_CREDENTIALS))
}

/// Every socket of every namespace, cluster-wide.
async fn all_sockets(io: &SocketIo) -> Vec<Value> {
    let mut all = Vec::new();
    for (nsp, _) in io.namespaces() {
        let Some(ns) = io.of(nsp.clone()) else {
            continue;
        };
        let Ok(sockets) = ns.fetch_sockets().await else {
            continue;
        };
        for remote in sockets {
            let local = remote
                .is_local()
                .then(|| io.local_socket(&nsp, remote.id()))
                .flatten();
            all.push(match local {
                Some(socket) => serialize::local(&socket),
                None => serialize::remote(&remote),
            });
        }
    }
    all
}

/// The UI's commands, each on the sockets of a namespace (a room's, with a filter: a socket id
/// is a room), on every node.
fn commands(socket: &Socket) {
    socket.on(
        "join",
        |socket: Socket, RawArgs(args): RawArgs| async move {
            let (Some(ns), Some(room)) = (target(&socket, &args, 2), text(&args, 1)) else {
                return;
            };
            let _ = ns.sockets_join([room]).await;
        },
    );
    socket.on(
        "leave",
        |socket: Socket, RawArgs(args): RawArgs| async move {
            let (Some(ns), Some(room)) = (target(&socket, &args, 2), text(&args, 1)) else {
                return;
            };
            let _ = ns.sockets_leave([room]).await;
        },
    );
    socket.on(
        "_disconnect",
        |socket: Socket, RawArgs(args): RawArgs| async move {
            let close = args
                .get(1)
                .and_then(|a| serde_json::from_str::<bool>(a).ok())
                .unwrap_or(false);
            if let Some(ns) = target(&socket, &args, 2) {
                let _ = ns.disconnect_sockets(close).await;
            }
        },
    );
    socket.on(
        "emit",
        |socket: Socket, RawArgs(args): RawArgs| async move {
            let (Some(ns), Some(event)) = (target(&socket, &args, 1), text(&args, 2)) else {
                return;
            };
            let rest = args
                .get(3..)
                .map(<[ByteString]>::to_vec)
                .unwrap_or_default();
            let _ = ns.emit_payload(&event, &Payload::from_raw(rest, Vec::new()));
        },
    );
}

/// Argument `i` as a string.
fn text(args: &[ByteString], i: usize) -> Option<String> {
    serde_json::from_str::<String>(args.get(i)?).ok()
}

/// The sockets a command names: namespace `args[0]`, narrowed to the room at `args[filter]`
/// when there is one.
fn target(socket: &Socket, args: &[ByteString], filter: usize) -> Option<BroadcastOperator> {
    let ns = socket.io().of(text(args, 0)?)?;
    Some(match text(args, filter) {
        Some(room) => ns.to(room),
        None => ns,
    })
}

/// `server_stats` to the admin namespace now and every `every`, until the server is gone.
async fn emit_stats(
    io: WeakSocketIo,
    admin: BroadcastOperator,
    server_id: String,
    every: Duration,
) {
    let started = Instant::now();
    let hostname = stats::hostname();
    let mut last = Reading::default();
    let mut ticks = tokio::time::interval(every);
    loop {
        ticks.tick().await;
        let Some(io) = io.upgrade() else {
            return;
        };
        let Some(engine) = io.engine_stats() else {
            continue;
        };
        let now = Reading::of(&engine);
        let second = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() * 1000);
        let stats = ServerStats {
            server_id: &server_id,
            hostname: &hostname,
            pid: std::process::id(),
            uptime_secs: started.elapsed().as_secs_f64(),
            clients: engine.open_total(),
            polling_clients: engine.open(TransportKind::Polling)
                + engine.open(TransportKind::Streaming),
            aggregated: stats::aggregated(&last, &now, second),
            namespaces: io
                .namespaces()
                .into_iter()
                .map(|(name, count)| (name.to_string(), count))
                .collect(),
        };
        last = now;
        let _ = admin.emit("server_stats", &stats.to_json());
    }
}
