//! The recovery scripts on a real redis-server: a recorded message is stored and published with
//! its offset in place, atomically; a claim moves the owner and the epoch, and the old owner's
//! writes are refused from then on (the fencing a stale copy of a socket needs).

mod support;

use redis::AsyncCommands;
use std::time::Duration;
use support::RedisServer;
use tether_redis::recovery_wire::{
    CLAIM, FORGET, Keys, OFFSET_LEN, RECORD, StreamId, WRITE, placeholder, placeholder_at,
};

async fn conn(server: &RedisServer) -> redis::aio::MultiplexedConnection {
    redis::Client::open(server.url())
        .expect("url")
        .get_multiplexed_async_connection()
        .await
        .expect("connect")
}

async fn record(
    c: &mut redis::aio::MultiplexedConnection,
    stream: &str,
    message: &[u8],
    at: usize,
    channel: &str,
    min_id: &str,
) -> redis::RedisResult<String> {
    redis::cmd("EVAL")
        .arg(RECORD)
        .arg(1)
        .arg(stream)
        .arg(message)
        .arg(at)
        .arg(channel)
        .arg(min_id)
        .query_async(c)
        .await
}

#[tokio::test]
async fn a_recorded_message_is_stored_and_published_with_its_offset_in_place() {
    let server = RedisServer::start();
    let keys = Keys::new("t", "/");
    let client = redis::Client::open(format!("{}?protocol=resp3", server.url())).expect("url");
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let config = redis::AsyncConnectionConfig::new().set_push_sender(tx);
    let mut sub = client
        .get_multiplexed_async_connection_with_config(&config)
        .await
        .expect("subscriber");
    sub.subscribe("chan").await.expect("subscribe");
    let mut c = conn(&server).await;

    let ph = placeholder();
    let message = format!("head\"{ph}\"tail");
    let at = placeholder_at(message.as_bytes(), &ph).expect("placeholder");
    let id = record(&mut c, &keys.stream, message.as_bytes(), at, "chan", "0-0")
        .await
        .expect("recorded");
    let id = StreamId::parse(&id).expect("a stream id");
    let want = format!("head\"{}\"tail", id.offset());
    let published = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            let push = rx.recv().await.expect("pushes");
            if push.kind == redis::PushKind::Message {
                let payload: Vec<u8> =
                    redis::from_redis_value(push.data[1].clone()).expect("bytes");
                return payload;
            }
        }
    })
    .await
    .expect("the message was published");
    assert_eq!(String::from_utf8(published).expect("utf-8"), want);
    assert_eq!(id.offset().len(), OFFSET_LEN);

    // The stream keeps the message as sent, with where its placeholder is.
    let entries: Vec<(String, Vec<Vec<u8>>)> = redis::cmd("XRANGE")
        .arg(&keys.stream)
        .arg("-")
        .arg("+")
        .query_async(&mut c)
        .await
        .expect("xrange");
    assert_eq!(entries.len(), 1);
    assert_eq!(StreamId::parse(&entries[0].0), Some(id));
    let fields = &entries[0].1;
    assert_eq!(
        fields,
        &vec![
            b"m".to_vec(),
            message.into_bytes(),
            b"i".to_vec(),
            at.to_string().into_bytes()
        ]
    );

    // MINID trims what is older than it (approximately: `~` may keep a few, so the floor is
    // checked with an exact trim afterwards): the floor just past the first entry drops it.
    let later = StreamId(id.0, id.1 + 1).to_redis();
    record(
        &mut c,
        &keys.stream,
        b"x\"aaaaaaaaaaaaaaaaaaaa\"",
        2,
        "chan",
        &later,
    )
    .await
    .expect("recorded");
    let _: i64 = redis::cmd("XTRIM")
        .arg(&keys.stream)
        .arg("MINID")
        .arg(&later)
        .query_async(&mut c)
        .await
        .expect("xtrim");
    let len: i64 = redis::cmd("XLEN")
        .arg(&keys.stream)
        .query_async(&mut c)
        .await
        .expect("xlen");
    assert_eq!(len, 1, "the first entry is older than the floor");
}

async fn eval(
    c: &mut redis::aio::MultiplexedConnection,
    script: &str,
    key: &str,
    args: &[&str],
) -> redis::Value {
    let mut cmd = redis::cmd("EVAL");
    cmd.arg(script).arg(1).arg(key);
    for a in args {
        cmd.arg(*a);
    }
    cmd.query_async(c).await.expect("eval")
}

#[tokio::test]
async fn a_claim_moves_owner_and_epoch_and_fences_the_previous_owner() {
    let server = RedisServer::start();
    let mut c = conn(&server).await;
    let key = Keys::new("t", "/").session("pid1");

    // No session: nothing to claim.
    assert_eq!(
        eval(&mut c, CLAIM, &key, &["node-b", "60000"]).await,
        redis::Value::Nil
    );

    // Node A creates it when the socket connects.
    let made = eval(
        &mut c,
        WRITE,
        &key,
        &[
            "new",
            "60000",
            "sid",
            "S1",
            "rooms",
            "[\"S1\",\"r\"]",
            "owner",
            "node-a",
            "left",
            "0",
        ],
    )
    .await;
    assert_eq!(made, redis::Value::Int(1));

    // Node B claims it: it learns the previous owner and the state, and the epoch moves.
    let claimed: Vec<String> =
        redis::from_redis_value(eval(&mut c, CLAIM, &key, &["node-b", "60000"]).await)
            .expect("a claim");
    assert_eq!(
        claimed,
        ["node-a", "1", "S1", "[\"S1\",\"r\"]", "null", "", "0"]
    );
    let owner: String = c.hget(&key, "owner").await.expect("owner");
    assert_eq!(owner, "node-b");

    // Node A, still holding epoch 0, can neither write nor delete it.
    let stale_write = eval(
        &mut c,
        WRITE,
        &key,
        &["0", "60000", "rooms", "[]", "left", "1"],
    )
    .await;
    assert_eq!(stale_write, redis::Value::Int(0));
    assert_eq!(
        eval(&mut c, FORGET, &key, &["0"]).await,
        redis::Value::Int(0)
    );
    let rooms: String = c.hget(&key, "rooms").await.expect("rooms");
    assert_eq!(rooms, "[\"S1\",\"r\"]");

    // Node B, with epoch 1, can.
    let write = eval(&mut c, WRITE, &key, &["1", "60000", "left", "1"]).await;
    assert_eq!(write, redis::Value::Int(1));
    let ttl: i64 = c.pttl(&key).await.expect("pttl");
    assert!(ttl > 0 && ttl <= 60_000, "{ttl}");
    assert_eq!(
        eval(&mut c, FORGET, &key, &["1"]).await,
        redis::Value::Int(1)
    );
    let exists: bool = c.exists(&key).await.expect("exists");
    assert!(!exists);
}
