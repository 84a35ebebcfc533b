//! What the HTTP side adds to the engine's settings: where it is mounted, who may call it.

use http::HeaderValue;
use std::fmt;

use crate::gate::{AllowRequest, HandshakeLimit};

/// HTTP-level settings of a mounted engine.
#[derive(Clone)]
pub(crate) struct HttpConfig {
    /// The mount path with a trailing slash, e.g. `/socket.io/`.
    pub(crate) path: String,
    /// Origins allowed to open sessions; `None` allows any.
    pub(crate) origins: Option<Vec<HeaderValue>>,
    /// Decides whether a handshake may open a session.
    pub(crate) allow_request: Option<AllowRequest>,
    /// Handshakes per remote address.
    pub(crate) handshake_limit: Option<HandshakeLimit>,
    /// Whether the bundled client is served under the path.
    pub(crate) serve_client: bool,
    /// WebSocket read buffer per connection, in bytes.
    pub(crate) ws_read_buffer: usize,
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

impl HttpConfig {
    /// Whether a request path belongs to the engine: the mount path, with or without its slash.
    pub(crate) fn matches(&self, path: &str) -> bool {
        path.starts_with(&self.path) || path == self.path.trim_end_matches('/')
    }

    /// Requests without an `Origin` header (not from a browser) are always allowed.
    pub(crate) fn origin_allowed(&self, origin: Option<&HeaderValue>) -> bool {
        match (&self.origins, origin) {
            (Some(list), Some(origin)) => list.iter().any(|o| o == origin),
            _ => true,
        }
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
            origins: None,
            allow_request: None,
            handshake_limit: None,
            serve_client: true,
            ws_read_buffer: 4096,
        };
        assert!(c.matches("/socket.io/"));
        assert!(c.matches("/socket.io"));
        assert!(c.matches("/socket.io/tether.js"));
        assert!(!c.matches("/socket.iox"));
        assert!(!c.matches("/"));
    }

    #[test]
    fn origins() {
        let c = HttpConfig {
            path: "/".into(),
            origins: Some(vec![HeaderValue::from_static("https://a.example")]),
            allow_request: None,
            handshake_limit: None,
            serve_client: true,
            ws_read_buffer: 4096,
        };
        assert!(c.origin_allowed(None));
        assert!(c.origin_allowed(Some(&HeaderValue::from_static("https://a.example"))));
        assert!(!c.origin_allowed(Some(&HeaderValue::from_static("https://b.example"))));
    }
}
