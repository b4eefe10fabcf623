//! The request context: who is calling, the facts of their request, and the services a request
//! may use. The HTTP edge decides the caller once per request (`http::caller`); the GraphQL
//! handler, the REST shim (through the schema) and each WebSocket operation wrap it
//! with the process's [`Services`] into one [`RequestContext`], and every domain function takes
//! `&RequestContext` plus its own input.

use std::sync::Arc;

use crate::auth::{JwtKeys, Principal};
use crate::db::Db;
use crate::domain::accounts::session_state::SessionStates;
use crate::domain::status_feed::StatusFeed;
use crate::error::{Error, Result};
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

impl Services {
    /// The principal as of now: refused when its session has ended (revoked sessions, disabled
    /// or deleted users), with the user's current role, which is what authorizes (a token
    /// minted before a role change carries the old role).
    pub async fn principal_now(&self, principal: &Principal) -> Result<Principal> {
        let Principal::User { id, session_id, .. } = principal else {
            return Ok(principal.clone());
        };
        match self.sessions.check(&self.db, *session_id).await {
            Ok(Some(active)) if active.user_id == *id => Ok(Principal::User {
                id: *id,
                role: active.role,
                session_id: *session_id,
            }),
            Ok(_) => Err(Error::Unauthenticated(
                "the session has ended; sign in again".into(),
            )),
            Err(err) => {
                err.log();
                Err(Error::Unavailable(sea_orm::DbErr::Custom(
                    "the session state cannot be read".into(),
                )))
            }
        }
    }
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

    /// Sign-in and registration attempts draw from the client address's `auth` budget on top of the
    /// per-request tier, whichever transport they arrive by.
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
        let Some((tier, client)) =
            crate::security::rate_limit::request_budget(self.principal.user_id(), self.meta.ip)
        else {
            return Ok(());
        };
        self.services
            .rate_limits
            .check_n(tier, &client, units)
            .await
            .map(|_| ())
            .map_err(Into::into)
    }

    /// Refuses a sign-in to an account whose failure budget is spent, before the password is
    /// checked; see [`crate::security::sign_in`].
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
