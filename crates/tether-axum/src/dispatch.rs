//! One request to the engine's path, from HTTP to the engine and back. No protocol logic lives
//! here: [`classify`] decides what the request is, the engine decides the answer.

use axum::body::Body;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::response::{IntoResponse, Response};
use http::header::{CONNECTION, CONTENT_TYPE, UPGRADE};
use http::{HeaderMap, Method, Request};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use std::net::SocketAddr;
use std::sync::Arc;
use tether_core::engine::{
    BodyError, Engine, EngineHandler, EngineRequest, Handshake, RequestError, classify,
};

use crate::client;
use crate::config::HttpConfig;
use crate::read_ahead::ReadsAhead;
use crate::respond;
use crate::ws::AxumWs;

/// Frames written to a WebSocket collect up to this many bytes until the connection task
/// flushes, so a burst (a broadcast, a batch of events) leaves in one system call. The buffer
/// grows only as far as a burst needs; the outbox bound (`max_buffered_bytes`) caps a burst.
const WS_WRITE_BUFFER: usize = 64 * 1024;

/// Answers one request addressed to the engine.
pub(crate) async fn dispatch<H: EngineHandler>(
    engine: Engine<H>,
    http: Arc<HttpConfig>,
    req: Request<Body>,
) -> Response {
    if http.serve_client
        && matches!(*req.method(), Method::GET | Method::HEAD)
        && let Some(file) = req.uri().path().strip_prefix(http.path.as_str())
        && let Some(res) = client::serve(file, req.method(), req.headers())
    {
        return res;
    }
    if !http.origin_allowed(req.headers()) {
        return respond::forbidden_origin();
    }
    let query = req.uri().query().unwrap_or("");
    let kind = classify(
        req.method(),
        query,
        is_websocket_upgrade(req.headers()),
        engine.config(),
    );
    let (kind, req) = match kind {
        Ok(
            EngineRequest::PollingHandshake
            | EngineRequest::WebSocketHandshake
            | EngineRequest::StreamingHandshake,
        ) => match gate(&http, req) {
            Ok(req) => (kind, req),
            Err(err) => return respond::error(&err),
        },
        _ => (kind, req),
    };
    let result = match kind {
        Ok(EngineRequest::PollingHandshake) => handshake(&req)
            .and_then(|handshake| engine.polling_handshake(handshake))
            .map(respond::payload),
        Ok(EngineRequest::Poll(sid)) => engine.poll(sid).await.map(respond::payload),
        Ok(EngineRequest::Post(sid)) => {
            let binary = is_binary(req.headers());
            let limit = engine.config().max_payload;
            if declared_length(req.headers()).is_some_and(|len| len > limit) {
                // Refused from the header alone, so the session's POST slot is never taken.
                return respond::error(&RequestError::PayloadTooLarge);
            }
            // A body must arrive within pingTimeout: a client trickling bytes would otherwise
            // hold the session's one POST slot for ever.
            let within = engine.config().ping_timeout;
            let body = async move {
                let read = Limited::new(req.into_body(), limit).collect();
                match tokio::time::timeout(within, read).await {
                    Ok(Ok(collected)) => Ok(collected.to_bytes()),
                    Ok(Err(err)) if err.downcast_ref::<LengthLimitError>().is_some() => {
                        Err(BodyError::TooLarge)
                    }
                    Ok(Err(_)) | Err(_) => Err(BodyError::Io),
                }
            };
            engine.post(sid, binary, body).await.map(|()| respond::ok())
        }
        Ok(EngineRequest::StreamingHandshake) => handshake(&req)
            .and_then(|handshake| engine.streaming_handshake(handshake))
            .map(respond::event_stream),
        Ok(EngineRequest::Stream(sid)) => engine.stream(sid).map(respond::event_stream),
        Ok(EngineRequest::WebSocketHandshake) => websocket(engine, &http, req, None).await,
        Ok(EngineRequest::Upgrade(sid)) => websocket(engine, &http, req, Some(sid)).await,
        Err(err) => Err(err),
    };
    result.unwrap_or_else(|err| {
        tracing::debug!(error = %err, "engine request refused");
        respond::error(&err)
    })
}

/// The gates a handshake passes before a session exists: the rate limit, then `allow_request`.
fn gate(http: &HttpConfig, req: Request<Body>) -> Result<Request<Body>, RequestError> {
    if let Some(limit) = &http.handshake_limit
        && let Some(ConnectInfo(addr)) = req.extensions().get::<ConnectInfo<SocketAddr>>()
        && !limit.allow(addr.ip(), std::time::Instant::now())
    {
        return Err(RequestError::TooManyHandshakes);
    }
    let Some(allow) = &http.allow_request else {
        return Ok(req);
    };
    let (parts, body) = req.into_parts();
    allow(&parts).map_err(RequestError::Forbidden)?;
    Ok(Request::from_parts(parts, body))
}

async fn websocket<H: EngineHandler>(
    engine: Engine<H>,
    http: &HttpConfig,
    req: Request<Body>,
    sid: Option<tether_core::engine::Sid>,
) -> Result<Response, RequestError> {
    let handshake = Box::new(handshake(&req)?);
    engine.check_websocket(sid, handshake.remote_addr)?;
    let reads_ahead = req.extensions().get::<ReadsAhead>().is_some();
    let (mut parts, _) = req.into_parts();
    let upgrade = WebSocketUpgrade::from_request_parts(&mut parts, &())
        .await
        .map_err(|_| RequestError::BadRequest)?;
    let max = engine.config().max_payload;
    Ok(upgrade
        .read_buffer_size(http.ws_read_buffer_for(reads_ahead))
        .write_buffer_size(WS_WRITE_BUFFER)
        // What the write buffer may hold: a batch and the largest message the outbox takes
        // (a message cannot be larger than `max_buffered_bytes`), plus frame headers.
        .max_write_buffer_size(WS_WRITE_BUFFER + engine.config().max_buffered_bytes + 1024)
        .max_message_size(max)
        .max_frame_size(max)
        .on_upgrade(move |socket| {
            // The connection runs in a task of its own, so axum's upgrade task (its
            // configuration, the upgrade future, the stream's setup) ends now instead of
            // living, as large as its largest state, as long as the connection (measured:
            // 0.15 KiB less per idle connection). The socket is boxed for the same reason.
            let ws = AxumWs(Box::new(socket));
            tokio::spawn(async move { engine.run_websocket(ws, sid, handshake).await });
            std::future::ready(())
        })
        .into_response())
}

fn handshake(req: &Request<Body>) -> Result<Handshake, RequestError> {
    let remote = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0);
    Handshake::new(req.headers(), req.uri(), remote)
}

/// `Connection: upgrade` and `Upgrade: websocket`, as a browser sends them.
fn is_websocket_upgrade(headers: &HeaderMap) -> bool {
    let has = |name, token: &str| {
        headers.get_all(name).iter().any(|v| {
            v.to_str().is_ok_and(|v| {
                v.split(',')
                    .any(|part| part.trim().eq_ignore_ascii_case(token))
            })
        })
    };
    has(UPGRADE, "websocket") && has(CONNECTION, "upgrade")
}

/// The `Content-Length` the client announced, if any.
fn declared_length(headers: &HeaderMap) -> Option<usize> {
    headers
        .get(http::header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// A v4 client always POSTs text; a binary content type is refused.
fn is_binary(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().starts_with("application/octet-stream"))
}
