//! The per-account sign-in budget: failed sign-ins per account, beside the per-address `auth` tier,
//! so that a botnet of addresses cannot guess one account's password.
//!
//! What it counts and why (OWASP Authentication and Credential Stuffing cheat sheets):
//! - Only failures draw from it. A user who signs in correctly never spends it, and a success
//!   leaves it alone (no reset, so an attacker who owns the account's password gains nothing).
//! - Exhausted means throttled, not locked: the budget refills continuously (a `10/h` budget
//!   gives one more attempt every 6 minutes), so an attacker can at most slow the victim's
//!   sign-in, never lock the account until an operator acts. That trade-off is OWASP's
//!   recommendation against lock-out abuse; the per-address tier still stops one address
//!   from exhausting many accounts quickly.
//! - While exhausted, every attempt is refused with 429 before the password is checked, the
//!   right one included: otherwise the refusal would itself tell a guesser which guess was right.
//! - The account is the normalised email (trimmed, lowercased), hashed so that the table holds
//!   a fixed 32 bytes per key whatever a client sends, whether or not the account exists (an
//!   unknown address behaves exactly like a known one).
//!
//! It is a GCRA like the other tiers, kept here rather than in `governor` because the check
//! must look without spending (spend only on failure), which `governor` cannot.
//!
//! With `REDIS_URL` set the budget is shared by every replica (one key per account hash). It
//! stays in process too: every failure is also recorded here, and the process's own table
//! decides whenever Redis does not answer, so an outage does not refill anyone's budget.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use super::shared_buckets::{Draw, SharedBuckets};
use crate::config::RateQuota;
use crate::error::{Budget, Error};

type Key = [u8; 32];

#[derive(Clone, Default)]
pub struct AccountBudget {
    inner: Option<Arc<Inner>>,
    shared: Option<Arc<SharedBuckets>>,
}

struct Inner {
    limit: u32,
    window: Duration,
    /// Time between refills.
    period: Duration,
    /// Per account: the theoretical arrival time of the next failure (GCRA).
    tat: Mutex<HashMap<Key, Instant>>,
}

/// The account a sign-in names: its email, normalised as accounts store it.
pub fn account_key(email: &str) -> Key {
    let normalised = email.trim().to_lowercase();
    Sha256::digest(normalised.as_bytes()).into()
}

impl AccountBudget {
    pub fn new(quota: RateQuota, shared: Option<Arc<SharedBuckets>>) -> Self {
        let inner = quota.limit().map(|(limit, window)| {
            Arc::new(Inner {
                limit: limit.get(),
                window,
                period: window / limit.get(),
                tat: Mutex::default(),
            })
        });
        Self { inner, shared }
    }

    /// The name and size the 429's headers report.
    pub fn budget(&self) -> Option<Budget> {
        self.inner.as_ref().map(|i| Budget {
            name: "account",
            limit: i.limit,
            window: i.window,
        })
    }

    /// `Err(RateLimited)` while the account has no failures left; spends nothing.
    pub async fn check(&self, email: &str) -> Result<(), Error> {
        let Some(inner) = &self.inner else {
            return Ok(());
        };
        let key = account_key(email);
        let shared = self.shared_draw(inner, &key, Draw::Peek).await;
        let wait = match shared {
            Some(decision) => (!decision.allowed).then_some(decision.wait),
            None => inner.local_wait(&key),
        };
        match wait {
            Some(wait) => {
                super::Threat::RepeatedLoginFailure.record();
                metrics::counter!("rate_limit_exceeded_total", "tier" => "account").increment(1);
                Err(Error::RateLimited {
                    retry_after: wait,
                    budget: self.budget(),
                })
            }
            None => Ok(()),
        }
    }

    /// Spends one failure of the account's budget.
    pub async fn record_failure(&self, email: &str) {
        let Some(inner) = &self.inner else {
            return;
        };
        let key = account_key(email);
        self.shared_draw(inner, &key, Draw::Force).await;
        inner.record_local(&key);
    }

    /// `None` without Redis, or when Redis did not answer.
    async fn shared_draw(
        &self,
        inner: &Inner,
        key: &Key,
        draw: Draw,
    ) -> Option<super::shared_buckets::Decision> {
        let shared = self.shared.as_ref()?;
        let name = format!("account:{}", hex::encode(key));
        let decision = shared.draw(&name, inner.period, inner.limit, draw).await;
        if decision.is_none() {
            metrics::counter!("rate_limit_fallback_total", "tier" => "account").increment(1);
        }
        decision
    }

    /// Forgets accounts whose budget is full again.
    pub fn forget_idle(&self) {
        if let Some(inner) = &self.inner
            && let Ok(mut table) = inner.tat.lock()
        {
            let now = Instant::now();
            table.retain(|_, tat| *tat > now);
            table.shrink_to_fit();
        }
    }
}

impl Inner {
    /// How long until this process's table allows a failure, if it does not now.
    fn local_wait(&self, key: &Key) -> Option<Duration> {
        let now = Instant::now();
        let tat = self.tat.lock().map(|t| t.get(key).copied()).unwrap_or(None);
        match tat.and_then(|tat| tat.checked_duration_since(now)) {
            // Refused once a failure now would land beyond the burst window.
            Some(ahead) if ahead + self.period > self.window => {
                Some(ahead + self.period - self.window)
            }
            _ => None,
        }
    }

    fn record_local(&self, key: &Key) {
        let now = Instant::now();
        if let Ok(mut table) = self.tat.lock() {
            let tat = table.entry(*key).or_insert(now);
            *tat = (*tat).max(now) + self.period;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn failures_are_counted_per_normalised_account() {
        let budget = AccountBudget::new(RateQuota::per(3, Duration::from_secs(60)), None);
        for _ in 0..3 {
            assert!(budget.check("Ada@Example.com ").await.is_ok());
            budget.record_failure(" ada@example.COM").await;
        }
        let err = budget.check("ada@example.com").await.unwrap_err();
        let Error::RateLimited { retry_after, .. } = err else {
            panic!("{err:?}")
        };
        assert!(retry_after > Duration::from_secs(15) && retry_after <= Duration::from_secs(20));
        assert!(budget.check("bob@example.com").await.is_ok());
        assert!(
            AccountBudget::default()
                .check("ada@example.com")
                .await
                .is_ok()
        );
    }
}
