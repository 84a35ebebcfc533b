//! The broadcast message of the classic channels (`socket.io#<nsp>#`, and
//! `socket.io#<nsp>#<room>#` for one room): msgpack `[uid, packet, opts]`, with
//! `packet = {type: 2, data: [event, ...args], nsp}` and `opts = {rooms, except, flags}`, in
//! the key order and the forms Node's adapter writes (the tests compare bytes with
//! notepack.io's own output).
//!
//! Decoding accepts what Node nodes and the emitter publish: a packet `type` of 2 or 5, a
//! missing `nsp` (then `/`), numeric room names, extra flags; anything else is a
//! [`DecodeError`], never a panic.

use bytestring::ByteString;
use rmpv::Value;
use tether_core::adapter::{BroadcastFlags, BroadcastOptions, EventPacket, Room};
use tether_core::socket::Payload;

use crate::notepack::{ArgsError, args_to_values, values_to_args};

/// A broadcast from another node (or the emitter, whose uid is `"emitter"`).
#[derive(Debug, Clone, PartialEq)]
pub struct Broadcast {
    /// The sending node.
    pub uid: String,
    /// The namespace the packet is for.
    pub nsp: ByteString,
    /// The event.
    pub packet: EventPacket,
    /// Who receives it (`flags`: `volatile` only; the others do not travel).
    pub opts: BroadcastOptions,
}

/// Why a broadcast message could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DecodeError {
    /// Not msgpack, or bytes left over after the value.
    #[error("not one msgpack value: {0}")]
    Msgpack(String),
    /// Text that is not JSON, or JSON without a request's or response's fields.
    #[error("not a JSON request or response: {0}")]
    Json(String),
    /// Msgpack, but not the shape of a broadcast.
    #[error("not a broadcast message: {0}")]
    Shape(&'static str),
}

/// Why a broadcast could not be encoded.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EncodeError {
    /// An argument is not valid JSON.
    #[error(transparent)]
    Args(#[from] ArgsError),
}

/// How deep a message may nest (arrays and maps): past it, the message is refused.
pub const MAX_DEPTH: usize = crate::msgpack::MAX_DEPTH;

/// Socket.IO's EVENT and BINARY_EVENT packet types.
const EVENT: u64 = 2;
const BINARY_EVENT: u64 = 5;

fn key(name: &'static str) -> Value {
    Value::from(name)
}

fn rooms(list: &[Room]) -> Value {
    Value::Array(list.iter().map(|r| Value::from(&**r)).collect())
}

/// The packet object `{type: 2, data: [event, ...args], nsp}`.
pub(crate) fn packet_value(nsp: &str, packet: &EventPacket) -> Result<Value, EncodeError> {
    let mut value = event_value(packet)?;
    if let Value::Map(map) = &mut value {
        map.push((key("nsp"), Value::from(nsp)));
    }
    Ok(value)
}

/// The packet object without its namespace, `{type: 2, data: [event, ...args]}`.
pub(crate) fn event_value(packet: &EventPacket) -> Result<Value, EncodeError> {
    Ok(Value::Map(vec![
        (key("type"), Value::from(EVENT)),
        (key("data"), Value::Array(event_data(packet)?)),
    ]))
}

/// `[event, ...args]`.
pub(crate) fn event_data(packet: &EventPacket) -> Result<Vec<Value>, EncodeError> {
    let mut data = vec![Value::from(&*packet.event)];
    data.extend(args_to_values(
        packet.payload.args(),
        packet.payload.attachments(),
    )?);
    Ok(data)
}

/// The options object `{rooms, except, flags}`; `except` without duplicates, as Node sends it.
/// Of the flags, `volatile` travels, and `timeout` (in ms) for a broadcast with acks.
pub(crate) fn opts_value(opts: &BroadcastOptions, with_timeout: bool) -> Value {
    let mut except: Vec<Room> = Vec::with_capacity(opts.except.len());
    for room in &opts.except {
        if !except.contains(room) {
            except.push(room.clone());
        }
    }
    let mut flags = Vec::new();
    if opts.flags.volatile {
        flags.push((key("volatile"), Value::Boolean(true)));
    }
    if with_timeout && let Some(timeout) = opts.flags.timeout {
        let ms = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);
        flags.push((key("timeout"), Value::from(ms)));
    }
    Value::Map(vec![
        (key("rooms"), rooms(&opts.rooms)),
        (key("except"), rooms(&except)),
        (key("flags"), Value::Map(flags)),
    ])
}

/// Writes a msgpack value.
pub(crate) fn write(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing to a Vec cannot fail.
    let _ = rmpv::encode::write_value(&mut out, value);
    out
}

/// Reads one msgpack value that is the whole input, as notepack.io decodes it (see
/// [`crate::msgpack`]).
pub(crate) fn read(bytes: &[u8]) -> Result<Value, DecodeError> {
    crate::msgpack::read(bytes).map_err(|e| DecodeError::Msgpack(e.to_string()))
}

/// The message for `packet` from node `uid` to namespace `nsp`. `local` and `timeout` are not
/// published.
pub fn encode(
    uid: &str,
    nsp: &str,
    packet: &EventPacket,
    opts: &BroadcastOptions,
) -> Result<Vec<u8>, EncodeError> {
    let message = Value::Array(vec![
        Value::from(uid),
        packet_value(nsp, packet)?,
        opts_value(opts, false),
    ]);
    Ok(write(&message))
}

pub(crate) fn field<'a>(map: &'a [(Value, Value)], name: &str) -> Option<&'a Value> {
    map.iter()
        .find(|(k, _)| k.as_str() == Some(name))
        .map(|(_, v)| v)
}

/// A room name as JavaScript makes one from a string or a number.
fn room_name(value: &Value) -> Option<Room> {
    match value {
        Value::String(s) => s.as_str().map(Room::from),
        Value::Integer(n) => Some(Room::from(n.to_string())),
        Value::F64(f) if f.is_finite() => Some(Room::from(f.to_string())),
        _ => None,
    }
}

fn room_list(value: Option<&Value>) -> Result<Vec<Room>, DecodeError> {
    match value {
        None | Some(Value::Nil) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| room_name(v).ok_or(DecodeError::Shape("a room is not a string")))
            .collect(),
        Some(_) => Err(DecodeError::Shape("rooms is not an array")),
    }
}

/// Reads a packet object: its namespace (`/` when missing) and its event.
pub(crate) fn read_packet(packet: Value) -> Result<(ByteString, EventPacket), DecodeError> {
    let Value::Map(packet) = packet else {
        return Err(DecodeError::Shape("the packet is not a map"));
    };
    match field(&packet, "type").and_then(Value::as_u64) {
        Some(EVENT | BINARY_EVENT) => {}
        _ => return Err(DecodeError::Shape("the packet is not an event")),
    }
    let nsp = match field(&packet, "nsp") {
        None | Some(Value::Nil) => ByteString::from_static("/"),
        Some(v) => ByteString::from(
            v.as_str()
                .ok_or(DecodeError::Shape("nsp is not a string"))?,
        ),
    };
    let Some(Value::Array(data)) = field(&packet, "data") else {
        return Err(DecodeError::Shape("the packet has no data array"));
    };
    Ok((nsp, read_event_data(data)?))
}

/// Reads `[event, ...args]`.
pub(crate) fn read_event_data(data: &[Value]) -> Result<EventPacket, DecodeError> {
    let Some((name, args)) = data.split_first() else {
        return Err(DecodeError::Shape("the data array is empty"));
    };
    let event = match name {
        Value::String(s) => ByteString::from(
            s.as_str()
                .ok_or(DecodeError::Shape("the event name is not UTF-8"))?,
        ),
        Value::Integer(n) => ByteString::from(n.to_string()),
        _ => return Err(DecodeError::Shape("the event name is not a string")),
    };
    let (args, attachments) = values_to_args(args);
    Ok(EventPacket {
        event,
        payload: Payload::from_raw(args, attachments),
    })
}

/// Reads an options object (`volatile` and `timeout` of the flags; the others do not apply).
pub(crate) fn read_opts(opts: Value) -> Result<BroadcastOptions, DecodeError> {
    let Value::Map(opts) = opts else {
        return Err(DecodeError::Shape("the options are not a map"));
    };
    let (volatile, timeout) = match field(&opts, "flags") {
        Some(Value::Map(flags)) => (
            field(flags, "volatile")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            field(flags, "timeout")
                .and_then(Value::as_u64)
                .map(std::time::Duration::from_millis),
        ),
        _ => (false, None),
    };
    Ok(BroadcastOptions {
        rooms: room_list(field(&opts, "rooms"))?,
        except: room_list(field(&opts, "except"))?,
        flags: BroadcastFlags {
            volatile,
            timeout,
            ..BroadcastFlags::default()
        },
    })
}

/// Reads a broadcast message.
pub fn decode(bytes: &[u8]) -> Result<Broadcast, DecodeError> {
    let Value::Array(parts) = read(bytes)? else {
        return Err(DecodeError::Shape("not an array"));
    };
    let [uid, packet, opts] =
        <[Value; 3]>::try_from(parts).map_err(|_| DecodeError::Shape("not 3 elements"))?;
    let uid = uid
        .as_str()
        .ok_or(DecodeError::Shape("the uid is not a string"))?
        .to_owned();
    let (nsp, packet) = read_packet(packet)?;
    let mut opts = read_opts(opts)?;
    // A plain broadcast waits for nothing.
    opts.flags.timeout = None;
    Ok(Broadcast {
        uid,
        nsp,
        packet,
        opts,
    })
}
