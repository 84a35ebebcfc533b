//! The bundled browser client, served by the layer at `<path>tether.js`, `<path>tether.min.js`
//! and `<path>tether.min.js.map`: embedded in the binary, pre-compressed (brotli and gzip), with
//! a content-hash ETag, 304 on `If-None-Match`, `Vary: Accept-Encoding` and `Content-Length`.

use axum::body::Body;
use axum::response::Response;
use http::header::{
    ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, ETAG,
    IF_NONE_MATCH, VARY,
};
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use std::sync::OnceLock;

/// One embedded file in its encodings.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    identity: &'static [u8],
    gzip: Option<&'static [u8]>,
    brotli: Option<&'static [u8]>,
}

static ASSETS: [Asset; 3] = [
    Asset {
        name: "tether.js",
        content_type: "application/javascript; charset=utf-8",
        identity: include_bytes!("../../../client-js/dist/tether.js"),
        gzip: Some(include_bytes!("../../../client-js/dist/tether.js.gz")),
        brotli: Some(include_bytes!("../../../client-js/dist/tether.js.br")),
    },
    Asset {
        name: "tether.min.js",
        content_type: "application/javascript; charset=utf-8",
        identity: include_bytes!("../../../client-js/dist/tether.min.js"),
        gzip: Some(include_bytes!("../../../client-js/dist/tether.min.js.gz")),
        brotli: Some(include_bytes!("../../../client-js/dist/tether.min.js.br")),
    },
    Asset {
        name: "tether.min.js.map",
        content_type: "application/json; charset=utf-8",
        identity: include_bytes!("../../../client-js/dist/tether.min.js.map"),
        gzip: None,
        brotli: None,
    },
];

/// FNV-1a over the file: stable for a given build, changes whenever the file does.
fn hash(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn etags() -> &'static [String; 3] {
    static ETAGS: OnceLock<[String; 3]> = OnceLock::new();
    ETAGS.get_or_init(|| {
        ASSETS
            .each_ref()
            .map(|a| format!("{:016x}", hash(a.identity)))
    })
}

/// Whether the client accepts `coding` (present and not `q=0`).
fn accepts(headers: &HeaderMap, coding: &str) -> bool {
    headers.get_all(ACCEPT_ENCODING).iter().any(|v| {
        v.to_str().is_ok_and(|v| {
            v.split(',').any(|item| {
                let mut parts = item.split(';').map(str::trim);
                parts.next().is_some_and(|c| c.eq_ignore_ascii_case(coding))
                    && !parts.any(|p| {
                        p.strip_prefix("q=")
                            .and_then(|q| q.trim().parse::<f32>().ok())
                            .is_some_and(|q| q <= 0.0)
                    })
            })
        })
    })
}

/// The response for `file` (a name under the mount path), or `None` if it is not ours.
pub(crate) fn serve(file: &str, method: &Method, headers: &HeaderMap) -> Option<Response> {
    let index = ASSETS.iter().position(|a| a.name == file)?;
    let asset = &ASSETS[index];
    let (coding, bytes) = match (asset.brotli, asset.gzip) {
        (Some(br), _) if accepts(headers, "br") => (Some("br"), br),
        (_, Some(gz)) if accepts(headers, "gzip") => (Some("gzip"), gz),
        _ => (None, asset.identity),
    };
    let etag = format!(
        "\"{}{}\"",
        etags()[index],
        coding.map(|c| format!(".{c}")).unwrap_or_default()
    );
    let not_modified = headers.get_all(IF_NONE_MATCH).iter().any(|v| {
        v.to_str().is_ok_and(|v| {
            v.trim() == "*"
                || v.split(',')
                    .any(|t| t.trim().trim_start_matches("W/") == etag)
        })
    });
    let mut res = if not_modified {
        let mut res = Response::new(Body::empty());
        *res.status_mut() = StatusCode::NOT_MODIFIED;
        res
    } else if *method == Method::HEAD {
        Response::new(Body::empty())
    } else {
        Response::new(Body::from(bytes))
    };
    let h = res.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static(asset.content_type));
    h.insert(VARY, HeaderValue::from_static("Accept-Encoding"));
    h.insert(
        CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=0, must-revalidate"),
    );
    if let Ok(value) = HeaderValue::from_str(&etag) {
        h.insert(ETAG, value);
    }
    if let Some(coding) = coding {
        h.insert(CONTENT_ENCODING, HeaderValue::from_static(coding));
    }
    if !not_modified {
        h.insert(CONTENT_LENGTH, HeaderValue::from(bytes.len()));
    }
    Some(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.append(*k, HeaderValue::from_static(v));
        }
        map
    }

    #[test]
    fn accept_encoding_parsing() {
        assert!(accepts(
            &h(&[("accept-encoding", "gzip, deflate, br")]),
            "br"
        ));
        assert!(accepts(&h(&[("accept-encoding", "GZIP")]), "gzip"));
        assert!(!accepts(&h(&[("accept-encoding", "gzip;q=0")]), "gzip"));
        assert!(accepts(&h(&[("accept-encoding", "gzip;q=0.5")]), "gzip"));
        assert!(!accepts(&h(&[("accept-encoding", "gzip;q=0.0")]), "gzip"));
        assert!(!accepts(&h(&[("accept-encoding", "gzip")]), "br"));
        assert!(!accepts(&HeaderMap::new(), "gzip"));
    }

    #[test]
    fn unknown_files_are_not_served() {
        assert!(serve("nope.js", &Method::GET, &HeaderMap::new()).is_none());
    }
}
