//! Engine.IO v4: the transport layer under Socket.IO.
//!
//! - [`packet`](decode_text) and [`payload`](decode_payload) codecs: pure functions over bytes;
//! - [`Session`]: the sans-IO state machine of one session (heartbeat, upgrade, close, polls);
//! - [`Engine`]: the session table, the shared heartbeat ticker and the transports' drivers
//!   ([`Engine::poll`], [`Engine::post`], [`Engine::run_websocket`], and for our streaming
//!   extension [`Engine::streaming_handshake`]), fed by an HTTP layer.
//!
//! An echo server at the engine level:
//!
//! ```
//! use tether_core::engine::{CloseReason, Engine, EngineConfig, EngineHandler, EngineSocket, Message};
//!
//! struct Echo;
//! impl EngineHandler for Echo {
//!     fn on_connect(&self, socket: EngineSocket) {
//!         println!("{} opened on {:?}", socket.sid(), socket.transport());
//!     }
//!     fn on_message(&self, socket: &EngineSocket, message: Message) {
//!         let _ = match message {
//!             Message::Text(text) => socket.send_text(&text),
//!             Message::Binary(data) => socket.send_binary(data),
//!         };
//!     }
//!     fn on_disconnect(&self, socket: &EngineSocket, reason: CloseReason) {
//!         println!("{} closed: {reason}", socket.sid());
//!     }
//! }
//! let engine = Engine::new(EngineConfig::default(), Echo);
//! assert_eq!(engine.session_count(), 0);
//! ```

mod address;
mod close;
mod config;
mod deadlines;
mod outbox;
mod packet;
mod payload;
mod polling;
mod request;
mod server;
mod session;
mod sid;
mod socket;
mod sse;
mod stats;
mod streaming;
mod websocket;

pub use address::AddressKey;
pub use close::{CloseReason, ProtocolViolation};
pub use config::EngineConfig;
pub use packet::{Frame, PROBE, Packet, PacketError, PacketKind, decode_text, decode_text_bytes};
pub use payload::{SEPARATOR, decode_payload, encode_payload};
pub use polling::BodyError;
pub use request::{EngineRequest, RequestError, TransportKind, classify, query_param};
pub use server::{Engine, EngineHandler};
pub use session::{
    CLIENT_CLOSE_GRACE, Effects, Message, PING_SLACK, PollAnswer, PollId, SendError, Session,
    StreamStep, UpgradeId, UpgradeStep,
};
pub use sid::{Sid, SidHash, SidHasher};
pub(crate) use socket::now;
pub use socket::{EngineSocket, Handshake, MAX_HANDSHAKE_BYTES};
pub use sse::{STREAM_PADDING, event_len, stream_preamble, write_event};
pub use stats::{CLOSE_REASONS, Direction, EngineStats, SentTally, TRANSPORTS};
pub use streaming::EventStream;
pub use websocket::{CLOSE_TOO_BIG, WsConnection, WsEvent};
