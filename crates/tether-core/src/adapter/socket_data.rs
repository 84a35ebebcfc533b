//! [`SocketData`]: what any node can learn about a socket (Socket.IO's `RemoteSocket` fields),
//! in the shape Node's adapters put on the wire.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::time::{SystemTime, UNIX_EPOCH};

use super::Room;
use crate::engine::{Handshake, Sid};

/// A socket as the nodes of a cluster describe it to each other: the answer to a fetch.
/// Serializes to the object Node's `fetchSockets` replies carry:
/// `{"id", "handshake", "rooms", "data"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SocketData {
    /// The socket id.
    pub id: Sid,
    /// The HTTP request that opened its connection, with its `auth`.
    pub handshake: HandshakeData,
    /// Its rooms (its own id among them).
    pub rooms: Vec<Room>,
    /// Its `data` (`null` unless set).
    #[serde(default)]
    pub data: Value,
}

/// The handshake of a socket, in Socket.IO's `socket.handshake` shape, so a Node node can read
/// it (and tether can read Node's).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct HandshakeData {
    /// Request headers, names lower-case; repeated headers joined with `", "`.
    #[serde(default)]
    pub headers: Map<String, Value>,
    /// When the connection opened, as JavaScript's `Date.toString()` writes it.
    #[serde(default)]
    pub time: String,
    /// The peer's IP address (empty when the server did not record it).
    #[serde(default)]
    pub address: String,
    /// Whether the request had an `Origin` header.
    #[serde(default)]
    pub xdomain: bool,
    /// Whether the request came over TLS (as far as this server knows).
    #[serde(default)]
    pub secure: bool,
    /// When the connection opened, in milliseconds since the Unix epoch.
    #[serde(default)]
    pub issued: u64,
    /// The request path and query.
    #[serde(default)]
    pub url: String,
    /// The query parameters, decoded.
    #[serde(default)]
    pub query: Map<String, Value>,
    /// The `auth` object of the socket's CONNECT.
    #[serde(default)]
    pub auth: Value,
}

impl HandshakeData {
    /// The record of `handshake` for a socket whose CONNECT carried `auth` (raw JSON; anything
    /// that is not valid JSON becomes `{}`).
    pub fn new(handshake: &Handshake, auth: &str) -> HandshakeData {
        let mut headers = Map::new();
        for name in handshake.headers.keys() {
            let joined = handshake
                .headers
                .get_all(name)
                .iter()
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                .collect::<Vec<_>>()
                .join(", ");
            headers.insert(name.as_str().to_owned(), Value::String(joined));
        }
        let query = handshake
            .uri
            .query()
            .map(|q| {
                form_urlencoded::parse(q.as_bytes())
                    .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
                    .collect()
            })
            .unwrap_or_default();
        let issued = handshake
            .issued
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        HandshakeData {
            time: js_date_string(handshake.issued),
            address: handshake
                .remote_addr
                .map(|a| a.ip().to_string())
                .unwrap_or_default(),
            xdomain: handshake.headers.contains_key(http::header::ORIGIN),
            secure: handshake.uri.scheme_str() == Some("https"),
            issued,
            url: handshake.uri.to_string(),
            query,
            auth: serde_json::from_str(auth).unwrap_or_else(|_| Value::Object(Map::new())),
            headers,
        }
    }
}

/// `time` as JavaScript's `Date.prototype.toString()` writes it in UTC:
/// `Tue Dec 01 2026 18:16:28 GMT+0000 (Coordinated Universal Time)`.
pub fn js_date_string(time: SystemTime) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let secs = time
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX / 2));
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (year, month, day) = civil_from_days(days);
    format!(
        "{} {} {:02} {:04} {:02}:{:02}:{:02} GMT+0000 (Coordinated Universal Time)",
        DAYS[days.rem_euclid(7) as usize],
        MONTHS[(month - 1) as usize],
        day,
        year,
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// A time in milliseconds since the Unix epoch as JavaScript's `Date.prototype.toISOString()`
/// writes it (`2023-11-14T22:13:20.123Z`; years past 9999 or before 0 get a sign and six
/// digits, as JavaScript's do). What Node sends a client for a `Date` argument.
pub fn js_iso_string(ms: i64) -> String {
    let (secs, milli) = (ms.div_euclid(1000), ms.rem_euclid(1000));
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (year, month, day) = civil_from_days(days);
    let year = if (0..=9999).contains(&year) {
        format!("{year:04}")
    } else if year < 0 {
        format!("-{:06}", -year)
    } else {
        format!("+{year:06}")
    };
    format!(
        "{year}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{milli:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's
/// `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn dates_read_as_javascript_writes_them() {
        // Values checked with node: new Date(ms).toString() under TZ=UTC.
        let at = |ms: u64| js_date_string(UNIX_EPOCH + Duration::from_millis(ms));
        assert_eq!(
            at(1_796_148_988_679),
            "Tue Dec 01 2026 18:16:28 GMT+0000 (Coordinated Universal Time)"
        );
        assert_eq!(
            at(0),
            "Thu Jan 01 1970 00:00:00 GMT+0000 (Coordinated Universal Time)"
        );
        assert_eq!(
            at(951_782_400_000),
            "Tue Feb 29 2000 00:00:00 GMT+0000 (Coordinated Universal Time)"
        );
        // Values checked with node: new Date(ms).toISOString().
        assert_eq!(js_iso_string(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
        assert_eq!(js_iso_string(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(js_iso_string(-1), "1969-12-31T23:59:59.999Z");
        assert_eq!(
            js_iso_string(253_402_300_800_000),
            "+010000-01-01T00:00:00.000Z"
        );
    }

    #[test]
    fn reads_what_node_sends() {
        // A socket of a Node fetchSockets reply, as captured (research/redis-wire.md 2.4).
        let node = r#"{"id":"FER5LlZ6vsNwD9v2AAAB","handshake":{"headers":{"host":"127.0.0.1:3001","set-cookie":["a=1","b=2"]},"time":"Tue Dec 01 2026 18:16:28 GMT+0000 (Coordinated Universal Time)","address":"127.0.0.1","xdomain":false,"secure":false,"issued":1796148988679,"url":"/socket.io/?EIO=4&transport=websocket","query":{"EIO":"4","transport":"websocket"},"auth":{"name":"cb"}},"rooms":["FER5LlZ6vsNwD9v2AAAB","room2"],"data":{"hello":"world"}}"#;
        let socket: SocketData = serde_json::from_str(node).expect("Node's shape reads");
        assert_eq!(socket.id.as_str(), "FER5LlZ6vsNwD9v2AAAB");
        assert_eq!(
            socket.rooms,
            [Room::from("FER5LlZ6vsNwD9v2AAAB"), Room::from("room2")]
        );
        assert_eq!(socket.data, serde_json::json!({ "hello": "world" }));
        assert_eq!(socket.handshake.issued, 1_796_148_988_679);
        assert_eq!(socket.handshake.auth, serde_json::json!({ "name": "cb" }));
        assert_eq!(
            socket.handshake.headers["set-cookie"],
            serde_json::json!(["a=1", "b=2"])
        );
        // A socket without data, and one whose id is not a socket id.
        let bare = r#"{"id":"FER5LlZ6vsNwD9v2AAAB","handshake":{},"rooms":[]}"#;
        let bare: SocketData = serde_json::from_str(bare).expect("defaults fill in");
        assert_eq!(bare.data, Value::Null);
        let bad = r#"{"id":"nope","handshake":{},"rooms":[]}"#;
        assert!(serde_json::from_str::<SocketData>(bad).is_err());
    }

    #[test]
    fn handshake_in_node_shape() {
        let mut headers = http::HeaderMap::new();
        headers.insert("origin", "http://a.test".parse().expect("value"));
        headers.append("x-many", "1".parse().expect("value"));
        headers.append("x-many", "2".parse().expect("value"));
        let uri = "/socket.io/?EIO=4&transport=polling&name=a%20b+c"
            .parse()
            .expect("uri");
        let hs = Handshake::new(&headers, &uri, Some("127.0.0.1:9".parse().expect("addr")))
            .expect("small");
        let data = HandshakeData::new(&hs, r#"{"token":1}"#);
        let json = serde_json::to_value(&data).expect("serializes");
        assert_eq!(json["headers"]["x-many"], "1, 2");
        assert_eq!(json["xdomain"], true);
        assert_eq!(json["address"], "127.0.0.1");
        assert_eq!(json["query"]["name"], "a b c");
        assert_eq!(json["query"]["EIO"], "4");
        assert_eq!(json["auth"]["token"], 1);
        assert_eq!(
            json["url"],
            "/socket.io/?EIO=4&transport=polling&name=a%20b+c"
        );
        assert!(
            json["issued"]
                .as_u64()
                .is_some_and(|ms| ms > 1_700_000_000_000)
        );
        assert_eq!(
            HandshakeData::new(&hs, "not json").auth,
            serde_json::json!({})
        );
        let back: HandshakeData = serde_json::from_value(json).expect("reads back");
        assert_eq!(back, data);
    }
}
