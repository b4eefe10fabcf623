//! The request context: who is calling, the facts of their request, and the services
//! a request may use. The HTTP layer decides the caller once per request ([`crate::auth::layer`]);
//! the GraphQL handler, the REST shim (through the schema) and each WebSocket operation wrap it
//! with the process's [`Services`] into one [`RequestContext`], and every domain function takes
//! `&RequestContext` plus its own input.

use std::sync::Arc;

use crate::auth::{JwtKeys, Principal};
use crate::db::Db;
use crate::domain::accounts::session_state::SessionStates;
use crate::domain::status_feed::StatusFeed;
use crate::error::Result;
use crate::idempotency::Idempotency;
use crate::security::RateLimits;

/// Facts about the HTTP request that the domain records (sessions, audit events) and budgets by.
#[derive(Clone, Debug, Default)]
pub struct RequestMeta {
    pub request_id: Option<String>,
    /// Typed, so budgets key on it without parsing it back; text only where it is stored.
    pub ip: Option<std::net::IpAddr>,
    pub user_agent: Option<String>,
}

impl RequestMeta {
    /// `ip`: the client's address as the caller layer decided it (behind trusted proxies, the
    /// forwarded one).
    pub fn from_parts(headers: &http::HeaderMap, ip: Option<std::net::IpAddr>) -> Self {
        let text = |name: &str, max: usize| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(|s| crate::domain::text::first_chars(s, max).to_owned())
        };
        Self {
            request_id: text("x-request-id", 128),
            ip,
            user_agent: text(http::header::USER_AGENT.as_str(), 512),
        }
    }
}

/// What the process offers every request: built once at start, shared by reference count.
pub struct Services {
    pub db: Db,
    pub idempotency: Idempotency,
    pub status_feed: StatusFeed,
    pub jwt: JwtKeys,
    pub rate_limits: RateLimits,
    /// Which sessions are still open, cached per process (see `accounts::session_state`).
    pub sessions: SessionStates,
    /// Refresh token lifetime (`NEOFORGE_REFRESH_TOKEN_TTL`).
    pub refresh_token_ttl: std::time::Duration,
    /// Encrypts TOTP secrets, peppers recovery codes (`NEOFORGE_TOTP_KEY`).
    pub secrets: crate::domain::accounts::secrets::SecretBox,
    /// The mail outbox (`NEOFORGE_SMTP_*`).
    pub mailer: crate::mail::Mailer,
}

/// The caller and the services one request may use.
#[derive(Clone)]
pub struct RequestContext {
    pub principal: Principal,
    pub meta: RequestMeta,
    services: Arc<Services>,
}

impl RequestContext {
    pub fn new(services: Arc<Services>, principal: Principal, meta: RequestMeta) -> Self {
        Self {
            principal,
            meta,
            services,
        }
    }

    pub fn db(&self) -> &Db {
        &self.services.db
    }

    pub fn idempotency(&self) -> &Idempotency {
        &self.services.idempotency
    }

    pub fn status_feed(&self) -> &StatusFeed {
        &self.services.status_feed
    }

    pub fn jwt(&self) -> &JwtKeys {
        &self.services.jwt
    }

    pub fn sessions(&self) -> &SessionStates {
        &self.services.sessions
    }

    pub fn secrets(&self) -> &crate::domain::accounts::secrets::SecretBox {
        &self.services.secrets
    }

    pub fn mailer(&self) -> &crate::mail::Mailer {
        &self.services.mailer
    }

    /// Second-factor codes draw from the account's failure budget under a key of their own,
    /// so guessing codes is as slow as guessing passwords and does not spend the password's.
    pub async fn check_code_budget(&self, user_id: uuid::Uuid) -> Result<()> {
        self.check_account_budget(&format!("totp:{user_id}")).await
    }

    pub async fn code_failed(&self, user_id: uuid::Uuid) {
        self.sign_in_failed(&format!("totp:{user_id}")).await;
    }

    pub fn refresh_token_ttl(&self) -> std::time::Duration {
        self.services.refresh_token_ttl
    }

    /// Sign-in and registration attempts draw from the client address's `auth` budget (DESIGN
    /// §9) on top of the per-request tier, whichever transport they arrive by.
    pub async fn draw_auth_attempt(&self) -> Result<()> {
        match self.meta.ip {
            Some(ip) => self
                .services
                .rate_limits
                .check(
                    crate::security::Tier::Auth,
                    &crate::security::Client::ip(ip),
                )
                .await
                .map(|_| ())
                .map_err(Into::into),
            None => Ok(()),
        }
    }
}

impl RequestContext {
    /// Draws `units` from the caller's request budget (the signed-in user's `api` tier, else
    /// the client address's `anonymous` tier): GraphQL operations pay by their complexity.
    pub async fn draw_budget(&self, units: u32) -> Result<()> {
        use crate::security::{Client, Tier};
        let (tier, client) = match (self.principal.user_id(), self.meta.ip) {
            (Some(id), _) => (Tier::Api, Client::User(id)),
            (None, Some(ip)) => (Tier::Anonymous, Client::ip(ip)),
            (None, None) => return Ok(()),
        };
        self.services
            .rate_limits
            .check_n(tier, &client, units)
            .await
            .map(|_| ())
            .map_err(Into::into)
    }

    /// Refuses a sign-in to an account whose failure budget is spent, before the
    /// password is checked; see [`crate::security::sign_in`].
    pub async fn check_account_budget(&self, email: &str) -> Result<()> {
        self.services.rate_limits.account().check(email).await
    }

    /// Spends one of the account's sign-in failures.
    pub async fn sign_in_failed(&self, email: &str) {
        self.services
            .rate_limits
            .account()
            .record_failure(email)
            .await;
    }
}

/// What every conditional or retry-safe write accepts besides its own input: GraphQL's
/// `expectedVersion` and `idempotencyKey`, REST's `If-Match` and `Idempotency-Key`.
#[derive(Clone, Debug, Default)]
pub struct WriteOptions {
    pub expected_version: Option<i32>,
    pub idempotency_key: Option<String>,
}

impl WriteOptions {
    pub fn new(expected_version: Option<i32>, idempotency_key: Option<String>) -> Self {
        Self {
            expected_version,
            idempotency_key,
        }
    }

    pub fn keyed(idempotency_key: Option<String>) -> Self {
        Self::new(None, idempotency_key)
    }
}
