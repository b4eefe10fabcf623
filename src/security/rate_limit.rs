//! Token-bucket rate limits in tiers (docs/api.md, "Rate limits"): anonymous requests per client
//! IP, signed-in requests per user, and sign-in/registration attempts per client IP.
//!
//! Every tier is drawn through [`RateLimits::check_n`], whichever transport the request came by.
//! With `REDIS_URL` set the buckets live in Redis and every replica shares them
//! ([`super::shared_buckets`]); otherwise, and whenever Redis does not answer, each process's
//! own buckets decide. Those are `governor`'s (GCRA, lock-free per key: the maintained crate
//! for this; its `StateInformationMiddleware` gives the remaining budget the `RateLimit` header
//! reports).
//!
//! While Redis is away the API tiers (anonymous, api, csp) fail open to fresh per-process
//! buckets. The sign-in tier stays in process: every attempt is also drawn from this process's
//! bucket while Redis is up, so an outage resumes from what this replica has seen instead of
//! handing an attacker a full bucket per replica.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use http::{HeaderMap, HeaderName, HeaderValue};
use uuid::Uuid;

use super::shared_buckets::{Decision, Draw, SharedBuckets};
use crate::config::RateQuota;
use crate::error::{Budget, Error};

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

/// Whose budget a request draws from: the signed-in user's `api` tier, else the client
/// address's `anonymous` tier; `None` when neither is known.
pub fn request_budget(user: Option<Uuid>, ip: Option<IpAddr>) -> Option<(Tier, Client)> {
    match (user, ip) {
        (Some(id), _) => Some((Tier::Api, Client::User(id))),
        (None, Some(ip)) => Some((Tier::Anonymous, Client::ip(ip))),
        (None, None) => None,
    }
}

impl Client {
    /// The budget of a client address (an IPv6 client's whole /64).
    pub fn ip(ip: IpAddr) -> Self {
        Self::Ip(super::client_address::budget_key(ip))
    }

    /// The shared bucket's key (after the deployment's prefix): `auth:203.0.113.7`,
    /// `anonymous:2001:db8:1:2::`, `api:<user id>`.
    fn key(&self, tier: Tier) -> String {
        match self {
            Self::Ip(ip) => format!("{}:{ip}", tier.as_str()),
            Self::User(id) => format!("{}:{id}", tier.as_str()),
        }
    }
}

type Keyed =
    RateLimiter<Client, DefaultKeyedStateStore<Client>, DefaultClock, StateInformationMiddleware>;

struct Bucket {
    limit: u32,
    window: Duration,
    /// Time for one unit to refill.
    period: Duration,
    limiter: Keyed,
}

impl Bucket {
    /// Draws from this process's bucket.
    fn draw(&self, client: &Client, units: std::num::NonZeroU32) -> Decision {
        match self.limiter.check_key_n(client, units) {
            Ok(Ok(snapshot)) => Decision {
                allowed: true,
                remaining: snapshot.remaining_burst_capacity(),
                wait: Duration::ZERO,
            },
            Ok(Err(not_until)) => Decision {
                allowed: false,
                remaining: 0,
                wait: not_until.wait_time_from(DefaultClock::default().now()),
            },
            // Cannot happen (clamped to the burst); treat as over budget for a full window.
            Err(_) => Decision {
                allowed: false,
                remaining: 0,
                wait: self.window,
            },
        }
    }
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
    /// Redis, when `REDIS_URL` is set.
    shared: Option<Arc<SharedBuckets>>,
}

fn bucket(quota: RateQuota) -> Option<Bucket> {
    let (limit, window) = quota.limit()?;
    let period = window / limit.get();
    let quota = Quota::with_period(period)?.allow_burst(limit);
    Some(Bucket {
        limit: limit.get(),
        window,
        period,
        limiter: RateLimiter::keyed(quota).with_middleware::<StateInformationMiddleware>(),
    })
}

impl RateLimits {
    /// The tiers `NEOFORGE_RATE_LIMIT_*` configure, kept in `shared` (Redis) when given.
    pub fn from_settings(
        settings: &crate::config::Settings,
        shared: Option<Arc<SharedBuckets>>,
    ) -> Self {
        let mut limits = Self::new(
            settings.rate_limit_anonymous,
            settings.rate_limit_api,
            settings.rate_limit_auth,
        );
        if let Some(tiers) = Arc::get_mut(&mut limits.inner) {
            tiers.csp = bucket(settings.rate_limit_csp);
            tiers.account =
                super::sign_in::AccountBudget::new(settings.rate_limit_account, shared.clone());
            tiers.shared = shared;
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
                shared: None,
            }),
        }
    }

    /// Whether every tier is off (nothing to check, no token to read).
    pub fn is_off(&self) -> bool {
        let t = &self.inner;
        t.anonymous.is_none() && t.api.is_none() && t.auth.is_none()
    }

    /// Draws one request from the budget of `tier` for `client`. `Ok(None)`: the tier is off.
    pub async fn check(&self, tier: Tier, client: &Client) -> Result<Option<Allowed>, Limited> {
        self.check_n(tier, client, 1).await
    }

    /// Draws `units` at once (a GraphQL operation's cost). More than the whole budget drains
    /// it: such a request is allowed only with a full bucket.
    pub async fn check_n(
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
        let shared = match &self.inner.shared {
            Some(shared) => {
                let key = client.key(tier);
                let decision = shared
                    .draw(&key, bucket.period, bucket.limit, Draw::Spend(units.get()))
                    .await;
                if decision.is_none() {
                    metrics::counter!("rate_limit_fallback_total", "tier" => tier.as_str())
                        .increment(1);
                }
                decision
            }
            None => None,
        };
        let decision = match shared {
            Some(decision) => {
                if tier == Tier::Auth && decision.allowed {
                    // Kept in step for an outage (see the module's note); its answer is Redis's.
                    bucket.draw(client, units);
                }
                decision
            }
            None => bucket.draw(client, units),
        };
        if decision.allowed {
            return Ok(Some(Allowed {
                tier,
                limit: bucket.limit,
                window: bucket.window,
                remaining: decision.remaining,
            }));
        }
        metrics::counter!("rate_limit_exceeded_total", "tier" => tier.as_str()).increment(1);
        Err(Limited {
            tier,
            limit: bucket.limit,
            window: bucket.window,
            retry_after: decision.wait,
        })
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

    #[tokio::test]
    async fn limits_each_client_separately() {
        let limits = RateLimits::new(
            RateQuota::per(3, Duration::from_secs(60)),
            RateQuota::OFF,
            RateQuota::OFF,
        );
        let a = Client::Ip("10.0.0.1".parse().unwrap());
        let b = Client::Ip("10.0.0.2".parse().unwrap());
        for remaining in [2, 1, 0] {
            let allowed = limits.check(Tier::Anonymous, &a).await.unwrap().unwrap();
            assert_eq!(allowed.remaining, remaining);
        }
        let limited = limits.check(Tier::Anonymous, &a).await.unwrap_err();
        assert!(limited.retry_after > Duration::from_secs(15));
        assert!(limited.retry_after <= Duration::from_secs(20));
        assert!(limits.check(Tier::Anonymous, &b).await.is_ok());
        assert!(limits.check(Tier::Api, &a).await.unwrap().is_none());
    }
}
