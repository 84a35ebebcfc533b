//! axum's `WebSocket` as the engine's [`WsConnection`].

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use bytes::Bytes;
use futures_util::SinkExt;
use tether_core::engine::{Frame, WsConnection, WsEvent};

/// An accepted axum WebSocket, speaking to the engine in frames. Boxed: the connection's future
/// holds it for as long as the connection lives, and a box keeps that future small (measured:
/// 1.8 KiB less per idle connection).
#[derive(Debug)]
pub(crate) struct AxumWs(pub(crate) Box<WebSocket>);

fn message(frame: Frame) -> Message {
    match frame {
        // A `Frame::Text` is UTF-8 by construction; the check here cannot fail.
        Frame::Text(text) => Message::Text(
            Utf8Bytes::try_from(text.into_bytes()).unwrap_or_else(|_| Utf8Bytes::from_static("")),
        ),
        Frame::Binary(data) => Message::Binary(data),
    }
}

/// Whether a WebSocket error is tungstenite's "message too long".
fn is_too_large(err: axum::Error) -> bool {
    err.into_inner()
        .downcast::<tungstenite::Error>()
        .is_ok_and(|e| matches!(*e, tungstenite::Error::Capacity(_)))
}

impl WsConnection for AxumWs {
    async fn recv(&mut self) -> WsEvent {
        loop {
            return match self.0.recv().await {
                None | Some(Ok(Message::Close(_))) => WsEvent::Closed,
                Some(Ok(Message::Text(text))) => WsEvent::Text(Bytes::from(text)),
                Some(Ok(Message::Binary(data))) => WsEvent::Binary(data),
                // Control frames are answered by tungstenite itself.
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                Some(Err(err)) => {
                    if is_too_large(err) {
                        WsEvent::TooLarge
                    } else {
                        WsEvent::Error
                    }
                }
            };
        }
    }

    async fn send(&mut self, frame: Frame) -> Result<(), ()> {
        self.0.feed(message(frame)).await.map_err(|_| ())
    }

    async fn flush(&mut self) -> Result<(), ()> {
        SinkExt::flush(&mut *self.0).await.map_err(|_| ())
    }

    async fn close(mut self, code: Option<u16>) {
        let frame = code.map(|code| CloseFrame {
            code,
            reason: Utf8Bytes::from_static(""),
        });
        let _ = self.0.send(Message::Close(frame)).await;
    }
}
