//! [`Payload`]: the arguments of an emit or an ack, JSON and binary, and their encoding into
//! Engine.IO frames, done once however many sockets receive it.

use bytes::Bytes;
use bytestring::ByteString;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::sync::Arc;

use super::packet::{PacketKind, encode_array, placeholder};
use crate::engine::Frame;

/// The arguments of an event or acknowledgement: each one raw JSON, plus binary attachments
/// referenced by placeholders.
///
/// ```
/// use tether_core::socket::Payload;
/// let p = Payload::new().arg(&"hi").unwrap().binary(vec![1u8, 2, 3]);
/// assert_eq!(p.args(), ["\"hi\"", "{\"_placeholder\":true,\"num\":0}"]);
/// assert_eq!(p.attachments().len(), 1);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Payload {
    args: Vec<ByteString>,
    attachments: Vec<Bytes>,
}

impl Payload {
    /// No arguments.
    pub fn new() -> Payload {
        Payload::default()
    }

    /// One argument serialized from `value`.
    pub fn from_value<T: Serialize + ?Sized>(value: &T) -> Result<Payload, serde_json::Error> {
        Payload::new().arg(value)
    }

    /// Adds an argument serialized from `value`.
    pub fn arg<T: Serialize + ?Sized>(mut self, value: &T) -> Result<Payload, serde_json::Error> {
        self.args.push(serde_json::to_string(value)?.into());
        Ok(self)
    }

    /// Adds a binary argument (sent as an attachment; the client receives an `ArrayBuffer` or
    /// `Buffer` at this position).
    pub fn binary(mut self, data: impl Into<Bytes>) -> Payload {
        self.args.push(placeholder(self.attachments.len()).into());
        self.attachments.push(data.into());
        self
    }

    /// Raw arguments as received (used to echo what a peer sent, byte for byte).
    pub fn from_raw(args: Vec<ByteString>, attachments: Vec<Bytes>) -> Payload {
        Payload { args, attachments }
    }

    /// Each argument's JSON.
    pub fn args(&self) -> &[ByteString] {
        &self.args
    }

    /// The binary attachments, in placeholder order.
    pub fn attachments(&self) -> &[Bytes] {
        &self.attachments
    }

    /// Encodes an event: `["name", ...args]`.
    pub(crate) fn encode_event(&self, nsp: &str, event: &str, id: Option<u64>) -> Encoded {
        let name = serde_json::to_string(event).unwrap_or_else(|_| "\"\"".to_owned());
        let kind = if self.attachments.is_empty() {
            PacketKind::Event
        } else {
            PacketKind::BinaryEvent
        };
        let args = std::iter::once(name.as_str()).chain(self.args.iter().map(|a| &**a));
        self.frames(encode_array(kind, nsp, id, self.attachments.len(), args))
    }

    /// Encodes an acknowledgement of `id`.
    pub(crate) fn encode_ack(&self, nsp: &str, id: u64) -> Encoded {
        let kind = if self.attachments.is_empty() {
            PacketKind::Ack
        } else {
            PacketKind::BinaryAck
        };
        let args = self.args.iter().map(|a| &**a);
        self.frames(encode_array(
            kind,
            nsp,
            Some(id),
            self.attachments.len(),
            args,
        ))
    }

    fn frames(&self, text: String) -> Encoded {
        let mut frames = Vec::with_capacity(1 + self.attachments.len());
        frames.push(Frame::Text(text.into()));
        frames.extend(self.attachments.iter().cloned().map(Frame::Binary));
        Encoded(frames.into())
    }
}

/// An encoded Socket.IO packet: its text frame and attachment frames, shared by reference
/// among every recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoded(pub(crate) Arc<[Frame]>);

impl Encoded {
    /// A packet that is one text frame.
    pub(crate) fn text(text: String) -> Encoded {
        Encoded(Arc::from([Frame::Text(text.into())]))
    }

    /// The frames.
    pub fn frames(&self) -> &[Frame] {
        &self.0
    }
}

/// A client's answer to an ack (or a server's, to a server-side emit): its arguments and
/// attachments.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AckResponse {
    /// Each argument's raw JSON.
    pub args: Vec<ByteString>,
    /// Binary attachments.
    pub attachments: Vec<Bytes>,
}

impl AckResponse {
    /// Deserializes the arguments, with the same rule as `Data<T>` (one argument: `T` from it;
    /// otherwise from the array of all).
    pub fn data<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        deserialize_args(&self.args)
    }
}

impl From<Payload> for AckResponse {
    fn from(payload: Payload) -> Self {
        AckResponse {
            args: payload.args,
            attachments: payload.attachments,
        }
    }
}

impl From<AckResponse> for Payload {
    fn from(answer: AckResponse) -> Self {
        Payload::from_raw(answer.args, answer.attachments)
    }
}

/// Deserializes arguments as `T`: with exactly one argument, `T` is read from it; with none
/// or several, from the array of all of them (so a tuple takes several).
pub(crate) fn deserialize_args<T: DeserializeOwned>(
    args: &[ByteString],
) -> Result<T, serde_json::Error> {
    if let [one] = args {
        return serde_json::from_str(one);
    }
    let mut joined = String::with_capacity(2 + args.iter().map(|a| a.len() + 1).sum::<usize>());
    joined.push('[');
    for (i, arg) in args.iter().enumerate() {
        if i > 0 {
            joined.push(',');
        }
        joined.push_str(arg);
    }
    joined.push(']');
    serde_json::from_str(&joined)
}
