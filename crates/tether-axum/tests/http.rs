//! HTTP-level tests without sockets: every status code and error body the engine answers with,
//! driven through the layer with tower's `oneshot`.

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::response::Response;
use axum::routing::get;
use http::{Method, Request, StatusCode, header};
use std::time::Duration;
use tether_axum::{CloseReason, EngineConfig, EngineHandler, EngineLayer, EngineSocket, Message};
use tower::ServiceExt;

struct Echo;
impl EngineHandler for Echo {
    fn on_connect(&self, _socket: EngineSocket) {}
    fn on_message(&self, socket: &EngineSocket, message: Message) {
        let _ = match message {
            Message::Text(text) => socket.send_text(&text),
            Message::Binary(data) => socket.send_binary(data),
        };
    }
    fn on_disconnect(&self, _socket: &EngineSocket, _reason: CloseReason) {}
}

fn app_with(layer: EngineLayer<Echo>) -> Router {
    Router::new()
        .route("/", get(|| async { "home" }))
        .layer(layer)
}

fn app() -> Router {
    app_with(EngineLayer::builder().build(Echo))
}

async fn call(app: &Router, method: Method, uri: &str, body: &'static str) -> (StatusCode, String) {
    let res = send(app, Request::builder().method(method).uri(uri), body).await;
    let status = res.status();
    (status, text(res).await)
}

async fn send(app: &Router, req: http::request::Builder, body: &'static str) -> Response {
    app.clone()
        .oneshot(req.body(Body::from(body)).expect("request"))
        .await
        .expect("infallible")
}

async fn text(res: Response) -> String {
    let bytes = to_bytes(res.into_body(), usize::MAX).await.expect("body");
    String::from_utf8(bytes.to_vec()).expect("utf-8")
}

async fn handshake(app: &Router) -> String {
    let (status, body) = call(app, Method::GET, "/socket.io/?EIO=4&transport=polling", "").await;
    assert_eq!(status, StatusCode::OK);
    let json: serde_json::Value = serde_json::from_str(&body[1..]).expect("open json");
    json["sid"].as_str().expect("sid").to_owned()
}

#[tokio::test]
async fn handshake_is_the_open_packet_with_headers() {
    let app = app();
    let res = send(
        &app,
        Request::get("/socket.io/?EIO=4&transport=polling&t=Nx1"),
        "",
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers()[header::CONTENT_TYPE],
        "text/plain; charset=UTF-8"
    );
    assert_eq!(res.headers()[header::CACHE_CONTROL], "no-store");
    let body = text(res).await;
    assert!(body.starts_with("0{\"sid\":\""), "{body}");
    assert!(body.ends_with(
        "\",\"upgrades\":[\"websocket\"],\"pingInterval\":25000,\"pingTimeout\":20000,\"maxPayload\":1000000}"
    ));
}

#[tokio::test]
async fn error_codes_0_to_5_with_their_bodies() {
    let app = app();
    let cases = [
        (
            Method::GET,
            "/socket.io/?EIO=4&transport=abc",
            0,
            "Transport unknown",
        ),
        (Method::GET, "/socket.io/?EIO=4", 0, "Transport unknown"),
        (
            Method::GET,
            "/socket.io/?EIO=4&transport=polling&sid=AAAAAAAAAAAAAAAAAAAA",
            1,
            "Session ID unknown",
        ),
        (
            Method::GET,
            "/socket.io/?EIO=4&transport=polling&sid=bad",
            1,
            "Session ID unknown",
        ),
        (
            Method::POST,
            "/socket.io/?EIO=4&transport=polling",
            2,
            "Bad handshake method",
        ),
        (
            Method::PUT,
            "/socket.io/?EIO=4&transport=polling",
            2,
            "Bad handshake method",
        ),
        (
            Method::GET,
            "/socket.io/?EIO=4&transport=websocket",
            3,
            "Bad request",
        ),
        (
            Method::GET,
            "/socket.io/?transport=polling",
            5,
            "Unsupported protocol version",
        ),
        (
            Method::GET,
            "/socket.io/?EIO=abc&transport=polling",
            5,
            "Unsupported protocol version",
        ),
        (
            Method::GET,
            "/socket.io/?EIO=3&transport=polling",
            5,
            "Unsupported protocol version",
        ),
    ];
    for (method, uri, code, message) in cases {
        let res = send(&app, Request::builder().method(method.clone()).uri(uri), "").await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{method} {uri}");
        assert_eq!(res.headers()[header::CONTENT_TYPE], "application/json");
        assert_eq!(
            text(res).await,
            format!("{{\"code\":{code},\"message\":\"{message}\"}}"),
            "{method} {uri}"
        );
    }
}

#[tokio::test]
async fn post_then_poll_echoes_and_put_on_a_session_is_refused() {
    let app = app();
    let sid = handshake(&app).await;
    let uri = format!("/socket.io/?EIO=4&transport=polling&sid={sid}");
    let res = send(&app, Request::post(&uri), "4hello\x1ebAQIDBA==").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()[header::CONTENT_TYPE], "text/html");
    assert_eq!(text(res).await, "ok");
    assert_eq!(
        call(&app, Method::GET, &uri, "").await,
        (StatusCode::OK, "4hello\x1ebAQIDBA==".to_owned())
    );
    let (status, body) = call(&app, Method::PUT, &uri, "").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body, r#"{"code":3,"message":"Bad request"}"#);
}

#[tokio::test]
async fn websocket_upgrade_with_a_polling_get_is_bad_request() {
    let app = app();
    let sid = handshake(&app).await;
    // A websocket transport request that is not an Upgrade request.
    let uri = format!("/socket.io/?EIO=4&transport=websocket&sid={sid}");
    let (status, body) = call(&app, Method::GET, &uri, "").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body, r#"{"code":3,"message":"Bad request"}"#);
}

#[tokio::test]
async fn oversized_post_is_413_and_the_session_survives() {
    let layer = EngineLayer::builder()
        .config(EngineConfig::default().max_payload(10))
        .build(Echo);
    let app = app_with(layer);
    let sid = handshake(&app).await;
    let uri = format!("/socket.io/?EIO=4&transport=polling&sid={sid}");
    let (status, body) = call(&app, Method::POST, &uri, "4this is longer than ten").await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(body, r#"{"message":"Payload too large"}"#);
    assert_eq!(call(&app, Method::POST, &uri, "4ten bytes").await.1, "ok");
    assert_eq!(call(&app, Method::GET, &uri, "").await.1, "4ten bytes");
}

#[tokio::test]
async fn invalid_post_closes_the_session() {
    let app = app();
    let sid = handshake(&app).await;
    let uri = format!("/socket.io/?EIO=4&transport=polling&sid={sid}");
    let (status, _) = call(&app, Method::POST, &uri, "abc").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, body) = call(&app, Method::GET, &uri, "").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body, r#"{"code":1,"message":"Session ID unknown"}"#);
}

#[tokio::test]
async fn binary_content_type_post_is_400_and_closes_the_session() {
    let app = app();
    let sid = handshake(&app).await;
    let uri = format!("/socket.io/?EIO=4&transport=polling&sid={sid}");
    let req = Request::post(&uri).header(header::CONTENT_TYPE, "application/octet-stream");
    assert_eq!(
        send(&app, req, "4x").await.status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        call(&app, Method::GET, &uri, "").await.0,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn origin_allow_list_gives_403_code_4() {
    let layer = EngineLayer::builder()
        .allowed_origins(["https://good.example"])
        .build(Echo);
    let app = app_with(layer);
    let uri = "/socket.io/?EIO=4&transport=polling";
    let bad = send(
        &app,
        Request::get(uri).header(header::ORIGIN, "https://evil.example"),
        "",
    )
    .await;
    assert_eq!(bad.status(), StatusCode::FORBIDDEN);
    assert_eq!(text(bad).await, r#"{"code":4,"message":"Forbidden"}"#);
    let good = send(
        &app,
        Request::get(uri).header(header::ORIGIN, "https://good.example"),
        "",
    )
    .await;
    assert_eq!(good.status(), StatusCode::OK);
    // Not a browser: no Origin header, not affected.
    assert_eq!(call(&app, Method::GET, uri, "").await.0, StatusCode::OK);
}

#[tokio::test]
async fn too_many_sessions_is_503() {
    let layer = EngineLayer::builder()
        .config(EngineConfig::default().max_sessions(1))
        .build(Echo);
    let app = app_with(layer);
    handshake(&app).await;
    let (status, body) = call(&app, Method::GET, "/socket.io/?EIO=4&transport=polling", "").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body, r#"{"message":"Too many sessions"}"#);
}

#[tokio::test]
async fn cors_preflight_and_headers_on_errors() {
    let layer = EngineLayer::builder().allow_any_origin().build(Echo);
    let app = app_with(layer);
    let preflight = Request::builder()
        .method(Method::OPTIONS)
        .uri("/socket.io/?EIO=4&transport=polling")
        .header(header::ORIGIN, "https://a.example")
        .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST");
    let res = send(&app, preflight, "").await;
    assert!(res.status().is_success(), "{}", res.status());
    assert_eq!(res.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*");
    let err =
        Request::get("/socket.io/?EIO=4&transport=abc").header(header::ORIGIN, "https://a.example");
    let res = send(&app, err, "").await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(res.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*");
}

#[tokio::test]
async fn other_paths_reach_the_app() {
    let app = app();
    assert_eq!(
        call(&app, Method::GET, "/", "").await,
        (StatusCode::OK, "home".to_owned())
    );
    assert_eq!(
        call(&app, Method::GET, "/nope", "").await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        call(&app, Method::GET, "/engine.io/?EIO=4&transport=polling", "")
            .await
            .0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test(start_paused = true)]
async fn held_poll_is_answered_by_the_ping_and_the_session_dies_without_pong() {
    let layer = EngineLayer::builder()
        .config(
            EngineConfig::default()
                .ping_interval(Duration::from_millis(300))
                .ping_timeout(Duration::from_millis(200)),
        )
        .build(Echo);
    let engine = layer.engine().clone();
    let app = app_with(layer);
    let sid = handshake(&app).await;
    let uri = format!("/socket.io/?EIO=4&transport=polling&sid={sid}");
    // Held until the ticker queues the ping (the paused clock advances by itself).
    assert_eq!(
        call(&app, Method::GET, &uri, "").await,
        (StatusCode::OK, "2".to_owned())
    );
    assert_eq!(engine.session_count(), 1);
    // No pong: the next poll is held and completed with a close packet at the ping timeout.
    assert_eq!(
        call(&app, Method::GET, &uri, "").await,
        (StatusCode::OK, "1".to_owned())
    );
    assert_eq!(engine.session_count(), 0);
    assert_eq!(
        call(&app, Method::GET, &uri, "").await.0,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test(start_paused = true)]
async fn duplicate_get_closes_the_session_and_the_first_gets_close() {
    let app = app();
    let sid = handshake(&app).await;
    let uri = format!("/socket.io/?EIO=4&transport=polling&sid={sid}");
    let first = tokio::spawn({
        let app = app.clone();
        let uri = uri.clone();
        async move { call(&app, Method::GET, &uri, "").await }
    });
    // On this single-threaded runtime, one yield runs the spawned poll until it is held.
    tokio::task::yield_now().await;
    let second = call(&app, Method::GET, &uri, "").await;
    assert_eq!(second.0, StatusCode::BAD_REQUEST);
    assert_eq!(first.await.expect("join"), (StatusCode::OK, "1".to_owned()));
    assert_eq!(
        call(&app, Method::GET, &uri, "").await.0,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test(start_paused = true)]
async fn graceful_shutdown_answers_held_polls_with_close() {
    let layer = EngineLayer::builder().build(Echo);
    let engine = layer.engine().clone();
    let app = app_with(layer);
    let sid = handshake(&app).await;
    let uri = format!("/socket.io/?EIO=4&transport=polling&sid={sid}");
    let held = tokio::spawn({
        let app = app.clone();
        async move { call(&app, Method::GET, &uri, "").await }
    });
    // On this single-threaded runtime, one yield runs the spawned poll until it is held.
    tokio::task::yield_now().await;
    assert!(!held.is_finished());
    assert!(
        engine
            .socket(tether_axum::Sid::parse(&sid).expect("sid"))
            .is_some()
    );
    assert_eq!(engine.shutdown(Duration::from_secs(1)).await, 0);
    assert_eq!(held.await.expect("join"), (StatusCode::OK, "1".to_owned()));
}

#[tokio::test]
async fn allow_request_refuses_with_403_before_a_session_exists() {
    let layer = EngineLayer::builder()
        .allow_request(|parts| match parts.headers.get(header::COOKIE) {
            Some(cookie) if cookie == "token=ok" => Ok(()),
            _ => Err("no token".to_owned()),
        })
        .build(Echo);
    let engine = layer.engine().clone();
    let app = app_with(layer);
    let uri = "/socket.io/?EIO=4&transport=polling";
    let (status, body) = call(&app, Method::GET, uri, "").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body, r#"{"code":4,"message":"no token"}"#);
    assert_eq!(engine.session_count(), 0);
    let ok = send(
        &app,
        Request::get(uri).header(header::COOKIE, "token=ok"),
        "",
    )
    .await;
    assert_eq!(ok.status(), StatusCode::OK);
    assert_eq!(engine.session_count(), 1);
}

#[tokio::test]
async fn handshake_limit_is_per_address_with_429() {
    use axum::extract::ConnectInfo;
    use std::net::SocketAddr;
    let layer = EngineLayer::builder().handshake_limit(1, 2).build(Echo);
    let app = app_with(layer);
    let from = |ip: [u8; 4]| {
        Request::get("/socket.io/?EIO=4&transport=polling")
            .extension(ConnectInfo(SocketAddr::from((ip, 4000))))
    };
    assert_eq!(
        send(&app, from([10, 0, 0, 1]), "").await.status(),
        StatusCode::OK
    );
    assert_eq!(
        send(&app, from([10, 0, 0, 1]), "").await.status(),
        StatusCode::OK
    );
    let refused = send(&app, from([10, 0, 0, 1]), "").await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(text(refused).await, r#"{"message":"Too many handshakes"}"#);
    assert_eq!(
        send(&app, from([10, 0, 0, 2]), "").await.status(),
        StatusCode::OK
    );
    // Requests on an existing session are not handshakes and are not limited.
    let sid = handshake(&app).await;
    let uri = format!("/socket.io/?EIO=4&transport=polling&sid={sid}");
    let post = Request::post(&uri).extension(ConnectInfo(SocketAddr::from(([10, 0, 0, 1], 4000))));
    assert_eq!(send(&app, post, "4x").await.status(), StatusCode::OK);
}

#[tokio::test(start_paused = true)]
async fn a_post_body_that_never_arrives_times_out_and_frees_the_post_slot() {
    let layer = EngineLayer::builder()
        .config(
            EngineConfig::default()
                .ping_interval(Duration::from_secs(60))
                .ping_timeout(Duration::from_millis(200)),
        )
        .build(Echo);
    let app = app_with(layer);
    let sid = handshake(&app).await;
    let uri = format!("/socket.io/?EIO=4&transport=polling&sid={sid}");
    let never = futures_util::stream::pending::<Result<bytes::Bytes, std::io::Error>>();
    let req = Request::post(&uri)
        .body(Body::from_stream(never))
        .expect("request");
    let res = app.clone().oneshot(req).await.expect("infallible");
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(call(&app, Method::POST, &uri, "4after").await.1, "ok");
    assert_eq!(call(&app, Method::GET, &uri, "").await.1, "4after");
}

#[tokio::test]
async fn a_declared_length_over_max_payload_is_refused_before_the_body() {
    let layer = EngineLayer::builder()
        .config(EngineConfig::default().max_payload(10))
        .build(Echo);
    let app = app_with(layer);
    let sid = handshake(&app).await;
    let uri = format!("/socket.io/?EIO=4&transport=polling&sid={sid}");
    let never = futures_util::stream::pending::<Result<bytes::Bytes, std::io::Error>>();
    let req = Request::post(&uri)
        .header(header::CONTENT_LENGTH, "2000000000")
        .body(Body::from_stream(never))
        .expect("request");
    let res = app.clone().oneshot(req).await.expect("infallible");
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(call(&app, Method::POST, &uri, "4ok").await.1, "ok");
}
