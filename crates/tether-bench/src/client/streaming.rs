//! tether's streaming transport: one GET answered with a `text/event-stream` (one event per
//! packet) receives, POSTs send as on polling. Each client holds two HTTP connections.
//!
//! The stream is read straight off its TCP connection in the caller's task (HTTP/1.1 chunked
//! decoding here), as tungstenite reads a WebSocket: a client library's body channel would add
//! a task hop per chunk to the load generator, and the comparison with WebSocket would measure
//! that rather than the server.

use bytes::{Buf, BytesMut};
use std::collections::VecDeque;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Utf8Bytes;

use super::polling::post_to;
use super::{Incoming, Open};
use crate::{Result, Target};

/// A streaming Engine.IO session.
#[derive(Debug)]
pub struct StreamConn {
    http: reqwest::Client,
    post_url: String,
    sid: String,
    stream: TcpStream,
    /// Bytes read off the connection, not yet de-chunked.
    raw: BytesMut,
    /// Body bytes not yet parsed into events.
    buf: BytesMut,
    queue: VecDeque<Utf8Bytes>,
}

impl StreamConn {
    /// Opens a streaming session: the stream's GET, then its open event.
    pub async fn open(target: &Target) -> Result<(StreamConn, Open)> {
        let mut stream = TcpStream::connect(target.addr).await?;
        stream.set_nodelay(true)?;
        let request = format!(
            "GET {}?EIO=4&transport=streaming HTTP/1.1\r\nHost: {}\r\nAccept: text/event-stream\r\n\r\n",
            target.path, target.addr
        );
        stream.write_all(request.as_bytes()).await?;
        let mut conn = StreamConn {
            http: target.http.clone(),
            post_url: String::new(),
            sid: String::new(),
            stream,
            raw: BytesMut::with_capacity(4096),
            buf: BytesMut::new(),
            queue: VecDeque::new(),
        };
        conn.read_head().await?;
        let first = conn.next_event().await?;
        let json = first
            .strip_prefix('0')
            .ok_or_else(|| format!("expected an open packet, got {:?}", &*first))?;
        let open: Open = serde_json::from_str(json)?;
        conn.post_url = target.transport_url("streaming", Some(&open.sid));
        conn.sid.clone_from(&open.sid);
        Ok((conn, open))
    }

    /// Reads the response head: 200, chunked.
    async fn read_head(&mut self) -> Result<()> {
        loop {
            if let Some(end) = find(&self.raw, b"\r\n\r\n") {
                let head = self.raw.split_to(end + 4);
                let head = std::str::from_utf8(&head)?.to_ascii_lowercase();
                if !head.starts_with("http/1.1 200") {
                    let line = head.lines().next().unwrap_or("");
                    return Err(format!("the stream's GET answered {line}").into());
                }
                if !head.contains("transfer-encoding: chunked") {
                    return Err("the stream is not chunked".into());
                }
                return Ok(());
            }
            self.fill().await?;
        }
    }

    /// Reads more bytes off the connection.
    async fn fill(&mut self) -> Result<()> {
        if self.raw.capacity() - self.raw.len() < 1024 {
            self.raw.reserve(4096);
        }
        if self.stream.read_buf(&mut self.raw).await? == 0 {
            return Err("the server ended the stream".into());
        }
        Ok(())
    }

    /// Moves every complete chunk's data to `buf`; false if none was complete.
    fn dechunk(&mut self) -> Result<bool> {
        let mut moved = false;
        while let Some(line) = find(&self.raw, b"\r\n") {
            let size = std::str::from_utf8(&self.raw[..line])?;
            let size = usize::from_str_radix(size.split(';').next().unwrap_or("").trim(), 16)
                .map_err(|_| format!("bad chunk size {size:?}"))?;
            if size == 0 {
                return Err("the server ended the stream".into());
            }
            if self.raw.len() < line + 2 + size + 2 {
                break;
            }
            self.raw.advance(line + 2);
            self.buf.extend_from_slice(&self.raw[..size]);
            self.raw.advance(size + 2);
            moved = true;
        }
        Ok(moved)
    }

    /// The Engine.IO session id.
    pub fn sid(&self) -> &str {
        &self.sid
    }

    /// The next event's data (lines joined by line feeds; a `j` packet decoded).
    async fn next_event(&mut self) -> Result<Utf8Bytes> {
        loop {
            if let Some(event) = self.queue.pop_front() {
                return Ok(event);
            }
            self.parse()?;
            if !self.queue.is_empty() {
                continue;
            }
            if !self.dechunk()? {
                self.fill().await?;
            }
        }
    }

    /// Moves every complete event in the buffer to the queue. An event of one `data:` line
    /// (every event but a `j` one or one with line feeds) is sliced out, not copied.
    fn parse(&mut self) -> Result<()> {
        loop {
            // The padding comment (and any other) ends at one line feed.
            while self.buf.first() == Some(&b':') {
                match self.buf.iter().position(|b| *b == b'\n') {
                    Some(at) => self.buf.advance(at + 1),
                    None => return Ok(()),
                }
            }
            let Some(end) = find(&self.buf, b"\n\n") else {
                return Ok(());
            };
            let block = self.buf.split_to(end + 2).freeze();
            let body = &block[..end];
            if let Some(rest) = body.strip_prefix(b"data: ")
                && !rest.contains(&b'\n')
                && rest.first() != Some(&b'j')
            {
                self.queue
                    .push_back(Utf8Bytes::try_from(block.slice(6..end))?);
                continue;
            }
            let text = std::str::from_utf8(body)?;
            let mut data: Option<String> = None;
            for line in text.lines() {
                let Some(value) = line.strip_prefix("data: ") else {
                    continue;
                };
                match &mut data {
                    Some(d) => {
                        d.push('\n');
                        d.push_str(value);
                    }
                    None => data = Some(value.to_owned()),
                }
            }
            if let Some(data) = data {
                let data = match data.strip_prefix('j') {
                    Some(json) => serde_json::from_str(json)?,
                    None => data,
                };
                self.queue.push_back(Utf8Bytes::from(data));
            }
        }
    }

    pub(crate) async fn send_message(&mut self, sio: &str) -> Result<()> {
        let mut text = String::with_capacity(sio.len() + 1);
        text.push('4');
        text.push_str(sio);
        post_to(&self.http, &self.post_url, text).await
    }

    pub(crate) async fn next_message(&mut self) -> Result<Incoming> {
        loop {
            let text = self.next_event().await?;
            match text.as_bytes().first() {
                Some(b'4') => return Ok(Incoming(text)),
                Some(b'2') => post_to(&self.http, &self.post_url, "3").await?,
                Some(b'1') => return Err("the server closed the session".into()),
                _ => continue,
            }
        }
    }

    /// Closes the session: POSTs `1`.
    pub async fn close(self) -> Result<()> {
        post_to(&self.http, &self.post_url, "1").await
    }
}

/// Where `needle` first occurs in `hay`.
fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}
