//! The messages of the sharded adapter (`createShardedAdapter`, socket.io-adapter's
//! `ClusterAdapter`): `{type, data, uid, nsp}` as JSON text, or, when `data` holds binary and
//! the type may carry it (broadcast, its acks, fetch answers, server-side emits and their
//! answers), the same map in msgpack (notepack.io 3.0.1). Receivers tell them apart by the
//! first byte (`{` is JSON), as Node's do.
//!
//! Types: 3 broadcast (with a `requestId` when acks come back), 4 join, 5 leave,
//! 6 disconnect, 7 fetch, 8 its answer, 9 server-side emit, 10 its answer, 11 a broadcast's
//! client count, 12 one client's answer. 1, 2 (heartbeats) and 13 (adapter close) belong to
//! the heartbeat variant the sharded adapter does not use; they are read as [`Message::Other`].

use bytestring::ByteString;
use rmpv::Value;
use tether_core::adapter::{BroadcastOptions, EventPacket, Room, SocketData};
use tether_core::socket::AckResponse;

use crate::broadcast::{
    DecodeError, EncodeError, event_data, event_value, field, opts_value, read, read_event_data,
    read_opts, read_packet, write,
};
use crate::notepack::{
    ArgsError, args_to_values, has_binary, json_to_value, value_to_json, values_to_args,
};

/// One message between nodes.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    /// 3: deliver `packet` to the sockets `opts` selects; with `request_id`, report the
    /// clients reached (11) and each one's answer (12) to the sender.
    Broadcast {
        /// The event.
        packet: EventPacket,
        /// Who gets it (with acks: `flags.timeout` is how long the sender waits).
        opts: BroadcastOptions,
        /// Set when acks come back.
        request_id: Option<String>,
    },
    /// 4: the sockets `opts` selects join `rooms`.
    Join {
        /// The sockets it applies to.
        opts: BroadcastOptions,
        /// The rooms.
        rooms: Vec<Room>,
    },
    /// 5: the sockets `opts` selects leave `rooms`.
    Leave {
        /// The sockets it applies to.
        opts: BroadcastOptions,
        /// The rooms.
        rooms: Vec<Room>,
    },
    /// 6: the sockets `opts` selects are disconnected (with `close`, their connections too).
    Disconnect {
        /// The sockets it applies to.
        opts: BroadcastOptions,
        /// Whether their connections close.
        close: bool,
    },
    /// 7: describe the sockets `opts` selects (answered with 8).
    Fetch {
        /// The sockets it applies to.
        opts: BroadcastOptions,
        /// The id the answer carries.
        request_id: String,
    },
    /// 8: one node's sockets.
    FetchResponse {
        /// The request answered.
        request_id: String,
        /// The sockets.
        sockets: Vec<SocketData>,
    },
    /// 9: an event for the servers' handlers; answered with 10 when it has a request id.
    ServerSideEmit {
        /// The event.
        packet: EventPacket,
        /// Set when an answer is wanted.
        request_id: Option<String>,
    },
    /// 10: one node's handler's answer (its first argument).
    ServerSideEmitResponse {
        /// The request answered.
        request_id: String,
        /// The answer.
        answer: AckResponse,
    },
    /// 11: how many clients a node sent a broadcast with acks to.
    ClientCount {
        /// The request answered.
        request_id: String,
        /// The clients reached.
        count: usize,
    },
    /// 12: one client's answer to a broadcast with acks (its first argument).
    BroadcastAck {
        /// The request answered.
        request_id: String,
        /// The answer.
        answer: AckResponse,
    },
    /// A type this adapter has no use for (heartbeats, adapter close, newer ones).
    Other(u64),
}

impl Message {
    /// The type number on the wire.
    pub fn kind(&self) -> u64 {
        match self {
            Message::Broadcast { .. } => 3,
            Message::Join { .. } => 4,
            Message::Leave { .. } => 5,
            Message::Disconnect { .. } => 6,
            Message::Fetch { .. } => 7,
            Message::FetchResponse { .. } => 8,
            Message::ServerSideEmit { .. } => 9,
            Message::ServerSideEmitResponse { .. } => 10,
            Message::ClientCount { .. } => 11,
            Message::BroadcastAck { .. } => 12,
            Message::Other(kind) => *kind,
        }
    }

    /// Whether it answers a request (these go to the requester's own channel).
    pub fn is_response(&self) -> bool {
        matches!(
            self,
            Message::FetchResponse { .. }
                | Message::ServerSideEmitResponse { .. }
                | Message::ClientCount { .. }
                | Message::BroadcastAck { .. }
        )
    }
}

/// A message with its sender and namespace.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope {
    /// The sending node.
    pub uid: String,
    /// The namespace it is for.
    pub nsp: ByteString,
    /// The message.
    pub message: Message,
}

fn key(name: &'static str) -> Value {
    Value::from(name)
}

fn rooms_value(rooms: &[Room]) -> Value {
    Value::Array(rooms.iter().map(|r| Value::from(&**r)).collect())
}

/// The first argument of an answer as a value; `None` when there is none (JavaScript's
/// `undefined`, which `JSON.stringify` leaves out).
fn answer_value(answer: &AckResponse) -> Result<Option<Value>, EncodeError> {
    match answer.args.first() {
        None => Ok(None),
        Some(first) => Ok(
            args_to_values(std::slice::from_ref(first), &answer.attachments)?
                .into_iter()
                .next(),
        ),
    }
}

fn sockets_value(sockets: &[SocketData]) -> Result<Value, EncodeError> {
    let json = serde_json::to_vec(sockets)
        .map_err(|e| EncodeError::Args(ArgsError::Json(e.to_string())))?;
    Ok(json_to_value(&json)?)
}

/// The `data` of a message.
fn data_value(message: &Message) -> Result<Value, EncodeError> {
    let id = |id: &str| (key("requestId"), Value::from(id));
    Ok(Value::Map(match message {
        Message::Broadcast {
            packet,
            opts,
            request_id,
        } => {
            let mut map = vec![(key("packet"), event_value(packet)?)];
            if let Some(request_id) = request_id {
                map.push(id(request_id));
            }
            map.push((key("opts"), opts_value(opts, request_id.is_some())));
            map
        }
        Message::Join { opts, rooms } | Message::Leave { opts, rooms } => vec![
            (key("opts"), opts_value(opts, false)),
            (key("rooms"), rooms_value(rooms)),
        ],
        Message::Disconnect { opts, close } => vec![
            (key("opts"), opts_value(opts, false)),
            (key("close"), Value::Boolean(*close)),
        ],
        Message::Fetch { opts, request_id } => {
            vec![(key("opts"), opts_value(opts, false)), id(request_id)]
        }
        Message::FetchResponse {
            request_id,
            sockets,
        } => vec![id(request_id), (key("sockets"), sockets_value(sockets)?)],
        Message::ServerSideEmit { packet, request_id } => {
            let mut map = Vec::with_capacity(2);
            if let Some(request_id) = request_id {
                map.push(id(request_id));
            }
            map.push((key("packet"), Value::Array(event_data(packet)?)));
            map
        }
        Message::ServerSideEmitResponse { request_id, answer }
        | Message::BroadcastAck { request_id, answer } => {
            let mut map = vec![id(request_id)];
            if let Some(value) = answer_value(answer)? {
                map.push((key("packet"), value));
            }
            map
        }
        Message::ClientCount { request_id, count } => vec![
            id(request_id),
            (key("clientCount"), Value::from(*count as u64)),
        ],
        Message::Other(_) => Vec::new(),
    }))
}

/// Writes a message from node `uid` in namespace `nsp` as Node's adapter does.
pub fn encode(uid: &str, nsp: &str, message: &Message) -> Result<Vec<u8>, EncodeError> {
    let data = data_value(message)?;
    let binary = has_binary(&data);
    let whole = Value::Map(vec![
        (key("type"), Value::from(message.kind())),
        (key("data"), data),
        (key("uid"), Value::from(uid)),
        (key("nsp"), Value::from(nsp)),
    ]);
    Ok(if binary {
        write(&whole)
    } else {
        value_to_json(&whole).into_bytes()
    })
}

fn shape(what: &'static str) -> DecodeError {
    DecodeError::Shape(what)
}

fn text(value: Option<&Value>, what: &'static str) -> Result<String, DecodeError> {
    value
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or(shape(what))
}

fn request_id(data: &[(Value, Value)]) -> Result<String, DecodeError> {
    text(field(data, "requestId"), "no requestId")
}

fn optional_request_id(data: &[(Value, Value)]) -> Option<String> {
    field(data, "requestId")
        .and_then(Value::as_str)
        .map(str::to_owned)
}

fn opts_of(data: &[(Value, Value)]) -> Result<BroadcastOptions, DecodeError> {
    read_opts(field(data, "opts").cloned().ok_or(shape("no opts"))?)
}

fn rooms_of(data: &[(Value, Value)]) -> Result<Vec<Room>, DecodeError> {
    match field(data, "rooms") {
        None | Some(Value::Nil) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| match v {
                Value::String(s) => s
                    .as_str()
                    .map(Room::from)
                    .ok_or(shape("a room is not UTF-8")),
                Value::Integer(n) => Ok(Room::from(n.to_string())),
                _ => Err(shape("a room is not a string")),
            })
            .collect(),
        Some(_) => Err(shape("rooms is not an array")),
    }
}

fn answer_of(data: &[(Value, Value)]) -> AckResponse {
    let (args, attachments) = match field(data, "packet") {
        Some(value) => values_to_args(std::slice::from_ref(value)),
        None => (Vec::new(), Vec::new()),
    };
    AckResponse { args, attachments }
}

fn sockets_of(data: &[(Value, Value)]) -> Result<Vec<SocketData>, DecodeError> {
    let Some(sockets) = field(data, "sockets") else {
        return Err(shape("no sockets"));
    };
    serde_json::from_str(&value_to_json(sockets)).map_err(|e| DecodeError::Json(e.to_string()))
}

/// Reads a message.
pub fn decode(bytes: &[u8]) -> Result<Envelope, DecodeError> {
    let whole = if bytes.first() == Some(&b'{') {
        json_to_value(bytes).map_err(|ArgsError::Json(e)| DecodeError::Json(e))?
    } else {
        read(bytes)?
    };
    let Value::Map(whole) = whole else {
        return Err(shape("not a map"));
    };
    let kind = field(&whole, "type")
        .and_then(Value::as_u64)
        .ok_or(shape("no type"))?;
    let uid = text(field(&whole, "uid"), "no uid")?;
    let nsp = ByteString::from(text(field(&whole, "nsp"), "no nsp")?);
    let empty = Vec::new();
    let data = match field(&whole, "data") {
        Some(Value::Map(data)) => data,
        None | Some(Value::Nil) => &empty,
        Some(_) => return Err(shape("data is not a map")),
    };
    let message = match kind {
        3 => {
            let packet = field(data, "packet").cloned().ok_or(shape("no packet"))?;
            let (_, packet) = read_packet(packet)?;
            let request_id = optional_request_id(data);
            let mut opts = opts_of(data)?;
            if request_id.is_none() {
                opts.flags.timeout = None;
            }
            Message::Broadcast {
                packet,
                opts,
                request_id,
            }
        }
        4 => Message::Join {
            opts: opts_of(data)?,
            rooms: rooms_of(data)?,
        },
        5 => Message::Leave {
            opts: opts_of(data)?,
            rooms: rooms_of(data)?,
        },
        6 => Message::Disconnect {
            opts: opts_of(data)?,
            close: field(data, "close")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        },
        7 => Message::Fetch {
            opts: opts_of(data)?,
            request_id: request_id(data)?,
        },
        8 => Message::FetchResponse {
            request_id: request_id(data)?,
            sockets: sockets_of(data)?,
        },
        9 => {
            let Some(Value::Array(items)) = field(data, "packet") else {
                return Err(shape("the packet is not an array"));
            };
            Message::ServerSideEmit {
                packet: read_event_data(items)?,
                request_id: optional_request_id(data),
            }
        }
        10 => Message::ServerSideEmitResponse {
            request_id: request_id(data)?,
            answer: answer_of(data),
        },
        11 => Message::ClientCount {
            request_id: request_id(data)?,
            count: field(data, "clientCount")
                .and_then(Value::as_u64)
                .and_then(|n| usize::try_from(n).ok())
                .ok_or(shape("no clientCount"))?,
        },
        12 => Message::BroadcastAck {
            request_id: request_id(data)?,
            answer: answer_of(data),
        },
        other => Message::Other(other),
    };
    Ok(Envelope { uid, nsp, message })
}
