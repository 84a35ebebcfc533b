//! What the bundled client's `tether.WebSocket` (the browser's WebSocket API over a Socket.IO
//! socket) adds to the protocol: subprotocols and close codes. Pure functions over the packets'
//! JSON; the socket layer keeps the results.
//!
//! The wire, all of it an extension that official clients never send and never receive:
//! - the CONNECT's auth carries `"subprotocols": [...]`, the offer in the client's order (`[]`
//!   for none); its presence marks the socket as a `tether.WebSocket`;
//! - the CONNECT reply to such a socket carries `"protocol"`: the server's choice, `""` for
//!   none (which also tells the client that this server reads close codes);
//! - a DISCONNECT either way may carry `{"code": N, "reason": "..."}`: the WebSocket close code
//!   (1000 or 3000-4999) and reason (at most 123 bytes of UTF-8), as `close(code, reason)`
//!   allows in browsers.
//!
//! ```
//! use tether_core::socket::CloseFrame;
//!
//! let frame = CloseFrame::new(4001, "kicked").unwrap();
//! assert_eq!((frame.code(), frame.reason()), (4001, "kicked"));
//! assert!(CloseFrame::new(1006, "").is_err(), "reserved for the browser's own use");
//! ```
//!
//! Layer: a value of the lowest tier; it names nothing of the socket layer.

use serde_json::{Map, Value};
use std::fmt;
use std::sync::OnceLock;

/// At most this many subprotocols in an offer.
pub const MAX_SUBPROTOCOLS: usize = 32;
/// At most this many bytes in a subprotocol's name.
pub const MAX_SUBPROTOCOL_LEN: usize = 64;
/// At most this many bytes of UTF-8 in a close reason (the WebSocket API's limit).
pub const MAX_CLOSE_REASON: usize = 123;

/// A WebSocket close code and reason, from a `tether.WebSocket`'s `close(code, reason)` or for
/// [`Socket::disconnect_with`](super::Socket::disconnect_with).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseFrame {
    code: u16,
    reason: String,
}

/// Why a close code or reason was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CloseFrameError {
    /// Not 1000 and not in 3000-4999 (the codes the WebSocket API lets an application use).
    Code(u16),
    /// Over [`MAX_CLOSE_REASON`] bytes.
    ReasonTooLong(usize),
}

impl fmt::Display for CloseFrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CloseFrameError::Code(code) => {
                write!(f, "close code {code} is not 1000 or in 3000-4999")
            }
            CloseFrameError::ReasonTooLong(len) => write!(
                f,
                "close reason of {len} bytes is over the limit of {MAX_CLOSE_REASON}"
            ),
        }
    }
}

impl std::error::Error for CloseFrameError {}

impl CloseFrame {
    /// A close code (1000, or 3000-4999) and a reason of at most [`MAX_CLOSE_REASON`] bytes.
    pub fn new(code: u16, reason: impl Into<String>) -> Result<CloseFrame, CloseFrameError> {
        let reason = reason.into();
        if code != 1000 && !(3000..=4999).contains(&code) {
            return Err(CloseFrameError::Code(code));
        }
        if reason.len() > MAX_CLOSE_REASON {
            return Err(CloseFrameError::ReasonTooLong(reason.len()));
        }
        Ok(CloseFrame { code, reason })
    }

    /// The close code.
    pub fn code(&self) -> u16 {
        self.code
    }

    /// The close reason (may be empty).
    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// The DISCONNECT payload that carries it.
    pub(crate) fn to_json(&self) -> String {
        serde_json::json!({ "code": self.code, "reason": self.reason }).to_string()
    }
}

/// Why a `tether.WebSocket`'s offer was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum OfferError {
    /// Not a list of strings, or the auth not JSON.
    NotAList,
    /// Over [`MAX_SUBPROTOCOLS`] entries.
    TooMany,
    /// Empty, too long, or with a character a WebSocket subprotocol cannot have.
    BadName,
    /// The same name twice.
    Duplicate,
}

impl OfferError {
    /// The CONNECT_ERROR payload.
    pub(crate) fn connect_error_message(&self) -> &'static str {
        match self {
            OfferError::NotAList => "subprotocols must be a list of strings",
            OfferError::TooMany => "too many subprotocols",
            OfferError::BadName => "invalid subprotocol name",
            OfferError::Duplicate => "duplicate subprotocol",
        }
    }
}

/// The subprotocols a CONNECT's auth offers: `None` when it has no `subprotocols` key (not a
/// `tether.WebSocket`).
pub(crate) fn offer(auth: &str) -> Result<Option<Vec<String>>, OfferError> {
    // Most sockets are not tether.WebSockets: skip the parse unless the key may be there (a
    // client that escapes the key's letters is simply not one).
    if !auth.contains("\"subprotocols\"") {
        return Ok(None);
    }
    let Ok(mut auth) = serde_json::from_str::<Map<String, Value>>(auth) else {
        return Err(OfferError::NotAList);
    };
    let list = match auth.remove("subprotocols") {
        None => return Ok(None),
        Some(Value::Array(list)) => list,
        Some(_) => return Err(OfferError::NotAList),
    };
    if list.len() > MAX_SUBPROTOCOLS {
        return Err(OfferError::TooMany);
    }
    let mut names: Vec<String> = Vec::with_capacity(list.len());
    for item in list {
        let Value::String(name) = item else {
            return Err(OfferError::NotAList);
        };
        if !is_token(&name) {
            return Err(OfferError::BadName);
        }
        if names.contains(&name) {
            return Err(OfferError::Duplicate);
        }
        names.push(name);
    }
    Ok(Some(names))
}

/// What a `tether.WebSocket` socket keeps beside the others.
#[derive(Debug)]
pub(crate) struct FacadeState {
    /// The subprotocols offered, in the client's order.
    pub(crate) offer: Vec<String>,
    /// The one the server picked.
    pub(crate) protocol: OnceLock<String>,
    /// How it closed, when a code came with the close (the client's or the server's).
    pub(crate) close: OnceLock<CloseFrame>,
}

impl FacadeState {
    /// The state of a socket whose CONNECT brought `auth`; `None` unless it is a
    /// `tether.WebSocket` with a valid offer (an invalid one was refused before).
    pub(crate) fn from_auth(auth: &str) -> Option<FacadeState> {
        let offer = offer(auth).ok().flatten()?;
        Some(FacadeState {
            offer,
            protocol: OnceLock::new(),
            close: OnceLock::new(),
        })
    }
}

/// Whether `name` can be a WebSocket subprotocol: an HTTP token (RFC 6455 section 4.1, RFC
/// 7230 section 3.2.6) of at most [`MAX_SUBPROTOCOL_LEN`] bytes. Such a name needs no escaping
/// in JSON.
pub(crate) fn is_token(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_SUBPROTOCOL_LEN
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// A DISCONNECT's payload (a JSON object): its close frame, or an error when `code` is
/// missing or not allowed, or `reason` is not a string of at most [`MAX_CLOSE_REASON`] bytes.
/// Other keys are ignored.
pub(crate) fn close_frame(json: &str) -> Result<CloseFrame, CloseFrameParseError> {
    let mut payload: Map<String, Value> =
        serde_json::from_str(json).map_err(|_| CloseFrameParseError)?;
    let code = payload
        .get("code")
        .and_then(Value::as_u64)
        .and_then(|c| u16::try_from(c).ok())
        .ok_or(CloseFrameParseError)?;
    let reason = match payload.remove("reason") {
        None => String::new(),
        Some(Value::String(reason)) => reason,
        Some(_) => return Err(CloseFrameParseError),
    };
    CloseFrame::new(code, reason).map_err(|_| CloseFrameParseError)
}

/// A DISCONNECT payload that is not a valid close frame (the connection closes with a parse
/// error).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CloseFrameParseError;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offers() {
        assert_eq!(offer("{}"), Ok(None));
        assert_eq!(offer(r#"{"token":"subprotocols"}"#), Ok(None));
        assert_eq!(offer(r#"{"subprotocols":[]}"#), Ok(Some(vec![])));
        assert_eq!(
            offer(r#"{"token":1,"subprotocols":["chat","v2.json","a!#$%&'*+-.^_`|~z"]}"#),
            Ok(Some(vec![
                "chat".into(),
                "v2.json".into(),
                "a!#$%&'*+-.^_`|~z".into()
            ]))
        );
    }

    #[test]
    fn bad_offers() {
        for (auth, err) in [
            (r#"{"subprotocols":"chat"}"#, OfferError::NotAList),
            (r#"{"subprotocols":null}"#, OfferError::NotAList),
            (r#"{"subprotocols":[1]}"#, OfferError::NotAList),
            (r#"{"subprotocols":[""]}"#, OfferError::BadName),
            (r#"{"subprotocols":["a b"]}"#, OfferError::BadName),
            (r#"{"subprotocols":["a,b"]}"#, OfferError::BadName),
            (r#"{"subprotocols":["\"q\""]}"#, OfferError::BadName),
            (r#"{"subprotocols":["é"]}"#, OfferError::BadName),
            (r#"{"subprotocols":["chat","chat"]}"#, OfferError::Duplicate),
        ] {
            assert_eq!(offer(auth), Err(err), "{auth}");
        }
        let long = format!(
            r#"{{"subprotocols":["{}"]}}"#,
            "a".repeat(MAX_SUBPROTOCOL_LEN + 1)
        );
        assert_eq!(offer(&long), Err(OfferError::BadName));
        let fits = format!(
            r#"{{"subprotocols":["{}"]}}"#,
            "a".repeat(MAX_SUBPROTOCOL_LEN)
        );
        assert!(offer(&fits).is_ok());
        let names: Vec<String> = (0..=MAX_SUBPROTOCOLS).map(|i| format!("p{i}")).collect();
        let many = serde_json::json!({ "subprotocols": names }).to_string();
        assert_eq!(offer(&many), Err(OfferError::TooMany));
        let names = &names[..MAX_SUBPROTOCOLS];
        let most = serde_json::json!({ "subprotocols": names }).to_string();
        assert_eq!(
            offer(&most).map(|o| o.map(|l| l.len())),
            Ok(Some(MAX_SUBPROTOCOLS))
        );
    }

    #[test]
    fn close_frames() {
        let frame = close_frame(r#"{"code":4000,"reason":"bye"}"#).unwrap();
        assert_eq!((frame.code(), frame.reason()), (4000, "bye"));
        assert_eq!(close_frame(r#"{"code":1000}"#).unwrap().reason(), "");
        assert_eq!(
            close_frame(r#"{"reason":"é","code":3000,"x":[1]}"#).unwrap(),
            CloseFrame::new(3000, "é").unwrap()
        );
        let fits = format!(r#"{{"code":4999,"reason":"{}"}}"#, "é".repeat(61) + "a");
        assert_eq!(close_frame(&fits).unwrap().reason().len(), MAX_CLOSE_REASON);
    }

    #[test]
    fn bad_close_frames() {
        let long = format!(r#"{{"code":4000,"reason":"{}"}}"#, "é".repeat(62));
        for json in [
            "{}",
            r#"{"reason":"no code"}"#,
            r#"{"code":"4000"}"#,
            r#"{"code":4000.5}"#,
            r#"{"code":-1}"#,
            r#"{"code":1001}"#,
            r#"{"code":1006}"#,
            r#"{"code":2999}"#,
            r#"{"code":5000}"#,
            r#"{"code":70000}"#,
            r#"{"code":4000,"reason":5}"#,
            r#"{"code":4000,"reason":null}"#,
            long.as_str(),
        ] {
            assert_eq!(close_frame(json), Err(CloseFrameParseError), "{json}");
        }
    }

    #[test]
    fn frames_made_by_the_server() {
        assert_eq!(CloseFrame::new(999, ""), Err(CloseFrameError::Code(999)));
        assert_eq!(
            CloseFrame::new(4000, "x".repeat(124)),
            Err(CloseFrameError::ReasonTooLong(124))
        );
        let frame = CloseFrame::new(4000, "say \"bye\"").unwrap();
        assert_eq!(frame.to_json(), r#"{"code":4000,"reason":"say \"bye\""}"#);
        assert_eq!(close_frame(&frame.to_json()).unwrap(), frame);
    }
}
