//! Property tests of the codecs: what we encode decodes back, and no input makes a decoder panic.
//!
//! - Engine.IO: random packets (text without `\x1e`, arbitrary binary) through `Frame::encode`
//!   and `encode_payload`, whole or cut at a random limit, decode back to the same packets.
//! - Socket.IO: a random event name, random JSON arguments and 0-3 binary attachments, emitted
//!   (or acknowledged) by a real `Socket` on a real `Engine<SocketIo>` and read back with a poll,
//!   decode with `socket::decode` to the same type, namespace, ack id, attachment count and
//!   arguments (byte for byte, and as equal `serde_json::Value`s), the attachments following in
//!   order.
//! - Random bytes, and random text shaped like packets, never make a decoder panic.
//!
//! Case counts are bounded so the file runs in a few seconds; the fuzz targets in `fuzz/` go
//! further (`scripts/fuzz`).

use bytes::Bytes;
use bytestring::ByteString;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Map, Value, json};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;
use tether_core::engine::{
    Engine, EngineConfig, Frame, Handshake, Packet, Sid, decode_payload, decode_text,
    decode_text_bytes, encode_payload,
};
use tether_core::socket::{
    self, AckSender, PacketKind, Payload, RESERVED_EVENTS, Socket, SocketIo,
};

/// Cases per property: enough to cover the shapes, few enough for a few seconds in debug.
fn config(cases: u32) -> Config {
    Config {
        cases,
        // A failure prints its shrunk input; nothing is written next to the sources.
        failure_persistence: None,
        ..Config::default()
    }
}

// ---------------------------------------------------------------------------------------------
// Engine.IO

/// Text that may appear inside a polling payload: anything but the separator.
fn text() -> impl Strategy<Value = String> {
    any::<String>().prop_map(|s| s.replace('\x1e', ""))
}

fn engine_packet() -> impl Strategy<Value = Packet> {
    prop_oneof![
        text().prop_map(|s| Packet::Open(s.into())),
        Just(Packet::Close),
        any::<bool>().prop_map(|probe| Packet::Ping { probe }),
        any::<bool>().prop_map(|probe| Packet::Pong { probe }),
        text().prop_map(|s| Packet::Message(s.into())),
        proptest::collection::vec(any::<u8>(), 0..64).prop_map(|b| Packet::Binary(b.into())),
        Just(Packet::Upgrade),
        Just(Packet::Noop),
    ]
}

fn packets() -> impl Strategy<Value = Vec<Packet>> {
    proptest::collection::vec(engine_packet(), 1..12)
}

/// The polling body of one frame, as `encode_payload` writes it.
fn polling_text(frame: &Frame) -> ByteString {
    let (body, _) = encode_payload(&mut VecDeque::from([frame.clone()]), usize::MAX);
    ByteString::try_from(body).expect("polling bodies are UTF-8")
}

#[test]
fn engine_packets_round_trip_one_by_one() {
    TestRunner::new(config(512))
        .run(&engine_packet(), |packet| {
            let frame = Frame::encode(&packet);
            // The WebSocket form: text frames decode as they are, binary frames are the data.
            match (&frame, &packet) {
                (Frame::Text(text), _) => {
                    prop_assert_eq!(decode_text(text.clone()), Ok(packet.clone()));
                }
                (Frame::Binary(data), Packet::Binary(original)) => {
                    prop_assert_eq!(data, original);
                }
                (Frame::Binary(_), _) => prop_assert!(false, "{packet:?} became binary"),
            }
            // The polling form, `b<base64>` for binary.
            let text = polling_text(&frame);
            prop_assert_eq!(text.len(), frame.polling_len());
            prop_assert_eq!(decode_text(text), Ok(packet));
            Ok(())
        })
        .expect("property holds");
}

#[test]
fn engine_payloads_round_trip() {
    TestRunner::new(config(256))
        .run(&packets(), |packets| {
            let mut queue: VecDeque<Frame> = packets.iter().map(Frame::encode).collect();
            let lens: usize = queue.iter().map(Frame::len).sum();
            let (body, taken) = encode_payload(&mut queue, usize::MAX);
            prop_assert!(queue.is_empty());
            prop_assert_eq!(taken, lens);
            prop_assert_eq!(decode_payload(body), Ok(packets));
            Ok(())
        })
        .expect("property holds");
}

#[test]
fn engine_payloads_cut_at_a_limit_lose_nothing() {
    TestRunner::new(config(256))
        .run(&(packets(), 1usize..200), |(packets, limit)| {
            let mut queue: VecDeque<Frame> = packets.iter().map(Frame::encode).collect();
            let mut again = Vec::new();
            while !queue.is_empty() {
                let before = queue.len();
                let (body, _) = encode_payload(&mut queue, limit);
                let count = before - queue.len();
                prop_assert!(count >= 1, "no frame taken");
                prop_assert!(
                    count == 1 || body.len() <= limit,
                    "{} frames in {} bytes over the limit {limit}",
                    count,
                    body.len()
                );
                again.extend(decode_payload(body).expect("each body decodes"));
            }
            prop_assert_eq!(again, packets);
            Ok(())
        })
        .expect("property holds");
}

// ---------------------------------------------------------------------------------------------
// Socket.IO

/// Namespaces of the test server; the client joins all three.
const NAMESPACES: [&str; 3] = ["/", "/admin", "/é.b-c~"];

/// A real server with one polling client joined to every namespace. Sockets emit what a case
/// gives them; the event `ackme` answers the client's ack with the payload left in `ack_with`.
struct Wire {
    rt: tokio::runtime::Runtime,
    engine: Engine<SocketIo>,
    sid: Sid,
    sockets: HashMap<String, Socket>,
    ack_with: Arc<Mutex<Option<Payload>>>,
    /// The ack id each namespace's next `emit_with_ack` uses (counted per namespace from 0).
    next_ack_id: HashMap<String, u64>,
}

impl Wire {
    fn new() -> Wire {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("runtime");
        let io = SocketIo::builder().build();
        let ack_with: Arc<Mutex<Option<Payload>>> = Arc::default();
        let (tx, rx) = mpsc::channel();
        for nsp in NAMESPACES {
            let (tx, ack_with) = (tx.clone(), ack_with.clone());
            io.ns(nsp, move |socket: Socket| {
                let ack_with = ack_with.clone();
                socket.on("ackme", move |ack: AckSender| {
                    let payload = ack_with.lock().expect("lock").take().unwrap_or_default();
                    ack.send_payload(payload).expect("ack sent");
                    async {}
                });
                tx.send(socket).expect("test alive");
                async {}
            });
        }
        // No heartbeat during the test: a ping must not land between a packet and its reading.
        let config = EngineConfig::default()
            .ping_interval(Duration::from_secs(3600))
            .ping_timeout(Duration::from_secs(3600));
        let engine = Engine::new(config, io);
        let sid = rt.block_on(async {
            let uri = "/socket.io/?EIO=4&transport=polling".parse().expect("uri");
            let open = engine
                .polling_handshake(
                    Handshake::new(&http::HeaderMap::new(), &uri, None)
                        .expect("an empty handshake fits"),
                )
                .expect("handshake");
            let open: Value = serde_json::from_slice(&open[1..]).expect("open packet");
            let sid = Sid::parse(open["sid"].as_str().expect("sid")).expect("a sid");
            let connects: Vec<String> = NAMESPACES.iter().map(|nsp| prefix('0', nsp)).collect();
            post(&engine, sid, &connects.join("\x1e")).await;
            sid
        });
        let mut wire = Wire {
            rt,
            engine,
            sid,
            sockets: HashMap::new(),
            ack_with,
            next_ack_id: HashMap::new(),
        };
        let replies = wire.read();
        assert_eq!(replies.len(), NAMESPACES.len(), "{replies:?}");
        for socket in rx.try_iter() {
            wire.sockets.insert(socket.ns().to_owned(), socket);
        }
        assert_eq!(wire.sockets.len(), NAMESPACES.len());
        wire
    }

    /// Everything the server has queued for the client, as Engine.IO packets.
    fn read(&self) -> Vec<Packet> {
        let body = self.rt.block_on(async {
            tokio::time::timeout(Duration::from_secs(5), self.engine.poll(self.sid))
                .await
                .expect("the server sent something")
                .expect("poll answered")
        });
        decode_payload(body).expect("the server's body decodes")
    }

    /// Emits `event` from the socket of `nsp`, asking for an ack or not; the ack id expected.
    fn emit(&mut self, nsp: &str, event: &str, payload: &Payload, ack: bool) -> Option<u64> {
        let socket = &self.sockets[nsp];
        let _guard = self.rt.enter();
        if !ack {
            socket.emit_payload(event, payload).expect("emitted");
            return None;
        }
        // Dropping the future gives up waiting; the packet is already queued.
        drop(
            socket
                .emit_payload_with_ack(event, payload)
                .expect("emitted"),
        );
        let id = self.next_ack_id.entry(nsp.to_owned()).or_default();
        *id += 1;
        Some(*id - 1)
    }

    /// Has the client send `ackme` with ack id `id` on `nsp`; the server acks with `payload`.
    fn ack(&self, nsp: &str, id: u64, payload: Payload) {
        *self.ack_with.lock().expect("lock") = Some(payload);
        let event = format!("{}{id}[\"ackme\"]", prefix('2', nsp));
        self.rt.block_on(post(&self.engine, self.sid, &event));
        assert!(self.ack_with.lock().expect("lock").is_none(), "ackme ran");
    }
}

/// `4<digit>` plus `<nsp>,` unless the namespace is `/`.
fn prefix(digit: char, nsp: &str) -> String {
    if nsp == "/" {
        format!("4{digit}")
    } else {
        format!("4{digit}{nsp},")
    }
}

async fn post(engine: &Engine<SocketIo>, sid: Sid, body: &str) {
    let body = Bytes::copy_from_slice(body.as_bytes());
    engine
        .post(sid, false, async move { Ok(body) })
        .await
        .expect("POST accepted");
}

/// One argument of an emit: JSON, or binary data sent as an attachment.
#[derive(Debug, Clone)]
enum Arg {
    Json(Value),
    Binary(Vec<u8>),
}

/// Numbers whose text serde_json reads back to the same `f64`: its default float parser is
/// exact only up to about 15 significant digits (beyond, it is best-effort: serde_json's
/// business, not the codec's). `n / 2^e` with `e < 5` has at most 14.
fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (any::<i32>(), 0u32..5).prop_map(|(n, e)| json!(f64::from(n) / f64::from(1u32 << e))),
    ]
}

/// JSON trees of depth at most 4, with no object that looks like a binary placeholder.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        number(),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 5, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            proptest::collection::vec((any::<String>(), inner), 0..5).prop_map(|entries| {
                Value::Object(
                    entries
                        .into_iter()
                        .filter(|(k, _)| k != "_placeholder")
                        .collect::<Map<String, Value>>(),
                )
            }),
        ]
    })
}

/// 0-5 arguments, at most 3 of them binary.
fn args() -> impl Strategy<Value = Vec<Arg>> {
    let arg = prop_oneof![
        3 => json_value().prop_map(Arg::Json),
        1 => proptest::collection::vec(any::<u8>(), 0..48).prop_map(Arg::Binary),
    ];
    proptest::collection::vec(arg, 0..6).prop_filter("at most 3 attachments", |args| {
        args.iter().filter(|a| matches!(a, Arg::Binary(_))).count() <= 3
    })
}

fn event_name() -> impl Strategy<Value = String> {
    prop_oneof![Just("chat".to_owned()), any::<String>()].prop_filter("not reserved", |name| {
        !RESERVED_EVENTS.contains(&name.as_str())
    })
}

/// The payload of `args`, the JSON each argument must come back as, and the attachments.
fn payload_of(args: &[Arg]) -> (Payload, Vec<Value>, Vec<Bytes>) {
    let mut payload = Payload::new();
    let mut expected = Vec::new();
    let mut attachments = Vec::new();
    for arg in args {
        match arg {
            Arg::Json(value) => {
                payload = payload.arg(value).expect("serializable");
                expected.push(value.clone());
            }
            Arg::Binary(data) => {
                payload = payload.binary(data.clone());
                expected.push(json!({"_placeholder": true, "num": attachments.len()}));
                attachments.push(Bytes::from(data.clone()));
            }
        }
    }
    (payload, expected, attachments)
}

/// Decodes what the server sent for one packet and checks it against what was sent.
fn check_packet(
    sent: Vec<Packet>,
    kind: PacketKind,
    nsp: &str,
    id: Option<u64>,
    payload: &Payload,
    expected: &[Value],
    attachments: &[Bytes],
) -> Result<socket::Packet, TestCaseError> {
    let mut sent = sent.into_iter();
    let Some(Packet::Message(text)) = sent.next() else {
        return Err(TestCaseError::fail("no text message first"));
    };
    let packet = socket::decode(text.clone())
        .map_err(|err| TestCaseError::fail(format!("{text:?} does not decode: {err}")))?;
    prop_assert_eq!(packet.kind, kind, "{:?}", text);
    prop_assert_eq!(&*packet.nsp, nsp);
    prop_assert_eq!(packet.id, id);
    prop_assert_eq!(packet.attachments, attachments.len());
    // The arguments after the event name (acks have none): each the bytes given, and the value.
    prop_assert!(packet.args.len() >= expected.len(), "{:?}", text);
    let args = &packet.args[packet.args.len() - expected.len()..];
    prop_assert_eq!(args, payload.args());
    for (arg, value) in args.iter().zip(expected) {
        let parsed: Value = serde_json::from_str(arg).expect("each argument is JSON");
        prop_assert_eq!(&parsed, value);
    }
    let binary: Vec<Packet> = sent.collect();
    let want: Vec<Packet> = attachments.iter().cloned().map(Packet::Binary).collect();
    prop_assert_eq!(binary, want, "the attachments follow, in order");
    Ok(packet)
}

#[test]
fn socketio_emits_decode_back() {
    let wire = Mutex::new(Wire::new());
    let cases = (
        event_name(),
        args(),
        proptest::sample::select(&NAMESPACES[..]),
        any::<bool>(),
    );
    TestRunner::new(config(256))
        .run(&cases, |(event, args, nsp, ack)| {
            let mut wire = wire.lock().expect("lock");
            let (payload, expected, attachments) = payload_of(&args);
            let id = wire.emit(nsp, &event, &payload, ack);
            let kind = if attachments.is_empty() {
                PacketKind::Event
            } else {
                PacketKind::BinaryEvent
            };
            let packet = check_packet(
                wire.read(),
                kind,
                nsp,
                id,
                &payload,
                &expected,
                &attachments,
            )?;
            prop_assert_eq!(packet.args.len(), expected.len() + 1);
            let name = packet.event_name();
            prop_assert_eq!(name.as_deref(), Some(event.as_str()));
            Ok(())
        })
        .expect("property holds");
}

#[test]
fn socketio_acks_decode_back() {
    let wire = Wire::new();
    let cases = (
        args(),
        proptest::sample::select(&NAMESPACES[..]),
        any::<u64>(),
    );
    TestRunner::new(config(256))
        .run(&cases, |(args, nsp, id)| {
            let (payload, expected, attachments) = payload_of(&args);
            wire.ack(nsp, id, payload.clone());
            let kind = if attachments.is_empty() {
                PacketKind::Ack
            } else {
                PacketKind::BinaryAck
            };
            let packet = check_packet(
                wire.read(),
                kind,
                nsp,
                Some(id),
                &payload,
                &expected,
                &attachments,
            )?;
            prop_assert_eq!(packet.args.len(), expected.len());
            Ok(())
        })
        .expect("property holds");
}

// ---------------------------------------------------------------------------------------------
// No panics

/// Text shaped like packets: a plausible start, then characters the grammars care about.
fn packet_like() -> impl Strategy<Value = String> {
    let start = proptest::sample::select(vec![
        "",
        "0",
        "2",
        "3",
        "4",
        "42",
        "43",
        "451-",
        "4610-",
        "b",
        "40/admin,",
        "2/a,1",
        "5",
        "6",
        "51-",
        "61-7",
    ]);
    let tail = proptest::collection::vec(
        proptest::sample::select(vec![
            "[",
            "]",
            "{",
            "}",
            "\"",
            ",",
            ":",
            "-",
            "/",
            "0",
            "1",
            "9",
            "\\",
            "\x1e",
            " ",
            "é",
            "\"_placeholder\"",
            "true",
            "\"num\"",
            "null",
            "99999999999999999999",
            "probe",
        ]),
        0..24,
    );
    (start, tail).prop_map(|(start, tail)| format!("{start}{}", tail.concat()))
}

fn decode_everything(bytes: &[u8]) {
    let _ = decode_text_bytes(Bytes::copy_from_slice(bytes));
    let _ = decode_payload(Bytes::copy_from_slice(bytes));
    let text = String::from_utf8_lossy(bytes);
    let _ = socket::decode(ByteString::from(&*text));
    if let Some(rest) = text.strip_prefix('4') {
        let packet = socket::decode(ByteString::from(rest));
        if let Ok(packet) = packet {
            let _ = packet.event_name();
        }
    }
}

#[test]
fn decoders_never_panic_on_random_bytes() {
    TestRunner::new(config(2000))
        .run(&proptest::collection::vec(any::<u8>(), 0..256), |bytes| {
            decode_everything(&bytes);
            Ok(())
        })
        .expect("no panic");
}

#[test]
fn decoders_never_panic_on_packet_like_text() {
    TestRunner::new(config(2000))
        .run(&packet_like(), |text| {
            decode_everything(text.as_bytes());
            Ok(())
        })
        .expect("no panic");
}
