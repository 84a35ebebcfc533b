//! Connection state recovery on Redis, the wire (the lowest module: it names no other): key and channel names, offsets (stream ids
//! written at a fixed width), the placeholder an offset replaces, and the Lua scripts.
//!
//! A recoverable broadcast is one script call: `XADD` to the namespace's stream, then the
//! same message, the placeholder replaced by the entry's id, `PUBLISH`ed on the channel Node's
//! adapter uses. Both happen in one step of Redis, so every subscriber sees the messages in
//! stream order, and the offset is Redis's own: one order for the whole cluster.
//!
//! ```
//! use tether_redis::recovery_wire::{Keys, StreamId};
//! let id = StreamId::parse("1700000000123-7").unwrap();
//! assert_eq!(&*id.offset(), "1700000000123-000007"); // what a client gets, fixed width
//! assert_eq!(Keys::new("socket.io", "/").session("pid1"), "socket.io-session#/#pid1");
//! ```

use bytestring::ByteString;

/// Entries one `XRANGE` of a restore reads.
pub const BATCH: usize = 500;
/// The most entries a restore reads; a client that missed more starts afresh.
pub const MAX_REPLAY: usize = 20_000;

/// Bytes of an offset: 13 digits of milliseconds, `-`, 6 digits of sequence.
pub const OFFSET_LEN: usize = 20;

/// A stream id: milliseconds and sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct StreamId(
    /// Milliseconds.
    pub u64,
    /// Sequence within the millisecond.
    pub u64,
);

impl StreamId {
    /// As Redis writes it (`1700000000000-0`).
    pub fn to_redis(self) -> String {
        format!("{}-{}", self.0, self.1)
    }

    /// As clients get it: fixed width, so the script can put it in place of the placeholder.
    pub fn offset(self) -> ByteString {
        format!("{:013}-{:06}", self.0, self.1).into()
    }

    /// Reads an offset or a Redis id.
    pub fn parse(text: &str) -> Option<StreamId> {
        let (ms, seq) = text.split_once('-')?;
        if ms.is_empty()
            || seq.is_empty()
            || !ms.bytes().chain(seq.bytes()).all(|b| b.is_ascii_digit())
        {
            return None;
        }
        Some(StreamId(ms.parse().ok()?, seq.parse().ok()?))
    }

    /// Whether `text` is an offset as this module writes them.
    pub fn is_offset(text: &str) -> bool {
        text.len() == OFFSET_LEN && text.as_bytes()[13] == b'-' && StreamId::parse(text).is_some()
    }
}

/// The names recovery uses, for one namespace.
#[derive(Debug, Clone)]
pub struct Keys {
    /// Sessions are `<session>#<pid>`.
    session: String,
    /// The namespace's stream of recoverable packets.
    pub stream: String,
    /// Where a node asks the node that holds a stale copy of a socket to evict it.
    pub evict: String,
}

impl Keys {
    /// The names for namespace `nsp` under `prefix`.
    pub fn new(prefix: &str, nsp: &str) -> Keys {
        Keys {
            session: format!("{prefix}-session#{nsp}"),
            stream: format!("{prefix}-stream#{nsp}#"),
            evict: format!("{prefix}-evict#{nsp}#"),
        }
    }

    /// The hash of session `pid`.
    pub fn session(&self, pid: &str) -> String {
        format!("{}#{pid}", self.session)
    }

    /// Node `uid`'s own channel for this namespace: recoverable packets for this node only
    /// (a `local` broadcast).
    pub fn own(&self, prefix: &str, nsp: &str, uid: &str) -> String {
        format!("{prefix}-own#{nsp}#{uid}#")
    }
}

/// A random placeholder of [`OFFSET_LEN`] characters that no user data holds by chance.
pub fn placeholder() -> String {
    let mut raw = [0u8; OFFSET_LEN];
    let _ = getrandom::fill(&mut raw);
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    raw.iter()
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect()
}

/// Where the placeholder's bytes start in `message` (its last occurrence: it is the event's
/// last argument, and only the options follow).
pub fn placeholder_at(message: &[u8], placeholder: &str) -> Option<usize> {
    let needle = placeholder.as_bytes();
    message.windows(needle.len()).rposition(|w| w == needle)
}

/// `message` with the bytes at `at` replaced by `id`'s offset (what the script does).
pub fn with_offset(message: &[u8], at: usize, id: StreamId) -> Option<Vec<u8>> {
    let end = at.checked_add(OFFSET_LEN)?;
    if end > message.len() {
        return None;
    }
    let mut out = message.to_vec();
    out[at..end].copy_from_slice(id.offset().as_bytes());
    Some(out)
}

/// `XADD` then `PUBLISH` with the id in place. `KEYS[1]` the stream; `ARGV`: the message, the
/// placeholder's 0-based byte index, the channel, the oldest id to keep (`MINID ~`).
pub const RECORD: &str = r#"
local id = redis.call('XADD', KEYS[1], 'MINID', '~', ARGV[4], '*', 'm', ARGV[1], 'i', ARGV[2])
local ms, seq = string.match(id, '^(%d+)-(%d+)$')
if #ms > 13 or #seq > 6 then return redis.error_reply('stream id too wide for an offset') end
local offset = string.rep('0', 13 - #ms) .. ms .. '-' .. string.rep('0', 6 - #seq) .. seq
local at = tonumber(ARGV[2])
local msg = string.sub(ARGV[1], 1, at) .. offset .. string.sub(ARGV[1], at + 21)
redis.call('PUBLISH', ARGV[3], msg)
return id
"#;

/// Claims a session for this node: `KEYS[1]` the session; `ARGV`: this node's uid, the TTL in
/// ms. Returns false when there is none, else `{previous owner, new epoch, sid, rooms (JSON),
/// data (JSON), base, left}`; the epoch goes up by one, so the previous owner's later writes
/// are refused.
pub const CLAIM: &str = r#"
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local owner = redis.call('HGET', KEYS[1], 'owner') or ''
local epoch = redis.call('HINCRBY', KEYS[1], 'epoch', 1)
redis.call('HSET', KEYS[1], 'owner', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
local f = redis.call('HMGET', KEYS[1], 'sid', 'rooms', 'data', 'base', 'left')
return {owner, tostring(epoch), f[1] or '', f[2] or '[]', f[3] or 'null', f[4] or '', f[5] or '0'}
"#;

/// Writes a session if its epoch is still `ARGV[1]` (or creates it when `ARGV[1]` is `new`):
/// `KEYS[1]` the session; `ARGV`: epoch, TTL in ms, then field, value pairs.
pub const WRITE: &str = r#"
if ARGV[1] == 'new' then
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[1], 'epoch', '0')
elseif redis.call('HGET', KEYS[1], 'epoch') ~= ARGV[1] then
  return 0
end
for i = 3, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
"#;

/// Deletes a session if its epoch is still `ARGV[1]`.
pub const FORGET: &str = r#"
if redis.call('HGET', KEYS[1], 'epoch') == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_the_prefix_and_the_namespace() {
        let keys = Keys::new("socket.io", "/chat");
        assert_eq!(keys.stream, "socket.io-stream#/chat#");
        assert_eq!(keys.evict, "socket.io-evict#/chat#");
        assert_eq!(keys.session("abc"), "socket.io-session#/chat#abc");
        assert_eq!(
            keys.own("socket.io", "/chat", "u1"),
            "socket.io-own#/chat#u1#"
        );
    }

    #[test]
    fn offsets_have_a_fixed_width_and_read_back() {
        let id = StreamId(1_700_000_000_123, 7);
        assert_eq!(&*id.offset(), "1700000000123-000007");
        assert_eq!(id.offset().len(), OFFSET_LEN);
        assert!(StreamId::is_offset(&id.offset()));
        assert_eq!(StreamId::parse(&id.offset()), Some(id));
        assert_eq!(StreamId::parse(&id.to_redis()), Some(id));
        assert!(!StreamId::is_offset("1700000000123-7"));
        assert_eq!(StreamId::parse("x-1"), None);
        assert_eq!(StreamId::parse("-1"), None);
        assert_eq!(StreamId::parse("1-+1"), None);
        assert!(StreamId(1, 0) < StreamId(1, 1) && StreamId(1, 9) < StreamId(2, 0));
    }

    #[test]
    fn the_placeholder_is_found_last_and_replaced_in_place() {
        let ph = placeholder();
        assert_eq!(ph.len(), OFFSET_LEN);
        let message = format!("{ph}..{ph}..tail");
        let at = placeholder_at(message.as_bytes(), &ph).expect("found");
        assert_eq!(at, OFFSET_LEN + 2);
        let out = with_offset(message.as_bytes(), at, StreamId(5, 1)).expect("fits");
        assert_eq!(
            String::from_utf8(out).expect("utf-8"),
            format!("{ph}..0000000000005-000001..tail")
        );
        assert_eq!(with_offset(b"short", 0, StreamId(1, 1)), None);
    }
}
