//! A socket as the UI reads it (`SerializedSocket`): id, `clientId` (the first 12 characters of
//! the Engine.IO session id: the UI groups sockets into clients by it), transport, namespace,
//! data, the handshake (address, headers, query, `issued` in epoch ms, secure, time, url,
//! xdomain; never `auth`) and the rooms.
//!
//! Layer: pure functions over the core's socket types.

use serde_json::{Map, Value, json};
use tether_core::adapter::HandshakeData;
use tether_core::socket::{RemoteSocket, Socket};

/// A socket of this node.
pub(crate) fn local(socket: &Socket) -> Value {
    let handshake = HandshakeData::new(socket.handshake(), "{}");
    let client_id: String = socket.conn().sid().as_str().chars().take(12).collect();
    let rooms: Vec<String> = socket.rooms().iter().map(|r| r.to_string()).collect();
    shape(
        socket.id().as_str(),
        &client_id,
        socket.transport().as_str(),
        socket.ns(),
        socket.data_value(),
        &handshake,
        rooms,
    )
}

/// A socket another node described (`fetch_sockets`): its client id and transport as a Node
/// node's admin records them in `data._admin`, else what can be said without them.
pub(crate) fn remote(socket: &RemoteSocket) -> Value {
    let data = socket.data_value().clone();
    let admin = data.get("_admin");
    let client_id = admin
        .and_then(|a| a.get("clientId"))
        .and_then(Value::as_str)
        .map_or_else(
            || socket.id().as_str().chars().take(12).collect(),
            str::to_owned,
        );
    let transport = admin
        .and_then(|a| a.get("transport"))
        .and_then(Value::as_str)
        .unwrap_or("unknown")
        .to_owned();
    let rooms = socket.rooms().iter().map(|r| r.to_string()).collect();
    shape(
        socket.id().as_str(),
        &client_id,
        &transport,
        socket.ns(),
        data,
        socket.handshake(),
        rooms,
    )
}

fn shape(
    id: &str,
    client_id: &str,
    transport: &str,
    nsp: &str,
    data: Value,
    handshake: &HandshakeData,
    rooms: Vec<String>,
) -> Value {
    json!({
        "id": id,
        "clientId": client_id,
        "transport": transport,
        "nsp": nsp,
        "data": without_admin(data),
        "handshake": {
            "address": address(handshake),
            "headers": handshake.headers,
            "query": handshake.query,
            "issued": handshake.issued,
            "secure": handshake.secure,
            "time": handshake.time,
            "url": handshake.url,
            "xdomain": handshake.xdomain,
        },
        "rooms": rooms,
    })
}

/// The client's address as the UI shows it: a proxy's `cf-connecting-ip` or
/// `x-forwarded-for` first, else the peer's.
fn address(handshake: &HandshakeData) -> String {
    ["cf-connecting-ip", "x-forwarded-for"]
        .iter()
        .find_map(|h| handshake.headers.get(*h).and_then(Value::as_str))
        .map_or_else(|| handshake.address.clone(), str::to_owned)
}

/// The socket's data as the UI shows it: an object (`{}` when unset), without Node's
/// bookkeeping key `_admin`.
pub(crate) fn without_admin(data: Value) -> Value {
    match data {
        Value::Null => Value::Object(Map::new()),
        Value::Object(mut map) => {
            map.remove("_admin");
            Value::Object(map)
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_is_an_object_without_admin_bookkeeping() {
        assert_eq!(without_admin(Value::Null), json!({}));
        assert_eq!(
            without_admin(json!({"_admin": {"clientId": "x"}, "user": "ada"})),
            json!({"user": "ada"})
        );
        assert_eq!(without_admin(json!("text")), json!("text"));
    }

    #[test]
    fn a_proxys_address_comes_first() {
        let mut handshake = HandshakeData {
            address: "127.0.0.1".to_owned(),
            ..HandshakeData::default()
        };
        assert_eq!(address(&handshake), "127.0.0.1");
        handshake
            .headers
            .insert("x-forwarded-for".to_owned(), json!("10.0.0.1"));
        assert_eq!(address(&handshake), "10.0.0.1");
        handshake
            .headers
            .insert("cf-connecting-ip".to_owned(), json!("192.0.2.7"));
        assert_eq!(address(&handshake), "192.0.2.7");
    }
}
