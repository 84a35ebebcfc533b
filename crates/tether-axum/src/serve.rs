//! Serving an app with the socket options and the limits realtime traffic wants.
//!
//! `axum::serve` leaves Nagle's algorithm on and gives hyper no timer, so hyper's
//! header-read timeout never applies: a client that opens connections and trickles header
//! bytes holds them for ever. [`serve`] sets `TCP_NODELAY`, the timer, a header-read timeout
//! and a bound on header bytes ([`ServeConfig`]), and gives handlers the peer address.

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::serve::{Listener, ListenerExt};
use http::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::pin::pin;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower::ServiceExt;

use crate::read_ahead::{ReadAhead, ReadsAhead};

/// Limits of the HTTP connections [`serve_with`] accepts. `Default` is what [`serve`] uses.
///
/// ```
/// use std::time::Duration;
/// use tether_axum::ServeConfig;
/// let config = ServeConfig::default().header_read_timeout(Duration::from_secs(5));
/// assert_eq!(config.max_header_bytes, 32 * 1024);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct ServeConfig {
    /// How long a client has to send a request's whole header, from when the connection is
    /// ready for it (just opened, or done with its previous request): past it, the connection
    /// is closed (a 408 when some of the header came). Also bounds an idle keep-alive
    /// connection. Default 10 s.
    pub header_read_timeout: Duration,
    /// Largest request header accepted, in bytes (request line and header lines): past it,
    /// 431 and the connection closes. Default 32 KiB (Node's is 16 KiB, nginx's 32 KiB).
    pub max_header_bytes: usize,
    /// Most header lines accepted in one request: past it, 431. Default 100.
    pub max_headers: usize,
}

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig {
            header_read_timeout: Duration::from_secs(10),
            max_header_bytes: 32 * 1024,
            max_headers: 100,
        }
    }
}

impl ServeConfig {
    /// Sets `header_read_timeout`.
    pub fn header_read_timeout(mut self, d: Duration) -> Self {
        self.header_read_timeout = d;
        self
    }
    /// Sets `max_header_bytes`.
    pub fn max_header_bytes(mut self, bytes: usize) -> Self {
        self.max_header_bytes = bytes;
        self
    }
    /// Sets `max_headers`.
    pub fn max_headers(mut self, n: usize) -> Self {
        self.max_headers = n;
        self
    }
}

/// hyper's default bound on request header lines.
const HYPER_MAX_HEADERS: usize = 100;

/// Serves `app` on `listener` with [`ServeConfig::default`]: `TCP_NODELAY` on every
/// connection, the header-read timeout and header bound, and the peer address available to
/// handlers (`ConnectInfo<SocketAddr>`, shown in each session's handshake), until `shutdown`
/// resolves; then waits for open connections to finish (close your sessions in `shutdown`,
/// e.g. with `Engine::shutdown`). The accept loop runs in a task of its own, on a worker
/// thread even when this future is `#[tokio::main]`'s; dropping this future stops it.
///
/// ```no_run
/// # async fn run(app: axum::Router) -> std::io::Result<()> {
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
/// tether_axum::serve(listener, app, std::future::pending()).await
/// # }
/// ```
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(listener, app, shutdown, ServeConfig::default()).await
}

/// [`serve`] with other limits.
pub async fn serve_with(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    config: ServeConfig,
) -> std::io::Result<()> {
    in_own_task(serve_conns(
        listener,
        app,
        shutdown,
        config,
        |tcp| async move { Some(ReadAhead::new(tcp)) },
    ))
    .await
}

/// [`serve_with`] over TLS (`https://`, `wss://`): each connection's TLS handshake runs in
/// the connection's own task, within `header_read_timeout` (a client that stalls it holds only
/// its own connection), then the connection is served as [`serve`] does.
///
/// ```no_run
/// # use tether_axum::tokio_rustls;
/// # async fn run(app: axum::Router, tls: std::sync::Arc<tokio_rustls::rustls::ServerConfig>) -> std::io::Result<()> {
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:3443").await?;
/// let acceptor = tokio_rustls::TlsAcceptor::from(tls);
/// tether_axum::serve_tls(listener, app, std::future::pending(), Default::default(), acceptor).await
/// # }
/// ```
#[cfg(feature = "tls")]
pub async fn serve_tls(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    config: ServeConfig,
    acceptor: tokio_rustls::TlsAcceptor,
) -> std::io::Result<()> {
    let within = config.header_read_timeout;
    in_own_task(serve_conns(listener, app, shutdown, config, move |tcp| {
        let acceptor = acceptor.clone();
        async move {
            match tokio::time::timeout(within, acceptor.accept(tcp)).await {
                Ok(Ok(tls)) => Some(tls),
                Ok(Err(err)) => {
                    tracing::debug!(%err, "TLS handshake failed");
                    None
                }
                Err(_) => {
                    tracing::debug!("TLS handshake timed out");
                    None
                }
            }
        }
    }))
    .await
}

/// Runs the accept loop as a task of its own, not inside the caller's future. Under
/// `#[tokio::main]` that future is `block_on`'s, polled on the main thread, not a worker: each
/// accepted connection then costs a wake-up of the main thread, and its task reaches a worker
/// through the runtime's shared queue, with a wake-up of that worker. As a task, the loop runs
/// on a worker, and each connection's task starts on that worker's own queue. Dropping the
/// returned future stops the loop, as dropping the loop itself would.
async fn in_own_task(
    accept_loop: impl Future<Output = std::io::Result<()>> + Send + 'static,
) -> std::io::Result<()> {
    struct AbortOnDrop(tokio::task::JoinHandle<std::io::Result<()>>);
    impl Drop for AbortOnDrop {
        fn drop(&mut self) {
            self.0.abort();
        }
    }
    // The caller's span stays the loop's, as when the loop ran in the caller's future.
    let accept_loop = tracing::Instrument::instrument(accept_loop, tracing::Span::current());
    let mut task = AbortOnDrop(tokio::spawn(accept_loop));
    match (&mut task.0).await {
        Ok(result) => result,
        Err(err) => Err(std::io::Error::other(format!(
            "the accept loop failed: {err}"
        ))),
    }
}

/// The accept loop: `prepare` turns each accepted connection into what hyper serves (the
/// connection itself, or its TLS stream), in the connection's own task.
async fn serve_conns<P, F, I>(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
    config: ServeConfig,
    prepare: P,
) -> std::io::Result<()>
where
    P: Fn(tokio::net::TcpStream) -> F,
    F: Future<Output = Option<I>> + Send + 'static,
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let mut listener = listener.tap_io(|tcp| {
        if let Err(err) = tcp.set_nodelay(true) {
            tracing::warn!(%err, "could not set TCP_NODELAY");
        }
    });
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(config.header_read_timeout)
        .max_header_size(config.max_header_bytes);
    // hyper's own limit is 100 lines, parsed into arrays on the stack; a limit set explicitly,
    // even 100, makes it fill an array of that many entries for every request (measured: 1.5%
    // of the server's CPU in the polling echo).
    if config.max_headers != HYPER_MAX_HEADERS {
        http.max_headers(config.max_headers);
    }
    // Dropped when `shutdown` resolves (or this future is dropped): connections then finish
    // their requests and close.
    let (stop_tx, stop_rx) = watch::channel(());
    // Each connection holds a receiver; all gone means every connection has ended.
    let (done_tx, done_rx) = watch::channel(());
    let mut shutdown = pin!(shutdown);
    loop {
        // axum's `Listener` retries failed accepts (and waits a second when out of files).
        let (io, addr) = tokio::select! {
            accepted = Listener::accept(&mut listener) => accepted,
            () = &mut shutdown => break,
        };
        let app = app.clone().map_request(move |req: Request<Incoming>| {
            let mut req = req.map(Body::new);
            req.extensions_mut().insert(ConnectInfo(addr));
            // Plain TCP reads ahead; TLS buffers what it decrypts, so small reads are cheap
            // on it too.
            req.extensions_mut().insert(ReadsAhead);
            req
        });
        let prepared = prepare(io);
        let http = http.clone();
        let (mut stop_rx, done_rx) = (stop_rx.clone(), done_rx.clone());
        tokio::spawn(async move {
            let Some(io) = prepared.await else {
                drop(done_rx);
                return;
            };
            let conn = http.serve_connection(TokioIo::new(io), TowerToHyperService::new(app));
            let mut conn = pin!(conn.with_upgrades());
            let result = tokio::select! {
                result = conn.as_mut() => result,
                // Nothing is ever sent: this ends when the sender is dropped.
                _ = stop_rx.changed() => {
                    conn.as_mut().graceful_shutdown();
                    conn.await
                }
            };
            if let Err(err) = result {
                tracing::debug!(%err, %addr, "connection ended with an error");
            }
            drop(done_rx);
        });
    }
    drop(stop_tx);
    drop(stop_rx);
    drop(done_rx);
    drop(listener);
    done_tx.closed().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_documented_limits() {
        let config = ServeConfig::default();
        assert_eq!(config.header_read_timeout, Duration::from_secs(10));
        assert_eq!(config.max_header_bytes, 32 * 1024);
        assert_eq!(config.max_headers, 100);
        assert_eq!(
            config.max_headers, HYPER_MAX_HEADERS,
            "the default is hyper's own"
        );
    }

    /// Every request `serve` hands on says its connection reads ahead (what makes the layer
    /// pick the small WebSocket read buffer), and a request larger than a small read still
    /// arrives whole through the read-ahead.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn requests_are_marked_as_reading_ahead_and_arrive_whole() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let app = Router::new().route(
            "/",
            axum::routing::post(|req: Request<Body>| async move {
                let marked = req.extensions().get::<ReadsAhead>().is_some();
                let body = axum::body::to_bytes(req.into_body(), 1 << 20)
                    .await
                    .map(|b| b.len())
                    .unwrap_or(0);
                format!("{marked} {body}")
            }),
        );
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(serve(listener, app, async {
            let _ = stopped.await;
        }));
        let body = "x".repeat(200_000);
        let mut conn = tokio::net::TcpStream::connect(addr).await.expect("connect");
        let request = format!(
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        conn.write_all(request.as_bytes()).await.expect("write");
        let mut answer = String::new();
        conn.read_to_string(&mut answer).await.expect("read");
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(answer.ends_with("true 200000"), "{answer}");
        let _ = stop.send(());
        server.await.expect("join").expect("serve");
    }

    /// Dropping `serve`'s future stops its accept loop, though the loop runs in a task of its
    /// own: the listener closes, and new connections are refused.
    #[tokio::test]
    async fn dropping_serve_stops_the_accept_loop() {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let server = tokio::spawn(serve(listener, Router::new(), std::future::pending()));
        // Served: a request gets its answer (404: the router is empty).
        let answer = get(addr).await.expect("served while running");
        assert!(answer.starts_with("HTTP/1.1 404"), "{answer}");
        server.abort();
        assert!(server.await.expect_err("aborted").is_cancelled());
        // The loop's task is aborted in turn; wait for its listener to go.
        let refused = tokio::time::timeout(Duration::from_secs(60), async {
            loop {
                match tokio::net::TcpStream::connect(addr).await {
                    Err(err) => return err.kind(),
                    Ok(_) => tokio::task::yield_now().await,
                }
            }
        })
        .await
        .expect("the listener closes");
        assert_eq!(refused, std::io::ErrorKind::ConnectionRefused);
    }

    /// The accept loop does not live in the future that awaits `serve`: with that future's
    /// thread blocked (here the main thread inside `block_on`, as under `#[tokio::main]`), a
    /// client is still accepted and answered by the workers.
    #[test]
    fn serve_accepts_while_the_thread_awaiting_it_is_blocked() {
        use std::io::{Read, Write};
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let listener = rt.block_on(TcpListener::bind("127.0.0.1:0")).expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (answered, answer) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let get = || -> std::io::Result<String> {
                let mut conn = std::net::TcpStream::connect(addr)?;
                conn.set_read_timeout(Some(Duration::from_secs(60)))?;
                conn.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")?;
                let mut text = String::new();
                conn.read_to_string(&mut text)?;
                Ok(text)
            };
            let _ = answered.send(get());
        });
        let got = rt.block_on(async {
            tokio::select! {
                biased;
                _ = serve(listener, Router::new(), std::future::pending()) => None,
                // Blocks this thread until the client has its answer (or gives up).
                got = async { answer.recv_timeout(Duration::from_secs(60)) } => Some(got),
            }
        });
        let text = got
            .expect("serve does not end")
            .expect("the client finished")
            .expect("the client was answered");
        assert!(text.starts_with("HTTP/1.1 404"), "{text}");
        rt.shutdown_background();
    }

    /// A `GET /` on a connection of its own, read to the end.
    async fn get(addr: std::net::SocketAddr) -> std::io::Result<String> {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut conn = tokio::net::TcpStream::connect(addr).await?;
        conn.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await?;
        let mut answer = String::new();
        conn.read_to_string(&mut answer).await?;
        Ok(answer)
    }
}
