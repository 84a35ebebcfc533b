//! Engine.IO over WebSocket: one packet per text frame.

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

use super::{Incoming, Open};
use crate::{Result, Target};

/// A WebSocket connection: an Engine.IO session (or, for the raw reference, bare frames).
#[derive(Debug)]
pub struct WsConn {
    // Boxed: the stream is ~300 bytes, and `Conn` moves between tasks.
    ws: Box<WebSocketStream<TcpStream>>,
}

/// Small buffers: the load generator holds up to ~18,000 of these.
fn config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0)
}

impl WsConn {
    /// Connects a WebSocket to `url` on `target`'s address (`TCP_NODELAY` on).
    pub async fn connect(target: &Target, url: &str) -> Result<WsConn> {
        let tcp = TcpStream::connect(target.addr).await?;
        tcp.set_nodelay(true)?;
        let (ws, _) = tokio_tungstenite::client_async_with_config(url, tcp, Some(config())).await?;
        Ok(WsConn { ws: Box::new(ws) })
    }

    /// Opens an Engine.IO session over WebSocket and reads its `open` packet.
    pub async fn open(target: &Target) -> Result<(WsConn, Open)> {
        let mut conn = WsConn::connect(target, &target.ws_url(None)).await?;
        let text = conn.next_text().await?;
        let json = text
            .strip_prefix('0')
            .ok_or_else(|| format!("expected an open packet, got {:?}", &*text))?;
        let open: Open = serde_json::from_str(json)?;
        Ok((conn, open))
    }

    /// Sends a text frame as it is.
    pub async fn send_text(&mut self, text: impl Into<Utf8Bytes>) -> Result<()> {
        self.ws.send(Message::Text(text.into())).await?;
        Ok(())
    }

    /// The next text frame, whatever it holds (binary frames and control frames skipped).
    pub async fn next_text(&mut self) -> Result<Utf8Bytes> {
        loop {
            match self.ws.next().await {
                Some(Ok(Message::Text(t))) => return Ok(t),
                Some(Ok(Message::Close(_))) | None => return Err("websocket closed".into()),
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Err(e.into()),
            }
        }
    }

    /// Sends a Socket.IO packet as an Engine.IO message (`4...`).
    pub(crate) async fn send_message(&mut self, sio: &str) -> Result<()> {
        let mut text = String::with_capacity(sio.len() + 1);
        text.push('4');
        text.push_str(sio);
        self.send_text(text).await
    }

    /// The next Engine.IO message, answering pings on the way.
    pub(crate) async fn next_message(&mut self) -> Result<Incoming> {
        loop {
            let text = self.next_text().await?;
            match text.as_bytes().first() {
                Some(b'4') => return Ok(Incoming(text)),
                Some(b'2') => self.send_text("3").await?,
                Some(b'1') => return Err("the server closed the session".into()),
                _ => continue,
            }
        }
    }

    /// Sends a close frame and waits (briefly) for the server's.
    pub async fn close(mut self) -> Result<()> {
        // The inherent close (a close frame), not `SinkExt::close` on the Box.
        WebSocketStream::close(&mut *self.ws, None).await?;
        let drain = async { while let Some(Ok(_)) = self.ws.next().await {} };
        let _ = tokio::time::timeout(std::time::Duration::from_secs(2), drain).await;
        Ok(())
    }

    /// Drops the TCP connection with no close frame (a client that vanishes).
    pub fn vanish(self) {
        drop(self.ws);
    }
}
