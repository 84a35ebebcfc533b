//! Socket.IO v5 on top of an Engine.IO session: namespaces, events with serde payloads, acks
//! with timeouts, rooms, broadcast and binary, and the cluster operations (fetch sockets,
//! remote join / leave / disconnect, server-side emit) through the namespace's adapter.
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
//!     let _ = socket.set_data(&serde_json::json!({ "name": "ada" }));
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
//!
//! # Layers
//!
//! Each module names only modules of a lower layer (a test checks there is no import circle):
//!
//! 1. values: `config`, `emit` (errors), `reason`, `stats`, `typemap`, `server_event`, `facade` (the
//!    `tether.WebSocket` extension's wire values), and the codecs
//!    of [`crate::protocol`];
//! 2. state: `ack` (the ack table and its future), `namespace` (sockets by id and the adapter,
//!    generic over the socket type);
//! 3. the socket core: `socket` ([`Socket`], its lifecycle, [`EventCtx`]); it reaches the
//!    server and the handlers only through traits the layers above implement;
//! 4. runtime: `extract`, `handler` (extractors, handlers, panics), `setup`, `ack_stream`,
//!    `facade_ops` (subprotocols and close codes), `ops` (what an operation does here and, through the adapter, on the other nodes),
//!    `remote` ([`RemoteSocket`]), `broadcast` ([`BroadcastOperator`]), `registry`
//!    (namespaces), `client` (one connection's routing);
//! 5. the server handle: `io` ([`SocketIo`]).

mod ack;
mod ack_stream;
mod broadcast;
mod client;
mod config;
mod emit;
mod extract;
mod facade;
mod facade_ops;
mod handler;
mod io;
mod namespace;
mod ops;
mod reason;
mod registry;
mod remote;
mod server_event;
mod setup;
#[allow(clippy::module_inception)]
mod socket;
mod stats;
mod typemap;

pub use ack::{AckError, AckFuture};
pub use ack_stream::{AckStream, BroadcastAcks};
pub use broadcast::BroadcastOperator;
pub use config::SocketIoConfig;
pub use emit::{ConnectError, EmitError};
pub use extract::{AckSender, Bin, Data, ExtractError, FromEvent, RawArgs, State, TryData};
pub use facade::{
    CloseFrame, CloseFrameError, MAX_CLOSE_REASON, MAX_SUBPROTOCOL_LEN, MAX_SUBPROTOCOLS,
};
pub use facade_ops::NO_ACCEPTABLE_SUBPROTOCOL;
pub use handler::{Handler, HandlerOutput};
pub use io::{NsBuilder, SocketIo, SocketIoBuilder, WeakSocketIo};
pub use reason::DisconnectReason;
pub use remote::RemoteSocket;
pub use server_event::ServerEvent;
pub use socket::{EventCtx, Observer, Socket, SocketEvent};
pub use stats::{DISCONNECT_REASONS, DYNAMIC_LABEL, NsStats};

pub use crate::protocol::{
    AckResponse, DecodeError, Encoded, MAX_ATTACHMENTS, Packet, PacketKind, Payload,
    RESERVED_EVENTS, decode, encode_array, encode_object, placeholder, write_header,
};
