//! Session ids: 20 URL-safe base64 characters from 15 random bytes, like the reference server's.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use std::fmt;
use std::hash::{BuildHasherDefault, Hash, Hasher};

/// An Engine.IO session id. Unique and hard to guess (120 random bits from the OS).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Sid([u8; Sid::LEN]);

impl Hash for Sid {
    /// One word folded from all 20 characters (equal ids, equal words), so a hasher does one
    /// step per id instead of 28 bytes.
    fn hash<H: Hasher>(&self, state: &mut H) {
        let word = |at: usize| {
            let mut bytes = [0u8; 8];
            let end = (at + 8).min(Sid::LEN);
            bytes[..end - at].copy_from_slice(&self.0[at..end]);
            u64::from_le_bytes(bytes)
        };
        state.write_u64(word(0) ^ word(8).rotate_left(21) ^ word(16).rotate_left(42));
    }
}

/// A hasher for maps keyed by [`Sid`]s (sessions, sockets, room members): one multiply per
/// id. Ids are random and made by the server, so they need no protection against keys chosen
/// to collide (a peer's `sid` is only ever looked up, never inserted); SipHash, the default,
/// cost a few percent of a broadcast's CPU in its per-recipient lookups.
#[derive(Debug, Default, Clone, Copy)]
pub struct SidHasher(u64);

impl Hasher for SidHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }

    fn write_u64(&mut self, n: u64) {
        // Fx's step: rotate, mix in, multiply by an odd constant (spreads the high bits,
        // which hashbrown's control bytes use).
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

/// The `BuildHasher` of [`SidHasher`].
pub type SidHash = BuildHasherDefault<SidHasher>;

impl Sid {
    /// Length of a session id in characters.
    pub const LEN: usize = 20;

    /// A fresh random id: 15 bytes from the OS random source, drawn 32 ids at a time into a
    /// per-thread pool (as the reference server's `base64id` pools `crypto.randomBytes`): a
    /// handshake makes two ids, and one `getrandom` system call each was a measurable share of
    /// its kernel time. Falls back to a process-unique counter mixed with the clock only if the
    /// OS random source fails, which `getrandom` reports instead of panicking.
    pub fn random() -> Sid {
        let mut raw = [0u8; 15];
        if !pool::take(&mut raw) {
            use std::sync::atomic::{AtomicU64, Ordering};
            static COUNTER: AtomicU64 = AtomicU64::new(0);
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let t = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or_default();
            raw[..8].copy_from_slice(&n.to_le_bytes());
            raw[8..15].copy_from_slice(&t.to_le_bytes()[..7]);
        }
        let mut out = [0u8; Sid::LEN];
        // 15 bytes encode to exactly 20 characters without padding.
        let _ = URL_SAFE_NO_PAD.encode_slice(raw, &mut out);
        Sid(out)
    }

    /// Parses an id from a query string value; `None` if it cannot be one of ours.
    pub fn parse(s: &str) -> Option<Sid> {
        let bytes: [u8; Sid::LEN] = s.as_bytes().try_into().ok()?;
        bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_')
            .then_some(Sid(bytes))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        // Built only from the base64url alphabet (ASCII), checked in `parse` and `random`.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

/// Random bytes drawn from the OS in batches, one pool per thread (no lock, no sharing).
mod pool {
    use std::cell::RefCell;

    /// Ids drawn per system call.
    const IDS: usize = 32;
    const ID: usize = 15;

    struct Pool {
        bytes: [u8; IDS * ID],
        /// Bytes at the front already handed out (zeroed).
        used: usize,
    }

    thread_local! {
        static POOL: RefCell<Pool> = const {
            RefCell::new(Pool { bytes: [0; IDS * ID], used: IDS * ID })
        };
    }

    /// Fills `out` with the next 15 pooled bytes, refilling the pool from the OS when it is
    /// empty; `false` if the OS source failed (then `out` is untouched).
    pub(super) fn take(out: &mut [u8; ID]) -> bool {
        POOL.with_borrow_mut(|pool| {
            if pool.used == pool.bytes.len() {
                if getrandom::fill(&mut pool.bytes).is_err() {
                    return false;
                }
                pool.used = 0;
            }
            let next = &mut pool.bytes[pool.used..pool.used + ID];
            out.copy_from_slice(next);
            // Handed-out bytes do not stay behind in the pool.
            next.fill(0);
            pool.used += ID;
            true
        })
    }
}

impl fmt::Display for Sid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Sid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sid({})", self.as_str())
    }
}

impl serde::Serialize for Sid {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for Sid {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Sid, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Sid::parse(&text)
            .ok_or_else(|| serde::de::Error::custom(format_args!("not a socket id: {text:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sid_hasher_agrees_with_eq_and_spreads_random_ids() {
        use std::hash::BuildHasher;
        let hash = |sid: &Sid| SidHash::default().hash_one(sid);
        let a = Sid::random();
        let same = Sid::parse(a.as_str()).expect("parses");
        assert_eq!(hash(&a), hash(&same));
        let hashes: Vec<u64> = (0..10_000).map(|_| hash(&Sid::random())).collect();
        // hashbrown takes a bucket from the low bits and a control byte from the top 7.
        let low: std::collections::HashSet<u64> = hashes.iter().map(|h| h & 1023).collect();
        let top: std::collections::HashSet<u64> = hashes.iter().map(|h| h >> 57).collect();
        assert!(low.len() > 950, "{} of 1024 low-bit buckets", low.len());
        assert_eq!(top.len(), 128, "every control byte");
        // The last characters count too.
        let mut bytes = *b"AAAAAAAAAAAAAAAAAAAA";
        let first = hash(&Sid::parse(std::str::from_utf8(&bytes).expect("ascii")).expect("ok"));
        bytes[19] = b'B';
        let second = hash(&Sid::parse(std::str::from_utf8(&bytes).expect("ascii")).expect("ok"));
        assert_ne!(first, second);
    }

    #[test]
    fn random_ids_are_url_safe_unique_and_parse_back() {
        let a = Sid::random();
        let b = Sid::random();
        assert_ne!(a, b);
        assert_eq!(a.as_str().len(), 20);
        assert_eq!(Sid::parse(a.as_str()), Some(a));
    }

    #[test]
    fn pooled_ids_stay_unique_across_refills_and_threads() {
        use std::collections::HashSet;
        // 15 zero bytes: what a pool handing out spent (zeroed) bytes would give.
        let spent = "A".repeat(Sid::LEN);
        let draw = || (0..200).map(|_| Sid::random()).collect::<Vec<_>>();
        let here = draw();
        let there = std::thread::spawn(draw).join().expect("thread");
        let all: HashSet<Sid> = here.iter().chain(&there).copied().collect();
        assert_eq!(
            all.len(),
            400,
            "200 ids a thread, over six refills each, all distinct"
        );
        assert!(all.iter().all(|id| id.as_str() != spent));
    }

    #[test]
    fn rejects_what_is_not_an_id() {
        assert_eq!(Sid::parse(""), None);
        assert_eq!(Sid::parse("short"), None);
        assert_eq!(Sid::parse("aaaaaaaaaaaaaaaaaaaaa"), None); // 21
        assert_eq!(Sid::parse("aaaaaaaaaaaaaaaaaaa/"), None);
        assert_eq!(Sid::parse("aaaaaaaaaaaaaaaaaaé"), None);
        assert!(Sid::parse("AZaz09-_AZaz09-_AZaz").is_some());
    }

    #[test]
    fn serde_as_a_string() {
        let a = Sid::random();
        let json = serde_json::to_string(&a).expect("serializes");
        assert_eq!(json, format!("\"{a}\""));
        assert_eq!(serde_json::from_str::<Sid>(&json).expect("reads back"), a);
        assert!(serde_json::from_str::<Sid>("\"short\"").is_err());
        assert!(serde_json::from_str::<Sid>("7").is_err());
    }
}
