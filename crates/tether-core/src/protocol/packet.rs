//! Socket.IO v5 packets: the text header codec.
//!
//! `<type>[<attachments>-][<nsp>,][<ack id>][<JSON>]`. Decoding never copies the JSON: each
//! argument of an event is kept as a slice of the received text, so an echo sends the very bytes
//! it got (key order and formatting included) and `Data<T>` deserializes straight from them.
//!
//! ```
//! use tether_core::socket::{decode, PacketKind};
//! let p = decode("2/chat,7[\"say\",{\"b\":1,\"a\":2}]".into()).unwrap();
//! assert_eq!(p.kind, PacketKind::Event);
//! assert_eq!(&*p.nsp, "/chat");
//! assert_eq!(p.id, Some(7));
//! assert_eq!(p.event_name().as_deref(), Some("say"));
//! assert_eq!(&*p.args[1], "{\"b\":1,\"a\":2}");
//! ```

use bytestring::ByteString;
use serde_json::value::RawValue;
use std::fmt::Write as _;

/// Most binary attachments one packet may announce (the reference parser's default).
pub const MAX_ATTACHMENTS: usize = 10;

/// Event names the protocol reserves; a client may not emit them.
pub const RESERVED_EVENTS: [&str; 6] = [
    "connect",
    "connect_error",
    "disconnect",
    "disconnecting",
    "newListener",
    "removeListener",
];

/// The seven packet types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PacketKind {
    /// `0`: join a namespace (client) / joined (server).
    Connect,
    /// `1`: leave a namespace.
    Disconnect,
    /// `2`: an event.
    Event,
    /// `3`: an acknowledgement.
    Ack,
    /// `4`: a namespace refused the connection (server to client).
    ConnectError,
    /// `5`: an event with binary attachments.
    BinaryEvent,
    /// `6`: an acknowledgement with binary attachments.
    BinaryAck,
}

impl PacketKind {
    fn from_digit(d: u8) -> Option<PacketKind> {
        Some(match d {
            b'0' => PacketKind::Connect,
            b'1' => PacketKind::Disconnect,
            b'2' => PacketKind::Event,
            b'3' => PacketKind::Ack,
            b'4' => PacketKind::ConnectError,
            b'5' => PacketKind::BinaryEvent,
            b'6' => PacketKind::BinaryAck,
            _ => return None,
        })
    }

    /// The type digit.
    pub fn digit(self) -> char {
        match self {
            PacketKind::Connect => '0',
            PacketKind::Disconnect => '1',
            PacketKind::Event => '2',
            PacketKind::Ack => '3',
            PacketKind::ConnectError => '4',
            PacketKind::BinaryEvent => '5',
            PacketKind::BinaryAck => '6',
        }
    }

    /// Whether attachments follow packets of this type.
    pub fn is_binary(self) -> bool {
        matches!(self, PacketKind::BinaryEvent | PacketKind::BinaryAck)
    }
}

/// A decoded Socket.IO packet header; binary attachments, if any, arrive after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    /// The packet type.
    pub kind: PacketKind,
    /// The namespace (`/` when the packet names none).
    pub nsp: ByteString,
    /// The acknowledgement id.
    pub id: Option<u64>,
    /// How many binary attachments follow.
    pub attachments: usize,
    /// For events and acks: each argument's raw JSON (for events the first is the name). For
    /// CONNECT: the auth object, if any, as the only element.
    pub args: Vec<ByteString>,
}

impl Packet {
    /// The event name, for an event whose name is a string (unescaped; no copy unless it
    /// has escapes).
    pub fn event_name(&self) -> Option<ByteString> {
        if !matches!(self.kind, PacketKind::Event | PacketKind::BinaryEvent) {
            return None;
        }
        json_string(self.args.first()?)
    }
}

/// Why a text is not a valid Socket.IO packet. Every one closes the connection.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// No type digit, or an unknown one.
    #[error("unknown packet type")]
    UnknownType,
    /// The attachment count is missing its `-`, not a number, or outside 1..=10.
    #[error("invalid attachment count")]
    BadAttachments,
    /// The ack id is too large.
    #[error("invalid ack id")]
    BadId,
    /// The payload is not valid JSON.
    #[error("invalid JSON payload")]
    BadJson,
    /// The payload does not fit the packet type (e.g. an event that is not a non-empty array).
    #[error("invalid payload for this packet type")]
    BadPayload,
    /// A binary placeholder whose `num` names no attachment of the packet.
    #[error("placeholder refers to a missing attachment")]
    BadPlaceholder,
    /// An event named after a reserved event (`connect`, `disconnect`, ...).
    #[error("reserved event name")]
    ReservedEvent,
}

/// Decodes the text of one Socket.IO packet (an Engine.IO message without its `4`).
pub fn decode(text: ByteString) -> Result<Packet, DecodeError> {
    let bytes = text.as_bytes();
    let kind = bytes
        .first()
        .and_then(|d| PacketKind::from_digit(*d))
        .ok_or(DecodeError::UnknownType)?;
    let mut i = 1;
    let mut attachments = 0;
    if kind.is_binary() {
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        if i == start || bytes.get(i) != Some(&b'-') || i - start > 2 {
            return Err(DecodeError::BadAttachments);
        }
        attachments = text[start..i]
            .parse::<usize>()
            .map_err(|_| DecodeError::BadAttachments)?;
        if !(1..=MAX_ATTACHMENTS).contains(&attachments) {
            return Err(DecodeError::BadAttachments);
        }
        i += 1;
    }
    let nsp = if bytes.get(i) == Some(&b'/') {
        let end = text[i..].find(',').map_or(bytes.len(), |n| i + n);
        let nsp = text.slice_ref(&text[i..end]);
        i = (end + 1).min(bytes.len());
        nsp
    } else {
        ByteString::from_static("/")
    };
    let id_start = i;
    while i < bytes.len() && bytes[i].is_ascii_digit() {
        i += 1;
    }
    let id = if i > id_start {
        Some(
            text[id_start..i]
                .parse::<u64>()
                .map_err(|_| DecodeError::BadId)?,
        )
    } else {
        None
    };
    let json = &text[i..];
    let args = match kind {
        PacketKind::Connect => match json {
            "" => Vec::new(),
            _ => {
                let raw: &RawValue = parse(json)?;
                if !raw.get().starts_with('{') {
                    return Err(DecodeError::BadPayload);
                }
                vec![text.slice_ref(raw.get())]
            }
        },
        // No payload in Socket.IO; tether.WebSocket's close sends `{code, reason}` (an object,
        // checked by the socket layer) to a server that told it so.
        PacketKind::Disconnect => match json {
            "" => Vec::new(),
            _ => {
                let raw: &RawValue = parse(json)?;
                if !raw.get().starts_with('{') {
                    return Err(DecodeError::BadPayload);
                }
                vec![text.slice_ref(raw.get())]
            }
        },
        PacketKind::ConnectError => match json {
            "" => Vec::new(),
            _ => vec![text.slice_ref(parse::<&RawValue>(json)?.get())],
        },
        PacketKind::Event | PacketKind::BinaryEvent | PacketKind::Ack | PacketKind::BinaryAck => {
            if !json.trim_start().starts_with('[') {
                return Err(DecodeError::BadPayload);
            }
            let list: Vec<&RawValue> = parse(json)?;
            if attachments > 0 {
                check_placeholders(&list, attachments)?;
            }
            let args: Vec<ByteString> = list.iter().map(|r| text.slice_ref(r.get())).collect();
            if matches!(kind, PacketKind::Event | PacketKind::BinaryEvent) {
                check_event_name(args.first())?;
            }
            args
        }
    };
    Ok(Packet {
        kind,
        nsp,
        id,
        attachments,
        args,
    })
}

/// The contents of a JSON string, or `None` if `json` is not one.
pub(crate) fn json_string(json: &ByteString) -> Option<ByteString> {
    let inner = json.strip_prefix('"')?.strip_suffix('"')?;
    if !inner.contains('\\') {
        return Some(json.slice_ref(inner));
    }
    serde_json::from_str::<String>(json)
        .ok()
        .map(ByteString::from)
}

fn parse<'a, T: serde::Deserialize<'a>>(json: &'a str) -> Result<T, DecodeError> {
    serde_json::from_str(json).map_err(|_| DecodeError::BadJson)
}

/// Every placeholder in a binary packet must name an attachment that exists.
fn check_placeholders(args: &[&RawValue], attachments: usize) -> Result<(), DecodeError> {
    fn walk(value: &serde_json::Value, attachments: usize) -> Result<(), DecodeError> {
        match value {
            serde_json::Value::Object(map) => {
                if map.get("_placeholder") == Some(&serde_json::Value::Bool(true)) {
                    let num = map.get("num").and_then(serde_json::Value::as_u64);
                    return match num {
                        Some(n) if (n as usize) < attachments => Ok(()),
                        _ => Err(DecodeError::BadPlaceholder),
                    };
                }
                map.values().try_for_each(|v| walk(v, attachments))
            }
            serde_json::Value::Array(list) => list.iter().try_for_each(|v| walk(v, attachments)),
            _ => Ok(()),
        }
    }
    for arg in args {
        if arg.get().contains("_placeholder") {
            walk(&parse::<serde_json::Value>(arg.get())?, attachments)?;
        }
    }
    Ok(())
}

fn check_event_name(first: Option<&ByteString>) -> Result<(), DecodeError> {
    let first = first.ok_or(DecodeError::BadPayload)?;
    if let Ok(name) = serde_json::from_str::<String>(first) {
        if RESERVED_EVENTS.contains(&name.as_str()) {
            return Err(DecodeError::ReservedEvent);
        }
        return Ok(());
    }
    if first.starts_with(|c: char| c == '-' || c.is_ascii_digit()) {
        return Ok(());
    }
    Err(DecodeError::BadPayload)
}

/// Writes a packet header: type, attachment count, namespace and ack id; the JSON goes after.
pub fn write_header(
    out: &mut String,
    kind: PacketKind,
    nsp: &str,
    id: Option<u64>,
    attachments: usize,
) {
    out.push(kind.digit());
    if kind.is_binary() {
        let _ = write!(out, "{attachments}-");
    }
    if nsp != "/" {
        out.push_str(nsp);
        out.push(',');
    }
    if let Some(id) = id {
        let _ = write!(out, "{id}");
    }
}

/// Encodes a packet whose payload is a JSON array of raw arguments (events and acks). The
/// result is the Engine.IO message text, with its leading `4`.
pub fn encode_array<'a>(
    kind: PacketKind,
    nsp: &str,
    id: Option<u64>,
    attachments: usize,
    args: impl IntoIterator<Item = &'a str>,
) -> String {
    let mut out = String::with_capacity(64);
    out.push('4');
    write_header(&mut out, kind, nsp, id, attachments);
    out.push('[');
    for (i, arg) in args.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(arg);
    }
    out.push(']');
    out
}

/// Encodes a packet with an object payload (CONNECT reply, CONNECT_ERROR), or none.
pub fn encode_object(kind: PacketKind, nsp: &str, json: Option<&str>) -> String {
    let mut out = String::with_capacity(48);
    out.push('4');
    write_header(&mut out, kind, nsp, None, 0);
    if let Some(json) = json {
        out.push_str(json);
    }
    out
}

/// The placeholder that stands for attachment `num` in a binary packet's JSON.
pub fn placeholder(num: usize) -> String {
    format!("{{\"_placeholder\":true,\"num\":{num}}}")
}

#[cfg(test)]
#[path = "packet_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "packet_encode_tests.rs"]
mod encode_tests;
