//! `engine::decode_text_bytes` on arbitrary bytes: one WebSocket text frame or one part of a
//! polling payload.
//!
//! Beyond "never panics", every packet it accepts must survive a round trip through the encoder
//! in its polling form (`b<base64>` for binary), and `Frame::polling_len` must be the length
//! `Frame::write_polling` really writes.
//!
//! `FUZZ_TARGETS=engine_packet scripts/fuzz 600` runs it alone (see `fuzz/README.md`).

#![no_main]

use bytes::{Bytes, BytesMut};
use libfuzzer_sys::fuzz_target;
use tether_core::engine::{Frame, Packet, decode_payload, decode_text, decode_text_bytes};

fuzz_target!(|data: &[u8]| {
    let decoded = decode_text_bytes(Bytes::copy_from_slice(data));
    if !data.contains(&0x1e) {
        // One part is a payload of one packet, with the same verdict.
        let as_payload = decode_payload(Bytes::copy_from_slice(data));
        match (&decoded, &as_payload) {
            (Ok(packet), Ok(packets)) => assert_eq!(std::slice::from_ref(packet), &packets[..]),
            (Err(a), Err(b)) => assert_eq!(a, b),
            _ => panic!("decode_text_bytes {decoded:?} but decode_payload {as_payload:?}"),
        }
    }
    let Ok(packet) = decoded else { return };
    let frame = Frame::encode(&packet);
    let mut wire = BytesMut::new();
    frame.write_polling(&mut wire);
    assert_eq!(frame.polling_len(), wire.len(), "{frame:?}");
    let text = bytestring::ByteString::try_from(wire.freeze()).expect("polling form is UTF-8");
    let again = decode_text(text).expect("an encoded packet decodes");
    assert_eq!(again, packet);
    if let Packet::Binary(data) = &packet {
        assert_eq!(frame, Frame::Binary(data.clone()));
    }
});
