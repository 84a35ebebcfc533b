//! The server's side of `tether.WebSocket` (see [`facade`](super::facade) for the wire): the
//! subprotocol a namespace picks from a client's offer, and close codes both ways.
//!
//! ```
//! use tether_core::socket::{CloseFrame, Socket, SocketIo};
//!
//! let io = SocketIo::builder().build();
//! io.ns("/chat", |socket: Socket| async move {
//!     // `new tether.WebSocket('/chat', ['v2.chat', 'v1.chat'])` gets here with "v2.chat"
//!     assert!(socket.protocol().is_some());
//!     socket.on_disconnect(|socket: Socket, reason| async move {
//!         // the client's `ws.close(4000, 'done')`
//!         if let Some(frame) = socket.close_frame() {
//!             println!("{reason}: {} {}", frame.code(), frame.reason());
//!         }
//!     });
//!     socket.on("message", |socket: Socket| async move {
//!         // the client's `onclose` sees 4001 "enough"
//!         socket.disconnect_with(CloseFrame::new(4001, "enough").unwrap());
//!     });
//! })
//! .subprotocol(|_socket: &Socket, offered: &[String]| {
//!     offered.iter().find(|p| *p == "v2.chat" || *p == "v1.chat").cloned()
//! });
//! ```
//!
//! Layer: runtime; names the socket core, the setup and the wire values.

use std::panic::{AssertUnwindSafe, catch_unwind};

use super::emit::ConnectError;
use super::facade::CloseFrame;
use super::reason::DisconnectReason;
use super::setup::SelectProtocol;
use super::socket::Socket;

/// The CONNECT_ERROR message when the server accepts none of the offered subprotocols.
pub const NO_ACCEPTABLE_SUBPROTOCOL: &str = "no acceptable subprotocol";

impl Socket {
    /// The subprotocol the namespace's [`subprotocol`](super::NsBuilder::subprotocol) hook
    /// picked for a `tether.WebSocket` client (its `protocol` on the client). `None` for
    /// other clients, and for a `tether.WebSocket` that offered none.
    pub fn protocol(&self) -> Option<&str> {
        let facade = self.0.facade.as_ref()?;
        facade.protocol.get().map(String::as_str)
    }

    /// The subprotocols a `tether.WebSocket` client offered, in its order (empty for other
    /// clients).
    pub fn offered_protocols(&self) -> &[String] {
        self.0.facade.as_ref().map_or(&[], |f| &f.offer)
    }

    /// Whether the client is the bundled client's `tether.WebSocket`, which reads close codes
    /// ([`Socket::disconnect_with`]) and may offer subprotocols.
    pub fn is_websocket_api(&self) -> bool {
        self.0.facade.is_some()
    }

    /// How a `tether.WebSocket` closed, when a code came with it: the client's
    /// `close(code, reason)`, or the server's [`Socket::disconnect_with`]. Set before the
    /// `disconnecting` and `disconnect` hooks run. `None` for a close without a code, and for
    /// other clients.
    pub fn close_frame(&self) -> Option<&CloseFrame> {
        self.0.facade.as_ref()?.close.get()
    }

    /// [`Socket::disconnect`] with a WebSocket close code and reason: a `tether.WebSocket`'s
    /// `onclose` sees them (`wasClean` true), and so does [`Socket::close_frame`] in the hooks.
    /// Other clients get a plain DISCONNECT (official clients cannot read a code).
    pub fn disconnect_with(&self, frame: CloseFrame) {
        self.leave_ns_closing(DisconnectReason::ServerNamespaceDisconnect, true, frame);
    }

    /// Before a `tether.WebSocket` that offered subprotocols joins: the namespace's hook picks
    /// one, or the socket is refused with [`NO_ACCEPTABLE_SUBPROTOCOL`], as a browser fails a
    /// WebSocket whose server picks none. A hook that panics refuses the socket.
    pub(crate) fn choose_protocol(
        &self,
        select: Option<&SelectProtocol>,
    ) -> Result<(), ConnectError> {
        let Some(facade) = self.0.facade.as_ref() else {
            return Ok(());
        };
        if facade.offer.is_empty() {
            return Ok(());
        }
        let refused = || ConnectError::new(NO_ACCEPTABLE_SUBPROTOCOL);
        let Some(select) = select else {
            return Err(refused());
        };
        let picked = match catch_unwind(AssertUnwindSafe(|| select(self, &facade.offer))) {
            Ok(picked) => picked,
            Err(panic) => {
                let message = crate::panic::message(&*panic);
                tracing::error!(socket = %self.id(), ns = self.ns(), panic = message, "subprotocol hook panicked");
                return Err(ConnectError::new("Internal server error"));
            }
        };
        match picked {
            Some(p) if facade.offer.contains(&p) => {
                let _ = facade.protocol.set(p);
                Ok(())
            }
            Some(p) => {
                tracing::warn!(socket = %self.id(), ns = self.ns(), picked = %p, "the subprotocol hook picked one the client did not offer");
                Err(refused())
            }
            None => Err(refused()),
        }
    }
}
