//! Hostile input from real sockets. Each malformed input gets a clear answer (a 400 or 413
//! status, or the connection closed, and the test says which), the server-side handler sees a
//! readable reason, the process stays up, and a healthy session beside it still echoes.

mod hardening_common;

use std::time::Duration;

use axum::Router;
use hardening_common::{
    Close, Frame, Neighbor, Reasons, Server, WAIT, assert_polling_closed, echo_io, polling_query,
    reasons, recv, recv_packet, recv_until_closed, send_binary, send_raw_text, send_refusable,
    send_text,
};
use tether_axum::{EngineConfig, EngineLayer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::Message;

const BAD_REQUEST: &str = r#"{"code":3,"message":"Bad request"}"#;
const TOO_LARGE: &str = r#"{"message":"Payload too large"}"#;
const PARSE_ERROR: Option<&str> = Some("parse error");
/// A placeholder for one binary attachment.
const ONE_ATTACHMENT: &str = r#"451-["echo",{"_placeholder":true,"num":0}]"#;

/// A megabyte of `[` after an event header: deeper than any JSON parser should recurse.
fn brackets() -> Vec<u8> {
    let mut body = b"42".to_vec();
    body.resize(1_000_002, b'[');
    body
}

/// An Echo server (Socket.IO on `/socket.io/`) with `config`, and its disconnect reasons.
async fn start(config: EngineConfig) -> (Server, Reasons) {
    let (tx, reasons) = reasons();
    let layer = EngineLayer::builder().config(config).build(echo_io(tx));
    (Server::start(Router::new().layer(layer)).await, reasons)
}

/// What a malformed POST gets, and whether the session survives it.
struct PollingCase {
    name: &'static str,
    body: Vec<u8>,
    status: u16,
    answer: &'static str,
    /// The handler's disconnect reason; `None` when the session must survive.
    reason: Option<&'static str>,
}

fn polling_case(
    name: &'static str,
    body: impl Into<Vec<u8>>,
    (status, answer): (u16, &'static str),
    reason: Option<&'static str>,
) -> PollingCase {
    let body = body.into();
    PollingCase {
        name,
        body,
        status,
        answer,
        reason,
    }
}

fn polling_cases() -> Vec<PollingCase> {
    let ok = (200, "ok");
    let bad = (400, BAD_REQUEST);
    vec![
        polling_case("truncated event", r#"42["echo""#, ok, PARSE_ERROR),
        polling_case("empty Engine.IO packet", "", bad, PARSE_ERROR),
        polling_case("trailing separator", "42[\"echo\",1]\x1e", bad, PARSE_ERROR),
        polling_case(
            "bad UTF-8 body",
            b"42[\"echo\",\"\xff\xfe\"]".to_vec(),
            bad,
            PARSE_ERROR,
        ),
        polling_case("unknown Engine.IO type", "9hello", bad, PARSE_ERROR),
        polling_case("unknown Socket.IO type", r#"49["echo"]"#, ok, PARSE_ERROR),
        polling_case(
            "ack id beyond u64",
            r#"42184467440737095516160["echo"]"#,
            ok,
            PARSE_ERROR,
        ),
        polling_case("bad base64", "b!!!", bad, PARSE_ERROR),
        polling_case("binary with no attachment due", "bAQID", ok, PARSE_ERROR),
        polling_case("attachment count cut off", r#"45["echo"]"#, ok, PARSE_ERROR),
        polling_case("11 attachments", r#"4511-["echo"]"#, ok, PARSE_ERROR),
        polling_case("client ping", "2", ok, PARSE_ERROR),
        polling_case("1 MB of [", brackets(), (413, TOO_LARGE), None),
    ]
}

/// What a malformed WebSocket message gets: always the connection closed.
struct WsCase {
    name: &'static str,
    frames: Vec<Input>,
    close: Close,
    reason: &'static str,
}

enum Input {
    Text(String),
    RawText(Vec<u8>),
    Binary(Vec<u8>),
    /// Bytes written to the TCP stream under the WebSocket, as they are.
    Wire(Vec<u8>),
}

/// A masked text frame header announcing 2^63 - 1 payload bytes, and the first 4 of them.
fn huge_frame_header() -> Vec<u8> {
    let mut wire = vec![0x81, 0x80 | 127];
    wire.extend_from_slice(&(i64::MAX as u64).to_be_bytes());
    wire.extend_from_slice(&[1, 2, 3, 4, b'4' ^ 1, b'2' ^ 2, b'[' ^ 3, b'"' ^ 4]);
    wire
}

fn ws_case(name: &'static str, frames: Vec<Input>, close: Close, reason: &'static str) -> WsCase {
    WsCase {
        name,
        frames,
        close,
        reason,
    }
}

fn ws_cases() -> Vec<WsCase> {
    let text = |s: &str| vec![Input::Text(s.to_owned())];
    let closed = Close::Frame(None);
    let parse = "parse error";
    let brackets = String::from_utf8(brackets()).expect("ASCII");
    vec![
        ws_case("truncated event", text(r#"42["echo""#), closed, parse),
        ws_case("empty text frame", text(""), closed, parse),
        ws_case("unknown Engine.IO type", text("9hello"), closed, parse),
        ws_case(
            "unknown Socket.IO type",
            text(r#"49["echo"]"#),
            closed,
            parse,
        ),
        ws_case(
            "ack id beyond u64",
            text(r#"42184467440737095516160["echo"]"#),
            closed,
            parse,
        ),
        ws_case("bad base64", text("b!!!"), closed, parse),
        ws_case("client ping", text("2"), closed, parse),
        ws_case(
            "binary with no attachment due",
            vec![Input::Binary(vec![1, 2, 3])],
            closed,
            parse,
        ),
        ws_case(
            "text while an attachment is due",
            vec![
                Input::Text(ONE_ATTACHMENT.into()),
                Input::Text(r#"42["echo",1]"#.into()),
            ],
            closed,
            parse,
        ),
        // tungstenite refuses the text frame itself; the engine sees a transport error and
        // drops the connection without a close frame.
        ws_case(
            "bad UTF-8 in a text frame",
            vec![Input::RawText(b"42[\"echo\",\"\xff\xfe\"]".to_vec())],
            Close::Eof,
            "transport error",
        ),
        ws_case(
            "1 MB of [",
            text(&brackets),
            Close::Frame(Some(1009)),
            "transport error",
        ),
        ws_case(
            "frame header claiming 2^63 bytes",
            vec![Input::Wire(huge_frame_header())],
            Close::Frame(Some(1009)),
            "transport error",
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_polling_input_is_refused_and_nobody_else_notices() {
    let (server, mut reasons) = start(EngineConfig::default()).await;
    let mut neighbor = Neighbor::join(&server).await;
    for case in polling_cases() {
        let (sid, id) = server.join_polling().await;
        let query = hardening_common::polling_query(&sid);
        let sent = server
            .try_request(reqwest::Method::POST, &query, &[], Some(case.body))
            .await;
        match sent {
            Ok(reply) => assert_eq!(
                (reply.status, reply.body.as_str()),
                (case.status, case.answer),
                "{}: the POST's answer",
                case.name
            ),
            // A body announced larger than maxPayload is refused from its Content-Length
            // before it is read, and the connection then closed: a client still sending it
            // may see the reset before the 413. What follows checks the session was kept.
            Err(err) => assert_eq!(case.status, 413, "{}: the POST failed: {err}", case.name),
        }
        match case.reason {
            Some(reason) => {
                assert_polling_closed(&server, &sid).await;
                assert_eq!(reasons.of(&id).await, reason, "{}", case.name);
            }
            None => {
                server.push(&sid, r#"42["echo","still open"]"#).await;
                let echoed = server.poll_packets(&sid, 1).await;
                assert_eq!(echoed, [r#"42["echo","still open"]"#], "{}", case.name);
                assert_eq!(reasons.now(&id), None, "{}", case.name);
            }
        }
        assert!(server.is_running(), "{}: the server stopped", case.name);
        neighbor.assert_echoes(case.name).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_websocket_input_closes_that_connection_only() {
    let (server, mut reasons) = start(EngineConfig::default()).await;
    let mut neighbor = Neighbor::join(&server).await;
    for case in ws_cases() {
        let (mut ws, id) = server.join_ws().await;
        // Whether a write met the server's reset: it refused a frame before it was all
        // written (a frame larger than max_payload), so its close frame may be lost too.
        let mut cut = false;
        for input in &case.frames {
            match input {
                Input::Text(text) => {
                    cut |= !send_refusable(&mut ws, Message::text(text.as_str())).await;
                }
                Input::RawText(bytes) => send_raw_text(&mut ws, bytes).await,
                Input::Binary(data) => send_binary(&mut ws, data).await,
                Input::Wire(bytes) => {
                    let write = ws.get_mut().write_all(bytes);
                    timeout(WAIT, write).await.expect("write").expect("write");
                }
            }
        }
        let (frames, close) = recv_until_closed(&mut ws).await;
        assert_eq!(frames, [], "{}: frames before the close", case.name);
        if cut {
            assert!(
                close == case.close || close == Close::Eof,
                "{}: how the connection closed: {close:?}",
                case.name
            );
        } else {
            assert_eq!(
                close, case.close,
                "{}: how the connection closed",
                case.name
            );
        }
        assert_eq!(reasons.of(&id).await, case.reason, "{}", case.name);
        assert!(server.is_running(), "{}: the server stopped", case.name);
        neighbor.assert_echoes(case.name).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_largest_ack_id_is_answered() {
    let (server, _reasons) = start(EngineConfig::default()).await;
    let (mut ws, _id) = server.join_ws().await;
    send_text(&mut ws, r#"4218446744073709551615["echo","max"]"#).await;
    let answer = Frame::Text(r#"4318446744073709551615["max"]"#.to_owned());
    assert_eq!(recv_packet(&mut ws).await, answer);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_megabyte_of_brackets_within_max_payload_closes_the_connection() {
    let (server, mut reasons) = start(EngineConfig::default().max_payload(2_000_000)).await;
    let mut neighbor = Neighbor::join(&server).await;

    let (mut ws, id) = server.join_ws().await;
    let text = String::from_utf8(brackets()).expect("ASCII");
    send_text(&mut ws, &text).await;
    let (frames, close) = recv_until_closed(&mut ws).await;
    assert_eq!((frames, close), (vec![], Close::Frame(None)));
    assert_eq!(reasons.of(&id).await, "parse error");

    let (sid, id) = server.join_polling().await;
    let reply = server.post(&sid, brackets()).await;
    assert_eq!((reply.status, reply.body.as_str()), (200, "ok"));
    assert_polling_closed(&server, &sid).await;
    assert_eq!(reasons.of(&id).await, "parse error");

    neighbor.assert_echoes("a megabyte of brackets").await;
}

/// Attachments announced but never sent: the connection holds one partial packet and no more.
/// It stays open while the client answers pings, and goes at the ping timeout once it stops.
/// (A 2 s pingTimeout: a loaded machine may take longer than 200 ms to answer.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attachments_that_never_arrive_end_at_the_ping_timeout() {
    let config = EngineConfig::default()
        .ping_interval(Duration::from_millis(300))
        .ping_timeout(Duration::from_secs(2));
    let (server, mut reasons) = start(config).await;
    let (mut ws, id) = server.join_ws().await;
    send_text(&mut ws, ONE_ATTACHMENT).await;
    for round in 0..2 {
        assert_eq!(recv(&mut ws).await, Frame::Text("2".into()), "ping {round}");
        send_text(&mut ws, "3").await;
    }
    assert_eq!(reasons.now(&id), None, "closed while answering pings");
    let (frames, close) = recv_until_closed(&mut ws).await;
    assert_eq!(frames, [Frame::Text("2".into())], "before the close");
    assert_eq!(close, Close::Frame(None));
    assert_eq!(reasons.of(&id).await, "ping timeout");
    let (mut fresh, _id) = server.join_ws().await;
    send_text(&mut fresh, r#"42["echo","after"]"#).await;
    let echo = Frame::Text(r#"42["echo","after"]"#.to_owned());
    assert_eq!(recv_packet(&mut fresh).await, echo);
}

/// A POST whose body stops halfway (Content-Length 1000, 10 bytes sent, then the client shuts
/// its side): that request gets 400 code 3, the session stays usable, and new POSTs work.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_body_that_stops_halfway_leaves_the_session_usable() {
    let (server, mut reasons) = start(EngineConfig::default()).await;
    let mut neighbor = Neighbor::join(&server).await;
    let (sid, id) = server.join_polling().await;

    let mut tcp = TcpStream::connect(server.addr()).await.expect("connect");
    let head = format!(
        "POST /socket.io/?{} HTTP/1.1\r\nHost: {}\r\nContent-Type: text/plain;charset=UTF-8\r\nContent-Length: 1000\r\n\r\n",
        polling_query(&sid),
        server.addr()
    );
    tcp.write_all(head.as_bytes())
        .await
        .expect("write the head");
    tcp.write_all(br#"42["echo","#)
        .await
        .expect("write 10 bytes");
    tcp.shutdown().await.expect("shut the write side");
    // The server answers the broken request and ends the connection.
    let answer = read_answer(&mut tcp, BAD_REQUEST).await;
    assert!(
        answer.starts_with("HTTP/1.1 400 ") && answer.ends_with(BAD_REQUEST),
        "the broken POST got {answer:?}"
    );

    server.push(&sid, r#"42["echo","whole"]"#).await;
    let echoed = server.poll_packets(&sid, 1).await;
    assert_eq!(echoed, [r#"42["echo","whole"]"#]);
    assert_eq!(reasons.now(&id), None, "the session was closed");
    let (other, _id) = server.join_polling().await;
    server.push(&other, r#"42["echo","new"]"#).await;
    assert_eq!(
        server.poll_packets(&other, 1).await,
        [r#"42["echo","new"]"#]
    );
    neighbor.assert_echoes("a broken POST").await;
}

/// A POST announcing far more than maxPayload (Content-Length 2,000,000,000) that sends two
/// bytes and waits: it should get 413 at once, from the header alone, as a body over the limit
/// does, and the session should live on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_announcing_more_than_max_payload_gets_413_at_once() {
    let (server, mut reasons) = start(EngineConfig::default()).await;
    let (sid, id) = server.join_polling().await;
    let mut tcp = TcpStream::connect(server.addr()).await.expect("connect");
    let head = format!(
        "POST /socket.io/?{} HTTP/1.1\r\nHost: {}\r\nContent-Type: text/plain;charset=UTF-8\r\nContent-Length: 2000000000\r\n\r\n42",
        polling_query(&sid),
        server.addr()
    );
    tcp.write_all(head.as_bytes())
        .await
        .expect("write the head");
    let answer = read_answer(&mut tcp, TOO_LARGE).await;
    assert!(
        answer.starts_with("HTTP/1.1 413 ") && answer.ends_with(TOO_LARGE),
        "the oversized POST got {answer:?}"
    );
    server.push(&sid, r#"42["echo","kept"]"#).await;
    assert_eq!(server.poll_packets(&sid, 1).await, [r#"42["echo","kept"]"#]);
    assert_eq!(reasons.now(&id), None, "the session was closed");
}

/// Reads a raw HTTP answer until it ends with `body` or the connection ends.
async fn read_answer(tcp: &mut TcpStream, body: &str) -> String {
    let mut got = Vec::new();
    let read = async {
        let mut buf = [0; 4096];
        while !got.ends_with(body.as_bytes()) {
            let n = tcp.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
        }
        Ok::<_, std::io::Error>(())
    };
    timeout(WAIT, read)
        .await
        .expect("no answer in time")
        .expect("read the answer");
    String::from_utf8_lossy(&got).into_owned()
}
