//! HTTP responses of the engine: payloads, `ok`, and the Engine.IO JSON errors.

use axum::body::Body;
use axum::response::Response;
use bytes::Bytes;
use http::HeaderValue;
use http::header::{CACHE_CONTROL, CONTENT_TYPE};
use tether_core::engine::RequestError;

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
