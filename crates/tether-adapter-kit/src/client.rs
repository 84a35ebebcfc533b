//! [`FakeClient`]: a Socket.IO client with no HTTP: it drives an [`Engine`] through its
//! polling API, keeps one long-poll held and answers pings, so a test can run many nodes and
//! clients in one process.

use bytes::Bytes;
use http::HeaderMap;
use serde_json::Value;
use std::collections::VecDeque;
use std::time::Duration;
use tether_core::engine::{Engine, Handshake, RequestError, Sid};
use tether_core::socket::SocketIo;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::timeout;

/// The longest wait for something expected.
pub const WAIT: Duration = Duration::from_secs(10);

type Polled = Result<Vec<String>, RequestError>;

/// One client connection to one node.
#[derive(Debug)]
pub struct FakeClient {
    engine: Engine<SocketIo>,
    sid: Sid,
    bodies: mpsc::UnboundedReceiver<Polled>,
    queue: VecDeque<String>,
    poller: JoinHandle<()>,
    closed: bool,
}

impl Drop for FakeClient {
    fn drop(&mut self) {
        self.poller.abort();
        if let Some(socket) = self.engine.socket(self.sid) {
            socket.close();
        }
    }
}

async fn poll_forever(engine: Engine<SocketIo>, sid: Sid, tx: mpsc::UnboundedSender<Polled>) {
    loop {
        match engine.poll(sid).await {
            Ok(body) => {
                let text = String::from_utf8_lossy(&body).into_owned();
                let (pings, rest): (Vec<String>, Vec<String>) = text
                    .split('\x1e')
                    .map(str::to_owned)
                    .partition(|p| p == "2");
                for _ in pings {
                    let _ = engine
                        .post(sid, false, async { Ok(Bytes::from_static(b"3")) })
                        .await;
                }
                if !rest.is_empty() && tx.send(Ok(rest)).is_err() {
                    return;
                }
            }
            Err(err) => {
                let _ = tx.send(Err(err));
                return;
            }
        }
    }
}

impl FakeClient {
    /// Opens a polling session on `engine` (the handshake of a client that sends no headers).
    pub fn open(engine: &Engine<SocketIo>) -> FakeClient {
        let uri = "/socket.io/?EIO=4&transport=polling"
            .parse()
            .expect("a valid uri");
        let handshake =
            Handshake::new(&HeaderMap::new(), &uri, None).expect("an empty handshake fits");
        let open = engine
            .polling_handshake(handshake)
            .expect("handshake accepted");
        let open: Value = serde_json::from_slice(&open[1..]).expect("the open packet is JSON");
        let sid = Sid::parse(open["sid"].as_str().expect("a sid")).expect("a valid sid");
        let (tx, bodies) = mpsc::unbounded_channel();
        let poller = tokio::spawn(poll_forever(engine.clone(), sid, tx));
        FakeClient {
            engine: engine.clone(),
            sid,
            bodies,
            queue: VecDeque::new(),
            poller,
            closed: false,
        }
    }

    /// Sends an Engine.IO payload (`40`, `42["ev"]`, `430[1]`, ...).
    pub async fn send(&self, payload: &str) {
        let body = Bytes::copy_from_slice(payload.as_bytes());
        self.engine
            .post(self.sid, false, async move { Ok(body) })
            .await
            .expect("POST accepted");
    }

    /// Joins `/` with this `auth` object; the socket id from the reply.
    pub async fn connect(&mut self, auth: &Value) -> Sid {
        self.send(&format!("40{auth}")).await;
        let reply = self.recv().await;
        let json = reply
            .strip_prefix("40")
            .unwrap_or_else(|| panic!("expected a CONNECT reply, got {reply:?}"));
        let json: Value = serde_json::from_str(json).expect("the reply is JSON");
        Sid::parse(json["sid"].as_str().expect("a sid")).expect("a valid socket id")
    }

    /// The next Engine.IO packet from the server (pings left out); `None` once the session
    /// closed.
    pub async fn next(&mut self) -> Option<String> {
        loop {
            if let Some(packet) = self.queue.pop_front() {
                return Some(packet);
            }
            if self.closed {
                return None;
            }
            match timeout(WAIT, self.bodies.recv()).await {
                Ok(Some(Ok(parts))) => self.queue.extend(parts),
                Ok(Some(Err(_)) | None) => self.closed = true,
                Err(_) => panic!("nothing from the server within {WAIT:?}"),
            }
        }
    }

    /// The next packet, which must come.
    pub async fn recv(&mut self) -> String {
        self.next()
            .await
            .expect("the session closed while a packet was expected")
    }

    /// The next event: its name, its ack id, its arguments.
    pub async fn event(&mut self) -> (String, Option<u64>, Vec<Value>) {
        let packet = self.recv().await;
        parse_event(&packet).unwrap_or_else(|| panic!("expected an event, got {packet:?}"))
    }

    /// Waits until the session closes; the packets that came first (`1` and `6` left out).
    pub async fn closed(&mut self) -> Vec<String> {
        let mut before = Vec::new();
        while let Some(packet) = self.next().await {
            if packet != "1" && packet != "6" {
                before.push(packet);
            }
        }
        before
    }
}

/// `42["name",...]` or `42<id>["name",...]` (main namespace, text) as name, ack id, arguments.
pub fn parse_event(packet: &str) -> Option<(String, Option<u64>, Vec<Value>)> {
    let rest = packet.strip_prefix("42")?;
    let split = rest.find('[')?;
    let id = if split == 0 {
        None
    } else {
        Some(rest[..split].parse().ok()?)
    };
    let mut args: Vec<Value> = serde_json::from_str(&rest[split..]).ok()?;
    if args.is_empty() {
        return None;
    }
    let name = args.remove(0).as_str()?.to_owned();
    Some((name, id, args))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_parse_with_and_without_ack_ids() {
        assert_eq!(
            parse_event(r#"42["e",1,{"a":2}]"#),
            Some((
                "e".into(),
                None,
                vec![1.into(), serde_json::json!({"a": 2})]
            ))
        );
        assert_eq!(
            parse_event(r#"4212["q"]"#),
            Some(("q".into(), Some(12), vec![]))
        );
        assert_eq!(parse_event("41"), None);
        assert_eq!(parse_event("42[]"), None);
        assert_eq!(parse_event("42x["), None);
    }
}
