//! Rate-limit buckets in Redis, shared by every replica, when `REDIS_URL` is set.
//!
//! One round trip per check: a Lua script (`gcra.lua`, the algorithm `governor` runs in
//! process) reads the bucket, decides and writes it back atomically, on the Redis server's clock
//! so that the replicas' clocks need not agree. Every key carries the deployment's prefix and
//! expires when its bucket is full again, so Redis holds only clients active within a window.
//!
//! When Redis does not answer within `NEOFORGE_REDIS_TIMEOUT_MS` (down, partitioned,
//! overloaded), the check returns `None` and the process's own buckets decide: the server never
//! refuses a request because Redis is away. The API tiers thereby fail open to a per-replica
//! budget (N replicas admit up to N times the quota), while the sign-in tiers stay limited in
//! process (see [`super::rate_limit`]). The switch is logged when it happens and then at most
//! once a minute, and shown by `rate_limit_redis_up` and `rate_limit_fallback_total{tier}`.
//! Meanwhile Redis is retried once a second rather than by every request, so an outage costs
//! at most one request a second the timeout's wait.
//!
//! `redis`'s `ConnectionManager` is the maintained crate's multiplexed, self-reconnecting
//! connection: one socket carries every concurrent check.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use crate::config::{ConfigError, Settings, redact_url};

const SCRIPT: &str = include_str!("gcra.lua");
/// How long Redis is left alone after it failed to answer.
const RETRY_INTERVAL: Duration = Duration::from_secs(1);
/// At most one "still unreachable" warning per interval.
const LOG_INTERVAL: Duration = Duration::from_secs(60);
/// Longest wait for a new connection (a black-holed host); checks still give up at the timeout.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);

/// What a check does to its bucket.
#[derive(Clone, Copy, Debug)]
pub enum Draw {
    /// Take this many units, if they are there.
    Spend(u32),
    /// Look whether one unit is there; take nothing.
    Peek,
    /// Take one unit even when none is left (something that already happened, e.g. a failure).
    Force,
}

impl Draw {
    fn args(self) -> (u32, u8) {
        match self {
            Self::Spend(units) => (units, 0),
            Self::Peek => (1, 1),
            Self::Force => (1, 2),
        }
    }
}

/// A bucket's answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    /// Units left after the draw.
    pub remaining: u32,
    /// Until the draw would be allowed (zero when it was).
    pub wait: Duration,
}

pub struct SharedBuckets {
    client: redis::Client,
    config: ConnectionManagerConfig,
    /// Replaced when Redis stops answering on it (see [`Self::timed_out`]).
    conn: Mutex<ConnectionManager>,
    script: redis::Script,
    prefix: String,
    timeout: Duration,
    /// `host:port` for the logs (never the password).
    target: String,
    up: AtomicBool,
    health: Mutex<Health>,
}

#[derive(Default)]
struct Health {
    retry_at: Option<Instant>,
    last_warning: Option<Instant>,
    failures_since_warning: u64,
}

impl SharedBuckets {
    /// The shared buckets `REDIS_URL` names, if it is set. Connects lazily: a Redis that is not
    /// there yet does not stop the server from starting.
    pub fn from_settings(settings: &Settings) -> Result<Option<Self>, ConfigError> {
        let Some(url) = settings.redis_url.as_deref() else {
            return Ok(None);
        };
        let bad = |err: redis::RedisError| ConfigError::BadRedisUrl {
            url: redact_url(url),
            reason: err.to_string(),
        };
        let client = redis::Client::open(url).map_err(bad)?;
        let target = client.get_connection_info().addr().to_string();
        let timeout = settings.redis_timeout();
        let config = ConnectionManagerConfig::new()
            .set_number_of_retries(1)
            .set_min_delay(Duration::from_millis(50))
            .set_max_delay(Duration::from_millis(500))
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(timeout));
        let conn =
            ConnectionManager::new_lazy_with_config(client.clone(), config.clone()).map_err(bad)?;
        Ok(Some(Self {
            client,
            config,
            conn: Mutex::new(conn),
            script: redis::Script::new(SCRIPT),
            prefix: settings.redis_key_prefix.clone(),
            timeout,
            target,
            up: AtomicBool::new(true),
            health: Mutex::default(),
        }))
    }

    /// Connects once at start, so the log says at once whether budgets are shared.
    pub async fn probe(&self) {
        // Every series exists from the start, so alerts on their increase see the first one.
        metrics::counter!("rate_limit_redis_errors_total").increment(0);
        for tier in ["anonymous", "api", "auth", "account", "csp"] {
            metrics::counter!("rate_limit_fallback_total", "tier" => tier).increment(0);
        }
        let mut conn = self.connection();
        let cmd = redis::cmd("PING");
        let ping = cmd.query_async::<String>(&mut conn);
        match tokio::time::timeout(CONNECT_TIMEOUT, ping).await {
            Ok(Ok(_)) => {
                metrics::gauge!("rate_limit_redis_up").set(1.0);
                tracing::info!(redis.target = %self.target, "rate-limit budgets shared through Redis");
            }
            Ok(Err(err)) => self.failed(&err.to_string()),
            Err(_) => self.timed_out(CONNECT_TIMEOUT),
        }
    }

    /// Draws from the bucket `key` (a tier and a client) holding `burst` units that refill one
    /// per `period`. `None`: Redis did not answer; the caller's own buckets decide.
    pub async fn draw(
        &self,
        key: &str,
        period: Duration,
        burst: u32,
        draw: Draw,
    ) -> Option<Decision> {
        if !self.worth_trying() {
            return None;
        }
        let (units, mode) = draw.args();
        let period_us = u64::try_from(period.as_micros()).unwrap_or(u64::MAX).max(1);
        let mut conn = self.connection();
        let mut invocation = self.script.key(format!("{}{key}", self.prefix));
        invocation.arg(period_us).arg(burst).arg(units).arg(mode);
        let answer = invocation.invoke_async::<(i64, i64, i64)>(&mut conn);
        match tokio::time::timeout(self.timeout, answer).await {
            Ok(Ok((allowed, remaining, wait_us))) => {
                self.answered();
                Some(Decision {
                    allowed: allowed == 1,
                    remaining: u32::try_from(remaining.max(0)).unwrap_or(u32::MAX),
                    wait: Duration::from_micros(u64::try_from(wait_us.max(0)).unwrap_or(0)),
                })
            }
            // The connection's own response timeout, or ours: the same silence.
            Ok(Err(err)) if err.is_timeout() => {
                self.timed_out(self.timeout);
                None
            }
            Ok(Err(err)) => {
                self.failed(&err.to_string());
                None
            }
            Err(_) => {
                self.timed_out(self.timeout);
                None
            }
        }
    }

    fn connection(&self) -> ConnectionManager {
        self.conn
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// No answer in time. The connection manager reconnects by itself when the socket fails,
    /// not when it merely goes silent (a host gone without a reset, a partition): such a socket
    /// would stall every later check until TCP gives up, many minutes later. So it is replaced
    /// by a new one, which connects on its next use.
    fn timed_out(&self, waited: Duration) {
        self.failed(&format!("no answer within {} ms", waited.as_millis()));
        if let Ok(fresh) =
            ConnectionManager::new_lazy_with_config(self.client.clone(), self.config.clone())
        {
            *self
                .conn
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = fresh;
        }
    }

    fn health(&self) -> std::sync::MutexGuard<'_, Health> {
        self.health
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Up, or down long enough to be asked again.
    fn worth_trying(&self) -> bool {
        self.up.load(Ordering::Relaxed)
            || self.health().retry_at.is_none_or(|at| Instant::now() >= at)
    }

    fn answered(&self) {
        if self.up.swap(true, Ordering::Relaxed) {
            return;
        }
        let mut health = self.health();
        health.retry_at = None;
        health.last_warning = None;
        health.failures_since_warning = 0;
        metrics::gauge!("rate_limit_redis_up").set(1.0);
        tracing::info!(
            redis.target = %self.target,
            "Redis answers again: rate-limit budgets are shared again"
        );
    }

    fn failed(&self, reason: &str) {
        metrics::counter!("rate_limit_redis_errors_total").increment(1);
        let now = Instant::now();
        let was_up = self.up.swap(false, Ordering::Relaxed);
        let mut health = self.health();
        health.retry_at = Some(now + RETRY_INTERVAL);
        if was_up {
            metrics::gauge!("rate_limit_redis_up").set(0.0);
        }
        let due = health
            .last_warning
            .is_none_or(|at| now.duration_since(at) >= LOG_INTERVAL);
        if was_up || due {
            tracing::warn!(
                redis.target = %self.target,
                %reason,
                failures_since_last_warning = health.failures_since_warning,
                "Redis unreachable: rate limits fall back to this process's own buckets"
            );
            health.last_warning = Some(now);
            health.failures_since_warning = 0;
        } else {
            health.failures_since_warning += 1;
        }
    }
}
