//! The requests of the classic adapter (on `socket.io-request#<nsp>#`): JSON text, but for a
//! broadcast with acks (type 7), which is a msgpack map; receivers tell them apart by the
//! first byte (`{` is JSON), as Node's do. Their answers are in [`crate::responses`].
//!
//! Type numbers: 0 sockets (7.x), 1 all rooms, 2 join, 3 leave, 4 disconnect, 5 fetch,
//! 6 server-side emit, 7 broadcast with acks, 8 its client count, 9 one of its answers. Joins,
//! leaves and disconnects come in the 8.x form (`opts` selects the sockets, no answer) and in
//! the 7.x form (one `sid`, answered with `{requestId}`); the emitter's carry no `uid`.

use bytestring::ByteString;
use rmpv::Value;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use tether_core::adapter::{BroadcastOptions, EventPacket, Room};
use tether_core::socket::Payload;

use crate::broadcast::{
    DecodeError, EncodeError, field, opts_value, packet_value, read, read_opts, read_packet, write,
};

/// A request from one node to the others.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    /// 0: the ids of the sockets in `rooms` (every socket when empty).
    Sockets {
        /// The sending node (none from the emitter).
        uid: Option<String>,
        /// The id its answers carry.
        request_id: String,
        /// The rooms.
        rooms: Vec<Room>,
    },
    /// 1: every room.
    AllRooms {
        /// The sending node (none from the emitter).
        uid: Option<String>,
        /// The id its answers carry.
        request_id: String,
    },
    /// 2: the sockets `opts` selects join `rooms`.
    Join {
        /// The sending node (none from the emitter).
        uid: Option<String>,
        /// The sockets it applies to.
        opts: BroadcastOptions,
        /// The rooms.
        rooms: Vec<Room>,
    },
    /// 3: the sockets `opts` selects leave `rooms`.
    Leave {
        /// The sending node (none from the emitter).
        uid: Option<String>,
        /// The sockets it applies to.
        opts: BroadcastOptions,
        /// The rooms.
        rooms: Vec<Room>,
    },
    /// 4: the sockets `opts` selects are disconnected (with `close`, their connections closed).
    Disconnect {
        /// The sending node (none from the emitter).
        uid: Option<String>,
        /// The sockets it applies to.
        opts: BroadcastOptions,
        /// Whether their connections close too.
        close: bool,
    },
    /// 2 in the 7.x form: socket `sid` joins `room`; answered with `{requestId}`.
    JoinOne {
        /// The sending node (none from the emitter).
        uid: Option<String>,
        /// The id its answers carry.
        request_id: String,
        /// The socket.
        sid: String,
        /// The room.
        room: Room,
    },
    /// 3 in the 7.x form.
    LeaveOne {
        /// The sending node (none from the emitter).
        uid: Option<String>,
        /// The id its answers carry.
        request_id: String,
        /// The socket.
        sid: String,
        /// The room.
        room: Room,
    },
    /// 4 in the 7.x form.
    DisconnectOne {
        /// The sending node (none from the emitter).
        uid: Option<String>,
        /// The id its answers carry.
        request_id: String,
        /// The socket.
        sid: String,
        /// Whether their connections close too.
        close: bool,
    },
    /// 5: the sockets `opts` selects.
    Fetch {
        /// The sending node (none from the emitter).
        uid: Option<String>,
        /// The id its answers carry.
        request_id: String,
        /// The sockets it applies to.
        opts: BroadcastOptions,
    },
    /// 6: an event for the servers' handlers; answered once per node when it has a request id.
    ServerSideEmit {
        /// The sending node (none from the emitter).
        uid: Option<String>,
        /// The id its answers carry.
        request_id: Option<String>,
        /// The event.
        packet: EventPacket,
    },
    /// 7: a broadcast whose clients' answers come back (count first, then each answer).
    Broadcast {
        /// The sending node (none from the emitter).
        uid: Option<String>,
        /// The id its answers carry.
        request_id: String,
        /// The namespace of the packet.
        nsp: ByteString,
        /// The event.
        packet: EventPacket,
        /// The sockets it applies to.
        opts: BroadcastOptions,
    },
}

impl Request {
    /// The sending node (none for the emitter's).
    pub fn uid(&self) -> Option<&str> {
        match self {
            Request::Sockets { uid, .. }
            | Request::AllRooms { uid, .. }
            | Request::Join { uid, .. }
            | Request::Leave { uid, .. }
            | Request::Disconnect { uid, .. }
            | Request::JoinOne { uid, .. }
            | Request::LeaveOne { uid, .. }
            | Request::DisconnectOne { uid, .. }
            | Request::Fetch { uid, .. }
            | Request::ServerSideEmit { uid, .. }
            | Request::Broadcast { uid, .. } => uid.as_deref(),
        }
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
pub(crate) enum RoomName {
    Text(String),
    Number(serde_json::Number),
}

impl From<RoomName> for Room {
    fn from(name: RoomName) -> Room {
        match name {
            RoomName::Text(text) => Room::from(text),
            RoomName::Number(n) => Room::from(n.to_string()),
        }
    }
}

#[derive(Deserialize, Default)]
struct InOpts {
    #[serde(default)]
    rooms: Vec<RoomName>,
    #[serde(default)]
    except: Vec<RoomName>,
}

impl From<InOpts> for BroadcastOptions {
    fn from(opts: InOpts) -> BroadcastOptions {
        BroadcastOptions {
            rooms: opts.rooms.into_iter().map(Room::from).collect(),
            except: opts.except.into_iter().map(Room::from).collect(),
            ..BroadcastOptions::default()
        }
    }
}

#[derive(Deserialize)]
struct In<'a> {
    #[serde(default)]
    uid: Option<String>,
    #[serde(default, rename = "requestId")]
    request_id: Option<String>,
    #[serde(rename = "type")]
    kind: u8,
    #[serde(default)]
    opts: Option<InOpts>,
    #[serde(default)]
    rooms: Option<Vec<RoomName>>,
    #[serde(default)]
    sid: Option<String>,
    #[serde(default)]
    room: Option<RoomName>,
    #[serde(default)]
    close: Option<bool>,
    #[serde(default, borrow)]
    data: Option<Vec<&'a RawValue>>,
}

#[derive(Serialize)]
struct OutOpts<'a> {
    rooms: &'a [Room],
    except: &'a [Room],
}

#[derive(Serialize, Default)]
struct Out<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    uid: Option<&'a str>,
    #[serde(rename = "requestId", skip_serializing_if = "Option::is_none")]
    request_id: Option<&'a str>,
    #[serde(rename = "type")]
    kind: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    opts: Option<OutOpts<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rooms: Option<&'a [Room]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sid: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    room: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    close: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<Vec<&'a RawValue>>,
}

pub(crate) fn shape(what: &'static str) -> DecodeError {
    DecodeError::Shape(what)
}

fn rooms_of(list: Option<Vec<RoomName>>) -> Vec<Room> {
    list.unwrap_or_default()
        .into_iter()
        .map(Room::from)
        .collect()
}

/// The event of a server-side emit's `data: [event, ...args]`.
fn event_of(data: Vec<&RawValue>) -> Result<EventPacket, DecodeError> {
    let Some((name, args)) = data.split_first() else {
        return Err(shape("the data array is empty"));
    };
    let event: String =
        serde_json::from_str(name.get()).map_err(|_| shape("the event name is not a string"))?;
    Ok(EventPacket {
        event: event.into(),
        payload: Payload::from_raw(
            args.iter().map(|a| ByteString::from(a.get())).collect(),
            Vec::new(),
        ),
    })
}

pub(crate) fn json_error(err: &serde_json::Error) -> DecodeError {
    DecodeError::Json(err.to_string())
}

/// Reads a request.
pub fn decode_request(bytes: &[u8]) -> Result<Request, DecodeError> {
    if bytes.first() != Some(&b'{') {
        return decode_broadcast_request(bytes);
    }
    let raw: In<'_> = serde_json::from_slice(bytes).map_err(|e| json_error(&e))?;
    let uid = raw.uid;
    let id = || raw.request_id.clone().ok_or(shape("no requestId"));
    Ok(match (raw.kind, raw.opts) {
        (0, _) => Request::Sockets {
            uid,
            request_id: id()?,
            rooms: rooms_of(raw.rooms),
        },
        (1, _) => Request::AllRooms {
            uid,
            request_id: id()?,
        },
        (2, Some(opts)) => Request::Join {
            uid,
            opts: opts.into(),
            rooms: rooms_of(raw.rooms),
        },
        (3, Some(opts)) => Request::Leave {
            uid,
            opts: opts.into(),
            rooms: rooms_of(raw.rooms),
        },
        (4, Some(opts)) => Request::Disconnect {
            uid,
            opts: opts.into(),
            close: raw.close.unwrap_or(false),
        },
        (kind @ (2 | 3), None) => {
            let request_id = id()?;
            let sid = raw.sid.ok_or(shape("no sid"))?;
            let room = Room::from(raw.room.ok_or(shape("no room"))?);
            if kind == 2 {
                Request::JoinOne {
                    uid,
                    request_id,
                    sid,
                    room,
                }
            } else {
                Request::LeaveOne {
                    uid,
                    request_id,
                    sid,
                    room,
                }
            }
        }
        (4, None) => Request::DisconnectOne {
            uid,
            request_id: id()?,
            sid: raw.sid.ok_or(shape("no sid"))?,
            close: raw.close.unwrap_or(false),
        },
        (5, opts) => Request::Fetch {
            uid,
            request_id: id()?,
            opts: opts.unwrap_or_default().into(),
        },
        (6, _) => Request::ServerSideEmit {
            uid,
            request_id: raw.request_id,
            packet: event_of(raw.data.ok_or(shape("no data"))?)?,
        },
        _ => return Err(shape("not a request type")),
    })
}

fn decode_broadcast_request(bytes: &[u8]) -> Result<Request, DecodeError> {
    let Value::Map(mut map) = read(bytes)? else {
        return Err(shape("not a map"));
    };
    if field(&map, "type").and_then(Value::as_u64) != Some(7) {
        return Err(shape("a msgpack request that is not a broadcast with acks"));
    }
    let mut take = |name: &str| {
        map.iter()
            .position(|(k, _)| k.as_str() == Some(name))
            .map(|i| map.swap_remove(i).1)
    };
    let uid = take("uid").and_then(|v| v.as_str().map(str::to_owned));
    let request_id = take("requestId")
        .and_then(|v| v.as_str().map(str::to_owned))
        .ok_or(shape("no requestId"))?;
    let (nsp, packet) = read_packet(take("packet").ok_or(shape("no packet"))?)?;
    let opts = read_opts(take("opts").ok_or(shape("no opts"))?)?;
    Ok(Request::Broadcast {
        uid,
        request_id,
        nsp,
        packet,
        opts,
    })
}

/// An argument that is not JSON: never published.
pub(crate) fn not_json(err: &serde_json::Error) -> EncodeError {
    EncodeError::Args(crate::notepack::ArgsError::Json(err.to_string()))
}

pub(crate) fn json(out: &impl Serialize) -> Vec<u8> {
    // Plain data: serializing to a Vec cannot fail.
    serde_json::to_vec(out).unwrap_or_default()
}

/// Raw JSON of each argument, checked.
pub(crate) fn raw_args(packet: &EventPacket) -> Result<(String, Vec<&RawValue>), EncodeError> {
    let name = serde_json::to_string(&*packet.event).unwrap_or_default();
    let mut args = Vec::with_capacity(packet.payload.args().len());
    for arg in packet.payload.args() {
        let raw: &RawValue = serde_json::from_str(arg).map_err(|e| not_json(&e))?;
        args.push(raw);
    }
    Ok((name, args))
}

/// Writes a request as Node's adapter does.
pub fn encode_request(request: &Request) -> Result<Vec<u8>, EncodeError> {
    fn opts_of(opts: &BroadcastOptions) -> Option<OutOpts<'_>> {
        Some(OutOpts {
            rooms: &opts.rooms,
            except: &opts.except,
        })
    }
    Ok(match request {
        Request::Sockets {
            uid,
            request_id,
            rooms,
        } => json(&Out {
            uid: uid.as_deref(),
            request_id: Some(request_id),
            kind: 0,
            rooms: Some(rooms),
            ..Out::default()
        }),
        Request::AllRooms { uid, request_id } => json(&Out {
            uid: uid.as_deref(),
            request_id: Some(request_id),
            kind: 1,
            ..Out::default()
        }),
        Request::Join { uid, opts, rooms } | Request::Leave { uid, opts, rooms } => json(&Out {
            uid: uid.as_deref(),
            kind: if matches!(request, Request::Join { .. }) {
                2
            } else {
                3
            },
            opts: opts_of(opts),
            rooms: Some(rooms),
            ..Out::default()
        }),
        Request::Disconnect { uid, opts, close } => json(&Out {
            uid: uid.as_deref(),
            kind: 4,
            opts: opts_of(opts),
            close: Some(*close),
            ..Out::default()
        }),
        Request::JoinOne {
            uid,
            request_id,
            sid,
            room,
        }
        | Request::LeaveOne {
            uid,
            request_id,
            sid,
            room,
        } => json(&Out {
            uid: uid.as_deref(),
            request_id: Some(request_id),
            kind: if matches!(request, Request::JoinOne { .. }) {
                2
            } else {
                3
            },
            sid: Some(sid),
            room: Some(room),
            ..Out::default()
        }),
        Request::DisconnectOne {
            uid,
            request_id,
            sid,
            close,
        } => json(&Out {
            uid: uid.as_deref(),
            request_id: Some(request_id),
            kind: 4,
            sid: Some(sid),
            close: Some(*close),
            ..Out::default()
        }),
        Request::Fetch {
            uid,
            request_id,
            opts,
        } => json(&Out {
            uid: uid.as_deref(),
            request_id: Some(request_id),
            kind: 5,
            opts: opts_of(opts),
            ..Out::default()
        }),
        Request::ServerSideEmit {
            uid,
            request_id,
            packet,
        } => {
            let (name, args) = raw_args(packet)?;
            let name: &RawValue = serde_json::from_str(&name).map_err(|e| not_json(&e))?;
            let mut data = vec![name];
            data.extend(args);
            json(&Out {
                uid: uid.as_deref(),
                request_id: request_id.as_deref(),
                kind: 6,
                data: Some(data),
                ..Out::default()
            })
        }
        Request::Broadcast {
            uid,
            request_id,
            nsp,
            packet,
            opts,
        } => {
            let mut map = Vec::with_capacity(5);
            if let Some(uid) = uid {
                map.push((Value::from("uid"), Value::from(uid.as_str())));
            }
            map.push((Value::from("requestId"), Value::from(request_id.as_str())));
            map.push((Value::from("type"), Value::from(7u8)));
            map.push((Value::from("packet"), packet_value(nsp, packet)?));
            map.push((Value::from("opts"), opts_value(opts, true)));
            write(&Value::Map(map))
        }
    })
}
