//! Gates in front of new sessions: the `allow_request` hook and the handshake rate limit. Both
//! run before a session is allocated.

use http::request::Parts;
use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tether_core::engine::AddressKey;

/// Decides whether a handshake may open a session; `Err(message)` refuses it with 403 and
/// Engine.IO code 4. It sees the request head (headers, URI, extensions such as
/// `ConnectInfo`).
pub type AllowRequest = Arc<dyn Fn(&Parts) -> Result<(), String> + Send + Sync>;

/// A token bucket per remote address for handshakes: `per_second` new sessions on average,
/// `burst` at once. An IPv6 address counts by its /64 ([`AddressKey`]). Requests without a known
/// peer address (no `ConnectInfo`) are not limited.
///
/// Each request costs O(1): buckets live in two generations that swap once per refill period
/// (`burst / per_second`), so a bucket untouched for a whole period (it is full again, as good
/// as new) is dropped with its generation, never searched for. At most
/// [`HandshakeLimit::MAX_TRACKED`] addresses are tracked per generation; past that the generations swap early (an address then forgotten
/// gets a full bucket again).
#[derive(Clone)]
pub struct HandshakeLimit {
    per_second: f64,
    burst: f64,
    buckets: Arc<Mutex<Generations>>,
}

struct Generations {
    current: HashMap<AddressKey, (f64, Instant)>,
    previous: HashMap<AddressKey, (f64, Instant)>,
    since: Instant,
}

impl HandshakeLimit {
    /// Addresses tracked at most in one generation.
    pub const MAX_TRACKED: usize = 100_000;

    /// `per_second` handshakes per address on average, up to `burst` at once.
    pub fn new(per_second: u32, burst: u32) -> HandshakeLimit {
        HandshakeLimit {
            per_second: f64::from(per_second.max(1)),
            burst: f64::from(burst.max(1)),
            buckets: Arc::new(Mutex::new(Generations {
                current: HashMap::new(),
                previous: HashMap::new(),
                since: Instant::now(),
            })),
        }
    }

    /// How long an empty bucket takes to fill.
    fn period(&self) -> Duration {
        Duration::from_secs_f64(self.burst / self.per_second)
    }

    /// Takes a token for `ip` at `now`; false when the bucket is empty.
    pub(crate) fn allow(&self, ip: IpAddr, now: Instant) -> bool {
        let key = AddressKey::of(ip);
        let mut dropped = None;
        let allowed = {
            let mut generations = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
            let g = &mut *generations;
            if now.saturating_duration_since(g.since) >= self.period()
                || g.current.len() >= Self::MAX_TRACKED
            {
                let current = std::mem::take(&mut g.current);
                dropped = Some(std::mem::replace(&mut g.previous, current));
                g.since = now;
            }
            let (tokens, at) = g
                .current
                .get(&key)
                .copied()
                .or_else(|| g.previous.remove(&key))
                .unwrap_or((self.burst, now));
            let refilled = (tokens
                + now.saturating_duration_since(at).as_secs_f64() * self.per_second)
                .min(self.burst);
            let allowed = refilled >= 1.0;
            let left = if allowed { refilled - 1.0 } else { refilled };
            g.current.insert(key, (left, now));
            allowed
        };
        // A dropped generation is freed outside the lock.
        drop(dropped);
        allowed
    }

    /// How many addresses are tracked now (both generations).
    pub fn tracked(&self) -> usize {
        let g = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        g.current.len() + g.previous.len()
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

    #[test]
    fn an_ipv6_slash_64_shares_one_bucket() {
        let limit = HandshakeLimit::new(1, 2);
        let t0 = Instant::now();
        let a: IpAddr = "2001:db8:0:1::1".parse().unwrap();
        let b: IpAddr = "2001:db8:0:1:ffff:ffff:ffff:ffff".parse().unwrap();
        let other: IpAddr = "2001:db8:0:2::1".parse().unwrap();
        assert!(limit.allow(a, t0));
        assert!(limit.allow(b, t0));
        assert!(!limit.allow(a, t0), "the /64 spent its burst");
        assert!(limit.allow(other, t0));
    }

    #[test]
    fn a_flood_of_addresses_keeps_the_table_bounded_and_limits_on() {
        let limit = HandshakeLimit::new(1, 1);
        let t0 = Instant::now();
        let known: IpAddr = [10, 0, 0, 1].into();
        assert!(limit.allow(known, t0));
        // Within one refill period, 2.5 generations' worth of new addresses.
        for i in 0..(HandshakeLimit::MAX_TRACKED * 5 / 2) as u32 {
            let ip = IpAddr::from((0x0b00_0000 + i).to_be_bytes());
            assert!(limit.allow(ip, t0), "a new address has a full bucket");
            assert!(limit.tracked() <= 2 * HandshakeLimit::MAX_TRACKED);
        }
        // The limit still holds for any address: one handshake, then none.
        let fresh: IpAddr = [10, 9, 9, 9].into();
        assert!(limit.allow(fresh, t0));
        assert!(!limit.allow(fresh, t0));
        assert!(!limit.allow(known, t0) || !limit.allow(known, t0));
    }

    #[test]
    fn a_bucket_is_kept_across_one_generation_swap() {
        let limit = HandshakeLimit::new(1, 2);
        let t0 = Instant::now();
        let ip: IpAddr = [10, 0, 0, 1].into();
        assert!(limit.allow(ip, t0));
        assert!(limit.allow(ip, t0));
        // A token back by 1 s; the period is 2 s, so the generations swap at 2.1 s, where the
        // bucket has 1.1 tokens and keeps 0.1.
        assert!(limit.allow(ip, t0 + Duration::from_millis(1000)));
        assert!(limit.allow(ip, t0 + Duration::from_millis(2100)));
        assert!(
            !limit.allow(ip, t0 + Duration::from_millis(2500)),
            "0.5 tokens: the bucket survived the swap (a new one would have 2)"
        );
    }
}
