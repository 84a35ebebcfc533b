//! How a namespace is set up: its connect handler, its middlewares and its server-side event
//! handlers, shared by a static namespace and by every child of a dynamic one.
//!
//! Layer: names the socket core (the handler interface, `Socket`) and server events.

use bytestring::ByteString;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use super::emit::ConnectError;
use super::server_event::ServerHandler;
use super::socket::{ErasedHandler, Socket};
use super::stats::NsStats;
use crate::adapter::BoxFuture;

/// A connect middleware, type-erased.
pub(crate) type Middleware =
    Arc<dyn Fn(Socket) -> BoxFuture<Result<(), ConnectError>> + Send + Sync>;

/// A namespace's subprotocol hook: picks one of a `tether.WebSocket`'s offered subprotocols.
pub(crate) type SelectProtocol = Arc<dyn Fn(&Socket, &[String]) -> Option<String> + Send + Sync>;

/// Server-side event handlers by event name, shared by every namespace of one setup.
pub(crate) type ServerHandlers = Arc<RwLock<HashMap<ByteString, ServerHandler>>>;

#[derive(Clone)]
pub(crate) struct NsSetup {
    pub(crate) on_connect: Arc<dyn ErasedHandler>,
    pub(crate) middlewares: Vec<Middleware>,
    pub(crate) server_events: ServerHandlers,
    pub(crate) select_protocol: Option<SelectProtocol>,
    /// The counters of the namespace (shared by every child of a dynamic one).
    pub(crate) stats: Arc<NsStats>,
}
