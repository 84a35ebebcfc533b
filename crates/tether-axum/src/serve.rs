//! Serving an app with the socket options realtime traffic wants.

use axum::Router;
use axum::serve::ListenerExt;
use std::future::Future;
use std::net::SocketAddr;
use tokio::net::TcpListener;

/// Serves `app` on `listener` with `TCP_NODELAY` on every connection and the peer address
/// available to handlers (`ConnectInfo<SocketAddr>`, shown in each session's handshake), until
/// `shutdown` resolves; then waits for open connections to finish (close your sessions in
/// `shutdown`, e.g. with `Engine::shutdown`).
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
    let listener = listener.tap_io(|tcp| {
        if let Err(err) = tcp.set_nodelay(true) {
            tracing::warn!(%err, "could not set TCP_NODELAY");
        }
    });
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
