//! Token-bucket rate limits in tiers (DESIGN §9): anonymous requests per client IP, signed-in
//! requests per user, and sign-in/registration attempts per client IP.
//!
//! `governor` (GCRA, lock-free per key) is the maintained crate for this; its
//! `StateInformationMiddleware` gives the remaining budget the `RateLimit` header reports.
//! State is in memory, per process: replicas each allow the full quota (see README).

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use http::{HeaderMap, HeaderName, HeaderValue};
use uuid::Uuid;

use crate::config::RateQuota;
use crate::error::Error;

/// Which budget a request draws from; the label of `rate_limit_exceeded_total{tier}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tier {
    Anonymous,
    Api,
    Auth,
    /// CSP reports per client address.
    Csp,
}

impl Tier {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Anonymous => "anonymous",
            Self::Api => "api",
            Self::Auth => "auth",
            Self::Csp => "csp",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Client {
    Ip(IpAddr),
    User(Uuid),
}

impl Client {
    /// The budget of a client address (an IPv6 client's whole /64).
    pub fn ip(ip: IpAddr) -> Self {
        Self::Ip(super::client_address::budget_key(ip))
    }
}

type Keyed =
    RateLimiter<Client, DefaultKeyedStateStore<Client>, DefaultClock, StateInformationMiddleware>;

struct Bucket {
    limit: u32,
    window: Duration,
    limiter: Keyed,
}

/// A request that was let through, and what is left of its budget.
#[derive(Clone, Copy, Debug)]
pub struct Allowed {
    tier: Tier,
    limit: u32,
    window: Duration,
    remaining: u32,
}

/// A request over its budget.
#[derive(Clone, Copy, Debug)]
pub struct Limited {
    pub tier: Tier,
    limit: u32,
    window: Duration,
    pub retry_after: Duration,
}

const RATE_LIMIT: HeaderName = HeaderName::from_static("ratelimit");
const RATE_LIMIT_POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");

/// A budget's name and size, as the `RateLimit*` headers of its 429 describe it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budget {
    pub name: &'static str,
    pub limit: u32,
    pub window: Duration,
}

impl Budget {
    /// `RateLimit-Policy` and `RateLimit` (draft-ietf-httpapi-ratelimit-headers): `r` units
    /// remain, the bucket is full again in `t` seconds.
    pub fn headers(&self, r: u32, t: u64) -> [(HeaderName, String); 2] {
        let (name, limit, window) = (self.name, self.limit, self.window.as_secs());
        [
            (
                RATE_LIMIT_POLICY,
                format!("\"{name}\";q={limit};w={window}"),
            ),
            (RATE_LIMIT, format!("\"{name}\";r={r};t={t}")),
        ]
    }

    /// The headers of a request refused for `retry_after`: nothing remains until then.
    pub fn exhausted(&self, retry_after: Duration) -> [(HeaderName, String); 2] {
        self.headers(0, retry_after.as_secs_f64().ceil().max(1.0) as u64)
    }
}

/// Writes header pairs, skipping any that would not be a valid header value.
pub fn write_pairs(headers: &mut HeaderMap, pairs: [(HeaderName, String); 2]) {
    for (name, value) in pairs {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
}

impl Allowed {
    /// `t` is the seconds until the bucket is full again.
    pub fn write_headers(&self, headers: &mut HeaderMap) {
        let used = self.limit.saturating_sub(self.remaining);
        let refill = self.window.as_secs_f64() * f64::from(used) / f64::from(self.limit);
        let t = refill.ceil() as u64;
        let budget = Budget {
            name: self.tier.as_str(),
            limit: self.limit,
            window: self.window,
        };
        write_pairs(headers, budget.headers(self.remaining, t));
    }
}

impl Limited {
    pub fn retry_after_secs(&self) -> u64 {
        self.retry_after.as_secs_f64().ceil().max(1.0) as u64
    }

    pub fn write_headers(&self, headers: &mut HeaderMap) {
        let budget = Budget {
            name: self.tier.as_str(),
            limit: self.limit,
            window: self.window,
        };
        write_pairs(headers, budget.exhausted(self.retry_after));
    }
}

impl From<Limited> for Error {
    fn from(limited: Limited) -> Self {
        Self::RateLimited {
            retry_after: Duration::from_secs(limited.retry_after_secs()),
            budget: Some(Budget {
                name: limited.tier.as_str(),
                limit: limited.limit,
                window: limited.window,
            }),
        }
    }
}

/// The configured tiers. Cheap to clone (shared state).
#[derive(Clone, Default)]
pub struct RateLimits {
    inner: Arc<Tiers>,
}

#[derive(Default)]
struct Tiers {
    anonymous: Option<Bucket>,
    api: Option<Bucket>,
    auth: Option<Bucket>,
    csp: Option<Bucket>,
    account: super::sign_in::AccountBudget,
}

fn bucket(quota: RateQuota) -> Option<Bucket> {
    let (limit, window) = quota.limit()?;
    let period = window / limit.get();
    let quota = Quota::with_period(period)?.allow_burst(limit);
    Some(Bucket {
        limit: limit.get(),
        window,
        limiter: RateLimiter::keyed(quota).with_middleware::<StateInformationMiddleware>(),
    })
}

impl RateLimits {
    /// The tiers `NEOFORGE_RATE_LIMIT_*` configure.
    pub fn from_settings(settings: &crate::config::Settings) -> Self {
        let mut limits = Self::new(
            settings.rate_limit_anonymous,
            settings.rate_limit_api,
            settings.rate_limit_auth,
        );
        if let Some(tiers) = Arc::get_mut(&mut limits.inner) {
            tiers.csp = bucket(settings.rate_limit_csp);
            tiers.account = super::sign_in::AccountBudget::new(settings.rate_limit_account);
        }
        limits
    }

    /// Failed sign-ins per account ([`super::sign_in`]).
    pub fn account(&self) -> &super::sign_in::AccountBudget {
        &self.inner.account
    }

    pub fn new(anonymous: RateQuota, api: RateQuota, auth: RateQuota) -> Self {
        Self {
            inner: Arc::new(Tiers {
                anonymous: bucket(anonymous),
                api: bucket(api),
                auth: bucket(auth),
                csp: None,
                account: Default::default(),
            }),
        }
    }

    /// Whether every tier is off (nothing to check, no token to read).
    pub fn is_off(&self) -> bool {
        let t = &self.inner;
        t.anonymous.is_none() && t.api.is_none() && t.auth.is_none()
    }

    /// Draws one request from the budget of `tier` for `client`. `Ok(None)`: the tier is off.
    pub fn check(&self, tier: Tier, client: &Client) -> Result<Option<Allowed>, Limited> {
        self.check_n(tier, client, 1)
    }

    /// Draws `units` at once (a GraphQL operation's cost). More than the whole budget drains
    /// it: such a request is allowed only with a full bucket.
    pub fn check_n(
        &self,
        tier: Tier,
        client: &Client,
        units: u32,
    ) -> Result<Option<Allowed>, Limited> {
        let bucket = match tier {
            Tier::Anonymous => &self.inner.anonymous,
            Tier::Api => &self.inner.api,
            Tier::Auth => &self.inner.auth,
            Tier::Csp => &self.inner.csp,
        };
        let Some(bucket) = bucket else {
            return Ok(None);
        };
        let units = std::num::NonZeroU32::new(units.clamp(1, bucket.limit))
            .unwrap_or(std::num::NonZeroU32::MIN);
        let outcome = match bucket.limiter.check_key_n(client, units) {
            Ok(outcome) => outcome,
            // Cannot happen (clamped to the burst); treat as over budget for a full window.
            Err(_) => {
                return Err(Limited {
                    tier,
                    limit: bucket.limit,
                    window: bucket.window,
                    retry_after: bucket.window,
                });
            }
        };
        match outcome {
            Ok(snapshot) => Ok(Some(Allowed {
                tier,
                limit: bucket.limit,
                window: bucket.window,
                remaining: snapshot.remaining_burst_capacity(),
            })),
            Err(not_until) => {
                metrics::counter!("rate_limit_exceeded_total", "tier" => tier.as_str())
                    .increment(1);
                Err(Limited {
                    tier,
                    limit: bucket.limit,
                    window: bucket.window,
                    retry_after: not_until.wait_time_from(DefaultClock::default().now()),
                })
            }
        }
    }

    /// Forgets clients whose buckets are full again, so memory follows active clients only.
    pub fn forget_idle(&self) {
        let t = &self.inner;
        for bucket in [&t.anonymous, &t.api, &t.auth, &t.csp]
            .into_iter()
            .flatten()
        {
            bucket.limiter.retain_recent();
            bucket.limiter.shrink_to_fit();
        }
        self.inner.account.forget_idle();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_quotas() {
        assert_eq!(
            "120/min".parse::<RateQuota>(),
            Ok(RateQuota::per(120, Duration::from_secs(60)))
        );
        assert_eq!("off".parse::<RateQuota>(), Ok(RateQuota::OFF));
        assert!("0/min".parse::<RateQuota>().is_err());
        assert!("ten/min".parse::<RateQuota>().is_err());
        assert!("10/fortnight".parse::<RateQuota>().is_err());
        assert!("10".parse::<RateQuota>().is_err());
    }

    #[test]
    fn limits_each_client_separately() {
        let limits = RateLimits::new(
            RateQuota::per(3, Duration::from_secs(60)),
            RateQuota::OFF,
            RateQuota::OFF,
        );
        let a = Client::Ip("10.0.0.1".parse().unwrap());
        let b = Client::Ip("10.0.0.2".parse().unwrap());
        for remaining in [2, 1, 0] {
            let allowed = limits.check(Tier::Anonymous, &a).unwrap().unwrap();
            assert_eq!(allowed.remaining, remaining);
        }
        let limited = limits.check(Tier::Anonymous, &a).unwrap_err();
        assert!(limited.retry_after > Duration::from_secs(15));
        assert!(limited.retry_after <= Duration::from_secs(20));
        assert!(limits.check(Tier::Anonymous, &b).is_ok());
        assert!(limits.check(Tier::Api, &a).unwrap().is_none());
    }
}
