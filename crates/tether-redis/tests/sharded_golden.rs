//! The sharded adapter's messages against what `@socket.io/redis-adapter` 8.3.0's
//! `createShardedAdapter` (socket.io-adapter 2.5.9's `ClusterAdapter`) published for the same
//! operations: each expected string is a payload its `SPUBLISH` was called with, captured in
//! Node 20 by a publishing client that records instead of sending (uid `4d19c4212807ee4b`;
//! the request ids are the ones it drew). Tether must write exactly these and read them back.

mod support;

use std::time::Duration;
use support::wire::{answer, packet, unhex};
use tether_core::adapter::{BroadcastFlags, BroadcastOptions, Room};
use tether_redis::sharded::{Envelope, Message, decode, encode};

const UID: &str = "4d19c4212807ee4b";

fn opts(rooms: &[&str], except: &[&str]) -> BroadcastOptions {
    BroadcastOptions {
        rooms: rooms.iter().map(|r| Room::from(*r)).collect(),
        except: except.iter().map(|r| Room::from(*r)).collect(),
        ..BroadcastOptions::default()
    }
}

/// Encodes as Node did, and reads Node's bytes back to the same message.
fn both_ways(message: Message, node_wrote: &[u8]) {
    let ours = encode(UID, "/", &message).expect("encodes");
    assert_eq!(
        String::from_utf8_lossy(&ours),
        String::from_utf8_lossy(node_wrote),
        "as Node writes it"
    );
    let back = decode(node_wrote).expect("decodes");
    assert_eq!(
        back,
        Envelope {
            uid: UID.into(),
            nsp: "/".into(),
            message
        }
    );
}

#[test]
fn broadcasts_as_node_writes_them() {
    both_ways(
        Message::Broadcast {
            packet: packet("e1", &["\"hello\"", "1", r#"{"a":[1,2.5,null,true]}"#], &[]),
            opts: opts(&[], &[]),
            request_id: None,
        },
        br#"{"type":3,"data":{"packet":{"type":2,"data":["e1","hello",1,{"a":[1,2.5,null,true]}]},"opts":{"rooms":[],"except":[],"flags":{}}},"uid":"4d19c4212807ee4b","nsp":"/"}"#,
    );
    both_ways(
        Message::Broadcast {
            packet: packet("e2", &["2"], &[]),
            opts: opts(&["room2"], &[]),
            request_id: None,
        },
        br#"{"type":3,"data":{"packet":{"type":2,"data":["e2",2]},"opts":{"rooms":["room2"],"except":[],"flags":{}}},"uid":"4d19c4212807ee4b","nsp":"/"}"#,
    );
    let mut volatile = opts(&["r1", "r2"], &["x"]);
    volatile.flags.volatile = true;
    both_ways(
        Message::Broadcast {
            packet: packet("e3", &[], &[]),
            opts: volatile,
            request_id: None,
        },
        br#"{"type":3,"data":{"packet":{"type":2,"data":["e3"]},"opts":{"rooms":["r1","r2"],"except":["x"],"flags":{"volatile":true}}},"uid":"4d19c4212807ee4b","nsp":"/"}"#,
    );
}

#[test]
fn a_binary_broadcast_is_msgpack() {
    both_ways(
        Message::Broadcast {
            packet: packet(
                "bin",
                &[r#"{"_placeholder":true,"num":0}"#, r#"{"n":1}"#],
                &[&[1, 2, 3]],
            ),
            opts: opts(&[], &[]),
            request_id: None,
        },
        &unhex(
            "84a47479706503a46461746182a67061636b657482a47479706502a46461746193a362696ec4030102\
             0381a16e01a46f70747383a5726f6f6d7390a665786365707490a5666c61677380a3756964b0346431\
             39633432313238303765653462a36e7370a12f",
        ),
    );
}

#[test]
fn a_broadcast_with_acks_carries_its_id_and_timeout() {
    let mut with_timeout = opts(&[], &[]);
    with_timeout.flags = BroadcastFlags {
        timeout: Some(Duration::from_millis(1000)),
        ..BroadcastFlags::default()
    };
    both_ways(
        Message::Broadcast {
            packet: packet("q", &["1"], &[]),
            opts: with_timeout,
            request_id: Some("ed6d7c3fe8e90e73".into()),
        },
        br#"{"type":3,"data":{"packet":{"type":2,"data":["q",1]},"requestId":"ed6d7c3fe8e90e73","opts":{"rooms":[],"except":[],"flags":{"timeout":1000}}},"uid":"4d19c4212807ee4b","nsp":"/"}"#,
    );
}

#[test]
fn requests_as_node_writes_them() {
    both_ways(
        Message::Join {
            opts: opts(&["r1"], &[]),
            rooms: vec!["j1".into(), "j2".into()],
        },
        br#"{"type":4,"data":{"opts":{"rooms":["r1"],"except":[],"flags":{}},"rooms":["j1","j2"]},"uid":"4d19c4212807ee4b","nsp":"/"}"#,
    );
    both_ways(
        Message::Leave {
            opts: opts(&["r1"], &[]),
            rooms: vec!["j1".into()],
        },
        br#"{"type":5,"data":{"opts":{"rooms":["r1"],"except":[],"flags":{}},"rooms":["j1"]},"uid":"4d19c4212807ee4b","nsp":"/"}"#,
    );
    both_ways(
        Message::Disconnect {
            opts: opts(&["r1"], &[]),
            close: true,
        },
        br#"{"type":6,"data":{"opts":{"rooms":["r1"],"except":[],"flags":{}},"close":true},"uid":"4d19c4212807ee4b","nsp":"/"}"#,
    );
    both_ways(
        Message::Fetch {
            opts: opts(&["room2"], &[]),
            request_id: "3e7e61338dcba29b".into(),
        },
        br#"{"type":7,"data":{"opts":{"rooms":["room2"],"except":[],"flags":{}},"requestId":"3e7e61338dcba29b"},"uid":"4d19c4212807ee4b","nsp":"/"}"#,
    );
    both_ways(
        Message::ServerSideEmit {
            packet: packet("ping-servers", &["1", "\"two\""], &[]),
            request_id: None,
        },
        br#"{"type":9,"data":{"packet":["ping-servers",1,"two"]},"uid":"4d19c4212807ee4b","nsp":"/"}"#,
    );
    both_ways(
        Message::ServerSideEmit {
            packet: packet("ping-servers", &["1"], &[]),
            request_id: Some("062f0d3be5a357ee".into()),
        },
        br#"{"type":9,"data":{"requestId":"062f0d3be5a357ee","packet":["ping-servers",1]},"uid":"4d19c4212807ee4b","nsp":"/"}"#,
    );
}

#[test]
fn answers_as_node_writes_them() {
    let id = || "d37d7f91183bcb42".to_owned();
    both_ways(
        Message::ClientCount {
            request_id: id(),
            count: 1,
        },
        br#"{"type":11,"data":{"requestId":"d37d7f91183bcb42","clientCount":1},"uid":"4d19c4212807ee4b","nsp":"/"}"#,
    );
    both_ways(
        Message::BroadcastAck {
            request_id: id(),
            answer: answer(&["\"ack-from-cb\""], &[]),
        },
        br#"{"type":12,"data":{"requestId":"d37d7f91183bcb42","packet":"ack-from-cb"},"uid":"4d19c4212807ee4b","nsp":"/"}"#,
    );
    both_ways(
        Message::BroadcastAck {
            request_id: id(),
            answer: answer(&[r#"{"_placeholder":true,"num":0}"#], &[&[9]]),
        },
        &unhex(
            "84a4747970650ca46461746182a9726571756573744964b06433376437663931313833626362343\
             2a67061636b6574c40109a3756964b034643139633432313238303765653462a36e7370a12f",
        ),
    );
    both_ways(
        Message::ServerSideEmitResponse {
            request_id: id(),
            answer: answer(&[r#"{"pong":7}"#], &[]),
        },
        br#"{"type":10,"data":{"requestId":"d37d7f91183bcb42","packet":{"pong":7}},"uid":"4d19c4212807ee4b","nsp":"/"}"#,
    );
    // An ack called with no argument: JSON.stringify leaves `packet` out.
    both_ways(
        Message::BroadcastAck {
            request_id: id(),
            answer: answer(&[], &[]),
        },
        br#"{"type":12,"data":{"requestId":"d37d7f91183bcb42"},"uid":"4d19c4212807ee4b","nsp":"/"}"#,
    );
}

#[test]
fn junk_is_an_error_never_a_panic() {
    for junk in [
        &b""[..],
        b"{",
        b"{}",
        br#"{"type":3,"uid":"x","nsp":"/"}"#,
        br#"{"type":3,"data":[],"uid":"x","nsp":"/"}"#,
        br#"{"type":3,"data":{"packet":{"type":2,"data":[]},"opts":{}},"uid":"x","nsp":"/"}"#,
        br#"{"type":9,"data":{"packet":{}},"uid":"x","nsp":"/"}"#,
        br#"{"type":11,"data":{"requestId":"r","clientCount":-1},"uid":"x","nsp":"/"}"#,
        br#"{"type":8,"data":{"requestId":"r","sockets":[{"id":1}]},"uid":"x","nsp":"/"}"#,
        b"\xc1",
        b"\x84",
    ] {
        assert!(decode(junk).is_err(), "{:?}", String::from_utf8_lossy(junk));
    }
    // A type this adapter does not use is read, not refused (Node ignores them too).
    let heartbeat = decode(br#"{"type":2,"uid":"x","nsp":"/"}"#).expect("read");
    assert_eq!(heartbeat.message, Message::Other(2));
}
