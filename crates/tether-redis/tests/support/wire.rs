//! What the golden-byte tests build their messages from.

use bytes::Bytes;
use bytestring::ByteString;
use tether_core::adapter::EventPacket;
use tether_core::socket::{AckResponse, Payload};

/// The bytes of a hex string (as the captures are written).
pub(crate) fn unhex(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
        .collect()
}

fn attached(attachments: &[&[u8]]) -> Vec<Bytes> {
    attachments
        .iter()
        .map(|b| Bytes::copy_from_slice(b))
        .collect()
}

/// An event with raw JSON arguments and binary attachments.
pub(crate) fn packet(event: &str, args: &[&str], attachments: &[&[u8]]) -> EventPacket {
    EventPacket {
        event: event.into(),
        payload: Payload::from_raw(
            args.iter().map(|a| ByteString::from(*a)).collect(),
            attached(attachments),
        ),
    }
}

/// An answer with raw JSON arguments and binary attachments.
pub(crate) fn answer(args: &[&str], attachments: &[&[u8]]) -> AckResponse {
    AckResponse {
        args: args.iter().map(|a| ByteString::from(*a)).collect(),
        attachments: attached(attachments),
    }
}
