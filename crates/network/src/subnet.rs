//! Subnets: parsing `10.89.0.0/24` and `fd00::/64`, containment, overlap,
//! and the addresses in them.

use crate::NetError;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// An address prefix (the address is stored masked).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Subnet {
    addr: IpAddr,
    prefix: u8,
}

impl Subnet {
    /// Parses `ADDR/PREFIX`; host bits must be zero, as docker asks.
    pub fn parse(s: &str) -> Result<Subnet, NetError> {
        let bad = |why: &str| NetError::Invalid(format!("invalid subnet {s:?}: {why}"));
        let (a, p) = s.split_once('/').ok_or_else(|| bad("want ADDRESS/PREFIX"))?;
        let addr: IpAddr = a.parse().map_err(|_| bad("not an IP address"))?;
        let prefix: u8 = p.parse().map_err(|_| bad("bad prefix length"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        if prefix > max {
            return Err(bad("prefix too long"));
        }
        let n = Subnet { addr, prefix };
        if n.masked(addr) != addr {
            return Err(bad(&format!("host bits set; the network is {}", Subnet { addr: n.masked(addr), prefix })));
        }
        Ok(n)
    }

    /// The network address.
    pub fn addr(&self) -> IpAddr {
        self.addr
    }

    /// The prefix length.
    pub fn prefix(&self) -> u8 {
        self.prefix
    }

    /// IPv4 or not.
    pub fn is_ipv4(&self) -> bool {
        self.addr.is_ipv4()
    }

    fn bits(&self) -> u32 {
        if self.is_ipv4() {
            32
        } else {
            128
        }
    }

    fn mask(&self) -> u128 {
        let host = self.bits() - u32::from(self.prefix);
        let all = if self.is_ipv4() { u128::from(u32::MAX) } else { u128::MAX };
        if host >= 128 {
            0
        } else {
            all & !((1u128 << host) - 1)
        }
    }

    fn masked(&self, a: IpAddr) -> IpAddr {
        from_u128(to_u128(a) & self.mask(), self.is_ipv4())
    }

    /// Whether `a` is inside.
    pub fn contains(&self, a: IpAddr) -> bool {
        a.is_ipv4() == self.is_ipv4() && self.masked(a) == self.addr
    }

    /// Whether the two share any address.
    pub fn overlaps(&self, o: &Subnet) -> bool {
        if self.is_ipv4() != o.is_ipv4() {
            return false;
        }
        let shorter = if self.prefix <= o.prefix { self } else { o };
        let longer = if self.prefix <= o.prefix { o } else { self };
        shorter.contains(longer.addr)
    }

    /// Whether all of `o` is inside.
    pub fn covers(&self, o: &Subnet) -> bool {
        self.prefix <= o.prefix && self.contains(o.addr)
    }

    /// The `n`th address (0: the network address).
    pub fn nth(&self, n: u128) -> Option<IpAddr> {
        let size = self.size();
        (n < size).then(|| from_u128(to_u128(self.addr) + n, self.is_ipv4()))
    }

    /// How many addresses.
    pub fn size(&self) -> u128 {
        let host = self.bits() - u32::from(self.prefix);
        if host >= 128 {
            u128::MAX
        } else {
            1u128 << host
        }
    }

    /// The last usable address (the broadcast address excluded for IPv4).
    pub fn last_host(&self) -> Option<IpAddr> {
        let size = self.size();
        let skip = if self.is_ipv4() && size > 2 { 2 } else { 1 };
        size.checked_sub(skip).and_then(|n| self.nth(n))
    }
}

impl std::fmt::Display for Subnet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

impl std::str::FromStr for Subnet {
    type Err = NetError;
    fn from_str(s: &str) -> Result<Subnet, NetError> {
        Subnet::parse(s)
    }
}

impl Serialize for Subnet {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Subnet {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Subnet, D::Error> {
        let s = String::deserialize(d)?;
        Subnet::parse(&s).map_err(serde::de::Error::custom)
    }
}

fn to_u128(a: IpAddr) -> u128 {
    match a {
        IpAddr::V4(v) => u128::from(u32::from(v)),
        IpAddr::V6(v) => u128::from(v),
    }
}

fn from_u128(n: u128, v4: bool) -> IpAddr {
    if v4 {
        IpAddr::V4(std::net::Ipv4Addr::from(n as u32))
    } else {
        IpAddr::V6(std::net::Ipv6Addr::from(n))
    }
}

/// The IPv4 routes of the calling process's network namespace
/// (`/proc/net/route`), as subnets: what a new network must not overlap.
pub fn host_routes() -> Vec<Subnet> {
    let Ok(t) = std::fs::read_to_string("/proc/net/route") else { return Vec::new() };
    t.lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let dst = u32::from_str_radix(f.get(1)?, 16).ok()?;
            let mask = u32::from_str_radix(f.get(7)?, 16).ok()?;
            if mask == 0 {
                return None; // the default route overlaps everything
            }
            let addr = std::net::Ipv4Addr::from(u32::from_be(dst));
            let prefix = u32::from_be(mask).leading_ones() as u8;
            Some(Subnet { addr: IpAddr::V4(addr), prefix })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_compares() {
        let a = Subnet::parse("10.88.0.0/16").unwrap();
        let b = Subnet::parse("10.88.5.0/24").unwrap();
        let c = Subnet::parse("10.89.0.0/24").unwrap();
        assert!(a.overlaps(&b) && b.overlaps(&a) && !a.overlaps(&c));
        assert!(a.covers(&b) && !b.covers(&a));
        assert_eq!(a.nth(1).unwrap().to_string(), "10.88.0.1");
        assert_eq!(b.last_host().unwrap().to_string(), "10.88.5.254");
        assert!(Subnet::parse("10.88.0.1/16").unwrap_err().to_string().contains("10.88.0.0/16"));
        assert!(Subnet::parse("10.88.0.0").is_err() && Subnet::parse("10.88.0.0/33").is_err());
        let v6 = Subnet::parse("fd00:1::/64").unwrap();
        assert!(v6.contains("fd00:1::5".parse().unwrap()) && !v6.overlaps(&a));
        assert_eq!(v6.nth(1).unwrap().to_string(), "fd00:1::1");
        assert_eq!(Subnet::parse("0.0.0.0/0").unwrap().size(), 1 << 32);
    }
}
