//! Graceful shutdown: new handshakes are refused, acknowledgements in flight get time to
//! finish, then every session closes after flushing, all on tokio's paused clock.

mod support;

use http::HeaderMap;
use std::time::Duration;
use support::{Client, engine, sockets_of};
use tether_core::engine::{Handshake, RequestError};
use tether_core::socket::{AckError, SocketIo};

fn handshake_request() -> Handshake {
    let uri = "/socket.io/?EIO=4&transport=polling".parse().expect("uri");
    Handshake::new(&HeaderMap::new(), &uri, None).expect("an empty handshake fits")
}

#[tokio::test(start_paused = true)]
async fn an_ack_in_flight_is_answered_before_the_sessions_close() {
    let io = SocketIo::builder().build();
    let mut sockets = sockets_of(&io, "/");
    let engine = engine(&io);
    let mut client = Client::open(&engine);
    client.connect("/").await;
    let socket = sockets.next().await;
    let answer = socket.emit_with_ack("question", &1).expect("emitted");
    assert_eq!(client.recv().await, r#"420["question",1]"#);

    let shutdown = tokio::spawn({
        let engine = engine.clone();
        async move { engine.shutdown(Duration::from_secs(10)).await }
    });
    tokio::task::yield_now().await;
    // Draining: no new sessions, the old one still works.
    assert_eq!(
        engine.polling_handshake(handshake_request()).err(),
        Some(RequestError::ShuttingDown)
    );
    assert!(!shutdown.is_finished());
    client.send(r#"430["yes"]"#).await;
    let answer = answer.await.expect("answered");
    assert_eq!(answer.data::<String>().expect("a string"), "yes");
    assert_eq!(shutdown.await.expect("join"), 0, "every session closed");
    assert!(!client.is_open());
}

#[tokio::test(start_paused = true)]
async fn an_unanswered_ack_waits_half_the_deadline_then_fails() {
    let io = SocketIo::builder().build();
    let mut sockets = sockets_of(&io, "/");
    let engine = engine(&io);
    let mut client = Client::open(&engine);
    client.connect("/").await;
    let socket = sockets.next().await;
    let answer = socket
        .emit_with_ack("question", &1)
        .expect("emitted")
        .timeout(Duration::from_secs(60));
    let started = tokio::time::Instant::now();
    let left = engine.shutdown(Duration::from_secs(4)).await;
    assert_eq!(left, 0);
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(2) && waited < Duration::from_secs(4),
        "drained for half the deadline, then closed: {waited:?}"
    );
    assert_eq!(answer.await.err(), Some(AckError::Disconnected));
    assert!(client.assert_closed().await.iter().all(|p| p != "2"));
}

#[tokio::test(start_paused = true)]
async fn without_work_in_flight_shutdown_closes_at_once() {
    let io = SocketIo::builder().build();
    let _sockets = sockets_of(&io, "/");
    let engine = engine(&io);
    let mut client = Client::open(&engine);
    client.connect("/").await;
    let started = tokio::time::Instant::now();
    assert_eq!(engine.shutdown(Duration::from_secs(10)).await, 0);
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(engine.session_count(), 0);
}
