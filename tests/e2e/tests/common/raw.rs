//! A raw HTTP/1.1 client on one TCP connection, for what reqwest hides: when exactly a request
//! is written, on which connection, and cutting that connection mid-request.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::time::timeout;

use super::{Reply, WAIT};

/// One keep-alive connection to the fixture.
#[derive(Debug)]
pub(crate) struct RawHttp {
    stream: BufReader<TcpStream>,
    host: String,
    path: &'static str,
}

impl RawHttp {
    /// A connection whose requests go to `/engine.io/`.
    pub(crate) async fn connect(addr: SocketAddr) -> Self {
        Self::connect_to(addr, "/engine.io/").await
    }

    /// A connection whose requests go to `path` (with its slashes, e.g. `/socket.io/`).
    pub(crate) async fn connect_to(addr: SocketAddr, path: &'static str) -> Self {
        let stream = timeout(WAIT, TcpStream::connect(addr))
            .await
            .expect("connecting timed out")
            .expect("connect to the fixture");
        stream.set_nodelay(true).expect("TCP_NODELAY");
        Self {
            stream: BufReader::new(stream),
            host: addr.to_string(),
            path,
        }
    }

    /// Writes a request to `<path>?QUERY` without waiting for the answer.
    pub(crate) async fn send(&mut self, method: &str, query: &str, body: &str) {
        let head = format!(
            "{method} {}?{query} HTTP/1.1\r\nHost: {}\r\nContent-Type: text/plain;charset=UTF-8\r\nContent-Length: {}\r\n\r\n",
            self.path,
            self.host,
            body.len()
        );
        let write = async {
            self.stream.write_all(head.as_bytes()).await?;
            self.stream.write_all(body.as_bytes()).await?;
            self.stream.flush().await
        };
        timeout(WAIT, write)
            .await
            .expect("writing the request timed out")
            .expect("write the request");
    }

    /// Writes bytes exactly as given (a request made elsewhere, e.g. [`super::node`]).
    pub(crate) async fn send_raw(&mut self, bytes: &[u8]) {
        let write = async {
            self.stream.write_all(bytes).await?;
            self.stream.flush().await
        };
        timeout(WAIT, write)
            .await
            .expect("writing the request timed out")
            .expect("write the request");
    }

    /// Reads one response (Content-Length or chunked body).
    pub(crate) async fn response(&mut self) -> Reply {
        timeout(WAIT, self.read_response())
            .await
            .expect("the server did not answer in time")
    }

    /// Writes a request and reads its response.
    pub(crate) async fn request(&mut self, method: &str, query: &str, body: &str) -> Reply {
        self.send(method, query, body).await;
        self.response().await
    }

    /// True when nothing at all arrives on the connection for `how_long`.
    pub(crate) async fn silent_for(&mut self, how_long: Duration) -> bool {
        let mut byte = [0_u8; 1];
        timeout(how_long, self.stream.read(&mut byte))
            .await
            .is_err()
    }

    async fn line(&mut self) -> String {
        let mut line = String::new();
        let read = self
            .stream
            .read_line(&mut line)
            .await
            .expect("read a response line");
        assert!(read > 0, "the connection closed mid-response");
        line.trim_end_matches(['\r', '\n']).to_owned()
    }

    async fn read_response(&mut self) -> Reply {
        let status_line = self.line().await;
        let status = status_line
            .split(' ')
            .nth(1)
            .and_then(|code| code.parse().ok())
            .unwrap_or_else(|| panic!("bad status line {status_line:?}"));
        let (mut length, mut chunked, mut content_type) = (0, false, None);
        loop {
            let line = self.line().await;
            if line.is_empty() {
                break;
            }
            let (name, value) = line.split_once(':').expect("a header line");
            let value = value.trim();
            match name.to_ascii_lowercase().as_str() {
                "content-length" => length = value.parse().expect("a Content-Length"),
                "transfer-encoding" => chunked = value.eq_ignore_ascii_case("chunked"),
                "content-type" => content_type = Some(value.to_owned()),
                _ => {}
            }
        }
        let mut body = Vec::new();
        if chunked {
            loop {
                let size = usize::from_str_radix(&self.line().await, 16).expect("a chunk size");
                let mut chunk = vec![0; size + 2];
                self.stream.read_exact(&mut chunk).await.expect("a chunk");
                body.extend_from_slice(&chunk[..size]);
                if size == 0 {
                    break;
                }
            }
        } else {
            body.resize(length, 0);
            self.stream.read_exact(&mut body).await.expect("the body");
        }
        Reply {
            status,
            content_type,
            body: String::from_utf8(body).expect("a UTF-8 response body"),
        }
    }
}
