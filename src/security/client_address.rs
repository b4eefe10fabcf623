//! The client's address: the TCP peer, unless the peer is a trusted proxy; then the
//! right-most address of the forwarding chain that is not itself a trusted proxy.
//!
//! Right-most, not left-most: every hop appends the address it received the request from, so
//! only the entries added by our own proxies can be believed; anything to their left was written
//! by the client and may be forged.

use std::net::{IpAddr, Ipv6Addr};

use http::HeaderMap;

pub use crate::config::trusted_proxy::{TrustedProxy, canonical};

/// The address a budget is kept for: IPv4 as is, IPv6 by its /64, since one subscriber is
/// usually handed a whole /64 and could otherwise rotate through 2^64 fresh budgets.
pub fn budget_key(ip: IpAddr) -> IpAddr {
    match canonical(ip) {
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(Ipv6Addr::from(bits))
        }
        v4 => v4,
    }
}

/// The client's address for a request that arrived from `peer`.
pub fn client_address(peer: IpAddr, headers: &HeaderMap, trusted: &[TrustedProxy]) -> IpAddr {
    let peer = canonical(peer);
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|t| t.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    // `Forwarded` (RFC 7239) when the proxy sends it, else the de-facto `X-Forwarded-For`.
    let chain = match forwarded_for(headers) {
        Some(chain) => chain,
        None => x_forwarded_for(headers),
    };
    let mut client = peer;
    for hop in chain.iter().rev() {
        // An entry we cannot read ends the walk: the last address we could trust stands.
        let Some(ip) = hop.map(canonical) else {
            break;
        };
        client = ip;
        if !is_trusted(&ip) {
            break;
        }
    }
    client
}

fn header_values<'a>(headers: &'a HeaderMap, name: &str) -> impl Iterator<Item = &'a str> {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

fn x_forwarded_for(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    header_values(headers, "x-forwarded-for")
        .map(parse_node)
        .collect()
}

/// The `for=` of each element of `Forwarded`, or `None` when the header is absent.
fn forwarded_for(headers: &HeaderMap) -> Option<Vec<Option<IpAddr>>> {
    if !headers.contains_key(http::header::FORWARDED) {
        return None;
    }
    let chain = header_values(headers, "forwarded")
        .map(|element| {
            element
                .split(';')
                .filter_map(|pair| pair.split_once('='))
                .find(|(k, _)| k.trim().eq_ignore_ascii_case("for"))
                .and_then(|(_, v)| parse_node(v))
        })
        .collect();
    Some(chain)
}

/// A node as the headers write it: `1.2.3.4`, `1.2.3.4:5678`, `"[2001:db8::1]:443"`, `2001:db8::1`.
fn parse_node(node: &str) -> Option<IpAddr> {
    let node = node.trim().trim_matches('"');
    if let Ok(ip) = node.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Some(rest) = node.strip_prefix('[') {
        return rest.split_once(']').and_then(|(ip, _)| ip.parse().ok());
    }
    node.rsplit_once(':')
        .and_then(|(ip, _port)| ip.parse::<std::net::Ipv4Addr>().ok())
        .map(IpAddr::V4)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trusted(list: &[&str]) -> Vec<TrustedProxy> {
        list.iter().map(|s| s.parse().unwrap()).collect()
    }

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn parses_addresses_and_networks() {
        assert!("10.0.0.0/8".parse::<TrustedProxy>().is_ok());
        assert!("10.1.2.3".parse::<TrustedProxy>().is_ok());
        assert!("2001:db8::/32".parse::<TrustedProxy>().is_ok());
        assert!("10.0.0.0/33".parse::<TrustedProxy>().is_err());
        assert!("proxy.local".parse::<TrustedProxy>().is_err());
        let net: TrustedProxy = "10.1.2.3/8".parse().unwrap();
        assert_eq!(net.to_string(), "10.0.0.0/8");
    }

    #[test]
    fn untrusted_peers_cannot_spoof() {
        let h = headers(&[("x-forwarded-for", "1.1.1.1"), ("forwarded", "for=2.2.2.2")]);
        assert_eq!(
            client_address(ip("9.9.9.9"), &h, &trusted(&["10.0.0.0/8"])),
            ip("9.9.9.9")
        );
        assert_eq!(client_address(ip("9.9.9.9"), &h, &[]), ip("9.9.9.9"));
    }

    #[test]
    fn takes_the_right_most_untrusted_hop() {
        let t = trusted(&["10.0.0.0/8", "192.168.1.1"]);
        let h = headers(&[
            ("x-forwarded-for", "6.6.6.6, 5.5.5.5"),
            ("x-forwarded-for", "10.0.0.9"),
        ]);
        assert_eq!(client_address(ip("192.168.1.1"), &h, &t), ip("5.5.5.5"));
        // Every hop trusted: the left-most is as far as we can see.
        let h = headers(&[("x-forwarded-for", "10.0.0.2, 10.0.0.3")]);
        assert_eq!(client_address(ip("10.0.0.1"), &h, &t), ip("10.0.0.2"));
        // No header: the proxy itself.
        assert_eq!(
            client_address(ip("10.0.0.1"), &HeaderMap::new(), &t),
            ip("10.0.0.1")
        );
        // Garbage stops the walk at the last readable hop.
        let h = headers(&[("x-forwarded-for", "7.7.7.7, junk, 10.0.0.4")]);
        assert_eq!(client_address(ip("10.0.0.1"), &h, &t), ip("10.0.0.4"));
    }

    #[test]
    fn reads_forwarded_before_x_forwarded_for() {
        let t = trusted(&["10.0.0.0/8"]);
        let h = headers(&[
            (
                "forwarded",
                r#"for=1.2.3.4;proto=https, for="[2001:db8::7]:443""#,
            ),
            ("x-forwarded-for", "8.8.8.8"),
        ]);
        assert_eq!(client_address(ip("10.0.0.1"), &h, &t), ip("2001:db8::7"));
        let h = headers(&[("forwarded", "for=3.3.3.3:1234")]);
        assert_eq!(client_address(ip("10.0.0.1"), &h, &t), ip("3.3.3.3"));
        let h = headers(&[("forwarded", "for=_hidden")]);
        assert_eq!(client_address(ip("10.0.0.1"), &h, &t), ip("10.0.0.1"));
    }

    #[test]
    fn budgets_ipv6_per_64() {
        assert_eq!(
            budget_key(ip("2001:db8:1:2:aaaa::1")),
            budget_key(ip("2001:db8:1:2:ffff::9"))
        );
        assert_ne!(
            budget_key(ip("2001:db8:1:2::1")),
            budget_key(ip("2001:db8:1:3::1"))
        );
        assert_eq!(budget_key(ip("::ffff:10.0.0.1")), ip("10.0.0.1"));
        assert_eq!(budget_key(ip("10.0.0.1")), ip("10.0.0.1"));
    }
}
