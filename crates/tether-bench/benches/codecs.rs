//! Micro-benchmarks of the codecs on the hot paths: Engine.IO polling payloads (decode a POST
//! body, encode a GET answer), the Socket.IO packet decoder, and encoding an event's payload.
//!
//! ```text
//! cargo bench -p tether-bench --bench codecs
//! ```

use bytes::Bytes;
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use std::collections::VecDeque;
use std::hint::black_box;
use tether_core::engine::{Frame, decode_payload, encode_payload};
use tether_core::socket::{PacketKind, Payload, decode, encode_array};

fn event(size: usize) -> String {
    format!("2[\"echo\",\"{}\"]", "x".repeat(size))
}

fn engine_payloads(c: &mut Criterion) {
    let mut g = c.benchmark_group("engine");
    // A POST body of 10 messages and one binary part.
    let mut body = Vec::new();
    for i in 0..10 {
        if i > 0 {
            body.push(0x1e);
        }
        body.push(b'4');
        body.extend_from_slice(event(32).as_bytes());
    }
    body.extend_from_slice(b"\x1ebAQIDBAUGBwgJCgsMDQ4PEA==");
    let body = Bytes::from(body);
    g.throughput(Throughput::Bytes(body.len() as u64));
    g.bench_function("decode_payload/10x32B+bin", |b| {
        b.iter(|| decode_payload(black_box(body.clone())))
    });

    let frames: VecDeque<Frame> = (0..10)
        .map(|_| Frame::message(&event(32)))
        .chain([Frame::binary(Bytes::from_static(&[7; 64]))])
        .collect();
    g.bench_function("encode_payload/10x32B+bin", |b| {
        b.iter_batched(
            || frames.clone(),
            |mut q| encode_payload(&mut q, 1_000_000),
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

fn socket_packets(c: &mut Criterion) {
    let mut g = c.benchmark_group("socket");
    for size in [32, 1024] {
        let text = event(size);
        g.throughput(Throughput::Bytes(text.len() as u64));
        g.bench_function(format!("decode/event_{size}B"), |b| {
            b.iter(|| decode(black_box(text.as_str().into())))
        });
    }
    g.throughput(Throughput::Elements(1));
    let ack = "2/chat,17[\"msg\",{\"a\":[1,2,3],\"b\":\"text\"},42]";
    g.bench_function("decode/nsp_ack_object", |b| {
        b.iter(|| decode(black_box(ack.into())))
    });
    let binary = "52-[\"up\",{\"_placeholder\":true,\"num\":0},{\"_placeholder\":true,\"num\":1}]";
    g.bench_function("decode/binary_header", |b| {
        b.iter(|| decode(black_box(binary.into())))
    });

    let data = "x".repeat(32);
    g.bench_function("payload/arg+encode_event_32B", |b| {
        b.iter(|| {
            let p = Payload::new().arg(black_box(&data)).unwrap_or_default();
            let args = std::iter::once("\"news\"").chain(p.args().iter().map(|a| &**a));
            encode_array(PacketKind::Event, "/", None, 0, args)
        })
    });
    #[derive(serde::Serialize)]
    struct Chat<'a> {
        user: &'a str,
        text: &'a str,
        at: u64,
    }
    let chat = Chat {
        user: "ada",
        text: "hello, world",
        at: 1_700_000_000,
    };
    g.bench_function("payload/struct+encode_ack", |b| {
        b.iter(|| {
            let p = Payload::from_value(black_box(&chat)).unwrap_or_default();
            encode_array(
                PacketKind::Ack,
                "/",
                Some(17),
                0,
                p.args().iter().map(|a| &**a),
            )
        })
    });
    g.finish();
}

criterion_group!(benches, engine_payloads, socket_packets);
criterion_main!(benches);
