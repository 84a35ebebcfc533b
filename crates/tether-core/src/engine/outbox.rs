//! A session's outbox: the frames queued for the peer, bounded in bytes.
//!
//! The bound covers what the WebSocket writer has taken and not yet written as well as what is
//! still queued: frames leave the count only once the transport says they are written
//! ([`Outbox::written`]) or a poll body carries them. So `max_buffered_bytes` bounds the memory
//! a session holds for a peer that stops reading, wherever those bytes sit in the server.

use bytes::Bytes;
use std::collections::VecDeque;

use super::packet::Frame;
use super::payload::encode_payload;

/// Why a frame could not be queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// The session has closed.
    #[error("session closed")]
    Closed,
    /// The outbox holds `max_buffered_bytes` already: the peer is not reading fast enough.
    #[error("outbox full: the peer is not reading fast enough")]
    OutboxFull,
    /// The frames are larger than `max_buffered_bytes` together: they could never be queued.
    #[error("message larger than max_buffered_bytes")]
    TooLarge,
}

/// Frames an empty outbox makes room for at its first push.
const FIRST_ROOM: usize = 16;

/// Frames for the peer, with the bytes they and the frames being written take.
#[derive(Debug)]
pub(crate) struct Outbox {
    frames: VecDeque<Frame>,
    /// Queued bytes plus in-flight bytes.
    bytes: usize,
    /// Bytes taken by the writer and not yet reported written.
    in_flight: usize,
    limit: usize,
}

impl Outbox {
    /// An empty outbox holding at most `limit` bytes.
    pub(crate) fn new(limit: usize) -> Outbox {
        Outbox {
            frames: VecDeque::new(),
            bytes: 0,
            in_flight: 0,
            limit,
        }
    }

    /// Bytes queued or being written.
    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }

    /// The frames it has room for without growing.
    #[cfg(test)]
    pub(crate) fn capacity(&self) -> usize {
        self.frames.capacity()
    }

    /// Whether any frame is queued (frames being written do not count).
    pub(crate) fn has_frames(&self) -> bool {
        !self.frames.is_empty()
    }

    /// Whether `size` more bytes fit: [`SendError::TooLarge`] if they could never fit,
    /// [`SendError::OutboxFull`] if they do not fit now.
    pub(crate) fn check(&self, size: usize) -> Result<(), SendError> {
        if size > self.limit {
            Err(SendError::TooLarge)
        } else if self.bytes + size > self.limit {
            Err(SendError::OutboxFull)
        } else {
            Ok(())
        }
    }

    /// Queues a frame without checking the bound (the caller checked, or it is a ping, which
    /// is never refused).
    pub(crate) fn push(&mut self, frame: Frame) {
        self.bytes += frame.len();
        if self.frames.capacity() == 0 {
            // Room for a burst at once: growing from nothing reallocated at 4, 8 and 16 frames,
            // and a broadcast-heavy connection starts from nothing at every write (`take`).
            self.frames.reserve_exact(FIRST_ROOM);
        }
        self.frames.push_back(frame);
    }

    /// Takes every queued frame, its allocation included (an idle session keeps no buffer).
    /// Their bytes stay counted until [`Outbox::written`].
    pub(crate) fn take(&mut self) -> VecDeque<Frame> {
        self.in_flight = self.bytes;
        std::mem::take(&mut self.frames)
    }

    /// Everything taken so far has been written.
    pub(crate) fn written(&mut self) {
        self.bytes -= self.in_flight;
        self.in_flight = 0;
    }

    /// Takes frames from the front into one polling body of at most `max_len` bytes (at least
    /// one frame). `None` when nothing is queued.
    pub(crate) fn poll_body(&mut self, max_len: usize) -> Option<Bytes> {
        if self.frames.is_empty() {
            return None;
        }
        let (body, taken) = encode_payload(&mut self.frames, max_len);
        self.bytes -= taken;
        if self.frames.is_empty() {
            // A polling session between requests holds no buffer, as one on WebSocket does
            // between writes (`take`).
            self.frames = VecDeque::new();
        }
        Some(body)
    }

    /// Takes everything queued and `last` after it into one polling body, however long.
    pub(crate) fn final_body(&mut self, last: Frame) -> Bytes {
        self.frames.push_back(last);
        let (body, _) = encode_payload(&mut self.frames, usize::MAX);
        self.bytes = 0;
        self.in_flight = 0;
        body
    }

    /// Forgets everything (the session is gone).
    pub(crate) fn clear(&mut self) {
        self.frames = VecDeque::new();
        self.bytes = 0;
        self.in_flight = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bound_counts_frames_being_written() {
        let mut outbox = Outbox::new(10);
        outbox.push(Frame::message("abcd")); // 5 bytes
        let taken = outbox.take();
        assert_eq!(taken.len(), 1);
        assert_eq!(outbox.poll_body(100), None, "nothing left queued");
        // The writer holds 5 bytes: only 5 more fit.
        assert_eq!(outbox.check(5), Ok(()));
        assert_eq!(outbox.check(6), Err(SendError::OutboxFull));
        outbox.push(Frame::message("efgh"));
        assert_eq!(outbox.bytes(), 10);
        // A second take while the first is unwritten: both batches are in flight.
        let more = outbox.take();
        assert_eq!(more.len(), 1);
        assert_eq!(outbox.bytes(), 10);
        outbox.written();
        assert_eq!(outbox.bytes(), 0);
        assert_eq!(outbox.check(10), Ok(()));
    }

    #[test]
    fn a_frame_larger_than_the_bound_never_fits() {
        let outbox = Outbox::new(4);
        assert_eq!(outbox.check(4), Ok(()));
        assert_eq!(outbox.check(5), Err(SendError::TooLarge));
    }

    #[test]
    fn a_poll_body_releases_what_it_carries() {
        let mut outbox = Outbox::new(100);
        outbox.push(Frame::message("a"));
        outbox.push(Frame::message("b"));
        assert_eq!(outbox.poll_body(3).as_deref(), Some(&b"4a"[..]));
        assert_eq!(outbox.bytes(), 2);
        assert_eq!(outbox.poll_body(100).as_deref(), Some(&b"4b"[..]));
        assert_eq!(outbox.bytes(), 0);
        assert_eq!(outbox.poll_body(100), None);
    }
}
