//! `NEOFORGE_TRUSTED_PROXIES`: the reverse proxies whose forwarding headers are believed.
//! `ipnet` (the CIDR type the ecosystem shares, already in the dependency tree through
//! reqwest/hyper-util) holds the networks.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use ipnet::IpNet;

/// One entry of `NEOFORGE_TRUSTED_PROXIES`: an address (`10.0.0.7`) or a network (`10.0.0.0/8`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TrustedProxy(IpNet);

impl TrustedProxy {
    pub fn contains(&self, ip: &IpAddr) -> bool {
        self.0.contains(&canonical(*ip))
    }
}

impl FromStr for TrustedProxy {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if let Ok(net) = s.parse::<IpNet>() {
            return Ok(Self(net.trunc()));
        }
        s.parse::<IpAddr>()
            .map(|ip| Self(IpNet::from(canonical(ip))))
            .map_err(|_| format!("`{s}` is neither an IP address nor a CIDR network"))
    }
}

impl fmt::Display for TrustedProxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// IPv4-mapped IPv6 (`::ffff:10.0.0.1`, what a dual-stack socket reports) as plain IPv4, so
/// one client has one address whichever way it connected.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}
