//! What the HTTP side adds to the engine's settings: where it is mounted, who may call it.

use http::header::{HOST, ORIGIN};
use http::{HeaderMap, HeaderValue};
use std::fmt;

use crate::gate::{AllowRequest, HandshakeLimit};

/// Which web pages may use the engine from a browser. One list serves both transports: it
/// answers CORS for HTTP long-polling and checks the `Origin` of WebSocket upgrades (browsers
/// apply no CORS to WebSocket, so without the check any site could open a WebSocket with its
/// visitors' cookies). A request without an `Origin` header (not from a browser) is always
/// allowed; a refused one gets 403 with Engine.IO code 4.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum AllowedOrigins {
    /// Only pages from the host they connect to: the `Origin` names the request's `Host` (or
    /// `X-Forwarded-Host`, set by a reverse proxy that rewrites `Host`). No CORS headers. The
    /// default.
    #[default]
    SameOrigin,
    /// Pages from anywhere: CORS answers `*`.
    Any,
    /// Pages from these origins (exactly as browsers send them, e.g. `https://app.example`),
    /// and same-origin pages: CORS answers them, with credentials.
    List(Vec<HeaderValue>),
}

impl AllowedOrigins {
    /// Whether a request with these headers may proceed.
    pub(crate) fn allows(&self, headers: &HeaderMap) -> bool {
        let Some(origin) = headers.get(ORIGIN) else {
            return true;
        };
        match self {
            AllowedOrigins::Any => true,
            AllowedOrigins::SameOrigin => same_origin(origin, headers),
            AllowedOrigins::List(list) => list.contains(origin) || same_origin(origin, headers),
        }
    }
}

/// Whether `origin` (`scheme://host[:port]`) names the host the request was sent to.
fn same_origin(origin: &HeaderValue, headers: &HeaderMap) -> bool {
    let Some((scheme, authority)) = origin.to_str().ok().and_then(|o| o.split_once("://")) else {
        // `null` (a sandboxed or file page) and anything else that is not an origin.
        return false;
    };
    let want = authority_key(scheme, authority);
    let forwarded = headers
        .get("x-forwarded-host")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next());
    [headers.get(HOST).and_then(|v| v.to_str().ok()), forwarded]
        .into_iter()
        .flatten()
        .any(|host| authority_key(scheme, host.trim()) == want)
}

/// `host[:port]` lower-cased, without the scheme's default port.
fn authority_key(scheme: &str, authority: &str) -> String {
    let authority = authority.to_ascii_lowercase();
    let default = match scheme.to_ascii_lowercase().as_str() {
        "http" | "ws" => ":80",
        "https" | "wss" => ":443",
        _ => "",
    };
    match authority.strip_suffix(default) {
        Some(bare) if !default.is_empty() => bare.to_owned(),
        _ => authority,
    }
}

/// HTTP-level settings of a mounted engine.
#[derive(Clone)]
pub(crate) struct HttpConfig {
    /// The mount path with a trailing slash, e.g. `/socket.io/`.
    pub(crate) path: String,
    /// Which browser origins may use the engine.
    pub(crate) origins: AllowedOrigins,
    /// Decides whether a handshake may open a session.
    pub(crate) allow_request: Option<AllowRequest>,
    /// Handshakes per remote address.
    pub(crate) handshake_limit: Option<HandshakeLimit>,
    /// Whether the bundled client is served under the path.
    pub(crate) serve_client: bool,
    /// WebSocket read buffer per connection, in bytes; `None`: by the connection (see
    /// [`HttpConfig::ws_read_buffer_for`]).
    pub(crate) ws_read_buffer: Option<usize>,
}

impl fmt::Debug for HttpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpConfig")
            .field("path", &self.path)
            .field("origins", &self.origins)
            .field("allow_request", &self.allow_request.is_some())
            .field("handshake_limit", &self.handshake_limit)
            .field("serve_client", &self.serve_client)
            .field("ws_read_buffer", &self.ws_read_buffer)
            .finish()
    }
}

/// The default WebSocket read buffer: 4 KiB. tungstenite's own default (128 KiB) is zero-filled
/// up front and resident for every idle connection.
pub const DEFAULT_WS_READ_BUFFER: usize = 4096;

/// The default WebSocket read buffer on a connection that reads ahead (every connection of
/// [`crate::serve`], see [`crate::ReadAhead`]): 512 bytes. A large message still takes few
/// system calls, served from the connection's read-ahead. The buffer grows to the largest
/// message the connection receives (tungstenite keeps it), so only connections that never
/// receive more than 512 bytes stay at 512.
pub const DEFAULT_WS_READ_BUFFER_READ_AHEAD: usize = 512;

impl HttpConfig {
    /// The read buffer of a WebSocket on a connection that reads ahead or not.
    pub(crate) fn ws_read_buffer_for(&self, reads_ahead: bool) -> usize {
        self.ws_read_buffer.unwrap_or(match reads_ahead {
            true => DEFAULT_WS_READ_BUFFER_READ_AHEAD,
            false => DEFAULT_WS_READ_BUFFER,
        })
    }

    /// Whether a request path belongs to the engine: the mount path, with or without its slash.
    pub(crate) fn matches(&self, path: &str) -> bool {
        path.starts_with(&self.path) || path == self.path.trim_end_matches('/')
    }

    /// Whether a request with these headers may use the engine (see [`AllowedOrigins`]).
    pub(crate) fn origin_allowed(&self, headers: &HeaderMap) -> bool {
        self.origins.allows(headers)
    }
}

/// Normalises a mount path to `/name/`.
pub(crate) fn normalize_path(path: &str) -> String {
    let trimmed = path.trim_matches('/');
    if trimmed.is_empty() {
        "/".to_owned()
    } else {
        format!("/{trimmed}/")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(normalize_path("socket.io"), "/socket.io/");
        assert_eq!(normalize_path("/engine.io/"), "/engine.io/");
        assert_eq!(normalize_path("/"), "/");
        let c = HttpConfig {
            path: "/socket.io/".into(),
            origins: AllowedOrigins::SameOrigin,
            allow_request: None,
            handshake_limit: None,
            serve_client: true,
            ws_read_buffer: None,
        };
        assert!(c.matches("/socket.io/"));
        assert!(c.matches("/socket.io"));
        assert!(c.matches("/socket.io/tether.js"));
        assert!(!c.matches("/socket.iox"));
        assert!(!c.matches("/"));
        assert_eq!(c.ws_read_buffer_for(true), 512);
        assert_eq!(c.ws_read_buffer_for(false), 4096);
        let set = HttpConfig {
            ws_read_buffer: Some(2048),
            ..c
        };
        assert_eq!(set.ws_read_buffer_for(true), 2048, "a chosen size wins");
        assert_eq!(set.ws_read_buffer_for(false), 2048);
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| {
                (
                    http::header::HeaderName::from_static(k),
                    HeaderValue::from_static(v),
                )
            })
            .collect()
    }

    #[test]
    fn same_origin_is_the_host_or_the_forwarded_host() {
        let same = AllowedOrigins::SameOrigin;
        assert!(
            same.allows(&headers(&[("host", "a.example")])),
            "no Origin: not a browser"
        );
        assert!(same.allows(&headers(&[
            ("origin", "https://a.example"),
            ("host", "a.example")
        ])));
        assert!(same.allows(&headers(&[
            ("origin", "http://A.example:3000"),
            ("host", "a.example:3000")
        ])));
        assert!(same.allows(&headers(&[
            ("origin", "https://a.example"),
            ("host", "a.example:443")
        ])));
        assert!(!same.allows(&headers(&[
            ("origin", "https://a.example"),
            ("host", "a.example:3000")
        ])));
        assert!(!same.allows(&headers(&[
            ("origin", "https://evil.example"),
            ("host", "a.example")
        ])));
        assert!(!same.allows(&headers(&[("origin", "null"), ("host", "a.example")])));
        // Behind a proxy that sends the backend's address as Host.
        assert!(same.allows(&headers(&[
            ("origin", "https://a.example"),
            ("host", "127.0.0.1:3000"),
            ("x-forwarded-host", "a.example"),
        ])));
    }

    #[test]
    fn a_list_allows_its_origins_and_same_origin_pages_and_any_allows_all() {
        let list = AllowedOrigins::List(vec![HeaderValue::from_static("https://app.example")]);
        let from = |origin| headers(&[("origin", origin), ("host", "api.example")]);
        assert!(list.allows(&from("https://app.example")));
        assert!(list.allows(&from("https://api.example")));
        assert!(!list.allows(&from("https://evil.example")));
        assert!(AllowedOrigins::Any.allows(&from("https://evil.example")));
    }
}
