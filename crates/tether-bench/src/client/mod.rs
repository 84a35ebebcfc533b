//! A small Engine.IO v4 / Socket.IO v5 client, enough to drive a server hard: it opens a
//! session over WebSocket ([`WsConn`]), long-polling ([`PollConn`]) or tether's streaming
//! transport ([`StreamConn`]), joins the `/`
//! namespace, sends Socket.IO packets as text and hands back the text packets it receives.
//! Heartbeats are answered inside [`Conn::next`]. Binary attachments are skipped (the bench
//! sends none).
//!
//! ```no_run
//! # async fn run() -> tether_bench::Result<()> {
//! use tether_bench::{Target, TransportArg, client::Conn};
//! let target = Target::new("http://127.0.0.1:3000", "/socket.io/")?;
//! let mut conn = Conn::connect(&target, TransportArg::Websocket).await?;
//! conn.send(r#"2["echo","hi"]"#).await?;
//! let reply = conn.next().await?;
//! assert_eq!(reply.sio(), r#"2["echo","hi"]"#);
//! conn.close().await
//! # }
//! ```

mod packet;
mod polling;
mod raw_ws;
mod streaming;
mod ws;

pub use packet::{SioPacket, parse};
pub use polling::PollConn;
pub use raw_ws::{Frame, RawWs};
pub use streaming::StreamConn;
pub use ws::WsConn;

use tokio_tungstenite::tungstenite::Utf8Bytes;

use crate::{Result, Target, TransportArg};

/// One Engine.IO `message` packet as received: its text, `4` included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incoming(pub(crate) Utf8Bytes);

impl Incoming {
    /// The Socket.IO packet (the Engine.IO text without its leading `4`).
    pub fn sio(&self) -> &str {
        self.0.get(1..).unwrap_or("")
    }
}

/// What the server said when the session opened.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Open {
    /// The Engine.IO session id.
    pub sid: String,
    /// `pingInterval` in milliseconds.
    #[serde(rename = "pingInterval")]
    pub ping_interval: u64,
    /// `pingTimeout` in milliseconds.
    #[serde(rename = "pingTimeout")]
    pub ping_timeout: u64,
}

/// A connection joined to the `/` namespace, over either transport.
#[derive(Debug)]
pub enum Conn {
    /// Over WebSocket.
    Ws(WsConn),
    /// Over long-polling.
    Polling(PollConn),
    /// Over tether's streaming transport (boxed: a response in flight is large).
    Streaming(Box<StreamConn>),
}

impl Conn {
    /// Opens an Engine.IO session on `transport` and joins `/` (CONNECT, then its reply).
    pub async fn connect(target: &Target, transport: TransportArg) -> Result<Conn> {
        let mut conn = match transport {
            TransportArg::Websocket => Conn::Ws(WsConn::open(target).await?.0),
            TransportArg::Polling => Conn::Polling(PollConn::open(target).await?.0),
            TransportArg::Streaming => Conn::Streaming(Box::new(StreamConn::open(target).await?.0)),
        };
        conn.join_root().await?;
        Ok(conn)
    }

    /// Sends CONNECT for `/` and waits for its reply (`40{"sid":...}`).
    pub(crate) async fn join_root(&mut self) -> Result<()> {
        self.send("0").await?;
        loop {
            let msg = self.next().await?;
            match msg.sio().as_bytes().first() {
                Some(b'0') => return Ok(()),
                Some(b'4') => return Err(format!("connect refused: {}", msg.sio()).into()),
                _ => continue,
            }
        }
    }

    /// Sends one Socket.IO packet (text, without the Engine.IO `4`).
    pub async fn send(&mut self, sio: &str) -> Result<()> {
        match self {
            Conn::Ws(c) => c.send_message(sio).await,
            Conn::Polling(c) => c.send_message(sio).await,
            Conn::Streaming(c) => c.send_message(sio).await,
        }
    }

    /// The next Socket.IO packet from the server. Pings are answered on the way; a `close`
    /// packet or a closed transport is an error. On polling this may issue a GET: dropping the
    /// future then drops that poll, which the server takes as the client going away.
    pub async fn next(&mut self) -> Result<Incoming> {
        match self {
            Conn::Ws(c) => c.next_message().await,
            Conn::Polling(c) => c.next_message().await,
            Conn::Streaming(c) => c.next_message().await,
        }
    }

    /// Closes the session the polite way (a close frame, or a `1` packet POSTed).
    pub async fn close(self) -> Result<()> {
        match self {
            Conn::Ws(c) => c.close().await,
            Conn::Polling(c) => c.close().await,
            Conn::Streaming(c) => c.close().await,
        }
    }
}
