//! The answers of the classic adapter (on `socket.io-response#<nsp>#` or, per requester,
//! `socket.io-response#<nsp>#<uid>#`): JSON, but for each answer to a broadcast with acks
//! (type 9), which is a msgpack map. The answers to 1 (all rooms), 5 (fetch) and 0 (sockets)
//! carry no type: they are told apart by their fields.

use bytestring::ByteString;
use rmpv::Value;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use tether_core::adapter::{Room, SocketData};
use tether_core::socket::AckResponse;

use crate::broadcast::{DecodeError, EncodeError, field, read, write};
use crate::notepack::{args_to_values, values_to_args};
use crate::requests::{RoomName, json, json_error, not_json, shape};

/// An answer to a request.
#[derive(Debug, Clone, PartialEq)]
pub enum Response {
    /// To 1: the node's rooms (socket-id rooms included).
    AllRooms {
        /// The id its answers carry.
        request_id: String,
        /// The rooms.
        rooms: Vec<Room>,
    },
    /// To 5: the node's matching sockets.
    Fetch {
        /// The id its answers carry.
        request_id: String,
        /// The sockets.
        sockets: Vec<SocketData>,
    },
    /// To 0 (sent, never read: 8.x does not ask it): socket ids.
    Sockets {
        /// The id its answers carry.
        request_id: String,
        /// The sockets.
        sockets: Vec<String>,
    },
    /// To a 7.x join, leave or disconnect.
    Done {
        /// The id its answers carry.
        request_id: String,
    },
    /// 6: one node's handler's answer (its first argument).
    ServerSideEmit {
        /// The id its answers carry.
        request_id: String,
        /// The answer.
        answer: AckResponse,
    },
    /// 8: how many clients a node sent a broadcast with acks to.
    ClientCount {
        /// The id its answers carry.
        request_id: String,
        /// The clients reached.
        count: usize,
    },
    /// 9: one client's answer to a broadcast with acks (its first argument).
    BroadcastAck {
        /// The id its answers carry.
        request_id: String,
        /// The answer.
        answer: AckResponse,
    },
}

impl Response {
    /// The request it answers.
    pub fn request_id(&self) -> &str {
        match self {
            Response::AllRooms { request_id, .. }
            | Response::Fetch { request_id, .. }
            | Response::Sockets { request_id, .. }
            | Response::Done { request_id }
            | Response::ServerSideEmit { request_id, .. }
            | Response::ClientCount { request_id, .. }
            | Response::BroadcastAck { request_id, .. } => request_id,
        }
    }
}

/// A room name as JavaScript takes one: a string, or a number.

#[derive(Deserialize)]
struct InResponse<'a> {
    #[serde(default, rename = "type")]
    kind: Option<u8>,
    #[serde(rename = "requestId")]
    request_id: String,
    #[serde(default)]
    rooms: Option<Vec<RoomName>>,
    #[serde(default)]
    sockets: Option<Vec<SocketData>>,
    #[serde(default, borrow)]
    data: Option<&'a RawValue>,
    #[serde(default, rename = "clientCount")]
    client_count: Option<usize>,
}

/// One argument as an answer (none when JavaScript's `undefined` left the field out).
fn answer_of(raw: Option<&RawValue>) -> AckResponse {
    AckResponse {
        args: raw.map(|r| ByteString::from(r.get())).into_iter().collect(),
        attachments: Vec::new(),
    }
}

/// Reads a response.
pub fn decode_response(bytes: &[u8]) -> Result<Response, DecodeError> {
    if bytes.first() != Some(&b'{') {
        let Value::Map(map) = read(bytes)? else {
            return Err(shape("not a map"));
        };
        if field(&map, "type").and_then(Value::as_u64) != Some(9) {
            return Err(shape("a msgpack response that is not a broadcast answer"));
        }
        let request_id = field(&map, "requestId")
            .and_then(Value::as_str)
            .ok_or(shape("no requestId"))?
            .to_owned();
        let (args, attachments) = match field(&map, "packet") {
            Some(value) => values_to_args(std::slice::from_ref(value)),
            None => (Vec::new(), Vec::new()),
        };
        return Ok(Response::BroadcastAck {
            request_id,
            answer: AckResponse { args, attachments },
        });
    }
    let raw: InResponse<'_> = serde_json::from_slice(bytes).map_err(|e| json_error(&e))?;
    let request_id = raw.request_id;
    Ok(match raw.kind {
        Some(6) => Response::ServerSideEmit {
            request_id,
            answer: answer_of(raw.data),
        },
        Some(8) => Response::ClientCount {
            request_id,
            count: raw.client_count.ok_or(shape("no clientCount"))?,
        },
        Some(_) => return Err(shape("not a response type")),
        None => match (raw.rooms, raw.sockets) {
            (Some(rooms), _) => Response::AllRooms {
                request_id,
                rooms: rooms.into_iter().map(Room::from).collect(),
            },
            (None, Some(sockets)) => Response::Fetch {
                request_id,
                sockets,
            },
            (None, None) => Response::Done { request_id },
        },
    })
}

#[derive(Serialize)]
struct OutResponse<'a> {
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    kind: Option<u8>,
    #[serde(rename = "requestId")]
    request_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    rooms: Option<&'a [Room]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sockets: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<&'a RawValue>,
    #[serde(rename = "clientCount", skip_serializing_if = "Option::is_none")]
    client_count: Option<usize>,
}

/// The first argument of an answer, if it has one and it is JSON.
fn first_arg(answer: &AckResponse) -> Result<Option<&RawValue>, EncodeError> {
    answer
        .args
        .first()
        .map(|arg| serde_json::from_str::<&RawValue>(arg).map_err(|e| not_json(&e)))
        .transpose()
}

/// Writes a response as Node's adapter does.
pub fn encode_response(response: &Response) -> Result<Vec<u8>, EncodeError> {
    let base = |kind: Option<u8>, request_id| OutResponse {
        kind,
        request_id,
        rooms: None,
        sockets: None,
        data: None,
        client_count: None,
    };
    Ok(match response {
        Response::AllRooms { request_id, rooms } => json(&OutResponse {
            rooms: Some(rooms),
            ..base(None, request_id)
        }),
        Response::Fetch {
            request_id,
            sockets,
        } => json(&OutResponse {
            sockets: Some(serde_json::to_value(sockets).unwrap_or_default()),
            ..base(None, request_id)
        }),
        Response::Sockets {
            request_id,
            sockets,
        } => json(&OutResponse {
            sockets: Some(serde_json::to_value(sockets).unwrap_or_default()),
            ..base(None, request_id)
        }),
        Response::Done { request_id } => json(&base(None, request_id)),
        Response::ServerSideEmit { request_id, answer } => json(&OutResponse {
            data: first_arg(answer)?,
            ..base(Some(6), request_id)
        }),
        Response::ClientCount { request_id, count } => json(&OutResponse {
            client_count: Some(*count),
            ..base(Some(8), request_id)
        }),
        Response::BroadcastAck { request_id, answer } => {
            let mut map = vec![
                (Value::from("type"), Value::from(9u8)),
                (Value::from("requestId"), Value::from(request_id.as_str())),
            ];
            if let Some(first) = answer.args.first() {
                let value = args_to_values(std::slice::from_ref(first), &answer.attachments)?;
                map.extend(value.into_iter().map(|v| (Value::from("packet"), v)));
            }
            write(&Value::Map(map))
        }
    })
}
