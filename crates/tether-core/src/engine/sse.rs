//! The wire form of the streaming transport: Server-Sent Events, one event per packet. Pure
//! functions over frames.
//!
//! - A text packet is one event whose data is the packet (`4hello`). SSE ends a line at a
//!   line feed or a carriage return, so a packet with line feeds goes as several `data:`
//!   lines of one event, which `EventSource` joins with line feeds again; a packet with a
//!   carriage return (which `EventSource` would turn into a line feed) goes as `j` and the
//!   packet as a JSON string, all on one line.
//! - A binary packet is `b` and its base64, as on polling.
//! - The body opens with a comment of [`STREAM_PADDING`] bytes, for intermediaries that hold
//!   back small responses.
//!
//! ```
//! use bytes::{Bytes, BytesMut};
//! use tether_core::engine::{Frame, write_event};
//! let mut out = BytesMut::new();
//! write_event(&Frame::message("hi\nthere"), &mut out);
//! write_event(&Frame::binary(Bytes::from_static(&[1, 2, 3])), &mut out);
//! write_event(&Frame::message("a\rb"), &mut out);
//! assert_eq!(&out[..], &b"data: 4hi\ndata: there\n\ndata: bAQID\n\ndata: j\"4a\\rb\"\n\n"[..]);
//! ```

use bytes::{BufMut, Bytes, BytesMut};

use super::packet::Frame;

/// Bytes of the comment that opens every event stream (a colon, spaces, a line feed): what
/// intermediaries that hold small responses back (and some old browsers) need before they
/// pass a stream on. 2 KiB, as SockJS pads its streaming transports.
pub const STREAM_PADDING: usize = 2048;

/// The first bytes of an event stream's body: the padding comment.
pub fn stream_preamble() -> Bytes {
    let mut out = BytesMut::with_capacity(STREAM_PADDING);
    out.put_u8(b':');
    out.put_bytes(b' ', STREAM_PADDING - 2);
    out.put_u8(b'\n');
    out.freeze()
}

/// Bytes `frame` takes as an event (for sizing a buffer; exact but for the JSON form, which
/// it underestimates).
pub fn event_len(frame: &Frame) -> usize {
    match frame {
        Frame::Text(s) => s.len() + 8 + 6 * s.bytes().filter(|b| *b == b'\n').count(),
        Frame::Binary(_) => frame.polling_len() + 8,
    }
}

/// Appends `frame` as one event to `out`.
pub fn write_event(frame: &Frame, out: &mut BytesMut) {
    match frame {
        Frame::Text(s) if s.contains('\r') => {
            out.put_slice(b"data: j");
            // Serialising a string into a buffer cannot fail.
            let _ = serde_json::to_writer((&mut *out).writer(), s.as_ref() as &str);
            out.put_slice(b"\n\n");
        }
        Frame::Text(s) => {
            for line in s.split('\n') {
                out.put_slice(b"data: ");
                out.put_slice(line.as_bytes());
                out.put_u8(b'\n');
            }
            out.put_u8(b'\n');
        }
        Frame::Binary(_) => {
            out.put_slice(b"data: ");
            frame.write_polling(out);
            out.put_slice(b"\n\n");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(frame: &Frame) -> String {
        let mut out = BytesMut::new();
        write_event(frame, &mut out);
        String::from_utf8(out.to_vec()).expect("utf-8")
    }

    /// What an `EventSource` makes of a stream (the HTML standard's parser, for the fields we
    /// send): the data of each event, lines joined by line feeds.
    fn parse(stream: &str) -> Vec<String> {
        let mut events = Vec::new();
        let mut data: Option<String> = None;
        let normalised = stream.replace("\r\n", "\n").replace('\r', "\n");
        for line in normalised.split('\n') {
            if line.is_empty() {
                if let Some(d) = data.take() {
                    events.push(d);
                }
            } else if line.starts_with(':') {
            } else if let Some(rest) = line.strip_prefix("data") {
                let value = rest.strip_prefix(':').unwrap_or(rest);
                let value = value.strip_prefix(' ').unwrap_or(value);
                match &mut data {
                    Some(d) => {
                        d.push('\n');
                        d.push_str(value);
                    }
                    None => data = Some(value.to_owned()),
                }
            }
        }
        events
    }

    /// What the client does with an event's data.
    fn unwrap(data: &str) -> String {
        match data.strip_prefix('j') {
            Some(json) => serde_json::from_str(json).expect("a JSON string"),
            None => data.to_owned(),
        }
    }

    #[test]
    fn every_text_packet_comes_back_as_it_was_sent() {
        let texts = [
            "4plain",
            "4two\nlines",
            "4\n\nleading and doubled\n",
            "4carriage\rreturn",
            "4crlf\r\nboth",
            "4 leading space",
            "4:colon",
            "4unicode é ☃ \u{2028}",
            "2",
        ];
        let mut stream = String::from_utf8(stream_preamble().to_vec()).expect("ascii");
        for text in texts {
            stream.push_str(&event(&Frame::Text(text.into())));
        }
        let got: Vec<String> = parse(&stream).iter().map(|d| unwrap(d)).collect();
        assert_eq!(got, texts);
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config::with_cases(512))]
        /// Any text, line breaks of every kind and control characters included, and any
        /// bytes, come back from the stream as they were sent.
        #[test]
        fn any_packet_survives_the_stream(
            text in "4[a-z\r\n \u{0}-\u{1f}:é☃]{0,40}",
            data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..64),
        ) {
            let mut stream = String::from_utf8(stream_preamble().to_vec()).expect("ascii");
            stream.push_str(&event(&Frame::Text(text.as_str().into())));
            stream.push_str(&event(&Frame::binary(Bytes::from(data.clone()))));
            let events = parse(&stream);
            proptest::prop_assert_eq!(events.len(), 2);
            proptest::prop_assert_eq!(unwrap(&events[0]), text);
            let b64 = events[1].strip_prefix('b').expect("b");
            let back = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, b64)
                .expect("base64");
            proptest::prop_assert_eq!(back, data);
        }
    }

    #[test]
    fn binary_is_b_and_base64() {
        assert_eq!(
            event(&Frame::binary(Bytes::from_static(&[0, 255, 1, 2]))),
            "data: bAP8BAg==\n\n"
        );
    }

    #[test]
    fn the_preamble_is_one_comment_of_the_named_size() {
        let preamble = stream_preamble();
        assert_eq!(preamble.len(), STREAM_PADDING);
        assert_eq!(preamble[0], b':');
        assert_eq!(preamble[preamble.len() - 1], b'\n');
        assert!(parse(std::str::from_utf8(&preamble).expect("ascii")).is_empty());
    }

    #[test]
    fn event_len_is_exact_for_lines_and_binary() {
        for frame in [
            Frame::message("one"),
            Frame::message("a\nb\nc"),
            Frame::binary(Bytes::from_static(&[1, 2, 3, 4, 5])),
        ] {
            assert_eq!(event_len(&frame), event(&frame).len(), "{frame:?}");
        }
    }
}
