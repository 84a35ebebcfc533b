//! Session ids: 20 URL-safe base64 characters from 15 random bytes, like the reference server's.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use std::fmt;

/// An Engine.IO session id. Unique and hard to guess (120 random bits from the OS).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Sid([u8; Sid::LEN]);

impl Sid {
    /// Length of a session id in characters.
    pub const LEN: usize = 20;

    /// A fresh random id. Falls back to a process-unique counter mixed with the clock only if the
    /// OS random source fails, which `getrandom` reports instead of panicking.
    pub fn random() -> Sid {
        let mut raw = [0u8; 15];
        if getrandom::fill(&mut raw).is_err() {
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
    fn random_ids_are_url_safe_unique_and_parse_back() {
        let a = Sid::random();
        let b = Sid::random();
        assert_ne!(a, b);
        assert_eq!(a.as_str().len(), 20);
        assert_eq!(Sid::parse(a.as_str()), Some(a));
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
