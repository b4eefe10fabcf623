//! How many client connections the server holds: in all, and per client address.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::net::TcpStream;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::security::client_address::TrustedProxy;

/// Descriptors kept free beside the database pool: the listener, log and telemetry exporters,
/// DNS, the SQLite WAL files, a Redis connection, and slack for the runtime.
const RESERVED_DESCRIPTORS: usize = 64;
/// The derived default never exceeds this (memory, not descriptors, is then the limit).
const DEFAULT_CAP_CEILING: usize = 65_536;
const DEFAULT_CAP_FLOOR: usize = 16;

/// `NEOFORGE_MAX_CONNECTIONS` when unset: the process's descriptor limit (soft
/// `RLIMIT_NOFILE`) less the database pool and [`RESERVED_DESCRIPTORS`].
pub fn default_max_connections(db_max_connections: u32) -> usize {
    let limit = descriptor_limit().unwrap_or(1024);
    let reserved = RESERVED_DESCRIPTORS + db_max_connections as usize;
    limit
        .saturating_sub(reserved)
        .clamp(DEFAULT_CAP_FLOOR, DEFAULT_CAP_CEILING)
}

#[cfg(unix)]
fn descriptor_limit() -> Option<usize> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit only writes the struct we pass, which lives for the whole call.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return None;
    }
    if limit.rlim_cur == libc::RLIM_INFINITY {
        return Some(usize::MAX);
    }
    usize::try_from(limit.rlim_cur).ok()
}

#[cfg(not(unix))]
fn descriptor_limit() -> Option<usize> {
    None
}

/// Whether `peer` counts against the per-address cap: not when it is one of
/// `NEOFORGE_TRUSTED_PROXIES`, whose connections carry many clients (their requests are still
/// budgeted per forwarded client address by the rate limits).
pub fn per_address_cap_applies(peer: IpAddr, trusted: &[TrustedProxy]) -> bool {
    !trusted.iter().any(|proxy| proxy.contains(&peer))
}

/// The key a peer is counted under: IPv4 addresses one by one, IPv6 per /64 (one host usually
/// holds a whole /64), IPv4-mapped IPv6 as the IPv4 address.
fn address_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let prefix = u128::from(v6) & !((1u128 << 64) - 1);
                IpAddr::V6(Ipv6Addr::from(prefix))
            }
        },
    }
}

pub(super) struct ConnectionLimits {
    total: Arc<Semaphore>,
    per_address: Option<Arc<PerAddress>>,
    trusted: Arc<[TrustedProxy]>,
}

struct PerAddress {
    max: usize,
    open: Mutex<HashMap<IpAddr, usize>>,
}

/// A place under the total cap, taken before `accept`.
pub(super) struct Reserved(OwnedSemaphorePermit);

/// An admitted connection's places under both caps; dropping it (when the socket closes, even
/// after a WebSocket upgrade moved it to another task) frees them.
pub(super) struct Slot {
    _total: OwnedSemaphorePermit,
    address: Option<(Arc<PerAddress>, IpAddr)>,
}

impl ConnectionLimits {
    pub(super) fn new(
        max_connections: usize,
        max_per_address: usize,
        trusted: Arc<[TrustedProxy]>,
    ) -> Self {
        Self {
            trusted,
            total: Arc::new(Semaphore::new(max_connections.max(1))),
            per_address: (max_per_address > 0).then(|| {
                Arc::new(PerAddress {
                    max: max_per_address,
                    open: Mutex::new(HashMap::new()),
                })
            }),
        }
    }

    pub(super) fn try_reserve(&self) -> Option<Reserved> {
        self.total.clone().try_acquire_owned().ok().map(Reserved)
    }

    /// Waits for a connection to close. `None` only if the semaphore were closed (it never is).
    pub(super) async fn reserve(&self) -> Option<Reserved> {
        self.total.clone().acquire_owned().await.ok().map(Reserved)
    }

    /// Admits a connection from `peer`, or refuses it (`None`) when its address is at its cap.
    pub(super) fn admit(&self, reserved: Reserved, peer: IpAddr) -> Option<Slot> {
        let address = match &self.per_address {
            Some(per_address) if per_address_cap_applies(peer, &self.trusted) => {
                let key = address_key(peer);
                let mut open = per_address
                    .open
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                let count = open.entry(key).or_insert(0);
                if *count >= per_address.max {
                    return None;
                }
                *count += 1;
                Some((per_address.clone(), key))
            }
            _ => None,
        };
        metrics::gauge!("http_connections_open").increment(1.0);
        Some(Slot {
            _total: reserved.0,
            address,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        metrics::gauge!("http_connections_open").decrement(1.0);
        if let Some((per_address, key)) = self.address.take() {
            let mut open = per_address
                .open
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if let Some(count) = open.get_mut(&key) {
                *count = count.saturating_sub(1);
                if *count == 0 {
                    open.remove(&key);
                }
            }
        }
    }
}

/// Tells a refused client why, if its socket takes the bytes now (no waiting: a flood must
/// cost us nothing), then closes it.
pub(super) fn refuse(stream: &TcpStream) {
    const REFUSAL: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nretry-after: 1\r\n\
content-length: 0\r\nconnection: close\r\n\r\n";
    let _ = stream.try_write(REFUSAL);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_peers_count_per_slash_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(address_key(a), address_key(b));
        assert_ne!(address_key(a), address_key(c));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(address_key(mapped), "192.0.2.7".parse::<IpAddr>().unwrap());
    }

    #[tokio::test]
    async fn the_per_address_cap_frees_on_close() {
        let limits = ConnectionLimits::new(10, 2, Arc::from([]));
        let peer: IpAddr = "192.0.2.1".parse().unwrap();
        let first = limits.admit(limits.try_reserve().unwrap(), peer);
        let second = limits.admit(limits.try_reserve().unwrap(), peer);
        assert!(first.is_some() && second.is_some());
        assert!(limits.admit(limits.try_reserve().unwrap(), peer).is_none());
        let other: IpAddr = "192.0.2.2".parse().unwrap();
        assert!(limits.admit(limits.try_reserve().unwrap(), other).is_some());
        drop(first);
        assert!(limits.admit(limits.try_reserve().unwrap(), peer).is_some());
    }

    #[test]
    fn trusted_proxies_are_exempt_from_the_per_address_cap() {
        let proxy: TrustedProxy = "10.0.0.0/8".parse().unwrap();
        let limits = ConnectionLimits::new(10, 1, Arc::from([proxy]));
        let balancer: IpAddr = "::ffff:10.1.2.3".parse().unwrap();
        let held: Vec<_> = (0..3)
            .map(|_| limits.admit(limits.try_reserve().unwrap(), balancer))
            .collect();
        assert!(held.iter().all(Option::is_some));
        let client: IpAddr = "192.0.2.9".parse().unwrap();
        let first = limits.admit(limits.try_reserve().unwrap(), client);
        assert!(first.is_some());
        assert!(
            limits
                .admit(limits.try_reserve().unwrap(), client)
                .is_none()
        );
    }

    #[test]
    fn the_default_cap_leaves_room_for_the_pool() {
        let cap = default_max_connections(10);
        assert!((DEFAULT_CAP_FLOOR..=DEFAULT_CAP_CEILING).contains(&cap));
        if let Some(limit) = descriptor_limit().filter(|l| *l < DEFAULT_CAP_CEILING) {
            assert!(cap + 10 + RESERVED_DESCRIPTORS <= limit.max(DEFAULT_CAP_FLOOR + 74));
        }
    }
}
