//! The streaming transport (our extension) over real sockets: the event stream's headers and
//! bytes, messages both ways in order, binary, line breaks, the heartbeat, Socket.IO on it,
//! the upgrade to WebSocket under traffic, and official clients never being offered it.

mod common;

use common::{Frame, Server, WAIT, packets, parse_open, recv, send_text};
use reqwest::Method;
use serde_json::Value;
use tokio::time::timeout;

/// An event stream as `EventSource` reads it: the data of each event, lines joined by line
/// feeds (the fields we send: comments and `data:`).
struct Events {
    response: reqwest::Response,
    buf: String,
    /// Every byte of the body so far.
    raw: Vec<u8>,
}

impl Events {
    async fn open(server: &Server, query: &str) -> (Events, reqwest::header::HeaderMap) {
        let response = timeout(
            WAIT,
            reqwest::Client::new().get(server.http_url(query)).send(),
        )
        .await
        .expect("the stream's headers in time")
        .expect("the stream opens");
        assert_eq!(response.status(), 200);
        let headers = response.headers().clone();
        let events = Events {
            response,
            buf: String::new(),
            raw: Vec::new(),
        };
        (events, headers)
    }

    /// The next event's data; `None` once the stream has ended.
    async fn next(&mut self) -> Option<String> {
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                let data: Vec<&str> = block
                    .lines()
                    .filter_map(|line| line.strip_prefix("data: "))
                    .collect();
                if !data.is_empty() {
                    return Some(data.join("\n"));
                }
                continue;
            }
            let chunk = timeout(WAIT, self.response.chunk())
                .await
                .expect("an event in time")
                .expect("the stream reads");
            let chunk = chunk?;
            self.raw.extend_from_slice(&chunk);
            self.buf
                .push_str(std::str::from_utf8(&chunk).expect("events are UTF-8"));
            // A comment line alone (the padding) ends at one line feed.
            while self.buf.starts_with(':') {
                match self.buf.find('\n') {
                    Some(at) => drop(self.buf.drain(..=at)),
                    None => break,
                }
            }
        }
    }
}

/// Opens a streaming session: its stream and its sid.
async fn open(server: &Server) -> (Events, String) {
    let (mut events, _) = Events::open(server, "EIO=4&transport=streaming").await;
    let first = events.next().await.expect("the open packet");
    let sid = parse_open(&first).sid;
    (events, sid)
}

async fn post(server: &Server, sid: &str, body: &str) {
    let reply = server
        .request(
            Method::POST,
            &format!("EIO=4&transport=streaming&sid={sid}"),
            Some(body),
        )
        .await;
    assert_eq!(
        (reply.status, reply.body.as_str()),
        (200, "ok"),
        "{reply:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stream_opens_with_its_headers_the_padding_and_the_open_packet() {
    let server = Server::steady().await;
    let (mut events, headers) = Events::open(&server, "EIO=4&transport=streaming").await;
    assert_eq!(headers["content-type"], "text/event-stream");
    assert_eq!(headers["cache-control"], "no-cache");
    assert_eq!(headers["x-accel-buffering"], "no");
    let open = events.next().await.expect("the open packet");
    // The very first bytes: the padding comment, then the open packet's event.
    let padding = tether_axum::STREAM_PADDING;
    assert_eq!(events.raw[0], b':');
    assert!(events.raw[1..padding - 1].iter().all(|b| *b == b' '));
    assert_eq!(&events.raw[padding - 1..padding + 7], b"\ndata: 0");
    let json: Value = serde_json::from_str(&open[1..]).expect("open JSON");
    assert_eq!(json["upgrades"], serde_json::json!(["websocket"]));
    assert_eq!(json["pingInterval"], 25000);
    let sid = json["sid"].as_str().expect("sid");
    assert!(server.session(sid).is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_numbered_messages_each_way_arrive_in_order() {
    let server = Server::steady().await;
    let (mut events, sid) = open(&server).await;
    // Posted in batches of 50; each is echoed down the stream.
    for batch in 0..20 {
        let body: Vec<String> = (0..50).map(|i| format!("4{}", batch * 50 + i)).collect();
        post(&server, &sid, &body.join("\x1e")).await;
    }
    for n in 0..1000 {
        assert_eq!(
            events.next().await.as_deref(),
            Some(format!("4{n}").as_str())
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_and_line_breaks_survive_the_stream() {
    let server = Server::steady().await;
    let (mut events, sid) = open(&server).await;
    post(
        &server,
        &sid,
        "bAQID\x1e4two\nlines\x1e4cr\rhere\x1e4crlf\r\nhere",
    )
    .await;
    assert_eq!(events.next().await.as_deref(), Some("bAQID"));
    // Several data lines of one event, joined again.
    assert_eq!(events.next().await.as_deref(), Some("4two\nlines"));
    let raw = String::from_utf8_lossy(&events.raw).into_owned();
    assert!(raw.contains("data: 4two\ndata: lines\n\n"), "{raw:?}");
    // A carriage return goes as a JSON string.
    assert_eq!(events.next().await.as_deref(), Some(r#"j"4cr\rhere""#));
    assert_eq!(events.next().await.as_deref(), Some(r#"j"4crlf\r\nhere""#));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pings_come_down_the_stream_and_posted_pongs_keep_the_session() {
    let server = Server::pinging().await;
    let (mut events, sid) = open(&server).await;
    for _ in 0..3 {
        assert_eq!(events.next().await.as_deref(), Some("2"));
        post(&server, &sid, "3").await;
    }
    assert!(server.session(&sid).is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_close_ends_the_stream_and_a_dropped_stream_ends_the_session() {
    let server = Server::steady().await;
    let (mut events, sid) = open(&server).await;
    post(&server, &sid, "1").await;
    assert_eq!(events.next().await, None, "the stream ends");
    assert!(server.session(&sid).is_none());

    let (events, sid) = open(&server).await;
    drop(events);
    common::eventually("the session to close", || {
        let gone = server.session(&sid).is_none();
        async move { gone }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_stream_or_a_poll_on_a_streaming_session_is_refused() {
    let server = Server::steady().await;
    let (_events, sid) = open(&server).await;
    let poll = server.poll(&sid).await;
    assert_eq!(poll.status, 400, "{poll:?}");
    assert!(
        server.session(&sid).is_some(),
        "a wrong-transport GET is only refused"
    );
    let second = server
        .get(&format!("EIO=4&transport=streaming&sid={sid}"))
        .await;
    assert_eq!(second.status, 400, "{second:?}");
    assert!(
        server.session(&sid).is_none(),
        "two streams break the protocol"
    );
    let unknown = server
        .get("EIO=4&transport=streaming&sid=AAAAAAAAAAAAAAAAAAAA")
        .await;
    assert_eq!(unknown.status, 400);
    assert!(unknown.body.contains(r#""code":1"#), "{unknown:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_upgrade_to_websocket_under_traffic_loses_and_reorders_nothing() {
    let server = Server::steady().await;
    let (mut events, sid) = open(&server).await;
    let mut got = Vec::new();
    // Traffic before the probe, echoed down the stream.
    for batch in 0..5 {
        let body: Vec<String> = (0..20).map(|i| format!("4{}", batch * 20 + i)).collect();
        post(&server, &sid, &body.join("\x1e")).await;
    }
    let mut ws = server.probe(&sid).await;
    // More while the probe is under way: the stream ends after what it holds, with a noop.
    post(&server, &sid, "4100\x1e4101").await;
    loop {
        match events.next().await.as_deref() {
            Some("6") => break,
            Some(other) => got.push(other.to_owned()),
            None => panic!("the stream ended without its noop"),
        }
    }
    assert_eq!(events.next().await, None, "the paused stream ends");
    post(&server, &sid, "4102").await;
    send_text(&mut ws, "5").await;
    for n in 103..200 {
        send_text(&mut ws, &format!("4{n}")).await;
    }
    while got.len() < 200 {
        match recv(&mut ws).await {
            Frame::Text(text) => got.push(text),
            other => panic!("unexpected {other:?}"),
        }
    }
    let want: Vec<String> = (0..200).map(|n| format!("4{n}")).collect();
    assert_eq!(got, want);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_upgrade_resumes_on_a_new_stream_with_what_was_queued() {
    let server = Server::steady().await;
    let (mut events, sid) = open(&server).await;
    let ws = server.probe(&sid).await;
    assert_eq!(events.next().await.as_deref(), Some("6"));
    post(&server, &sid, "4while paused").await;
    drop(ws);
    // Attached again with the sid: no open packet, what was queued first.
    let (mut again, _) =
        Events::open(&server, &format!("EIO=4&transport=streaming&sid={sid}")).await;
    assert_eq!(again.next().await.as_deref(), Some("4while paused"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socket_io_speaks_streaming_too() {
    let server = Server::steady().await;
    let url = format!(
        "http://{}/socket.io/?EIO=4&transport=streaming",
        server.addr()
    );
    let response = reqwest::Client::new()
        .get(url)
        .send()
        .await
        .expect("the stream opens");
    let mut events = Events {
        response,
        buf: String::new(),
        raw: Vec::new(),
    };
    let sid = parse_open(&events.next().await.expect("open")).sid;
    let post_url = format!(
        "http://{}/socket.io/?EIO=4&transport=streaming&sid={sid}",
        server.addr()
    );
    let reply = reqwest::Client::new()
        .post(post_url)
        .body("40")
        .send()
        .await
        .expect("POST");
    assert_eq!(reply.status(), 200);
    let connect = events.next().await.expect("the CONNECT reply");
    assert!(connect.starts_with(r#"40{"sid":""#), "{connect}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn official_clients_are_never_offered_streaming() {
    let server = Server::steady().await;
    let reply = server.get("EIO=4&transport=polling").await;
    let open = packets(&reply.body)[0];
    let json: Value = serde_json::from_str(&open[1..]).expect("open JSON");
    assert_eq!(json["upgrades"], serde_json::json!(["websocket"]));
    assert!(!reply.body.contains("streaming"));
    let (mut ws, handshake) = server.open_ws().await;
    assert_eq!(handshake.value["upgrades"], serde_json::json!([]));
    send_text(&mut ws, "4x").await;
    assert_eq!(recv(&mut ws).await, Frame::Text("4x".into()));
}
