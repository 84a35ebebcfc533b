//! [`AddressKey`]: the unit per-address limits count in. One IPv4 address, or one IPv6 /64:
//! a single IPv6 host usually holds a whole /64, so counting its addresses one by one would
//! let it through any limit.
//!
//! ```
//! use std::net::IpAddr;
//! use tether_core::engine::AddressKey;
//! let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
//! let b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
//! let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
//! assert_eq!(AddressKey::of(a), AddressKey::of(b));
//! assert_ne!(AddressKey::of(a), AddressKey::of(c));
//! let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
//! assert_eq!(AddressKey::of(mapped), AddressKey::of("192.0.2.7".parse().unwrap()));
//! ```

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// An IPv4 address, or the /64 prefix of an IPv6 one (IPv4-mapped IPv6 counts as IPv4).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub enum AddressKey {
    /// One IPv4 address.
    V4(Ipv4Addr),
    /// The first 64 bits of an IPv6 address.
    V6(u64),
}

impl AddressKey {
    /// The key of `ip`.
    pub fn of(ip: IpAddr) -> AddressKey {
        match ip {
            IpAddr::V4(v4) => AddressKey::V4(v4),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => AddressKey::V4(v4),
                None => AddressKey::V6((u128::from(v6) >> 64) as u64),
            },
        }
    }
}

impl fmt::Debug for AddressKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AddressKey::V4(v4) => write!(f, "{v4}"),
            AddressKey::V6(prefix) => write!(f, "{}/64", Ipv6Addr::from(u128::from(*prefix) << 64)),
        }
    }
}
