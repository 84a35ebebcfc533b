//! HTTP responses of the engine: payloads, `ok`, and the Engine.IO JSON errors.

use axum::body::Body;
use axum::response::Response;
use bytes::Bytes;
use futures_util::StreamExt;
use http::header::{CACHE_CONTROL, CONTENT_TYPE};
use http::{HeaderName, HeaderValue};
use tether_core::engine::{EventStream, RequestError};

/// 200 with a polling payload.
pub(crate) fn payload(body: Bytes) -> Response {
    let mut res = Response::new(Body::from(body));
    let headers = res.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=UTF-8"),
    );
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// 200 with an event stream (the streaming transport), each chunk sent as it comes:
/// `no-cache`, and `X-Accel-Buffering: no` so that nginx passes it on unbuffered.
pub(crate) fn event_stream(events: EventStream) -> Response {
    let body = events.map(Ok::<_, std::convert::Infallible>);
    let mut res = Response::new(Body::from_stream(body));
    let headers = res.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        HeaderName::from_static("x-accel-buffering"),
        HeaderValue::from_static("no"),
    );
    res
}

/// 200 `ok`, the answer to a POST.
pub(crate) fn ok() -> Response {
    let mut res = Response::new(Body::from("ok"));
    res.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("text/html"));
    res
}

/// An Engine.IO error: its status and `{"code":N,"message":"..."}`.
pub(crate) fn error(err: &RequestError) -> Response {
    let mut res = Response::new(Body::from(err.body()));
    *res.status_mut() = err.status();
    res.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    res
}

/// 403 code 4 for an origin that is not allowed.
pub(crate) fn forbidden_origin() -> Response {
    error(&RequestError::Forbidden("Forbidden".to_owned()))
}
