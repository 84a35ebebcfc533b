//! Engine.IO over HTTP long-polling: GET receives a batch joined by `\x1e`, POST sends one.

use bytes::Bytes;
use std::collections::VecDeque;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Utf8Bytes;

use super::ws::WsConn;
use super::{Incoming, Open};
use crate::{Result, Target};

/// A long-polling Engine.IO session. Requests go one at a time (a GET, then a POST when there
/// is something to send), so each client uses one kept-alive HTTP connection.
#[derive(Debug)]
pub struct PollConn {
    http: reqwest::Client,
    url: String,
    sid: String,
    queue: VecDeque<Utf8Bytes>,
}

/// No request should take this long on loopback: a stuck one is an error, not a hang.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

impl PollConn {
    /// Opens a polling session (the handshake GET).
    pub async fn open(target: &Target) -> Result<(PollConn, Open)> {
        let body = get(&target.http, &target.polling_url(None)).await?;
        let text = std::str::from_utf8(&body)?;
        let first = text.split('\x1e').next().unwrap_or("");
        let json = first
            .strip_prefix('0')
            .ok_or_else(|| format!("expected an open packet, got {first:?}"))?;
        let open: Open = serde_json::from_str(json)?;
        let conn = PollConn {
            http: target.http.clone(),
            url: target.polling_url(Some(&open.sid)),
            sid: open.sid.clone(),
            queue: VecDeque::new(),
        };
        Ok((conn, open))
    }

    /// The Engine.IO session id.
    pub fn sid(&self) -> &str {
        &self.sid
    }

    /// POSTs a payload (packets already joined by `\x1e`).
    pub async fn post(&self, body: impl Into<Bytes>) -> Result<()> {
        post_to(&self.http, &self.url, body).await
    }

    /// One long-poll GET; its packets join the queue.
    pub async fn poll(&mut self) -> Result<()> {
        let body = get(&self.http, &self.url).await?;
        for part in body.split(|b| *b == 0x1e) {
            let part = body.slice_ref(part);
            self.queue.push_back(Utf8Bytes::try_from(part)?);
        }
        Ok(())
    }

    pub(crate) async fn send_message(&mut self, sio: &str) -> Result<()> {
        let mut text = String::with_capacity(sio.len() + 1);
        text.push('4');
        text.push_str(sio);
        self.post(text).await
    }

    pub(crate) async fn next_message(&mut self) -> Result<Incoming> {
        loop {
            let Some(text) = self.queue.pop_front() else {
                self.poll().await?;
                continue;
            };
            match text.as_bytes().first() {
                Some(b'4') => return Ok(Incoming(text)),
                Some(b'2') => self.post("3").await?,
                Some(b'1') => return Err("the server closed the session".into()),
                _ => continue,
            }
        }
    }

    /// Starts an upgrade: opens the WebSocket with this sid, sends `2probe` and waits for
    /// `3probe`. The upgrade is complete once [`WsConn::send_text`]`("5")` is sent.
    pub async fn probe_upgrade(&self, target: &Target) -> Result<WsConn> {
        let mut ws = WsConn::connect(target, &target.ws_url(Some(&self.sid))).await?;
        ws.send_text("2probe").await?;
        let answer = ws.next_text().await?;
        if &*answer != "3probe" {
            return Err(format!("expected 3probe, got {:?}", &*answer).into());
        }
        Ok(ws)
    }

    /// Closes the session: POSTs `1`.
    pub async fn close(self) -> Result<()> {
        self.post("1").await
    }
}

/// POSTs a payload to a session's URL (polling's, or streaming's).
pub(crate) async fn post_to(
    http: &reqwest::Client,
    url: &str,
    body: impl Into<Bytes>,
) -> Result<()> {
    let res = http
        .post(url)
        .header("content-type", "text/plain;charset=UTF-8")
        .body(body.into())
        .timeout(REQUEST_TIMEOUT)
        .send()
        .await?;
    if !res.status().is_success() {
        return Err(format!("POST answered {}", res.status()).into());
    }
    res.bytes().await?;
    Ok(())
}

async fn get(http: &reqwest::Client, url: &str) -> Result<Bytes> {
    let res = http.get(url).timeout(REQUEST_TIMEOUT).send().await?;
    if !res.status().is_success() {
        return Err(format!("GET answered {}", res.status()).into());
    }
    Ok(res.bytes().await?)
}
