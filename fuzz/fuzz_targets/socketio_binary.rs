//! A whole conversation with a real `Engine<SocketIo>` through its polling API, the way
//! `crates/tether-core/tests/support/mod.rs` drives it: Engine.IO payloads in, Socket.IO packets
//! and their binary attachments assembled by the server, handlers that echo, ack, ask for acks,
//! join rooms, broadcast, disconnect and close.
//!
//! The input is lines (`\n`), one request each:
//! - `GET`: holds a long-poll (or checks the one held); what it answers is checked;
//! - `DROP`: the client goes away from the held poll (the server closes the session);
//! - `WAIT`: 5 s pass on the runtime's paused clock (heartbeats, ping and connect timeouts, ack
//!   timeouts); no time passes otherwise, so every input runs the same way each time;
//! - anything else: a POST body, its packets separated by `\x1e` as on the wire. A part that
//!   starts with `B` is a binary message whose raw bytes follow; the harness sends it as
//!   `b<base64>`, so the fuzzer need not learn base64. `b<base64>` parts work as well.
//!
//! For example `40\n451-["echo",{"_placeholder":true,"num":0}]\x1eB\x01\x02\x03\nGET`.
//!
//! Checked, beyond "never panics": every body the server sends is a valid Engine.IO payload
//! whose messages are valid Socket.IO packets, each binary packet followed by exactly its
//! attachments; once the session is closed, nothing is left behind (no session, no connection,
//! no socket or room in any namespace, no task still running).
//!
//! Set `FUZZ_TRACE=1` to print each request and each body the server answers (to read what a
//! crashing input does: `FUZZ_TRACE=1 RUSTC_BOOTSTRAP=1 cargo fuzz run socketio_binary FILE`).
//!
//! Each input gets a new runtime, engine and server, so inputs do not affect one another (ack ids
//! and rooms included). `FUZZ_TARGETS=socketio_binary scripts/fuzz 600` runs it alone (see
//! `fuzz/README.md`).

#![no_main]

use base64::Engine as _;
use bytes::Bytes;
use bytestring::ByteString;
use http::HeaderMap;
use libfuzzer_sys::fuzz_target;
use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::sync::OnceLock;
use std::task::{Context, Poll, Waker};
use std::time::Duration;
use tether_core::engine::{
    CloseReason, Engine, EngineConfig, Handshake, Packet, RequestError, Sid, decode_payload,
};
use tether_core::socket::{
    AckSender, Bin, ConnectError, Data, Payload, RawArgs, Socket, SocketIo, decode,
};

/// The namespaces the server has; `/mw` runs a middleware (in a task of its own).
const NAMESPACES: [&str; 3] = ["/", "/admin", "/mw"];

fuzz_target!(|data: &[u8]| {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("runtime");
    rt.block_on(conversation(data));
});

type HeldPoll = Pin<Box<dyn Future<Output = Result<Bytes, RequestError>>>>;

async fn conversation(data: &[u8]) {
    let io = server();
    let engine = Engine::new(EngineConfig::default(), io.clone());
    let sid = handshake(&engine);
    let mut client = Client::default();
    let mut held: Option<HeldPoll> = None;

    for line in data.split(|b| *b == b'\n') {
        trace(">", line);
        match line {
            b"GET" => {
                let poll = held.get_or_insert_with(|| Box::pin(poll_owned(engine.clone(), sid)));
                if client.check_poll(poll) {
                    held = None;
                }
            }
            b"DROP" => held = None,
            b"WAIT" => {
                tokio::time::advance(Duration::from_secs(5)).await;
                // The engine's ticker and any timed-out handler run before the poll is checked.
                tokio::task::yield_now().await;
                if held.as_mut().is_some_and(|poll| client.check_poll(poll)) {
                    held = None;
                }
            }
            _ => {
                let body = post_body(line);
                let _ = engine.post(sid, false, async move { Ok(body) }).await;
                if held.as_mut().is_some_and(|poll| client.check_poll(poll)) {
                    held = None;
                }
            }
        }
        // Tasks the handlers started (middlewares, awaited acks) run here.
        tokio::task::yield_now().await;
    }

    // The client goes away: whatever state the session is in, it must end and leave nothing.
    trace(">", b"(end of input: the client goes away)");
    if let Some(socket) = engine.socket(sid) {
        socket.abort(CloseReason::TransportClose);
    }
    match held.as_mut() {
        Some(poll) => {
            let answered = client.check_poll(poll);
            assert!(answered, "a held poll is answered when its session closes");
        }
        None if engine.socket(sid).is_some() => {
            // A server close waiting for polls to carry it: what was queued, then the close
            // packet alone. Each poll is answered at once; a few end it.
            for _ in 0..8 {
                if engine.socket(sid).is_none() {
                    break;
                }
                let mut poll: HeldPoll = Box::pin(poll_owned(engine.clone(), sid));
                let answered = client.check_poll(&mut poll);
                assert!(answered, "a closing session answers a poll at once");
            }
        }
        None => {}
    }
    drop(held);
    for _ in 0..4 {
        tokio::task::yield_now().await;
    }

    assert_eq!(engine.session_count(), 0, "session left behind");
    assert_eq!(io.connection_count(), 0, "Socket.IO connection left behind");
    for nsp in NAMESPACES {
        let ns = io.of(nsp).expect("registered namespace");
        assert!(ns.sockets().is_empty(), "socket left in {nsp}");
        assert!(
            ns.rooms().is_empty(),
            "room left in {nsp}: {:?}",
            ns.rooms()
        );
    }
    IO.with(|cell| cell.borrow_mut().take());
    let alive = tokio::runtime::Handle::current()
        .metrics()
        .num_alive_tasks();
    // The engine's heartbeat ticker is the only task that outlives a session.
    assert!(alive <= 1, "{alive} tasks still running");
}

thread_local! {
    /// The server of the input being run, for the handler that broadcasts with it. (Captured
    /// in a handler, the server would own itself through its namespaces and never be freed.)
    static IO: RefCell<Option<SocketIo>> = const { RefCell::new(None) };
}

/// The server: three namespaces with the same event handlers.
fn server() -> SocketIo {
    let io = SocketIo::builder().build();
    for nsp in NAMESPACES {
        let ns = io.ns(nsp, |socket: Socket| {
            handlers(&socket);
            async {}
        });
        if nsp == "/mw" {
            ns.middleware(|socket: Socket| async move {
                if socket.auth_raw().contains("deny") {
                    return Err(ConnectError::new("denied").with_data(&socket.auth_raw()));
                }
                Ok(())
            });
        }
    }
    IO.with(|cell| *cell.borrow_mut() = Some(io.clone()));
    io
}

fn handlers(socket: &Socket) {
    socket.on(
        "echo",
        |socket: Socket, RawArgs(args): RawArgs, Bin(bin): Bin, ack: AckSender| async move {
            let payload = Payload::from_raw(args, bin);
            let _ = socket.emit_payload("echo", &payload);
            let _ = ack.send_payload(payload);
        },
    );
    socket.on(
        "data",
        |Data(value): Data<serde_json::Value>, ack: AckSender| async move {
            let _ = ack.send(&value);
        },
    );
    socket.on(
        "ask",
        |socket: Socket, RawArgs(args): RawArgs, Bin(bin): Bin| async move {
            let Ok(answer) = socket.emit_payload_with_ack("ask", &Payload::from_raw(args, bin))
            else {
                return;
            };
            if let Ok(answer) = answer.await {
                let payload = Payload::from_raw(answer.args, answer.attachments);
                let _ = socket.emit_payload("answer", &payload);
            }
        },
    );
    socket.on(
        "join",
        |socket: Socket, Data(room): Data<String>| async move {
            socket.join(room);
        },
    );
    socket.on(
        "leave",
        |socket: Socket, Data(room): Data<String>| async move {
            socket.leave(room);
        },
    );
    // `["room", "<name>", ...args]`: the args to every socket of `/` in that room; `others`
    // the same from this socket (which is left out).
    socket.on("room", |RawArgs(args): RawArgs, Bin(bin): Bin| async move {
        if let Some((room, payload)) = room_and_payload(args, bin) {
            let io = IO.with(|cell| cell.borrow().clone());
            if let Some(io) = io {
                let _ = io.to(room).emit_payload("room", &payload);
            }
        }
    });
    socket.on(
        "others",
        |socket: Socket, RawArgs(args): RawArgs, Bin(bin): Bin| async move {
            if let Some((room, payload)) = room_and_payload(args, bin) {
                let _ = socket.to(room).emit_payload("others", &payload);
            }
        },
    );
    socket.on("bye", |socket: Socket| async move { socket.disconnect() });
    socket.on("close", |socket: Socket| async move { socket.close() });
    socket.on_disconnect(|socket, reason| async move {
        // Too late: the socket has left; this must fail quietly.
        let _ = socket.emit("gone", reason.as_str());
    });
}

fn room_and_payload(mut args: Vec<ByteString>, bin: Vec<Bytes>) -> Option<(String, Payload)> {
    if args.is_empty() {
        return None;
    }
    let room = serde_json::from_str::<String>(&args.remove(0)).ok()?;
    Some((room, Payload::from_raw(args, bin)))
}

fn handshake(engine: &Engine<SocketIo>) -> Sid {
    let uri = "/socket.io/?EIO=4&transport=polling".parse().expect("uri");
    let open = engine
        .polling_handshake(Handshake::new(&HeaderMap::new(), &uri, None).expect("an empty handshake fits"))
        .expect("handshake");
    let open = std::str::from_utf8(&open).expect("utf-8");
    let json: serde_json::Value = serde_json::from_str(&open[1..]).expect("open packet json");
    Sid::parse(json["sid"].as_str().expect("sid")).expect("valid sid")
}

/// A POST body from one input line: `B<raw>` parts become `b<base64>`.
fn post_body(line: &[u8]) -> Bytes {
    let mut body = Vec::with_capacity(line.len() * 2);
    for (i, part) in line.split(|b| *b == 0x1e).enumerate() {
        if i > 0 {
            body.push(0x1e);
        }
        match part.split_first() {
            Some((b'B', raw)) => {
                body.push(b'b');
                body.extend(
                    base64::engine::general_purpose::STANDARD
                        .encode(raw)
                        .bytes(),
                );
            }
            _ => body.extend_from_slice(part),
        }
    }
    Bytes::from(body)
}

fn trace(direction: &str, bytes: &[u8]) {
    static ON: OnceLock<bool> = OnceLock::new();
    if *ON.get_or_init(|| std::env::var_os("FUZZ_TRACE").is_some()) {
        eprintln!("{direction} {:?}", String::from_utf8_lossy(bytes));
    }
}

/// What the client has seen of the server's stream.
#[derive(Default)]
struct Client {
    /// Binary attachments still due after the last binary packet.
    attachments_due: usize,
}

impl Client {
    /// Polls a held poll once: whether it answered (then its body is checked, and the poll is
    /// done with).
    fn check_poll(&mut self, poll: &mut HeldPoll) -> bool {
        let mut cx = Context::from_waker(Waker::noop());
        match poll.as_mut().poll(&mut cx) {
            Poll::Pending => false,
            Poll::Ready(answer) => {
                if let Ok(body) = answer {
                    self.check_body(body);
                }
                true
            }
        }
    }

    fn check_body(&mut self, body: Bytes) {
        trace("<", &body);
        let packets = decode_payload(body.clone())
            .unwrap_or_else(|err| panic!("the server sent an invalid payload ({err}): {body:?}"));
        for packet in packets {
            match packet {
                Packet::Binary(_) => {
                    assert!(self.attachments_due > 0, "unexpected binary in {body:?}");
                    self.attachments_due -= 1;
                }
                Packet::Message(text) => {
                    assert_eq!(self.attachments_due, 0, "attachments cut in {body:?}");
                    let packet = decode(text.clone()).unwrap_or_else(|err| {
                        panic!("the server sent an invalid Socket.IO packet ({err}): {text:?}")
                    });
                    self.attachments_due = packet.attachments;
                }
                other => assert_eq!(self.attachments_due, 0, "{other:?} cut attachments"),
            }
        }
    }
}

/// `Engine::poll` as an owned future, so it can be held across requests.
async fn poll_owned(engine: Engine<SocketIo>, sid: Sid) -> Result<Bytes, RequestError> {
    engine.poll(sid).await
}
