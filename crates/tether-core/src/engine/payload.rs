//! Engine.IO v4 polling payloads: packets joined by the record separator `\x1e`.
//!
//! ```
//! use bytes::Bytes;
//! use tether_core::engine::{decode_payload, Packet};
//! let packets = decode_payload(Bytes::from_static(b"4hello\x1ebAQIDBA=="));
//! assert_eq!(packets.unwrap(), vec![
//!     Packet::Message("hello".into()),
//!     Packet::Binary(Bytes::from_static(&[1, 2, 3, 4])),
//! ]);
//! ```

use bytes::{BufMut, Bytes, BytesMut};
use bytestring::ByteString;
use std::collections::VecDeque;

use super::packet::{Frame, Packet, PacketError, decode_text};

/// The separator between packets in a polling payload.
pub const SEPARATOR: u8 = 0x1e;

/// Decodes a whole polling payload. The first bad part is an error: the caller closes the
/// session, as the reference server does.
pub fn decode_payload(body: Bytes) -> Result<Vec<Packet>, PacketError> {
    let text = ByteString::try_from(body).map_err(|_| PacketError::InvalidUtf8)?;
    let mut packets = Vec::new();
    for part in text.split(SEPARATOR as char) {
        packets.push(decode_text(text.slice_ref(part))?);
    }
    Ok(packets)
}

/// Takes frames from the front of `queue` into one polling body, stopping before the body would
/// exceed `max_len` bytes (but always taking at least one frame, so a frame larger than the limit
/// still goes out alone). Returns the body and the number of frame bytes taken.
pub fn encode_payload(queue: &mut VecDeque<Frame>, max_len: usize) -> (Bytes, usize) {
    let mut size = 0usize;
    let mut count = 0usize;
    for frame in queue.iter() {
        let add = frame.polling_len() + usize::from(count > 0);
        if count > 0 && size + add > max_len {
            break;
        }
        size += add;
        count += 1;
    }
    let mut out = BytesMut::with_capacity(size);
    let mut taken = 0usize;
    for (i, frame) in queue.drain(..count).enumerate() {
        if i > 0 {
            out.put_u8(SEPARATOR);
        }
        taken += frame.len();
        frame.write_polling(&mut out);
    }
    (out.freeze(), taken)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_a_batch_in_order() {
        let packets = decode_payload(Bytes::from_static(b"4a\x1e4b\x1e2probe\x1e6\x1e1")).unwrap();
        assert_eq!(
            packets,
            vec![
                Packet::Message("a".into()),
                Packet::Message("b".into()),
                Packet::Ping { probe: true },
                Packet::Noop,
                Packet::Close,
            ]
        );
    }

    #[test]
    fn bad_parts_are_errors() {
        assert_eq!(
            decode_payload(Bytes::from_static(b"abc")),
            Err(PacketError::UnknownType('a'))
        );
        assert_eq!(
            decode_payload(Bytes::from_static(b"4ok\x1e")),
            Err(PacketError::Empty)
        );
        assert_eq!(
            decode_payload(Bytes::from_static(b"")),
            Err(PacketError::Empty)
        );
        assert_eq!(
            decode_payload(Bytes::from_static(b"4ok\x1eb*")),
            Err(PacketError::InvalidBase64)
        );
        assert_eq!(
            decode_payload(Bytes::from_static(b"4\xc3\x28")),
            Err(PacketError::InvalidUtf8)
        );
    }

    #[test]
    fn encodes_batches_and_cuts_them_at_the_limit() {
        let mut q: VecDeque<Frame> = [
            Frame::message("hello"),
            Frame::binary(Bytes::from_static(&[1, 2, 3, 4])),
            Frame::message("x"),
        ]
        .into();
        let (body, _) = encode_payload(&mut q.clone(), usize::MAX);
        assert_eq!(&body[..], b"4hello\x1ebAQIDBA==\x1e4x");

        // "4hello" (6) + sep + "bAQIDBA==" (9) = 16 fits; adding "\x1e4x" (3) would be 19.
        let (body, taken) = encode_payload(&mut q, 16);
        assert_eq!(&body[..], b"4hello\x1ebAQIDBA==");
        assert_eq!(taken, 6 + 4);
        assert_eq!(q.len(), 1);
        let (body, _) = encode_payload(&mut q, 16);
        assert_eq!(&body[..], b"4x");
        assert!(q.is_empty());
    }

    #[test]
    fn an_oversized_frame_still_goes_out_alone() {
        let mut q: VecDeque<Frame> = [Frame::message("abcdef"), Frame::message("g")].into();
        let (body, _) = encode_payload(&mut q, 3);
        assert_eq!(&body[..], b"4abcdef");
        let (body, _) = encode_payload(&mut q, 3);
        assert_eq!(&body[..], b"4g");
        let (body, taken) = encode_payload(&mut q, 3);
        assert!(body.is_empty());
        assert_eq!(taken, 0);
    }
}
