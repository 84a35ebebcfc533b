//! The broadcast codec against bytes notepack.io 3.0.1 wrote for the same messages (the
//! encoder of `@socket.io/redis-adapter` 8.3.0 and `@socket.io/redis-emitter` 5.1.0): tether
//! must publish exactly what a Node node would, and read what Node nodes and the emitter send.
//!
//! The hex strings were produced by `require('notepack.io').encode(message)` in Node 20; the
//! first is also the capture in research/redis-wire.md section 1.

mod support;

use support::wire::{packet, unhex};
use tether_core::adapter::{BroadcastFlags, BroadcastOptions, EventPacket, Room};
use tether_redis::broadcast::{Broadcast, DecodeError, decode, encode};

fn opts(rooms: &[&str], except: &[&str], volatile: bool) -> BroadcastOptions {
    BroadcastOptions {
        rooms: rooms.iter().map(|r| Room::from(*r)).collect(),
        except: except.iter().map(|r| Room::from(*r)).collect(),
        flags: BroadcastFlags {
            volatile,
            ..BroadcastFlags::default()
        },
    }
}

/// Encodes as tether would, compares with Node's bytes, and reads Node's bytes back.
fn same_as_node(hex: &str, nsp: &str, packet: EventPacket, opts: BroadcastOptions) {
    let bytes = encode("0AhEXa", nsp, &packet, &opts).expect("encodes");
    assert_eq!(to_hex(&bytes), hex, "tether's bytes are Node's");
    let back = decode(&unhex(hex)).expect("Node's bytes decode");
    assert_eq!(
        back,
        Broadcast {
            uid: "0AhEXa".into(),
            nsp: nsp.into(),
            packet,
            opts,
        }
    );
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn one_room() {
    // io.to("room2").emit("e2", "only room2"), as captured on Redis.
    same_as_node(
        "93a630416845586183a47479706502a46461746192a26532aa6f6e6c7920726f6f6d32a36e7370a12f83a5726f6f6d7391a5726f6f6d32a665786365707490a5666c61677380",
        "/",
        packet("e2", &[r#""only room2""#], &[]),
        opts(&["room2"], &[], false),
    );
}

#[test]
fn strings_numbers_objects() {
    same_as_node(
        "93a630416845586183a47479706502a46461746194a26531a568656c6c6f0181a1619401cb4004000000000000c0c3a36e7370a12f83a5726f6f6d7390a665786365707490a5666c61677380",
        "/",
        packet(
            "e1",
            &[r#""hello""#, "1", r#"{"a":[1,2.5,null,true]}"#],
            &[],
        ),
        opts(&[], &[], false),
    );
}

#[test]
fn rooms_except_volatile_and_a_namespace() {
    same_as_node(
        "93a630416845586183a47479706502a46461746192a265342aa36e7370a52f6368617483a5726f6f6d7392a27231a27232a665786365707491a27231a5666c61677381a8766f6c6174696c65c3",
        "/chat",
        packet("e4", &["42"], &[]),
        opts(&["r1", "r2"], &["r1"], true),
    );
}

#[test]
fn binary_anywhere_is_bin() {
    same_as_node(
        "93a630416845586183a47479706502a46461746193a26535c40301020381a66e6573746564c4026869a36e7370a12f83a5726f6f6d7390a665786365707491b44141414141414141414141414141414141414141a5666c61677380",
        "/",
        packet(
            "e5",
            &[
                r#"{"_placeholder":true,"num":0}"#,
                r#"{"nested":{"_placeholder":true,"num":1}}"#,
            ],
            &[&[1, 2, 3], b"hi"],
        ),
        opts(&[], &["AAAAAAAAAAAAAAAAAAAA"], false),
    );
}

#[test]
fn every_integer_width_floats_and_long_strings() {
    let long = format!("\"{}\"", "x".repeat(40));
    same_as_node(
        "93a630416845586183a47479706502a4646174619da16effccffce00010000cf0000000100000000d3ffffffff7fffffffcb3ff800000000000000e07fcc80d9287878787878787878787878787878787878787878787878787878787878787878787878787878787882a26b3101a2613002a36e7370a12f83a5726f6f6d7390a665786365707490a5666c61677380",
        "/",
        packet(
            "n",
            &[
                "-1",
                "255",
                "65536",
                "4294967296",
                "-2147483649",
                "1.5",
                "0",
                "-32",
                "127",
                "128",
                &long,
                r#"{"k1":1,"a0":2}"#,
            ],
            &[],
        ),
        opts(&[], &[], false),
    );
}

#[test]
fn the_emitter_s_dates_arrive_as_iso_strings() {
    // The emitter's emit("d", new Date(1700000000123), new Date(1700000000000)): its opts keys
    // come in another order, its uid is "emitter".
    let bytes = unhex(
        "93a7656d697474657283a47479706502a46461746193a164d7ff1d5353006553f100d6ff6553f100a36e7370a12f83a5726f6f6d7390a5666c61677380a665786365707490",
    );
    let got = decode(&bytes).expect("decodes");
    assert_eq!(got.uid, "emitter");
    assert_eq!(
        got.packet,
        packet(
            "d",
            &[
                r#""2023-11-14T22:13:20.123Z""#,
                r#""2023-11-14T22:13:20.000Z""#
            ],
            &[]
        )
    );
}

#[test]
fn except_goes_without_duplicates() {
    let bytes = encode(
        "u",
        "/",
        &packet("e", &[], &[]),
        &opts(&[], &["a", "b", "a"], false),
    )
    .expect("encodes");
    assert_eq!(
        decode(&bytes).expect("decodes").opts.except,
        [Room::from("a"), Room::from("b")]
    );
}

#[test]
fn what_is_not_a_broadcast_is_refused() {
    let good = unhex(
        "93a630416845586183a47479706502a46461746192a26532aa6f6e6c7920726f6f6d32a36e7370a12f83a5726f6f6d7391a5726f6f6d32a665786365707490a5666c61677380",
    );
    // Every prefix of a good message is refused, none panics.
    for end in 0..good.len() {
        assert!(decode(&good[..end]).is_err(), "a {end}-byte prefix");
    }
    let mut longer = good.clone();
    longer.push(0xc0);
    assert!(matches!(decode(&longer), Err(DecodeError::Msgpack(_))));
    // A map instead of the 3-array (what a streams adapter publishes), a non-msgpack byte.
    assert!(matches!(
        decode(&unhex("81a474797065 03".replace(' ', "").as_str())),
        Err(DecodeError::Shape(_))
    ));
    assert!(decode(&[0xc1]).is_err());
    // Deeply nested arguments are refused, not followed down the stack.
    let mut bomb = unhex("93a17583a47479706502a46461746192a165");
    bomb.extend(std::iter::repeat_n(0x91, 100_000));
    bomb.push(0xc0);
    assert!(matches!(decode(&bomb), Err(DecodeError::Msgpack(_))));
    // A packet that is not an event, an event name that is not text, no data.
    let not_event = unhex("93a17583a47479706503a46461746191a165a36e7370a12f80");
    assert!(matches!(decode(&not_event), Err(DecodeError::Shape(_))));
    let bad_name = unhex("93a17583a47479706502a46461746191c3a36e7370a12f80");
    assert!(matches!(decode(&bad_name), Err(DecodeError::Shape(_))));
    let no_data = unhex("93a17582a47479706502a36e7370a12f80");
    assert!(matches!(decode(&no_data), Err(DecodeError::Shape(_))));
}

#[test]
fn arguments_that_are_not_json_are_not_published() {
    let bad = packet("e", &["{"], &[]);
    assert!(encode("u", "/", &bad, &BroadcastOptions::default()).is_err());
}
