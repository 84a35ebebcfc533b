//! `/metrics` for Prometheus (feature `prometheus`): installs `metrics-exporter-prometheus` as
//! the process's recorder and serves the `tether_*` series (see
//! [`tether_core::metrics`]) in the text exposition format.
//!
//! ```no_run
//! use axum::Router;
//! use tether_axum::{EngineLayer, prometheus};
//! use tether_axum::core::metrics::Metrics;
//! use tether_axum::socket::{Socket, SocketIo};
//!
//! // first, so that the namespaces' histograms reach it
//! let handle = prometheus::install().expect("no other recorder");
//! let io = SocketIo::builder().build();
//! io.ns("/", |_: Socket| async {});
//! let layer = EngineLayer::builder().build(io);
//! let metrics = Metrics::for_socketio(layer.engine());
//! let app: Router = Router::new()
//!     .route("/metrics", prometheus::route(handle, metrics))
//!     .layer(layer);
//! ```

use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::{MethodRouter, get};
use metrics_exporter_prometheus::{BuildError, Matcher, PrometheusBuilder};
use std::sync::Arc;
use tether_core::metrics::Metrics;

pub use metrics_exporter_prometheus::PrometheusHandle;

/// The buckets, in seconds, of the `*_seconds` histograms (handler duration, ack latency):
/// 100 µs to 10 s.
pub const SECONDS_BUCKETS: [f64; 13] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1.0, 10.0,
];

/// Installs the Prometheus recorder for the whole process, with [`SECONDS_BUCKETS`] for every
/// `*_seconds` histogram. Call it before registering namespaces (their histograms resolve
/// their handles then). Fails when a recorder is installed already.
pub fn install() -> Result<PrometheusHandle, BuildError> {
    PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".to_owned()), &SECONDS_BUCKETS)?
        .install_recorder()
}

/// A `GET` route that publishes `metrics` and renders every series of `handle`.
pub fn route<S: Clone + Send + Sync + 'static>(
    handle: PrometheusHandle,
    metrics: Metrics,
) -> MethodRouter<S> {
    let metrics = Arc::new(metrics);
    get(move || {
        let (handle, metrics) = (handle.clone(), metrics.clone());
        async move {
            metrics.publish();
            handle.run_upkeep();
            (
                [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
                handle.render(),
            )
                .into_response()
        }
    })
}
