//! What an HTTP request to the engine asks for, and the Engine.IO errors it can get. Pure
//! functions over the method, the query string and whether it is a WebSocket upgrade.

use http::{Method, StatusCode};

use super::config::EngineConfig;
use super::sid::Sid;

/// The transports a request can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransportKind {
    /// HTTP long-polling (GET receives, POST sends).
    Polling,
    /// WebSocket.
    WebSocket,
    /// HTTP streaming, our extension: a `text/event-stream` GET receives, POSTs send. Only
    /// tether.js asks for it; official clients never see it offered.
    Streaming,
}

impl TransportKind {
    /// The name used in the query string.
    pub fn as_str(self) -> &'static str {
        match self {
            TransportKind::Polling => "polling",
            TransportKind::WebSocket => "websocket",
            TransportKind::Streaming => "streaming",
        }
    }
}

/// What a valid request asks the engine to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EngineRequest {
    /// `GET ?transport=polling` without a sid: open a polling session.
    PollingHandshake,
    /// WebSocket upgrade without a sid: open a session on WebSocket.
    WebSocketHandshake,
    /// `GET ?transport=polling&sid=X`: the long poll.
    Poll(Sid),
    /// `POST ?transport=polling&sid=X`: packets from the client.
    Post(Sid),
    /// WebSocket upgrade with a sid: upgrade a polling (or streaming) session.
    Upgrade(Sid),
    /// `GET ?transport=streaming` without a sid: open a streaming session (our extension).
    StreamingHandshake,
    /// `GET ?transport=streaming&sid=X`: attach a new event stream to a streaming session
    /// (after an upgrade that failed). Its POSTs are [`EngineRequest::Post`].
    Stream(Sid),
}

/// An Engine.IO error answer: HTTP status, code and message of the JSON body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// 400, code 0.
    #[error("Transport unknown")]
    UnknownTransport,
    /// 400, code 1.
    #[error("Session ID unknown")]
    UnknownSid,
    /// 400, code 2.
    #[error("Bad handshake method")]
    BadHandshakeMethod,
    /// 400, code 3.
    #[error("Bad request")]
    BadRequest,
    /// 403, code 4, with the refusal's message.
    #[error("{0}")]
    Forbidden(String),
    /// 400, code 5.
    #[error("Unsupported protocol version")]
    UnsupportedProtocolVersion,
    /// 413: a POST body larger than `maxPayload`. The session is kept.
    #[error("Payload too large")]
    PayloadTooLarge,
    /// 503: the process already holds `max_sessions` sessions.
    #[error("Too many sessions")]
    TooManySessions,
    /// 503: the server is shutting down.
    #[error("Server shutting down")]
    ShuttingDown,
    /// 429: this address opened sessions faster than the handshake limit allows.
    #[error("Too many handshakes")]
    TooManyHandshakes,
    /// 429: this address already holds `max_sessions_per_address` sessions.
    #[error("Too many sessions from this address")]
    TooManySessionsFromAddress,
    /// 431: the handshake's headers and URI are larger than `MAX_HANDSHAKE_BYTES`.
    #[error("Request headers too large")]
    HeadersTooLarge,
}

impl RequestError {
    /// The Engine.IO error code, for the errors the protocol numbers.
    pub fn code(&self) -> Option<u8> {
        match self {
            RequestError::UnknownTransport => Some(0),
            RequestError::UnknownSid => Some(1),
            RequestError::BadHandshakeMethod => Some(2),
            RequestError::BadRequest => Some(3),
            RequestError::Forbidden(_) => Some(4),
            RequestError::UnsupportedProtocolVersion => Some(5),
            RequestError::PayloadTooLarge
            | RequestError::TooManySessions
            | RequestError::TooManyHandshakes
            | RequestError::TooManySessionsFromAddress
            | RequestError::HeadersTooLarge
            | RequestError::ShuttingDown => None,
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            RequestError::Forbidden(_) => StatusCode::FORBIDDEN,
            RequestError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            RequestError::TooManySessions | RequestError::ShuttingDown => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            RequestError::TooManyHandshakes | RequestError::TooManySessionsFromAddress => {
                StatusCode::TOO_MANY_REQUESTS
            }
            RequestError::HeadersTooLarge => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    /// The JSON body: `{"code":N,"message":"..."}`, or `{"message":"..."}` for the errors the
    /// protocol does not number.
    pub fn body(&self) -> String {
        let message = serde_json::Value::String(self.to_string());
        match self.code() {
            Some(code) => format!("{{\"code\":{code},\"message\":{message}}}"),
            None => format!("{{\"message\":{message}}}"),
        }
    }
}

/// Looks up a query parameter (no percent-decoding: every value the protocol uses is plain).
pub fn query_param<'q>(query: &'q str, name: &str) -> Option<&'q str> {
    query.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        (key == name).then_some(value)
    })
}

/// Classifies a request in the reference server's order of checks: transport name, then the sid
/// branch (unknown-sid is decided later by the engine), then the handshake method and the upgrade
/// header, then the protocol version.
///
/// ```
/// use http::Method;
/// use tether_core::engine::{classify, EngineConfig, EngineRequest, RequestError};
/// let config = EngineConfig::default();
/// assert_eq!(classify(&Method::GET, "EIO=4&transport=polling", false, &config),
///            Ok(EngineRequest::PollingHandshake));
/// assert_eq!(classify(&Method::POST, "EIO=4&transport=polling", false, &config),
///            Err(RequestError::BadHandshakeMethod));
/// ```
pub fn classify(
    method: &Method,
    query: &str,
    is_upgrade: bool,
    config: &EngineConfig,
) -> Result<EngineRequest, RequestError> {
    let transport = match query_param(query, "transport") {
        Some("polling") if config.polling => TransportKind::Polling,
        Some("websocket") if config.websocket => TransportKind::WebSocket,
        Some("streaming") if config.streaming => TransportKind::Streaming,
        _ => return Err(RequestError::UnknownTransport),
    };
    if let Some(sid) = query_param(query, "sid") {
        let sid = Sid::parse(sid).ok_or(RequestError::UnknownSid)?;
        return match (transport, is_upgrade) {
            (TransportKind::WebSocket, true) if *method == Method::GET => {
                Ok(EngineRequest::Upgrade(sid))
            }
            (TransportKind::Polling, false) if *method == Method::GET => {
                Ok(EngineRequest::Poll(sid))
            }
            (TransportKind::Polling | TransportKind::Streaming, false)
                if *method == Method::POST =>
            {
                Ok(EngineRequest::Post(sid))
            }
            (TransportKind::Streaming, false) if *method == Method::GET => {
                Ok(EngineRequest::Stream(sid))
            }
            _ => Err(RequestError::BadRequest),
        };
    }
    if *method != Method::GET {
        return Err(RequestError::BadHandshakeMethod);
    }
    if transport == TransportKind::WebSocket && !is_upgrade {
        return Err(RequestError::BadRequest);
    }
    if query_param(query, "EIO") != Some("4") {
        return Err(RequestError::UnsupportedProtocolVersion);
    }
    Ok(match transport {
        TransportKind::Polling => EngineRequest::PollingHandshake,
        TransportKind::WebSocket => EngineRequest::WebSocketHandshake,
        TransportKind::Streaming => EngineRequest::StreamingHandshake,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SID: &str = "AAAAAAAAAAAAAAAAAAAA";

    fn c(method: Method, query: &str, upgrade: bool) -> Result<EngineRequest, RequestError> {
        classify(&method, query, upgrade, &EngineConfig::default())
    }

    #[test]
    fn handshakes() {
        assert_eq!(
            c(Method::GET, "EIO=4&transport=polling&t=abc", false),
            Ok(EngineRequest::PollingHandshake)
        );
        assert_eq!(
            c(Method::GET, "EIO=4&transport=websocket", true),
            Ok(EngineRequest::WebSocketHandshake)
        );
    }

    #[test]
    fn streaming_is_asked_for_by_name_and_can_be_turned_off() {
        let sid = format!("EIO=4&transport=streaming&sid={SID}");
        assert_eq!(
            c(Method::GET, "EIO=4&transport=streaming", false),
            Ok(EngineRequest::StreamingHandshake)
        );
        let sid_value = Sid::parse(SID).expect("sid");
        assert_eq!(
            c(Method::GET, &sid, false),
            Ok(EngineRequest::Stream(sid_value))
        );
        assert_eq!(
            c(Method::POST, &sid, false),
            Ok(EngineRequest::Post(sid_value))
        );
        assert_eq!(c(Method::GET, &sid, true), Err(RequestError::BadRequest));
        assert_eq!(
            c(Method::POST, "EIO=4&transport=streaming", false),
            Err(RequestError::BadHandshakeMethod)
        );
        assert_eq!(
            c(Method::GET, "EIO=3&transport=streaming", false),
            Err(RequestError::UnsupportedProtocolVersion)
        );
        let off = EngineConfig::default().streaming(false);
        assert_eq!(
            classify(&Method::GET, "EIO=4&transport=streaming", false, &off),
            Err(RequestError::UnknownTransport)
        );
    }

    #[test]
    fn rejections_in_reference_order() {
        use RequestError::*;
        assert_eq!(c(Method::GET, "EIO=4", false), Err(UnknownTransport));
        assert_eq!(
            c(Method::GET, "EIO=4&transport=abc", false),
            Err(UnknownTransport)
        );
        assert_eq!(
            c(Method::POST, "transport=abc", false),
            Err(UnknownTransport)
        );
        assert_eq!(
            c(Method::GET, "transport=polling", false),
            Err(UnsupportedProtocolVersion)
        );
        assert_eq!(
            c(Method::GET, "EIO=abc&transport=polling", false),
            Err(UnsupportedProtocolVersion)
        );
        assert_eq!(
            c(Method::GET, "EIO=3&transport=polling", false),
            Err(UnsupportedProtocolVersion)
        );
        assert_eq!(
            c(Method::POST, "EIO=4&transport=polling", false),
            Err(BadHandshakeMethod)
        );
        assert_eq!(
            c(Method::PUT, "EIO=4&transport=polling", false),
            Err(BadHandshakeMethod)
        );
        assert_eq!(
            c(Method::GET, "EIO=4&transport=websocket", false),
            Err(BadRequest)
        );
        assert_eq!(
            c(Method::GET, "EIO=4&transport=polling&sid=nope", false),
            Err(UnknownSid)
        );
        let q = format!("EIO=4&transport=polling&sid={SID}");
        assert_eq!(c(Method::PUT, &q, false), Err(BadRequest));
        assert_eq!(c(Method::GET, &q, true), Err(BadRequest));
        let sid = Sid::parse(SID).unwrap();
        assert_eq!(c(Method::GET, &q, false), Ok(EngineRequest::Poll(sid)));
        assert_eq!(c(Method::POST, &q, false), Ok(EngineRequest::Post(sid)));
        let q = format!("EIO=4&transport=websocket&sid={SID}");
        assert_eq!(c(Method::GET, &q, true), Ok(EngineRequest::Upgrade(sid)));
        assert_eq!(c(Method::GET, &q, false), Err(BadRequest));
    }

    #[test]
    fn disabled_transports_are_unknown() {
        let config = EngineConfig::default().websocket(false);
        assert_eq!(
            classify(&Method::GET, "EIO=4&transport=websocket", true, &config),
            Err(RequestError::UnknownTransport)
        );
        let config = EngineConfig::default().polling(false);
        assert_eq!(
            classify(&Method::GET, "EIO=4&transport=polling", false, &config),
            Err(RequestError::UnknownTransport)
        );
    }

    #[test]
    fn error_bodies_and_statuses() {
        assert_eq!(
            RequestError::UnknownTransport.body(),
            r#"{"code":0,"message":"Transport unknown"}"#
        );
        assert_eq!(
            RequestError::UnknownSid.body(),
            r#"{"code":1,"message":"Session ID unknown"}"#
        );
        assert_eq!(
            RequestError::BadHandshakeMethod.body(),
            r#"{"code":2,"message":"Bad handshake method"}"#
        );
        assert_eq!(
            RequestError::BadRequest.body(),
            r#"{"code":3,"message":"Bad request"}"#
        );
        assert_eq!(
            RequestError::Forbidden("Forbidden".into()).body(),
            r#"{"code":4,"message":"Forbidden"}"#
        );
        assert_eq!(
            RequestError::UnsupportedProtocolVersion.body(),
            r#"{"code":5,"message":"Unsupported protocol version"}"#
        );
        assert_eq!(
            RequestError::Forbidden("x".into()).status(),
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            RequestError::PayloadTooLarge.status(),
            StatusCode::PAYLOAD_TOO_LARGE
        );
        assert_eq!(
            RequestError::TooManySessions.status(),
            StatusCode::SERVICE_UNAVAILABLE
        );
        assert_eq!(RequestError::BadRequest.status(), StatusCode::BAD_REQUEST);
    }
}
