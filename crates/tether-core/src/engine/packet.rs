//! Engine.IO v4 packets: decoding what a peer sends and encoding what we send.
//!
//! A text packet is one ASCII type digit followed by its payload (`4hello`, `2`, `3probe`). A binary
//! message has no type byte on WebSocket (the frame is the data) and is `b` + base64 inside a
//! polling payload. Everything here is a pure function over bytes.

use base64::Engine as _;
use base64::alphabet::STANDARD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use bytes::{BufMut, Bytes, BytesMut};
use bytestring::ByteString;

/// Standard base64; decoding accepts missing padding, as the reference (Node's `Buffer`) does.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The payload of a `ping` or `pong` used while probing a WebSocket during an upgrade.
pub const PROBE: &str = "probe";

/// One decoded Engine.IO packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Packet {
    /// `0`: handshake data (server to client).
    Open(ByteString),
    /// `1`: close the session.
    Close,
    /// `2`: heartbeat; `2probe` only while upgrading, client to server.
    Ping {
        /// `true` for `2probe`.
        probe: bool,
    },
    /// `3`: heartbeat answer; `3probe` answers a probe.
    Pong {
        /// `true` for `3probe`.
        probe: bool,
    },
    /// `4...`: a text message.
    Message(ByteString),
    /// A binary message (a WebSocket binary frame, or `b<base64>` on polling).
    Binary(Bytes),
    /// `5`: completes a transport upgrade.
    Upgrade,
    /// `6`: filler that completes a pending poll.
    Noop,
}

/// Why bytes from a peer are not an Engine.IO packet.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PacketError {
    /// An empty text packet has no type digit.
    #[error("empty packet")]
    Empty,
    /// The first character is not a packet type digit.
    #[error("unknown packet type {0:?}")]
    UnknownType(char),
    /// A `b` packet whose base64 does not decode.
    #[error("invalid base64 in binary packet")]
    InvalidBase64,
    /// A text payload that is not UTF-8.
    #[error("packet is not valid UTF-8")]
    InvalidUtf8,
    /// A `ping` or `pong` with a payload other than `probe`.
    #[error("unexpected heartbeat payload")]
    BadHeartbeatPayload,
}

/// Decodes one text packet as it arrives in a WebSocket text frame or one part of a polling
/// payload. `b<base64>` is accepted as a binary message (polling's form).
///
/// ```
/// use tether_core::engine::{decode_text, Packet};
/// assert_eq!(decode_text("4hello".into()), Ok(Packet::Message("hello".into())));
/// assert_eq!(decode_text("2probe".into()), Ok(Packet::Ping { probe: true }));
/// assert!(decode_text("x".into()).is_err());
/// ```
pub fn decode_text(text: ByteString) -> Result<Packet, PacketError> {
    let first = *text.as_bytes().first().ok_or(PacketError::Empty)?;
    let rest = || text.slice_ref(&text[1..]);
    let heartbeat = |rest: &str| match rest {
        "" => Ok(false),
        PROBE => Ok(true),
        _ => Err(PacketError::BadHeartbeatPayload),
    };
    match first {
        b'0' => Ok(Packet::Open(rest())),
        b'1' => Ok(Packet::Close),
        b'2' => Ok(Packet::Ping {
            probe: heartbeat(&text[1..])?,
        }),
        b'3' => Ok(Packet::Pong {
            probe: heartbeat(&text[1..])?,
        }),
        b'4' => Ok(Packet::Message(rest())),
        b'5' => Ok(Packet::Upgrade),
        b'6' => Ok(Packet::Noop),
        b'b' => BASE64
            .decode(&text.as_bytes()[1..])
            .map(|data| Packet::Binary(Bytes::from(data)))
            .map_err(|_| PacketError::InvalidBase64),
        _ => Err(PacketError::UnknownType(
            text.chars().next().unwrap_or(char::REPLACEMENT_CHARACTER),
        )),
    }
}

/// Decodes raw bytes holding one text packet, checking UTF-8 first.
pub fn decode_text_bytes(bytes: Bytes) -> Result<Packet, PacketError> {
    let text = ByteString::try_from(bytes).map_err(|_| PacketError::InvalidUtf8)?;
    decode_text(text)
}

/// One packet encoded for the wire, shared by every transport and every recipient: cloning it is
/// a reference-count bump, never a copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// A text packet with its type digit (`4hello`, `2`, `1`).
    Text(ByteString),
    /// A binary message: the raw bytes (a WebSocket binary frame; `b<base64>` on polling).
    Binary(Bytes),
}

impl Frame {
    /// Encodes a text message: `4` + the text.
    pub fn message(text: &str) -> Frame {
        let mut s = String::with_capacity(text.len() + 1);
        s.push('4');
        s.push_str(text);
        Frame::Text(ByteString::from(s))
    }

    /// A binary message.
    pub fn binary(data: Bytes) -> Frame {
        Frame::Binary(data)
    }

    /// A packet that carries no payload, such as `2` (ping) or `6` (noop).
    pub fn bare(kind: PacketKind) -> Frame {
        Frame::Text(ByteString::from_static(kind.as_str()))
    }

    /// The frame of an encoded packet.
    pub fn encode(packet: &Packet) -> Frame {
        let text = |digit: char, s: &str| {
            let mut out = String::with_capacity(s.len() + 1);
            out.push(digit);
            out.push_str(s);
            Frame::Text(ByteString::from(out))
        };
        match packet {
            Packet::Open(json) => text('0', json),
            Packet::Close => Frame::bare(PacketKind::Close),
            Packet::Ping { probe: false } => Frame::bare(PacketKind::Ping),
            Packet::Ping { probe: true } => Frame::Text(ByteString::from_static("2probe")),
            Packet::Pong { probe: false } => Frame::bare(PacketKind::Pong),
            Packet::Pong { probe: true } => Frame::Text(ByteString::from_static("3probe")),
            Packet::Message(s) => text('4', s),
            Packet::Binary(b) => Frame::Binary(b.clone()),
            Packet::Upgrade => Frame::bare(PacketKind::Upgrade),
            Packet::Noop => Frame::bare(PacketKind::Noop),
        }
    }

    /// Bytes this frame takes in a polling payload (binary grows by base64), without the separator.
    pub fn polling_len(&self) -> usize {
        match self {
            Frame::Text(s) => s.len(),
            Frame::Binary(b) => 1 + b.len().div_ceil(3) * 4,
        }
    }

    /// Bytes this frame takes on a WebSocket.
    pub fn len(&self) -> usize {
        match self {
            Frame::Text(s) => s.len(),
            Frame::Binary(b) => b.len(),
        }
    }

    /// Whether the frame carries no bytes at all (never true for a valid packet).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends the polling form of this frame (`b<base64>` for binary) to `out`.
    pub fn write_polling(&self, out: &mut BytesMut) {
        match self {
            Frame::Text(s) => out.put_slice(s.as_bytes()),
            Frame::Binary(b) => {
                out.put_u8(b'b');
                let start = out.len();
                out.resize(start + b.len().div_ceil(3) * 4, 0);
                // The buffer was sized above with base64's exact padded length.
                let written = BASE64
                    .encode_slice(b, &mut out[start..])
                    .unwrap_or_default();
                out.truncate(start + written);
            }
        }
    }
}

/// The packet type digits, for building bare packets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PacketKind {
    /// `0`
    Open,
    /// `1`
    Close,
    /// `2`
    Ping,
    /// `3`
    Pong,
    /// `4`
    Message,
    /// `5`
    Upgrade,
    /// `6`
    Noop,
}

impl PacketKind {
    /// The digit as a string.
    pub fn as_str(self) -> &'static str {
        match self {
            PacketKind::Open => "0",
            PacketKind::Close => "1",
            PacketKind::Ping => "2",
            PacketKind::Pong => "3",
            PacketKind::Message => "4",
            PacketKind::Upgrade => "5",
            PacketKind::Noop => "6",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &'static str) -> Result<Packet, PacketError> {
        decode_text(ByteString::from_static(s))
    }

    #[test]
    fn decodes_every_type() {
        assert_eq!(dec("0{}"), Ok(Packet::Open("{}".into())));
        assert_eq!(dec("1"), Ok(Packet::Close));
        assert_eq!(dec("2"), Ok(Packet::Ping { probe: false }));
        assert_eq!(dec("2probe"), Ok(Packet::Ping { probe: true }));
        assert_eq!(dec("3"), Ok(Packet::Pong { probe: false }));
        assert_eq!(dec("3probe"), Ok(Packet::Pong { probe: true }));
        assert_eq!(dec("4hello"), Ok(Packet::Message("hello".into())));
        assert_eq!(dec("4"), Ok(Packet::Message("".into())));
        assert_eq!(dec("4é✓"), Ok(Packet::Message("é✓".into())));
        assert_eq!(dec("5"), Ok(Packet::Upgrade));
        assert_eq!(dec("6"), Ok(Packet::Noop));
        assert_eq!(
            dec("bAQIDBA=="),
            Ok(Packet::Binary(Bytes::from_static(&[1, 2, 3, 4])))
        );
        assert_eq!(dec("b"), Ok(Packet::Binary(Bytes::new())));
    }

    #[test]
    fn malformed_packets_are_errors() {
        assert_eq!(dec(""), Err(PacketError::Empty));
        assert_eq!(dec("abc"), Err(PacketError::UnknownType('a')));
        assert_eq!(dec("7"), Err(PacketError::UnknownType('7')));
        assert_eq!(dec("é"), Err(PacketError::UnknownType('é')));
        assert_eq!(dec("b!!!"), Err(PacketError::InvalidBase64));
        assert_eq!(dec("bAQI"), Ok(Packet::Binary(Bytes::from_static(&[1, 2]))));
        assert_eq!(dec("bAQ"), Ok(Packet::Binary(Bytes::from_static(&[1]))));
        assert_eq!(dec("bA"), Err(PacketError::InvalidBase64));
        assert_eq!(dec("bAQ=x"), Err(PacketError::InvalidBase64));
        assert_eq!(dec("2pong"), Err(PacketError::BadHeartbeatPayload));
        assert_eq!(dec("3x"), Err(PacketError::BadHeartbeatPayload));
        assert_eq!(
            decode_text_bytes(Bytes::from_static(b"4\xff\xfe")),
            Err(PacketError::InvalidUtf8)
        );
    }

    #[test]
    fn encodes_every_type() {
        let text = |p: Packet| match Frame::encode(&p) {
            Frame::Text(s) => s.to_string(),
            Frame::Binary(_) => panic!("binary"),
        };
        assert_eq!(text(Packet::Open("{}".into())), "0{}");
        assert_eq!(text(Packet::Close), "1");
        assert_eq!(text(Packet::Ping { probe: false }), "2");
        assert_eq!(text(Packet::Ping { probe: true }), "2probe");
        assert_eq!(text(Packet::Pong { probe: false }), "3");
        assert_eq!(text(Packet::Pong { probe: true }), "3probe");
        assert_eq!(text(Packet::Message("hi".into())), "4hi");
        assert_eq!(text(Packet::Upgrade), "5");
        assert_eq!(text(Packet::Noop), "6");
        assert_eq!(Frame::message("hi"), Frame::Text("4hi".into()));
    }

    #[test]
    fn binary_polling_form_is_b_plus_base64() {
        for (raw, b64) in [
            (&[][..], "b"),
            (&[1][..], "bAQ=="),
            (&[1, 2][..], "bAQI="),
            (&[1, 2, 3][..], "bAQID"),
            (&[1, 2, 3, 4][..], "bAQIDBA=="),
        ] {
            let frame = Frame::binary(Bytes::copy_from_slice(raw));
            let mut out = BytesMut::new();
            frame.write_polling(&mut out);
            assert_eq!(&out[..], b64.as_bytes());
            assert_eq!(frame.polling_len(), b64.len());
            assert_eq!(
                dec_owned(b64),
                Ok(Packet::Binary(Bytes::copy_from_slice(raw)))
            );
        }
    }

    fn dec_owned(s: &str) -> Result<Packet, PacketError> {
        decode_text(ByteString::from(s.to_owned()))
    }
}
