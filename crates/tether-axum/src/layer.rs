//! [`EngineLayer`] and [`EngineService`]: the engine mounted in front of any axum app.

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, Method, Request};
use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tether_core::engine::{Engine, EngineConfig, EngineHandler};
use tower::util::BoxCloneSyncService;
use tower::{Layer, Service, ServiceExt};
use tower_http::cors::{AllowHeaders, AllowOrigin, CorsLayer};

use crate::config::{AllowedOrigins, HttpConfig, normalize_path};
use crate::dispatch::dispatch;
use crate::gate::{AllowRequest, HandshakeLimit};

type Inner = BoxCloneSyncService<Request<Body>, Response, Infallible>;

/// Builds an [`EngineLayer`]: the engine's settings, the mount path, the origins allowed
/// (for CORS and WebSocket alike), the handshake gates.
#[derive(Clone)]
#[must_use]
pub struct EngineLayerBuilder {
    config: EngineConfig,
    path: String,
    origins: AllowedOrigins,
    allow_request: Option<AllowRequest>,
    handshake_limit: Option<HandshakeLimit>,
    serve_client: bool,
    ws_read_buffer: Option<usize>,
}

impl fmt::Debug for EngineLayerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EngineLayerBuilder")
            .field("config", &self.config)
            .field("path", &self.path)
            .field("origins", &self.origins)
            .field("handshake_limit", &self.handshake_limit)
            .finish_non_exhaustive()
    }
}

impl Default for EngineLayerBuilder {
    fn default() -> Self {
        EngineLayerBuilder {
            config: EngineConfig::default(),
            path: "/socket.io/".to_owned(),
            origins: AllowedOrigins::SameOrigin,
            allow_request: None,
            handshake_limit: None,
            serve_client: true,
            ws_read_buffer: None,
        }
    }
}

impl EngineLayerBuilder {
    /// The engine's settings (heartbeat, limits, transports).
    pub fn config(mut self, config: EngineConfig) -> Self {
        self.config = config;
        self
    }

    /// Where the engine answers. Default `/socket.io/`; the Engine.IO default is `/engine.io/`.
    pub fn path(mut self, path: &str) -> Self {
        self.path = normalize_path(path);
        self
    }

    /// Which browser origins may use the engine, over every transport: see
    /// [`AllowedOrigins`]. Default [`AllowedOrigins::SameOrigin`]: pages served by the same
    /// host only, no CORS headers, WebSocket upgrades from other origins refused (403).
    pub fn origins(mut self, origins: AllowedOrigins) -> Self {
        self.origins = origins;
        self
    }

    /// Allows pages from these origins (and same-origin pages), over every transport: CORS
    /// answers them (with credentials) and their WebSocket upgrades are accepted; other
    /// browsers get 403 with Engine.IO code 4. Values that are not valid header values are
    /// ignored. Shorthand for [`EngineLayerBuilder::origins`] with [`AllowedOrigins::List`].
    pub fn allowed_origins<I, S>(self, origins: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let list = origins
            .into_iter()
            .filter_map(|o| HeaderValue::from_str(o.as_ref()).ok())
            .collect();
        self.origins(AllowedOrigins::List(list))
    }

    /// Allows pages from any origin (CORS answers `*`). Shorthand for
    /// [`EngineLayerBuilder::origins`] with [`AllowedOrigins::Any`].
    pub fn allow_any_origin(self) -> Self {
        self.origins(AllowedOrigins::Any)
    }

    /// Decides, before a session is allocated, whether a handshake may open one (e.g. check a
    /// cookie or token). `Err(message)` answers 403 `{"code":4,"message":...}`.
    pub fn allow_request<F>(mut self, f: F) -> Self
    where
        F: Fn(&http::request::Parts) -> Result<(), String> + Send + Sync + 'static,
    {
        self.allow_request = Some(Arc::new(f));
        self
    }

    /// Limits handshakes per remote address (`per_second` on average, `burst` at once); over
    /// it, 429 `{"message":"Too many handshakes"}`. Off by default: behind a reverse proxy every
    /// client shares the proxy's address. Needs the peer address (`tether_axum::serve`, or
    /// `into_make_service_with_connect_info::<SocketAddr>()`).
    pub fn handshake_limit(mut self, per_second: u32, burst: u32) -> Self {
        self.handshake_limit = Some(HandshakeLimit::new(per_second, burst));
        self
    }

    /// Whether to serve the bundled browser client at `<path>tether.js`, `<path>tether.min.js`
    /// and `<path>tether.min.js.map`. Default true.
    pub fn serve_client(mut self, on: bool) -> Self {
        self.serve_client = on;
        self
    }

    /// The read buffer of each WebSocket connection, in bytes (at least 256). It is resident
    /// for every connection, idle or not. Default:
    /// - [`crate::DEFAULT_WS_READ_BUFFER_READ_AHEAD`] (512 B) on the connections of
    ///   [`crate::serve`], which read ahead, so a message larger than the buffer still takes
    ///   few system calls (measured: 64 KiB echo as fast as with 4 KiB; 1 KiB echo about 5%
    ///   more CPU per message, which `ws_read_buffer(1024)` gives back for 0.5 KiB per idle
    ///   connection);
    /// - [`crate::DEFAULT_WS_READ_BUFFER`] (4 KiB) on others (`axum::serve`), where a message
    ///   larger than the buffer takes one system call per buffer's worth (measured, 64 KiB
    ///   echo: 1 KiB costs 30% more CPU per message than 4 KiB).
    pub fn ws_read_buffer(mut self, bytes: usize) -> Self {
        self.ws_read_buffer = Some(bytes.max(256));
        self
    }

    /// Builds the layer around `handler`. Call inside a tokio runtime.
    pub fn build<H: EngineHandler>(self, handler: H) -> EngineLayer<H> {
        let engine = Engine::new(self.config, handler);
        let cors = cors_for(&self.origins);
        let http = Arc::new(HttpConfig {
            path: self.path,
            origins: self.origins,
            allow_request: self.allow_request,
            handshake_limit: self.handshake_limit,
            serve_client: self.serve_client,
            ws_read_buffer: self.ws_read_buffer,
        });
        let svc = {
            let engine = engine.clone();
            let http = http.clone();
            tower::service_fn(move |req: Request<Body>| {
                let engine = engine.clone();
                let http = http.clone();
                async move { Ok::<_, Infallible>(dispatch(engine, http, req).await) }
            })
        };
        let svc = match cors {
            Some(cors) => BoxCloneSyncService::new(
                cors.layer(svc)
                    .map_response(|res: Response<_>| res.map(Body::new)),
            ),
            None => BoxCloneSyncService::new(svc),
        };
        EngineLayer { engine, http, svc }
    }
}

/// The CORS answers for the allowed origins: none for same-origin only.
fn cors_for(origins: &AllowedOrigins) -> Option<CorsLayer> {
    match origins {
        AllowedOrigins::SameOrigin => None,
        AllowedOrigins::Any => Some(CorsLayer::permissive()),
        AllowedOrigins::List(list) => Some(
            CorsLayer::new()
                .allow_origin(AllowOrigin::list(list.iter().cloned()))
                .allow_methods([Method::GET, Method::POST])
                .allow_headers(AllowHeaders::mirror_request())
                .allow_credentials(true),
        ),
    }
}

/// A tower layer that answers the engine's path and passes every other request to the app.
///
/// ```no_run
/// use axum::{Router, routing::get};
/// use tether_axum::{EngineLayer, EngineHandler, EngineSocket, Message, CloseReason};
///
/// struct Echo;
/// impl EngineHandler for Echo {
///     fn on_connect(&self, _socket: EngineSocket) {}
///     fn on_message(&self, socket: &EngineSocket, message: Message) {
///         let _ = match message {
///             Message::Text(text) => socket.send_text(&text),
///             Message::Binary(data) => socket.send_binary(data),
///         };
///     }
///     fn on_disconnect(&self, _socket: &EngineSocket, _reason: CloseReason) {}
/// }
///
/// # async fn run() {
/// let layer = EngineLayer::builder().path("/engine.io/").build(Echo);
/// let app: Router = Router::new().route("/", get(|| async { "hi" })).layer(layer);
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await.unwrap();
/// axum::serve(listener, app).await.unwrap();
/// # }
/// ```
pub struct EngineLayer<H> {
    engine: Engine<H>,
    http: Arc<HttpConfig>,
    svc: Inner,
}

impl<H> Clone for EngineLayer<H> {
    fn clone(&self) -> Self {
        EngineLayer {
            engine: self.engine.clone(),
            http: self.http.clone(),
            svc: self.svc.clone(),
        }
    }
}

impl<H> fmt::Debug for EngineLayer<H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EngineLayer")
            .field("path", &self.http.path)
            .field("engine", &self.engine)
            .finish_non_exhaustive()
    }
}

impl EngineLayer<()> {
    /// Starts building a layer.
    pub fn builder() -> EngineLayerBuilder {
        EngineLayerBuilder::default()
    }
}

impl<H: EngineHandler> EngineLayer<H> {
    /// The engine behind the layer: session count, lookup, graceful shutdown.
    pub fn engine(&self) -> &Engine<H> {
        &self.engine
    }
}

impl<S, H> Layer<S> for EngineLayer<H> {
    type Service = EngineService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        EngineService {
            inner,
            http: self.http.clone(),
            engine: self.svc.clone(),
        }
    }
}

/// The service made by [`EngineLayer`]: the engine on its path, `inner` everywhere else.
#[derive(Clone)]
pub struct EngineService<S> {
    inner: S,
    http: Arc<HttpConfig>,
    engine: Inner,
}

impl<S> fmt::Debug for EngineService<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EngineService")
            .field("path", &self.http.path)
            .finish_non_exhaustive()
    }
}

/// The response future of [`EngineService`].
pub type ResponseFuture = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

impl<S> Service<Request<Body>> for EngineService<S>
where
    S: Service<Request<Body>, Error = Infallible> + Clone + Send + 'static,
    S::Response: IntoResponse,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = ResponseFuture;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        if self.http.matches(req.uri().path()) {
            return Box::pin(self.engine.clone().oneshot(req));
        }
        let fut = self.inner.call(req);
        Box::pin(async move { fut.await.map(IntoResponse::into_response) })
    }
}
