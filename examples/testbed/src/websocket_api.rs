//! Namespace `/ws`, for the bundled client's `tether.WebSocket` (the WebSocket API: every
//! message is the event `"message"`, so the commands are messages too):
//! - subprotocols: the server takes the first offered of `chat` and `superchat` (an offer of
//!   neither is refused, as a browser fails a WebSocket whose server picks none);
//! - `"protocol?"`: answers the subprotocol picked (`""` for none); `"transport?"`: the
//!   transport's name;
//! - `"close:CODE:REASON"`: the server closes the socket with that code and reason
//!   (`Socket::disconnect_with`);
//! - `"closes?"`: answers, as JSON text, what the server saw of the `/ws` sockets that left
//!   so far: `[{id, reason, code, text}]` (`code` and `text` from the close frame, or null);
//! - anything else, text or binary, comes back as it is.

use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use tether_axum::socket::{Bin, CloseFrame, Payload, RawArgs, Socket, SocketIo};

/// What the server saw of each `/ws` socket that left.
type Closes = Arc<Mutex<Vec<Value>>>;

/// The offered subprotocols the server speaks, in no order of its own: the client's first wins.
const SPOKEN: [&str; 2] = ["chat", "superchat"];

/// Registers `/ws` on `io`.
pub(crate) fn register(io: &SocketIo) {
    let closes: Closes = Arc::default();
    io.ns("/ws", move |socket: Socket| {
        on_connect(socket, closes.clone());
        async {}
    })
    .subprotocol(|_socket: &Socket, offered: &[String]| {
        offered
            .iter()
            .find(|p| SPOKEN.contains(&p.as_str()))
            .cloned()
    });
}

fn on_connect(socket: Socket, closes: Closes) {
    let seen = closes.clone();
    socket.on_disconnect(move |socket: Socket, reason| async move {
        let frame = socket.close_frame();
        let entry = json!({
            "id": socket.id().to_string(),
            "reason": reason.to_string(),
            "code": frame.map(CloseFrame::code),
            "text": frame.map(CloseFrame::reason),
        });
        if let Ok(mut list) = seen.lock() {
            list.push(entry);
        }
    });
    socket.on(
        "message",
        move |socket: Socket, RawArgs(args): RawArgs, Bin(bin): Bin| {
            let closes = closes.clone();
            async move {
                let text = args
                    .first()
                    .and_then(|a| serde_json::from_str::<Value>(a).ok())
                    .and_then(|v| v.as_str().map(str::to_owned));
                match text.as_deref() {
                    Some("protocol?") => {
                        let _ = socket.emit("message", socket.protocol().unwrap_or(""));
                    }
                    Some("transport?") => {
                        let _ = socket.emit("message", socket.transport().as_str());
                    }
                    Some("closes?") => {
                        let list = closes.lock().map(|l| l.clone()).unwrap_or_default();
                        let _ = socket.emit("message", &Value::Array(list).to_string());
                    }
                    Some(command) if command.starts_with("close:") => close(&socket, command),
                    _ => {
                        let _ = socket.emit_payload("message", &Payload::from_raw(args, bin));
                    }
                }
            }
        },
    );
}

/// `close:CODE:REASON`; a code the WebSocket API does not allow is answered with the error.
fn close(socket: &Socket, command: &str) {
    let mut parts = command.splitn(3, ':').skip(1);
    let code = parts
        .next()
        .and_then(|c| c.parse::<u16>().ok())
        .unwrap_or(0);
    match CloseFrame::new(code, parts.next().unwrap_or("")) {
        Ok(frame) => socket.disconnect_with(frame),
        Err(err) => {
            let _ = socket.emit("message", &format!("error: {err}"));
        }
    }
}
