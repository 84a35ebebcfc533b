//! Socket.IO v5 on the wire, as pure functions and values: the packet codec ([`decode`],
//! [`encode_array`], ...) and the arguments of an event ([`Payload`], [`AckResponse`]).
//!
//! The lowest layer of the Socket.IO side: it names only the engine's frames. The socket layer
//! and the adapter both build on it (an adapter carries a [`Payload`] between nodes).
//!
//! ```
//! use tether_core::protocol::{Payload, decode, PacketKind};
//! let p = decode("2[\"hi\",1]".into()).unwrap();
//! assert_eq!(p.kind, PacketKind::Event);
//! let echo = Payload::from_raw(p.args[1..].to_vec(), vec![]);
//! assert_eq!(echo.args(), ["1"]);
//! ```

mod packet;
mod payload;

pub(crate) use packet::json_string;
pub use packet::{
    DecodeError, MAX_ATTACHMENTS, Packet, PacketKind, RESERVED_EVENTS, decode, encode_array,
    encode_object, placeholder, write_header,
};
pub(crate) use payload::deserialize_args;
pub use payload::{AckResponse, Encoded, Payload};
