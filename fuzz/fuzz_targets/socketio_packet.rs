//! `socket::decode` on arbitrary UTF-8: the text of one Socket.IO packet (an Engine.IO message
//! without its `4`).
//!
//! Every packet it accepts must be well formed (an attachment count only on binary types and
//! within 1..=MAX_ATTACHMENTS, a namespace starting with `/` and holding no `,`, each argument
//! one JSON value) and must survive a round trip through the encoders: `encode_array` for
//! events and acks, `encode_object` for the others.
//!
//! `FUZZ_TARGETS=socketio_packet scripts/fuzz 600` runs it alone (see `fuzz/README.md`).

#![no_main]

use bytestring::ByteString;
use libfuzzer_sys::fuzz_target;
use serde_json::value::RawValue;
use tether_core::socket::{
    MAX_ATTACHMENTS, Packet, PacketKind, decode, encode_array, encode_object,
};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(packet) = decode(ByteString::from(text)) else {
        return;
    };
    check(&packet);
    if packet.kind == PacketKind::ConnectError
        && packet
            .args
            .first()
            .is_some_and(|a| a.starts_with(|c: char| c.is_ascii_digit()))
    {
        // `4\n522` (whitespace before a number) is accepted, but written back as `4522` the
        // number reads as an ack id: the grammar's own ambiguity, for a packet only servers
        // send (ours send objects). Nothing to round-trip.
        return;
    }
    let wire = reencode(&packet);
    let text = wire.strip_prefix('4').expect("an Engine.IO message");
    let again = decode(ByteString::from(text))
        .unwrap_or_else(|err| panic!("re-encoded {text:?} does not decode: {err}"));
    let mut expected = packet;
    if !has_ack_id(expected.kind) {
        // `encode_object` writes no ack id; the decoder reads one on any type.
        expected.id = None;
    }
    assert_eq!(again, expected, "{text:?}");
});

fn has_ack_id(kind: PacketKind) -> bool {
    matches!(
        kind,
        PacketKind::Event | PacketKind::BinaryEvent | PacketKind::Ack | PacketKind::BinaryAck
    )
}

fn check(packet: &Packet) {
    if packet.kind.is_binary() {
        assert!((1..=MAX_ATTACHMENTS).contains(&packet.attachments));
    } else {
        assert_eq!(packet.attachments, 0);
    }
    assert!(packet.nsp.starts_with('/'), "{:?}", packet.nsp);
    assert!(!packet.nsp.contains(','), "{:?}", packet.nsp);
    for arg in &packet.args {
        serde_json::from_str::<&RawValue>(arg).expect("each argument is one JSON value");
    }
    match packet.kind {
        PacketKind::Event | PacketKind::BinaryEvent => {
            assert!(!packet.args.is_empty(), "an event has a name");
            // A string name unescapes; a number name is kept as written.
            let _ = packet.event_name();
        }
        PacketKind::Connect => {
            assert!(packet.args.len() <= 1);
            if let Some(auth) = packet.args.first() {
                assert!(auth.starts_with('{'), "CONNECT auth is an object: {auth:?}");
            }
        }
        PacketKind::Disconnect => {
            // nothing, or tether.WebSocket's close frame: one object
            assert!(packet.args.len() <= 1);
            if let Some(frame) = packet.args.first() {
                assert!(frame.starts_with('{'), "a DISCONNECT payload is an object: {frame:?}");
            }
        }
        PacketKind::ConnectError => assert!(packet.args.len() <= 1),
        PacketKind::Ack | PacketKind::BinaryAck => {}
    }
}

fn reencode(packet: &Packet) -> String {
    if has_ack_id(packet.kind) {
        encode_array(
            packet.kind,
            &packet.nsp,
            packet.id,
            packet.attachments,
            packet.args.iter().map(|a| &**a),
        )
    } else {
        encode_object(packet.kind, &packet.nsp, packet.args.first().map(|a| &**a))
    }
}
