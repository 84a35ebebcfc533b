//! Requests and responses against what Node's adapter writes: the JSON is `JSON.stringify` of
//! the objects `@socket.io/redis-adapter` 8.3.0 builds (same keys, same order), the msgpack is
//! notepack.io 3.0.1's bytes for the broadcast with acks (type 7) and its answers (type 9). Each
//! case is written by tether exactly as Node writes it, and read back from Node's bytes.

mod support;

use bytes::Bytes;
use bytestring::ByteString;
use std::time::Duration;
use support::wire::unhex;
use tether_core::adapter::{BroadcastFlags, BroadcastOptions, EventPacket, Room, SocketData};
use tether_core::socket::{AckResponse, Payload};
use tether_redis::broadcast::DecodeError;
use tether_redis::requests::{Request, decode_request, encode_request};
use tether_redis::responses::{Response, decode_response, encode_response};

fn rooms(list: &[&str]) -> Vec<Room> {
    list.iter().map(|r| Room::from(*r)).collect()
}

fn opts(to: &[&str], except: &[&str]) -> BroadcastOptions {
    BroadcastOptions {
        rooms: rooms(to),
        except: rooms(except),
        ..BroadcastOptions::default()
    }
}

fn uid() -> Option<String> {
    Some("Mju2-s".into())
}

fn event(name: &str, args: &[&str]) -> EventPacket {
    EventPacket {
        event: name.into(),
        payload: Payload::from_raw(
            args.iter().map(|a| ByteString::from(*a)).collect(),
            Vec::new(),
        ),
    }
}

fn answer(args: &[&str]) -> AckResponse {
    AckResponse {
        args: args.iter().map(|a| ByteString::from(*a)).collect(),
        attachments: Vec::new(),
    }
}

fn request_as_node(node: &[u8], request: Request) {
    assert_eq!(
        String::from_utf8_lossy(&encode_request(&request).expect("encodes")),
        String::from_utf8_lossy(node),
        "tether writes it as Node does"
    );
    assert_eq!(decode_request(node).expect("Node's request reads"), request);
}

fn response_as_node(node: &[u8], response: Response) {
    assert_eq!(
        String::from_utf8_lossy(&encode_response(&response).expect("encodes")),
        String::from_utf8_lossy(node),
        "tether writes it as Node does"
    );
    assert_eq!(
        decode_response(node).expect("Node's response reads"),
        response
    );
}

#[test]
fn requests_of_every_type() {
    request_as_node(
        br#"{"uid":"Mju2-s","requestId":"V0bj54","type":1}"#,
        Request::AllRooms {
            uid: uid(),
            request_id: "V0bj54".into(),
        },
    );
    request_as_node(
        br#"{"uid":"Mju2-s","type":2,"opts":{"rooms":["room1"],"except":["x"]},"rooms":["a","b"]}"#,
        Request::Join {
            uid: uid(),
            opts: opts(&["room1"], &["x"]),
            rooms: rooms(&["a", "b"]),
        },
    );
    request_as_node(
        br#"{"uid":"Mju2-s","type":3,"opts":{"rooms":[],"except":[]},"rooms":["a"]}"#,
        Request::Leave {
            uid: uid(),
            opts: opts(&[], &[]),
            rooms: rooms(&["a"]),
        },
    );
    request_as_node(
        br#"{"uid":"Mju2-s","type":4,"opts":{"rooms":["r"],"except":[]},"close":true}"#,
        Request::Disconnect {
            uid: uid(),
            opts: opts(&["r"], &[]),
            close: true,
        },
    );
    request_as_node(
        br#"{"uid":"Mju2-s","requestId":"mRpmLt","type":5,"opts":{"rooms":["room2"],"except":[]}}"#,
        Request::Fetch {
            uid: uid(),
            request_id: "mRpmLt".into(),
            opts: opts(&["room2"], &[]),
        },
    );
    request_as_node(
        br#"{"uid":"Mju2-s","type":6,"data":["ping-servers",1,"two"]}"#,
        Request::ServerSideEmit {
            uid: uid(),
            request_id: None,
            packet: event("ping-servers", &["1", r#""two""#]),
        },
    );
    request_as_node(
        br#"{"uid":"Mju2-s","requestId":"abc123","type":6,"data":["hello",{"k":[1,2]}]}"#,
        Request::ServerSideEmit {
            uid: uid(),
            request_id: Some("abc123".into()),
            packet: event("hello", &[r#"{"k":[1,2]}"#]),
        },
    );
    request_as_node(
        br#"{"uid":"Mju2-s","requestId":"q1","type":2,"sid":"FER5LlZ6vsNwD9v2AAAB","room":"room9"}"#,
        Request::JoinOne { uid: uid(), request_id: "q1".into(), sid: "FER5LlZ6vsNwD9v2AAAB".into(), room: "room9".into() },
    );
    request_as_node(
        br#"{"uid":"Mju2-s","requestId":"q2","type":0,"rooms":["r"]}"#,
        Request::Sockets {
            uid: uid(),
            request_id: "q2".into(),
            rooms: rooms(&["r"]),
        },
    );
}

#[test]
fn the_emitter_s_requests_have_no_uid() {
    request_as_node(
        br#"{"type":2,"opts":{"rooms":["room1"],"except":[]},"rooms":["room3"]}"#,
        Request::Join {
            uid: None,
            opts: opts(&["room1"], &[]),
            rooms: rooms(&["room3"]),
        },
    );
    let numeric = decode_request(br#"{"type":3,"opts":{"rooms":[7]},"rooms":[8]}"#)
        .expect("numeric rooms read");
    assert_eq!(
        numeric,
        Request::Leave {
            uid: None,
            opts: opts(&["7"], &[]),
            rooms: rooms(&["8"])
        }
    );
}

#[test]
fn broadcast_with_acks_is_msgpack() {
    let node = unhex(
        "85a3756964a64d6a75322d73a9726571756573744964a6307248687236a47479706507a67061636b657483a47479706502a46461746192a171a13fa36e7370a12fa46f70747383a5726f6f6d7391a5726f6f6d32a665786365707490a5666c61677381a774696d656f7574cd03e8",
    );
    let request = Request::Broadcast {
        uid: uid(),
        request_id: "0rHhr6".into(),
        nsp: "/".into(),
        packet: event("q", &[r#""?""#]),
        opts: BroadcastOptions {
            rooms: rooms(&["room2"]),
            except: Vec::new(),
            flags: BroadcastFlags {
                timeout: Some(Duration::from_millis(1000)),
                ..BroadcastFlags::default()
            },
        },
    };
    assert_eq!(encode_request(&request).expect("encodes"), node);
    assert_eq!(decode_request(&node).expect("reads"), request);
}

#[test]
fn responses_of_every_type() {
    response_as_node(
        br#"{"type":8,"requestId":"0rHhr6","clientCount":1}"#,
        Response::ClientCount {
            request_id: "0rHhr6".into(),
            count: 1,
        },
    );
    response_as_node(
        br#"{"requestId":"V0bj54","rooms":["FER5LlZ6vsNwD9v2AAAB","room2"]}"#,
        Response::AllRooms {
            request_id: "V0bj54".into(),
            rooms: rooms(&["FER5LlZ6vsNwD9v2AAAB", "room2"]),
        },
    );
    response_as_node(
        br#"{"requestId":"q1"}"#,
        Response::Done {
            request_id: "q1".into(),
        },
    );
    response_as_node(
        br#"{"type":6,"requestId":"abc123","data":{"pong":1}}"#,
        Response::ServerSideEmit {
            request_id: "abc123".into(),
            answer: answer(&[r#"{"pong":1}"#]),
        },
    );
    // `cb()` with nothing: JSON.stringify leaves `data` out.
    response_as_node(
        br#"{"type":6,"requestId":"abc123"}"#,
        Response::ServerSideEmit {
            request_id: "abc123".into(),
            answer: answer(&[]),
        },
    );
    let sockets = Response::Sockets {
        request_id: "q2".into(),
        sockets: vec!["FER5LlZ6vsNwD9v2AAAB".into()],
    };
    assert_eq!(
        encode_response(&sockets).expect("encodes"),
        br#"{"requestId":"q2","sockets":["FER5LlZ6vsNwD9v2AAAB"]}"#
    );
}

#[test]
fn broadcast_answers_are_msgpack() {
    response_as_node(
        &unhex(
            "83a47479706509a9726571756573744964a6307248687236a67061636b6574ab61636b2d66726f6d2d6362",
        ),
        Response::BroadcastAck {
            request_id: "0rHhr6".into(),
            answer: answer(&[r#""ack-from-cb""#]),
        },
    );
    // An answer of `undefined`: notepack leaves the key out.
    response_as_node(
        &unhex("82a47479706509a9726571756573744964a6307248687236"),
        Response::BroadcastAck {
            request_id: "0rHhr6".into(),
            answer: answer(&[]),
        },
    );
    // A binary answer goes as bin and comes back as an attachment.
    let binary = Response::BroadcastAck {
        request_id: "r".into(),
        answer: AckResponse {
            args: vec![r#"{"_placeholder":true,"num":0}"#.into()],
            attachments: vec![Bytes::from_static(b"\x01\x02")],
        },
    };
    let bytes = encode_response(&binary).expect("encodes");
    assert!(
        bytes.windows(4).any(|w| w == [0xc4, 0x02, 0x01, 0x02]),
        "a bin"
    );
    assert_eq!(decode_response(&bytes).expect("reads"), binary);
}

#[test]
fn a_fetch_answer_from_node() {
    let node = br#"{"requestId":"mRpmLt","sockets":[{"id":"FER5LlZ6vsNwD9v2AAAB","handshake":{"headers":{"host":"x"},"time":"Tue Dec 01 2026 18:16:28 GMT+0000 (Coordinated Universal Time)","address":"127.0.0.1","xdomain":false,"secure":false,"issued":1796148988679,"url":"/socket.io/?EIO=4&transport=websocket","query":{"EIO":"4","transport":"websocket"},"auth":{"name":"cb"}},"rooms":["FER5LlZ6vsNwD9v2AAAB","room2"],"data":{"hello":"world"}}]}"#;
    let Response::Fetch {
        request_id,
        sockets,
    } = decode_response(node).expect("reads")
    else {
        panic!("a fetch answer")
    };
    assert_eq!(request_id, "mRpmLt");
    assert_eq!(sockets.len(), 1);
    assert_eq!(sockets[0].data, serde_json::json!({ "hello": "world" }));
    // Written back, it reads the same.
    let again = encode_response(&Response::Fetch {
        request_id,
        sockets: sockets.clone(),
    })
    .expect("encodes");
    let Response::Fetch { sockets: back, .. } = decode_response(&again).expect("reads") else {
        panic!("a fetch answer")
    };
    assert_eq!(back, sockets);
    let _: &[SocketData] = &back;
}

#[test]
fn junk_is_an_error() {
    for junk in [
        &b""[..],
        b"{",
        b"{}",
        br#"{"type":99,"requestId":"x"}"#,
        br#"{"type":1}"#,
        br#"{"type":2,"requestId":"q"}"#,
        br#"{"type":6,"data":[]}"#,
        br#"{"type":6,"data":[1]}"#,
        b"\x81\xa4type\x02",
        b"\xc1",
    ] {
        assert!(
            decode_request(junk).is_err(),
            "request {:?}",
            String::from_utf8_lossy(junk)
        );
    }
    for junk in [
        &b""[..],
        b"{",
        br#"{"rooms":[]}"#,
        br#"{"type":8,"requestId":"x"}"#,
        br#"{"type":3,"requestId":"x"}"#,
        b"\x81\xa4type\x07",
    ] {
        assert!(
            decode_response(junk).is_err(),
            "response {:?}",
            String::from_utf8_lossy(junk)
        );
    }
    assert!(matches!(decode_request(b"{"), Err(DecodeError::Json(_))));
    // Arguments that are not JSON are never published.
    assert!(
        encode_request(&Request::ServerSideEmit {
            uid: uid(),
            request_id: None,
            packet: event("e", &["{"])
        })
        .is_err()
    );
}
