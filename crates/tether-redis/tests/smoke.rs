//! One node's first steps on Redis: it subscribes, it counts itself, it sees a second node.

mod support;

use std::time::Duration;
use support::RedisServer;
use tether_core::socket::SocketIo;
use tether_redis::{RedisConfig, RedisNode};
use tokio::time::timeout;

const WAIT: Duration = Duration::from_secs(10);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_subscribe_and_count_each_other() {
    let server = RedisServer::start();
    let a = timeout(
        WAIT,
        RedisNode::connect(&server.url(), RedisConfig::default()),
    )
    .await
    .expect("in time")
    .expect("connects");
    let io_a = SocketIo::builder().adapter(a.adapter()).build();
    io_a.ns("/", || async {});
    timeout(WAIT, a.ready("/"))
        .await
        .expect("subscribed in time");
    assert_eq!(
        timeout(WAIT, io_a.server_count()).await.expect("in time"),
        Ok(1)
    );
    let b = RedisNode::connect(&server.url(), RedisConfig::default())
        .await
        .expect("connects");
    let io_b = SocketIo::builder().adapter(b.adapter()).build();
    io_b.ns("/", || async {});
    timeout(WAIT, b.ready("/"))
        .await
        .expect("subscribed in time");
    assert_eq!(
        timeout(WAIT, io_a.server_count()).await.expect("in time"),
        Ok(2)
    );
    let rooms = timeout(WAIT, io_a.to("x").all_rooms())
        .await
        .expect("in time");
    assert_eq!(rooms, Ok(Vec::new()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_down_at_start_up_is_a_clear_error() {
    // A port nothing listens on: bound, then released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port");
    let url = format!("redis://127.0.0.1:{port}");
    let err = timeout(WAIT * 6, RedisNode::connect(&url, RedisConfig::default()))
        .await
        .expect("fails in time")
        .expect_err("nothing listens there");
    assert!(err.is_connection_refusal() || err.is_io_error(), "{err}");
    let bad = RedisNode::connect("not a url", RedisConfig::default()).await;
    assert!(bad.is_err());
}
