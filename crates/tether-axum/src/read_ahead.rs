//! [`ReadAhead`]: a connection that answers small reads from one large one.
//!
//! tungstenite reads at most its read buffer's size per system call, and that buffer is
//! allocated (and resident) for every connection, idle or not: a 4 KiB buffer is about 40% of
//! an idle connection, and a 1 KiB one takes four times the system calls of a 4 KiB one for a
//! large message. `ReadAhead` removes the trade-off. A read smaller than [`DIRECT_READ`] goes
//! through a 64 KiB buffer of the worker thread; what the caller had no room for stays in a
//! buffer of the connection's own, which is freed as soon as it has been handed out. An idle
//! connection holds no buffer here, and a large message still arrives in few system calls.
//! [`crate::serve`] wraps every plain TCP connection in it, and the layer then gives their
//! WebSockets a small read buffer ([`crate::DEFAULT_WS_READ_BUFFER_READ_AHEAD`]).
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! use tokio::io::{AsyncReadExt, AsyncWriteExt};
//! use tether_axum::ReadAhead;
//! let (mut peer, conn) = tokio::io::duplex(1 << 20);
//! peer.write_all(&[7u8; 10_000]).await.unwrap();
//! let mut conn = ReadAhead::new(conn);
//! let mut small = [0u8; 100];
//! let n = conn.read(&mut small).await.unwrap();
//! assert_eq!(n, 100); // the other 9,900 bytes wait in the connection's buffer
//! assert_eq!(conn.pending(), 9_900);
//! # });
//! ```

use std::cell::RefCell;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Reads with at least this much room go straight to the connection (hyper's HTTP reads).
pub(crate) const DIRECT_READ: usize = 8 * 1024;

/// The size of each worker thread's read buffer.
pub(crate) const SCRATCH: usize = 64 * 1024;

thread_local! {
    static SCRATCH_BUF: RefCell<Vec<u8>> = RefCell::new(vec![0; SCRATCH]);
}

/// A connection whose small reads are served from large ones (see the module docs).
#[derive(Debug)]
pub struct ReadAhead<I> {
    io: I,
    /// Bytes read and not yet handed out: `pending[at..]`.
    pending: Vec<u8>,
    at: usize,
}

impl<I> ReadAhead<I> {
    /// Wraps a connection.
    pub fn new(io: I) -> ReadAhead<I> {
        ReadAhead {
            io,
            pending: Vec::new(),
            at: 0,
        }
    }

    /// Bytes read from the connection and not yet handed out.
    pub fn pending(&self) -> usize {
        self.pending.len() - self.at
    }

    /// Hands out what is pending; frees the buffer once it is all out.
    fn drain(&mut self, buf: &mut ReadBuf<'_>) {
        let n = self.pending().min(buf.remaining());
        buf.put_slice(&self.pending[self.at..self.at + n]);
        self.at += n;
        if self.at == self.pending.len() {
            self.pending = Vec::new();
            self.at = 0;
        }
    }
}

impl<I: AsyncRead + Unpin> AsyncRead for ReadAhead<I> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.pending() > 0 {
            this.drain(buf);
            return Poll::Ready(Ok(()));
        }
        if buf.remaining() >= DIRECT_READ {
            return Pin::new(&mut this.io).poll_read(cx, buf);
        }
        SCRATCH_BUF.with(|scratch| {
            // Never borrowed already (a read does not call back into another read), but if
            // it were, the read goes straight to the connection.
            let Ok(mut scratch) = scratch.try_borrow_mut() else {
                return Pin::new(&mut this.io).poll_read(cx, buf);
            };
            let mut big = ReadBuf::new(&mut scratch[..]);
            ready!(Pin::new(&mut this.io).poll_read(cx, &mut big))?;
            let read = big.filled();
            let n = read.len().min(buf.remaining());
            buf.put_slice(&read[..n]);
            if n < read.len() {
                this.pending = read[n..].to_vec();
                this.at = 0;
            }
            Poll::Ready(Ok(()))
        })
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for ReadAhead<I> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

/// Put in each request's extensions by [`crate::serve`]: the connection reads ahead, so its
/// WebSocket can take a small read buffer.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ReadsAhead;

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn pattern(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 7 % 251) as u8).collect()
    }

    #[tokio::test]
    async fn small_reads_get_every_byte_in_order_and_the_buffer_is_freed() {
        let (mut peer, conn) = tokio::io::duplex(1 << 20);
        let sent = pattern(200_000);
        peer.write_all(&sent).await.expect("write");
        drop(peer);
        let mut conn = ReadAhead::new(conn);
        let mut got = Vec::new();
        let mut chunk = [0u8; 1000];
        loop {
            let n = conn.read(&mut chunk).await.expect("read");
            if n == 0 {
                break;
            }
            got.extend_from_slice(&chunk[..n]);
            if conn.pending() == 0 {
                assert_eq!(conn.pending.capacity(), 0, "freed once handed out");
            }
        }
        assert_eq!(got, sent);
    }

    #[tokio::test]
    async fn large_reads_go_straight_through() {
        let (mut peer, conn) = tokio::io::duplex(1 << 20);
        peer.write_all(&pattern(20_000)).await.expect("write");
        let mut conn = ReadAhead::new(conn);
        let mut big = vec![0u8; DIRECT_READ];
        let n = conn.read(&mut big).await.expect("read");
        assert_eq!(&big[..n], &pattern(20_000)[..n]);
        assert_eq!(conn.pending(), 0, "nothing held back for a large read");
    }

    #[tokio::test]
    async fn pending_bytes_come_before_new_ones_and_writes_pass_through() {
        let (mut peer, conn) = tokio::io::duplex(1 << 20);
        let mut conn = ReadAhead::new(conn);
        peer.write_all(b"hello world").await.expect("write");
        let mut five = [0u8; 5];
        conn.read_exact(&mut five).await.expect("read");
        assert_eq!(&five, b"hello");
        peer.write_all(b"!").await.expect("write");
        let mut rest = [0u8; 7];
        conn.read_exact(&mut rest).await.expect("read");
        assert_eq!(&rest, b" world!");
        conn.write_all(b"back").await.expect("write");
        let mut back = [0u8; 4];
        peer.read_exact(&mut back).await.expect("read");
        assert_eq!(&back, b"back");
    }

    /// A connection that fails every read.
    struct Broken;

    impl AsyncRead for Broken {
        fn poll_read(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
            _: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            Poll::Ready(Err(io::Error::from(io::ErrorKind::ConnectionReset)))
        }
    }

    #[tokio::test]
    async fn a_failed_read_reaches_the_caller_small_or_large() {
        let mut conn = ReadAhead::new(Broken);
        let mut small = [0u8; 10];
        let err = conn.read(&mut small).await.expect_err("small read");
        assert_eq!(err.kind(), io::ErrorKind::ConnectionReset);
        let mut big = vec![0u8; DIRECT_READ];
        let err = conn.read(&mut big).await.expect_err("large read");
        assert_eq!(err.kind(), io::ErrorKind::ConnectionReset);
        assert_eq!(conn.pending(), 0);
    }
}
