//! `engine::decode_payload` on arbitrary bytes: a polling POST body.
//!
//! Every payload it accepts is re-encoded with `encode_payload`, cut into bodies at a limit
//! taken from the input, and each body must decode back to its share of the packets, in order:
//! no packet lost, split or merged at a cut, and no body over the limit unless it carries a
//! single frame.
//!
//! `FUZZ_TARGETS=engine_payload scripts/fuzz 600` runs it alone (see `fuzz/README.md`).

#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use std::collections::VecDeque;
use tether_core::engine::{Frame, decode_payload, encode_payload};

fuzz_target!(|data: &[u8]| {
    let Ok(packets) = decode_payload(Bytes::copy_from_slice(data)) else {
        return;
    };
    assert!(!packets.is_empty(), "an accepted payload has a packet");
    let frames: VecDeque<Frame> = packets.iter().map(Frame::encode).collect();

    // All at once: the payload again, up to base64 padding and ignored heartbeat/close text.
    let (body, taken) = encode_payload(&mut frames.clone(), usize::MAX);
    assert_eq!(taken, frames.iter().map(Frame::len).sum::<usize>());
    assert_eq!(
        decode_payload(body).expect("re-encoded payload decodes"),
        packets
    );

    // Cut at a limit from the input's length (small limits cut between most frames).
    let limit = data.len() % 64 + 1;
    let mut queue = frames.clone();
    let mut again = Vec::new();
    while !queue.is_empty() {
        let before = queue.len();
        let (body, _) = encode_payload(&mut queue, limit);
        let count = before - queue.len();
        assert!(count >= 1, "encode_payload took no frame");
        assert!(
            count == 1 || body.len() <= limit,
            "{} > {limit}",
            body.len()
        );
        again.extend(decode_payload(body).expect("a cut body decodes"));
    }
    assert_eq!(again, packets);
});
