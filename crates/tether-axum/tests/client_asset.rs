//! The bundled client as the layer serves it: encodings, ETag and 304, HEAD, and the switch
//! that turns it off.

use axum::Router;
use axum::body::{Body, to_bytes};
use http::{Method, Request, StatusCode, header};
use tether_axum::{CloseReason, EngineHandler, EngineLayer, EngineSocket, Message};
use tower::ServiceExt;

struct Nothing;
impl EngineHandler for Nothing {
    fn on_connect(&self, _socket: EngineSocket) {}
    fn on_message(&self, _socket: &EngineSocket, _message: Message) {}
    fn on_disconnect(&self, _socket: &EngineSocket, _reason: CloseReason) {}
}

const MIN_JS: &[u8] = include_bytes!("../../../client-js/dist/tether.min.js");
const MIN_JS_GZ: &[u8] = include_bytes!("../../../client-js/dist/tether.min.js.gz");
const MIN_JS_BR: &[u8] = include_bytes!("../../../client-js/dist/tether.min.js.br");
const JS: &[u8] = include_bytes!("../../../client-js/dist/tether.js");

fn app(serve: bool) -> Router {
    Router::new().layer(EngineLayer::builder().serve_client(serve).build(Nothing))
}

async fn get(
    app: &Router,
    method: Method,
    path: &str,
    headers: &[(&str, &str)],
) -> http::Response<Body> {
    let mut req = Request::builder().method(method).uri(path);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    app.clone()
        .oneshot(req.body(Body::empty()).expect("request"))
        .await
        .expect("infallible")
}

async fn body(res: http::Response<Body>) -> Vec<u8> {
    to_bytes(res.into_body(), usize::MAX)
        .await
        .expect("body")
        .to_vec()
}

#[tokio::test]
async fn serves_each_encoding_with_its_headers() {
    let app = app(true);
    let cases: [(&str, Option<&str>, &[u8]); 4] = [
        ("", None, MIN_JS),
        ("gzip", Some("gzip"), MIN_JS_GZ),
        ("gzip, deflate, br", Some("br"), MIN_JS_BR),
        ("br;q=0, gzip", Some("gzip"), MIN_JS_GZ),
    ];
    for (accept, coding, bytes) in cases {
        let res = get(
            &app,
            Method::GET,
            "/socket.io/tether.min.js",
            &[("accept-encoding", accept)],
        )
        .await;
        assert_eq!(res.status(), StatusCode::OK, "{accept}");
        let h = res.headers();
        assert_eq!(
            h[header::CONTENT_TYPE],
            "application/javascript; charset=utf-8"
        );
        assert_eq!(h[header::VARY], "Accept-Encoding");
        assert!(h.contains_key(header::CACHE_CONTROL));
        assert_eq!(
            h.get(header::CONTENT_ENCODING)
                .map(|v| v.to_str().expect("ascii")),
            coding
        );
        assert_eq!(h[header::CONTENT_LENGTH], bytes.len().to_string().as_str());
        assert_eq!(body(res).await, bytes, "{accept}");
    }
    let res = get(&app, Method::GET, "/socket.io/tether.js", &[]).await;
    assert_eq!(body(res).await, JS);
    let map = get(&app, Method::GET, "/socket.io/tether.min.js.map", &[]).await;
    assert_eq!(
        map.headers()[header::CONTENT_TYPE],
        "application/json; charset=utf-8"
    );
}

#[tokio::test]
async fn etag_gives_304_and_differs_per_encoding() {
    let app = app(true);
    let plain = get(&app, Method::GET, "/socket.io/tether.min.js", &[]).await;
    let gz = get(
        &app,
        Method::GET,
        "/socket.io/tether.min.js",
        &[("accept-encoding", "gzip")],
    )
    .await;
    let etag = plain.headers()[header::ETAG]
        .to_str()
        .expect("ascii")
        .to_owned();
    let etag_gz = gz.headers()[header::ETAG]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(etag.starts_with('"') && etag.ends_with('"'));
    assert_ne!(etag, etag_gz);
    let res = get(
        &app,
        Method::GET,
        "/socket.io/tether.min.js",
        &[("if-none-match", &etag)],
    )
    .await;
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
    assert!(body(res).await.is_empty());
    // The plain tag does not match the gzip variant.
    let res = get(
        &app,
        Method::GET,
        "/socket.io/tether.min.js",
        &[("if-none-match", &etag), ("accept-encoding", "gzip")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = get(
        &app,
        Method::GET,
        "/socket.io/tether.min.js",
        &[("if-none-match", "\"other\"")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn head_has_the_headers_and_no_body() {
    let res = get(&app(true), Method::HEAD, "/socket.io/tether.min.js", &[]).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers()[header::CONTENT_LENGTH],
        MIN_JS.len().to_string().as_str()
    );
    assert!(body(res).await.is_empty());
}

#[tokio::test]
async fn turned_off_the_path_is_the_engine_s_again() {
    let res = get(&app(false), Method::GET, "/socket.io/tether.min.js", &[]).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        body(res).await,
        br#"{"code":0,"message":"Transport unknown"}"#
    );
}

#[tokio::test]
async fn the_client_follows_the_mount_path() {
    let app = Router::new().layer(EngineLayer::builder().path("/rt").build(Nothing));
    let res = get(&app, Method::GET, "/rt/tether.min.js", &[]).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(body(res).await, MIN_JS);
}
