//! The streaming transport's driver: the body of the event stream as a [`Stream`] of chunks
//! for the HTTP layer to send as they come. HTTP itself stays with the caller: it answers
//! with `text/event-stream` and this body (see [`super::sse`] for the bytes).

use bytes::{Bytes, BytesMut};
use futures_util::Stream;

use super::close::CloseReason;
use super::packet::Frame;
use super::request::{RequestError, TransportKind};
use super::server::{Engine, EngineHandler};
use super::session::{PollId, Session, StreamStep};
use super::sid::Sid;
use super::socket::{EngineSocket, Handshake, now};
use super::sse::{event_len, stream_preamble, write_event};

/// The body of one event stream: chunks of events, each sent as soon as it is made (a chunk
/// holds what the session had queued when the stream looked). Dropping it before it ended
/// (the client went away) closes the session with "transport close".
pub type EventStream = std::pin::Pin<Box<dyn Stream<Item = Bytes> + Send>>;

/// A stream attached to its session; tells the session if dropped before its end.
struct Attached {
    socket: EngineSocket,
    id: PollId,
    /// The preamble and the open packet, for a new session's stream.
    first: Option<Bytes>,
    /// The last chunk carried frames the session still counts as unwritten.
    unwritten: bool,
    ended: bool,
}

impl Drop for Attached {
    fn drop(&mut self) {
        if !self.ended {
            let id = self.id;
            self.socket.with_session(|s| s.stream_dropped(id, now()));
        }
    }
}

impl<H: EngineHandler> Engine<H> {
    /// Opens a streaming session: the body of the handshake's event stream, whose first
    /// event is the `open` packet (after the padding comment).
    pub fn streaming_handshake(&self, handshake: Handshake) -> Result<EventStream, RequestError> {
        let (socket, open) = self.open(TransportKind::Streaming, handshake)?;
        let attached = socket.with_session(|s| s.stream_attach(now()));
        // The handshake's own answer carries the open packet: the handler may send at once,
        // and what it sends follows the open packet on this stream. It runs also when the
        // stream could not attach (never, on a session just opened), so that the close is
        // reported after it, as for every session.
        self.connected(&socket);
        let id = attached.inspect_err(|_| socket.close_with(CloseReason::TransportError))?;
        let mut first = BytesMut::from(&stream_preamble()[..]);
        write_event(&open, &mut first);
        Ok(event_stream(Attached {
            socket,
            id,
            first: Some(first.freeze()),
            unwritten: false,
            ended: false,
        }))
    }

    /// Attaches a new event stream to the streaming session `sid` (after an upgrade that
    /// failed, the client's stream having paused).
    pub fn stream(&self, sid: Sid) -> Result<EventStream, RequestError> {
        let socket = self.session(sid)?;
        let id = socket.with_session(|s| s.stream_attach(now()))?;
        Ok(event_stream(Attached {
            first: Some(stream_preamble()),
            socket,
            id,
            unwritten: false,
            ended: false,
        }))
    }
}

fn event_stream(attached: Attached) -> EventStream {
    Box::pin(futures_util::stream::unfold(
        attached,
        |mut state| async move {
            if let Some(first) = state.first.take() {
                return Some((first, state));
            }
            if state.ended {
                // The last chunk carried the stream's last event.
                state.socket.with_session(Session::written);
                return None;
            }
            if state.unwritten {
                // The HTTP layer asks for the next chunk once it took the last one.
                state.unwritten = false;
                state.socket.with_session(Session::written);
            }
            loop {
                let id = state.id;
                match state.socket.with_session(|s| s.stream_pull(id, now())) {
                    StreamStep::Write(mut frames) => {
                        state.unwritten = true;
                        // Let the tasks that are queueing (a broadcast to many sessions) run
                        // once, and take what they added: one chunk, one write, for a burst.
                        tokio::task::yield_now().await;
                        let mut last = None;
                        match state.socket.with_session(|s| s.stream_pull(id, now())) {
                            StreamStep::Write(more) => frames.extend(more),
                            StreamStep::End(frame) => {
                                state.ended = true;
                                last = frame;
                            }
                            StreamStep::Wait => {}
                        }
                        return Some((events(frames.iter().chain(last.iter())), state));
                    }
                    StreamStep::End(last) => {
                        state.ended = true;
                        // The stream is over: nothing it wrote is outstanding.
                        state.socket.with_session(Session::written);
                        return last.map(|frame| (events(std::iter::once(&frame)), state));
                    }
                    StreamStep::Wait => state.socket.0.poll_wake.notified().await,
                }
            }
        },
    ))
}

/// One chunk of events.
fn events<'a>(frames: impl Iterator<Item = &'a Frame> + Clone) -> Bytes {
    let mut out = BytesMut::with_capacity(frames.clone().map(event_len).sum());
    for frame in frames {
        write_event(frame, &mut out);
    }
    out.freeze()
}
