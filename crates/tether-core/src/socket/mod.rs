//! Socket.IO v5 on top of an Engine.IO session: namespaces, events with serde payloads, acks
//! with timeouts, rooms, broadcast and binary.
//!
//! Handlers are async functions whose arguments are extractors ([`Socket`], [`Data`],
//! [`TryData`], [`Bin`], [`AckSender`], [`State`], ...), as in axum.
//!
//! ```
//! use serde::{Deserialize, Serialize};
//! use tether_core::socket::{AckSender, Data, Socket, SocketIo};
//!
//! #[derive(Debug, Serialize, Deserialize)]
//! struct Chat { text: String }
//!
//! let io = SocketIo::builder().build();
//! io.ns("/", |socket: Socket| async move {
//!     socket.join("lobby");
//!     socket.on("chat", |socket: Socket, Data(msg): Data<Chat>, ack: AckSender| async move {
//!         let _ = socket.to("lobby").emit("chat", &msg);
//!         let _ = ack.send(&"ok");
//!     });
//! });
//! ```
//!
//! Limits: `SocketIoConfig::max_pending_acks` per socket, at most [`MAX_ATTACHMENTS`] binary
//! attachments per packet, and the engine's outbox bound per connection (see
//! [`BroadcastOperator`] for the slow-consumer policy).

mod ack;
mod broadcast;
mod client;
mod config;
mod emit;
mod extract;
mod handler;
mod io;
mod namespace;
mod packet;
mod payload;
mod reason;
#[allow(clippy::module_inception)]
mod socket;

pub use ack::{AckError, AckFuture, AckResponse, AckSender};
pub use broadcast::{BroadcastAcks, BroadcastOperator};
pub use config::SocketIoConfig;
pub use emit::{ConnectError, EmitError};
pub use extract::{Bin, Data, EventCtx, ExtractError, FromEvent, RawArgs, State, TryData};
pub use handler::{Handler, HandlerOutput};
pub use io::{NsBuilder, SocketIo, SocketIoBuilder};
pub use packet::{
    DecodeError, MAX_ATTACHMENTS, Packet, PacketKind, RESERVED_EVENTS, decode, encode_array,
    encode_object, placeholder, write_header,
};
pub use payload::{Encoded, Payload};
pub use reason::DisconnectReason;
pub use socket::Socket;
