//! A lean WebSocket reader for the broadcast receivers: the upgrade by hand, then frames parsed
//! in place from one read buffer, so a read that brings several frames costs one clock reading
//! and no allocation per frame.
//!
//! Why: in the cross-node broadcast the single-threaded load generator shares the two cores with
//! the servers, and through tokio-tungstenite it spent 1.23 µs of CPU per delivery (perf: 60% in
//! user space, the stream adapter's waker registration, a `Bytes` split and a UTF-8 check per
//! frame), as much as both tether nodes together. CPU the generator spends is CPU a server cannot
//! have, which squeezes every ratio toward 1. This reader is used by every server's run alike.
//!
//! Only what a Socket.IO server sends is read: unfragmented text and binary frames, ping, pong
//! and close. A fragmented frame, a frame over [`MAX_FRAME`] or an upgrade that is refused is an
//! error, never a hang.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::{Result, Target};

/// The largest frame accepted (the bench's messages are a few dozen bytes).
pub(crate) const MAX_FRAME: usize = 1 << 20;
/// The read buffer's starting size; it grows only for a frame that does not fit.
const READ_BUFFER: usize = 4096;
/// The client's masking key: the protocol requires a mask, not a secret one.
const MASK: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// One frame from the server, borrowed from the read buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frame<'a> {
    /// A text frame's payload.
    Text(&'a [u8]),
    /// A binary frame's payload.
    Binary(&'a [u8]),
    /// A WebSocket ping (answered with a pong carrying the same bytes).
    Ping(&'a [u8]),
    /// A pong.
    Pong,
    /// A close frame.
    Close,
}

/// Parses the frame at the start of `buf`: `Ok(None)` when more bytes are needed, else the frame
/// and the bytes it took.
pub(crate) fn parse_frame(buf: &[u8]) -> Result<Option<(Frame<'_>, usize)>> {
    let [b0, b1, ..] = *buf else { return Ok(None) };
    if b0 & 0x80 == 0 || b0 & 0x0f == 0 {
        return Err("a fragmented WebSocket frame (not supported by this reader)".into());
    }
    if b0 & 0x70 != 0 {
        return Err(format!("WebSocket frame with reserved bits set: {b0:#04x}").into());
    }
    let masked = b1 & 0x80 != 0;
    let (len, mut at) = match b1 & 0x7f {
        126 => match buf.get(2..4) {
            Some(b) => (u16::from_be_bytes([b[0], b[1]]) as u64, 4),
            None => return Ok(None),
        },
        127 => match buf.get(2..10).and_then(|b| <[u8; 8]>::try_from(b).ok()) {
            Some(b) => (u64::from_be_bytes(b), 10),
            None => return Ok(None),
        },
        n => (n as u64, 2),
    };
    if len > MAX_FRAME as u64 {
        return Err(format!("a WebSocket frame of {len} bytes (limit {MAX_FRAME})").into());
    }
    if masked {
        // A server must not mask; refusing it beats unmasking in a shared buffer.
        return Err("a masked frame from the server".into());
    }
    let len = len as usize;
    let Some(payload) = buf.get(at..at + len) else {
        return Ok(None);
    };
    at += len;
    let frame = match b0 & 0x0f {
        0x1 => Frame::Text(payload),
        0x2 => Frame::Binary(payload),
        0x8 => Frame::Close,
        0x9 => Frame::Ping(payload),
        0xa => Frame::Pong,
        op => return Err(format!("unknown WebSocket opcode {op:#x}").into()),
    };
    Ok(Some((frame, at)))
}

/// Writes a masked client frame of `opcode` carrying `payload` (at most 125 bytes) into `out`.
pub(crate) fn client_frame(opcode: u8, payload: &[u8], out: &mut Vec<u8>) -> Result<()> {
    if payload.len() > 125 {
        return Err(format!("a control-sized client frame of {} bytes", payload.len()).into());
    }
    out.push(0x80 | opcode);
    out.push(0x80 | payload.len() as u8);
    out.extend_from_slice(&MASK);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ MASK[i % 4]));
    Ok(())
}

/// A WebSocket connection read frame by frame from its own buffer.
#[derive(Debug)]
pub struct RawWs {
    tcp: TcpStream,
    buf: Vec<u8>,
    /// Parsed bytes at the front of `buf`.
    start: usize,
    /// Bytes read into `buf`.
    end: usize,
}

impl RawWs {
    /// Opens an Engine.IO WebSocket on `target` (`TCP_NODELAY` on): sends the upgrade request
    /// and reads the `101` answer. Bytes after the answer stay in the buffer.
    pub async fn connect(target: &Target) -> Result<RawWs> {
        let mut tcp = TcpStream::connect(target.addr).await?;
        tcp.set_nodelay(true)?;
        let request = format!(
            "GET {}?EIO=4&transport=websocket HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\n\
             Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
             Sec-WebSocket-Version: 13\r\n\r\n",
            target.path, target.addr
        );
        tcp.write_all(request.as_bytes()).await?;
        let mut ws = RawWs {
            tcp,
            buf: vec![0; READ_BUFFER],
            start: 0,
            end: 0,
        };
        let head_end = loop {
            if let Some(at) = ws.buf[..ws.end].windows(4).position(|w| w == b"\r\n\r\n") {
                break at + 4;
            }
            if ws.end == ws.buf.len() {
                return Err("the upgrade answer's head is over 4 KiB".into());
            }
            ws.fill().await?;
        };
        let head = String::from_utf8_lossy(&ws.buf[..head_end]);
        if !head.starts_with("HTTP/1.1 101") {
            let line = head.lines().next().unwrap_or("");
            return Err(format!("the upgrade was refused: {line}").into());
        }
        ws.start = head_end;
        Ok(ws)
    }

    /// Reads once from the socket into the buffer (growing it for a frame that does not fit).
    /// Cancel-safe: a dropped read reads nothing.
    pub async fn fill(&mut self) -> Result<()> {
        if self.start > 0 && self.start == self.end {
            (self.start, self.end) = (0, 0);
        }
        if self.end == self.buf.len() {
            if self.start > 0 {
                self.buf.copy_within(self.start..self.end, 0);
                (self.start, self.end) = (0, self.end - self.start);
            } else {
                let grown = (self.buf.len() * 2).min(MAX_FRAME + 16);
                if grown == self.buf.len() {
                    return Err("read buffer full".into());
                }
                self.buf.resize(grown, 0);
            }
        }
        let n = self.tcp.read(&mut self.buf[self.end..]).await?;
        if n == 0 {
            return Err("the server closed the connection".into());
        }
        self.end += n;
        Ok(())
    }

    /// The next complete frame already in the buffer, if any; it is consumed.
    pub fn next_buffered(&mut self) -> Result<Option<Frame<'_>>> {
        match parse_frame(&self.buf[self.start..self.end])? {
            Some((frame, used)) => {
                self.start += used;
                Ok(Some(frame))
            }
            None => Ok(None),
        }
    }

    /// Sends a masked text frame (at most 125 bytes: the bench only sends short packets).
    pub async fn send_text(&mut self, text: &str) -> Result<()> {
        let mut out = Vec::with_capacity(text.len() + 6);
        client_frame(0x1, text.as_bytes(), &mut out)?;
        self.tcp.write_all(&out).await?;
        Ok(())
    }

    /// Answers a WebSocket ping with a pong carrying `payload`.
    pub async fn send_pong(&mut self, payload: &[u8]) -> Result<()> {
        let mut out = Vec::with_capacity(payload.len() + 6);
        client_frame(0xa, payload, &mut out)?;
        self.tcp.write_all(&out).await?;
        Ok(())
    }

    /// The next text frame as an owned string (for the setup phase; pings are answered, binary
    /// frames skipped, a close is an error).
    pub async fn next_text(&mut self) -> Result<String> {
        loop {
            let mut pong = None;
            match self.next_buffered()? {
                Some(Frame::Text(t)) => return Ok(std::str::from_utf8(t)?.to_owned()),
                Some(Frame::Close) => return Err("websocket closed".into()),
                Some(Frame::Ping(p)) => pong = Some(p.to_vec()),
                Some(Frame::Binary(_) | Frame::Pong) => continue,
                None => self.fill().await?,
            }
            if let Some(p) = pong {
                self.send_pong(&p).await?;
            }
        }
    }

    /// The next Engine.IO message's Socket.IO text (without the `4`); Engine.IO pings are
    /// answered on the way, a close packet is an error.
    pub async fn next_message(&mut self) -> Result<String> {
        loop {
            let text = self.next_text().await?;
            match text.as_bytes().first() {
                Some(b'4') => return Ok(text[1..].to_owned()),
                Some(b'2') => self.send_text("3").await?,
                Some(b'1') => return Err("the server closed the session".into()),
                _ => continue,
            }
        }
    }

    /// Opens a session and joins `/`: the open packet, CONNECT, its reply.
    pub async fn open_root(target: &Target) -> Result<RawWs> {
        let mut ws = RawWs::connect(target).await?;
        let open = ws.next_text().await?;
        if !open.starts_with('0') {
            return Err(format!("expected an open packet, got {open:?}").into());
        }
        ws.send_text("40").await?;
        loop {
            let msg = ws.next_message().await?;
            match msg.as_bytes().first() {
                Some(b'0') => return Ok(ws),
                Some(b'4') => return Err(format!("connect refused: {msg}").into()),
                _ => continue,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server_text(payload: &[u8]) -> Vec<u8> {
        let mut out = vec![0x81];
        match payload.len() {
            n @ 0..=125 => out.push(n as u8),
            n @ 126..=65535 => {
                out.push(126);
                out.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                out.push(127);
                out.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        out.extend_from_slice(payload);
        out
    }

    #[test]
    fn parses_each_length_form_and_waits_for_the_rest() {
        for len in [0, 1, 125, 126, 300, 65535, 65536, 70_000] {
            let payload: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            let bytes = server_text(&payload);
            let (frame, used) = parse_frame(&bytes).unwrap().unwrap();
            assert_eq!(frame, Frame::Text(&payload));
            assert_eq!(used, bytes.len());
            for cut in [0, 1, bytes.len() / 2, bytes.len() - 1] {
                if cut < bytes.len() {
                    assert_eq!(
                        parse_frame(&bytes[..cut]).unwrap(),
                        None,
                        "len {len} cut {cut}"
                    );
                }
            }
        }
    }

    #[test]
    fn two_frames_in_one_read_come_out_one_after_the_other() {
        let mut bytes = server_text(b"42[\"news\",1]");
        bytes.extend_from_slice(&[0x89, 0x02, b'h', b'i', 0x88, 0x00]);
        let (f1, n1) = parse_frame(&bytes).unwrap().unwrap();
        assert_eq!(f1, Frame::Text(b"42[\"news\",1]"));
        let (f2, n2) = parse_frame(&bytes[n1..]).unwrap().unwrap();
        assert_eq!(f2, Frame::Ping(b"hi"));
        let (f3, _) = parse_frame(&bytes[n1 + n2..]).unwrap().unwrap();
        assert_eq!(f3, Frame::Close);
    }

    #[test]
    fn refuses_what_it_does_not_read() {
        let err = |b: &[u8]| parse_frame(b).unwrap_err().to_string();
        assert!(err(&[0x01, 0x01, b'x']).contains("fragmented"));
        assert!(err(&[0x80, 0x01, b'x']).contains("fragmented"));
        assert!(err(&[0xc1, 0x01, b'x']).contains("reserved"));
        assert!(err(&[0x81, 0x81, 1, 2, 3, 4, b'x']).contains("masked"));
        assert!(err(&[0x83, 0x00]).contains("opcode"));
        let mut huge = vec![0x81, 127];
        huge.extend_from_slice(&(MAX_FRAME as u64 + 1).to_be_bytes());
        assert!(err(&huge).contains("limit"));
    }

    /// A one-shot server on 127.0.0.1: reads the request head, writes `answer`, then holds the
    /// connection open until the client goes (`hold`) or closes it at once.
    async fn serve(answer: Vec<u8>, hold: bool) -> Target {
        use tokio::net::TcpListener;
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut tcp, _) = listener.accept().await.unwrap();
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && tcp.read(&mut byte).await.unwrap_or(0) == 1 {
                head.push(byte[0]);
            }
            tcp.write_all(&answer).await.unwrap();
            if hold {
                let _ = tcp.read(&mut byte).await;
            }
        });
        Target::new(&format!("http://{addr}"), "/socket.io/").unwrap()
    }

    const SWITCHING: &[u8] = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\
        Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";

    #[tokio::test]
    async fn an_upgrade_answered_with_anything_but_101_is_refused() {
        let answer = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n".to_vec();
        let err = RawWs::connect(&serve(answer, true).await)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("refused: HTTP/1.1 400"), "{err}");
    }

    #[tokio::test]
    async fn an_upgrade_answer_whose_head_passes_4_kib_is_refused() {
        let mut answer = b"HTTP/1.1 101 Switching Protocols\r\n".to_vec();
        answer.extend(std::iter::repeat_n(b"x-pad: yyyyyyyyyyyyyyyyyyyy\r\n", 200).flatten());
        answer.extend_from_slice(b"\r\n");
        let err = RawWs::connect(&serve(answer, true).await)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("over 4 KiB"), "{err}");
    }

    #[tokio::test]
    async fn a_connection_closed_during_the_upgrade_is_an_error() {
        let err = RawWs::connect(&serve(b"HTTP/1.1 101".to_vec(), false).await)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("closed the connection"), "{err}");
    }

    #[tokio::test]
    async fn bytes_after_the_head_and_a_frame_over_the_buffer_are_read_whole() {
        let big: Vec<u8> = (0..3 * READ_BUFFER)
            .map(|i| b'a' + (i % 26) as u8)
            .collect();
        let mut answer = SWITCHING.to_vec();
        answer.extend(server_text(b"0{}"));
        answer.extend(server_text(&big));
        answer.extend(server_text(b"after"));
        let mut ws = RawWs::connect(&serve(answer, true).await).await.unwrap();
        assert_eq!(ws.next_text().await.unwrap(), "0{}");
        assert_eq!(ws.next_text().await.unwrap().as_bytes(), &big[..]);
        assert!(
            ws.buf.len() > READ_BUFFER,
            "the buffer grew for the large frame"
        );
        assert_eq!(ws.next_text().await.unwrap(), "after");
    }

    #[test]
    fn client_frames_are_masked_and_unmask_to_the_payload() {
        let mut out = Vec::new();
        client_frame(0x1, b"3", &mut out).unwrap();
        assert_eq!(out[..2], [0x81, 0x81]);
        assert_eq!(out[2..6], MASK);
        assert_eq!(out[6] ^ MASK[0], b'3');
        assert!(client_frame(0x1, &[0; 126], &mut Vec::new()).is_err());
    }
}
