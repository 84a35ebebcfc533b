//! Gates in front of new sessions: the `allow_request` hook and the handshake rate limit. Both
//! run before a session is allocated.

use dashmap::DashMap;
use http::request::Parts;
use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Decides whether a handshake may open a session; `Err(message)` refuses it with 403 and
/// Engine.IO code 4. It sees the request head (headers, URI, extensions such as
/// `ConnectInfo`).
pub type AllowRequest = Arc<dyn Fn(&Parts) -> Result<(), String> + Send + Sync>;

/// A token bucket per remote address for handshakes: `per_second` new sessions on average,
/// `burst` at once. Requests without a known peer address (no `ConnectInfo`) are not limited.
#[derive(Clone)]
pub struct HandshakeLimit {
    per_second: f64,
    burst: f64,
    buckets: Arc<DashMap<IpAddr, (f64, Instant)>>,
}

/// Addresses tracked at most before idle ones are forgotten.
const MAX_TRACKED: usize = 100_000;

impl HandshakeLimit {
    /// `per_second` handshakes per address on average, up to `burst` at once.
    pub fn new(per_second: u32, burst: u32) -> HandshakeLimit {
        HandshakeLimit {
            per_second: f64::from(per_second.max(1)),
            burst: f64::from(burst.max(1)),
            buckets: Arc::new(DashMap::new()),
        }
    }

    /// Takes a token for `ip` at `now`; false when the bucket is empty.
    pub(crate) fn allow(&self, ip: IpAddr, now: Instant) -> bool {
        if self.buckets.len() >= MAX_TRACKED {
            let full = Duration::from_secs_f64(self.burst / self.per_second);
            self.buckets
                .retain(|_, (_, at)| now.duration_since(*at) < full);
        }
        let mut entry = self.buckets.entry(ip).or_insert((self.burst, now));
        let (tokens, at) = *entry;
        let refilled =
            (tokens + now.duration_since(at).as_secs_f64() * self.per_second).min(self.burst);
        if refilled < 1.0 {
            *entry = (refilled, now);
            return false;
        }
        *entry = (refilled - 1.0, now);
        true
    }
}

impl fmt::Debug for HandshakeLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HandshakeLimit")
            .field("per_second", &self.per_second)
            .field("burst", &self.burst)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_refills_at_the_rate() {
        let limit = HandshakeLimit::new(2, 3);
        let ip: IpAddr = [10, 0, 0, 1].into();
        let other: IpAddr = [10, 0, 0, 2].into();
        let t0 = Instant::now();
        assert!(limit.allow(ip, t0));
        assert!(limit.allow(ip, t0));
        assert!(limit.allow(ip, t0));
        assert!(!limit.allow(ip, t0));
        assert!(limit.allow(other, t0), "addresses have their own buckets");
        // 400 ms at 2/s refill 0.8 of a token: not enough.
        assert!(!limit.allow(ip, t0 + Duration::from_millis(400)));
        // By 1 s, 2 tokens: two handshakes, then none.
        let t1 = t0 + Duration::from_millis(1000);
        assert!(limit.allow(ip, t1));
        assert!(limit.allow(ip, t1));
        assert!(!limit.allow(ip, t1));
        // Never more than the burst, however long the wait.
        let t2 = t1 + Duration::from_secs(60);
        assert!((0..3).all(|_| limit.allow(ip, t2)));
        assert!(!limit.allow(ip, t2));
    }
}
