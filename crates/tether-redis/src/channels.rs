//! The channel names of the classic adapter, per namespace `N` and prefix `key` (default
//! `socket.io`): broadcasts on `key#N#` (or `key#N#room#` when exactly one room is targeted),
//! matched by the pattern `key#N#*`; requests on `key-request#N#`; answers on `key-response#N#`
//! or, per requester, `key-response#N#uid#`. Namespaces go in as they are, unescaped, as Node
//! writes them.

/// The default prefix, Node's `key` option.
pub const DEFAULT_PREFIX: &str = "socket.io";

/// The channels of one namespace under one prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Channels {
    broadcast: String,
    request: String,
    response: String,
}

impl Channels {
    /// The channels of namespace `nsp` under `prefix`.
    pub fn new(prefix: &str, nsp: &str) -> Channels {
        Channels {
            broadcast: format!("{prefix}#{nsp}#"),
            request: format!("{prefix}-request#{nsp}#"),
            response: format!("{prefix}-response#{nsp}#"),
        }
    }

    /// Where a broadcast to every room, or to several, goes.
    pub fn broadcast(&self) -> &str {
        &self.broadcast
    }

    /// Where a broadcast to exactly one room goes.
    pub fn room(&self, room: &str) -> String {
        format!("{}{room}#", self.broadcast)
    }

    /// The pattern every node subscribes to for broadcasts (`PSUBSCRIBE`).
    pub fn pattern(&self) -> String {
        format!("{}*", self.broadcast)
    }

    /// Where requests go; `PUBSUB NUMSUB` of it counts the nodes.
    pub fn request(&self) -> &str {
        &self.request
    }

    /// Where answers go by default.
    pub fn response(&self) -> &str {
        &self.response
    }

    /// Where answers to requester `uid` go with `publishOnSpecificResponseChannel`.
    pub fn response_for(&self, uid: &str) -> String {
        format!("{}{uid}#", self.response)
    }

    /// The room a broadcast channel names: `Some("")` for the plain channel, `Some(room)` for
    /// a room channel, `None` for a channel of another namespace or prefix.
    pub fn room_of<'c>(&self, channel: &'c str) -> Option<&'c str> {
        let rest = channel.strip_prefix(self.broadcast.as_str())?;
        if rest.is_empty() {
            return Some("");
        }
        rest.strip_suffix('#')
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_as_node_writes_them() {
        let main = Channels::new(DEFAULT_PREFIX, "/");
        assert_eq!(main.broadcast(), "socket.io#/#");
        assert_eq!(main.room("room2"), "socket.io#/#room2#");
        assert_eq!(main.pattern(), "socket.io#/#*");
        assert_eq!(main.request(), "socket.io-request#/#");
        assert_eq!(main.response(), "socket.io-response#/#");
        assert_eq!(main.response_for("0AhEXa"), "socket.io-response#/#0AhEXa#");
        let chat = Channels::new("app", "/chat");
        assert_eq!(chat.room("a#b"), "app#/chat#a#b#");
    }

    #[test]
    fn rooms_read_back_from_channels() {
        let main = Channels::new(DEFAULT_PREFIX, "/");
        assert_eq!(main.room_of("socket.io#/#"), Some(""));
        assert_eq!(main.room_of("socket.io#/#room2#"), Some("room2"));
        assert_eq!(main.room_of("socket.io#/#a#b#"), Some("a#b"));
        assert_eq!(main.room_of("socket.io#/chat#"), None);
        assert_eq!(main.room_of("socket.io#/#unterminated"), None);
        assert_eq!(main.room_of("other#/#"), None);
    }
}
