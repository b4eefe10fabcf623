//! Typed configuration. Every setting is a clap argument backed by an environment variable, so
//! `neoforge --help` is the complete, always-current list, and a bad value fails at start with
//! the variable's name in the message.

use std::net::SocketAddr;
use std::time::Duration;

use std::fmt;
use std::num::NonZeroU32;
use std::str::FromStr;

use clap::{Args, ValueEnum};

pub mod trusted_proxy;

pub use trusted_proxy::TrustedProxy;

/// The development JWT secret. Production refuses to start with it.
pub const DEV_JWT_SECRET: &str = "neoforge-development-secret-do-not-use-in-production";
/// The development key that encrypts TOTP secrets at rest. Production refuses to start with it.
pub const DEV_TOTP_KEY: &str = "neoforge-development-totp-key-do-not-use-in-production";

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Environment {
    Development,
    Production,
}

/// What sits between the server and PostgreSQL (docs/scaling.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Pooler {
    /// PostgreSQL itself, or a pooler that gives each client connection one server session
    /// (PgBouncer `pool_mode = session`).
    None,
    /// A pooler that hands out a server session per transaction (PgBouncer
    /// `pool_mode = transaction`): no statement may rely on session state.
    Transaction,
}

#[derive(Clone, Debug, Args)]
pub struct Settings {
    /// Database URL: `sqlite://FILE?mode=rwc` (embedded default) or `postgres://...`.
    #[arg(
        long,
        env = "DATABASE_URL",
        value_name = "DATABASE_URL",
        default_value = "sqlite://neoforge.db?mode=rwc",
        global = true
    )]
    pub database_url: String,

    /// `transaction` when DATABASE_URL points at PgBouncer in transaction pooling mode: every
    /// statement then runs in an explicit transaction, as an unnamed (not cached) prepared
    /// statement, and the session settings are set per transaction.
    #[arg(
        long,
        env = "NEOFORGE_DATABASE_POOLER",
        value_name = "NEOFORGE_DATABASE_POOLER",
        value_enum,
        default_value = "none",
        global = true
    )]
    pub database_pooler: Pooler,

    /// PostgreSQL URL with a session of its own (the database directly, or a session-mode
    /// pool), for what needs one: the `LISTEN` sessions of the status feed and session
    /// revocation, and the migration lock. Default: DATABASE_URL.
    #[arg(
        long,
        env = "NEOFORGE_DATABASE_SESSION_URL",
        value_name = "NEOFORGE_DATABASE_SESSION_URL",
        global = true
    )]
    pub database_session_url: Option<String>,

    /// Address the HTTP server listens on.
    #[arg(
        long,
        env = "NEOFORGE_BIND",
        value_name = "NEOFORGE_BIND",
        default_value = "127.0.0.1:8080",
        global = true
    )]
    pub bind: SocketAddr,

    /// `development` (GraphiQL, introspection, human logs) or `production` (JSON logs, strict
    /// secrets).
    #[arg(
        long = "env",
        env = "NEOFORGE_ENV",
        value_name = "NEOFORGE_ENV",
        value_enum,
        default_value = "development",
        global = true
    )]
    pub environment: Environment,

    /// HMAC secret for access tokens (at least 32 bytes in production).
    #[arg(long, env = "NEOFORGE_JWT_SECRET", value_name = "NEOFORGE_JWT_SECRET", default_value = DEV_JWT_SECRET, hide_default_value = true, global = true)]
    pub jwt_secret: String,

    /// Access token lifetime, in seconds.
    #[arg(long, env = "NEOFORGE_ACCESS_TOKEN_TTL", value_name = "NEOFORGE_ACCESS_TOKEN_TTL", default_value_t = 900, value_parser = clap::value_parser!(u64).range(10..=86_400), global = true)]
    pub access_token_ttl: u64,

    /// Maximum pooled database connections.
    #[arg(long, env = "NEOFORGE_DB_MAX_CONNECTIONS", value_name = "NEOFORGE_DB_MAX_CONNECTIONS", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=1000), global = true)]
    pub db_max_connections: u32,

    /// Seconds to wait for a database connection (connect and pool acquire).
    #[arg(long, env = "NEOFORGE_DB_CONNECT_TIMEOUT", value_name = "NEOFORGE_DB_CONNECT_TIMEOUT", default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=600), global = true)]
    pub db_connect_timeout: u64,

    /// Milliseconds a single SQL statement may run (PostgreSQL `statement_timeout`).
    #[arg(long, env = "NEOFORGE_DB_STATEMENT_TIMEOUT", value_name = "NEOFORGE_DB_STATEMENT_TIMEOUT", default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..), global = true)]
    pub db_statement_timeout: u64,

    /// Seconds a request may take before it is answered 503.
    #[arg(long, env = "NEOFORGE_REQUEST_TIMEOUT", value_name = "NEOFORGE_REQUEST_TIMEOUT", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600), global = true)]
    pub request_timeout: u64,

    /// Largest accepted request body, in bytes.
    #[arg(long, env = "NEOFORGE_BODY_LIMIT", value_name = "NEOFORGE_BODY_LIMIT", default_value_t = 1_048_576, value_parser = clap::value_parser!(u64).range(1024..=104_857_600), global = true)]
    pub body_limit: u64,

    /// Comma-separated origins allowed by CORS (e.g. `https://app.neoforge.dev`). Empty: none.
    #[arg(
        long,
        env = "NEOFORGE_CORS_ORIGINS",
        value_name = "NEOFORGE_CORS_ORIGINS",
        value_delimiter = ',',
        global = true
    )]
    pub cors_origins: Vec<String>,

    /// Serve GraphiQL on `GET /graphql` (default: on in development, off in production).
    #[arg(
        long,
        env = "NEOFORGE_GRAPHIQL",
        value_name = "NEOFORGE_GRAPHIQL",
        global = true
    )]
    pub graphiql: Option<bool>,

    /// Allow GraphQL introspection (default: on in development, off in production).
    #[arg(
        long,
        env = "NEOFORGE_INTROSPECTION",
        value_name = "NEOFORGE_INTROSPECTION",
        global = true
    )]
    pub introspection: Option<bool>,

    /// Deepest GraphQL selection accepted (introspection needs about 15).
    #[arg(long, env = "NEOFORGE_GRAPHQL_MAX_DEPTH", value_name = "NEOFORGE_GRAPHQL_MAX_DEPTH", default_value_t = 16, value_parser = clap::value_parser!(u64).range(2..=100), global = true)]
    pub graphql_max_depth: u64,

    /// Largest GraphQL query complexity (connections weigh page size × selection).
    #[arg(long, env = "NEOFORGE_GRAPHQL_MAX_COMPLEXITY", value_name = "NEOFORGE_GRAPHQL_MAX_COMPLEXITY", default_value_t = 5_000, value_parser = clap::value_parser!(u64).range(10..=1_000_000), global = true)]
    pub graphql_max_complexity: u64,

    /// Most aliases one GraphQL document may use.
    #[arg(long, env = "NEOFORGE_GRAPHQL_MAX_ALIASES", value_name = "NEOFORGE_GRAPHQL_MAX_ALIASES", default_value_t = 30, value_parser = clap::value_parser!(u64).range(0..=10_000), global = true)]
    pub graphql_max_aliases: u64,

    /// Microseconds a DataLoader batch waits for sibling resolvers before querying: long enough for
    /// nested lists to gather their keys, short enough not to show in latency (the async-graphql
    /// default is 1000).
    #[arg(long, env = "NEOFORGE_LOADER_DELAY_US", value_name = "NEOFORGE_LOADER_DELAY_US", default_value_t = 200, value_parser = clap::value_parser!(u64).range(0..=100_000), global = true)]
    pub loader_delay_us: u64,

    /// Seconds an idempotency key (and its stored result) is kept; expired keys behave as new.
    #[arg(long, env = "NEOFORGE_IDEMPOTENCY_TTL", value_name = "NEOFORGE_IDEMPOTENCY_TTL", default_value_t = 86_400, value_parser = clap::value_parser!(u64).range(1..=30 * 86_400), global = true)]
    pub idempotency_ttl: u64,

    /// Require an idempotency key on creates and updates (missing: 400 / BAD_USER_INPUT).
    #[arg(long, env = "NEOFORGE_IDEMPOTENCY_REQUIRED", value_name = "NEOFORGE_IDEMPOTENCY_REQUIRED", default_value_t = false, action = clap::ArgAction::Set, global = true)]
    pub idempotency_required: bool,

    /// Seconds between runs of the expired-idempotency-key cleanup job.
    #[arg(long, env = "NEOFORGE_IDEMPOTENCY_CLEANUP_INTERVAL", value_name = "NEOFORGE_IDEMPOTENCY_CLEANUP_INTERVAL", default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..=86_400), global = true)]
    pub idempotency_cleanup_interval: u64,

    /// Require `If-Match` on REST PATCH/DELETE (428 Precondition Required when absent).
    #[arg(long, env = "NEOFORGE_REQUIRE_IF_MATCH", value_name = "NEOFORGE_REQUIRE_IF_MATCH", default_value_t = false, action = clap::ArgAction::Set, global = true)]
    pub require_if_match: bool,

    /// Requests per client IP without a valid token: `N/s`, `N/min`, `N/h` or `off` (429 beyond).
    #[arg(
        long,
        env = "NEOFORGE_RATE_LIMIT_ANONYMOUS",
        value_name = "NEOFORGE_RATE_LIMIT_ANONYMOUS",
        default_value = "300/min",
        global = true
    )]
    pub rate_limit_anonymous: RateQuota,

    /// Requests per signed-in user (same format).
    #[arg(
        long,
        env = "NEOFORGE_RATE_LIMIT_API",
        value_name = "NEOFORGE_RATE_LIMIT_API",
        default_value = "1200/min",
        global = true
    )]
    pub rate_limit_api: RateQuota,

    /// Sign-in and registration attempts per client IP (same format).
    #[arg(
        long,
        env = "NEOFORGE_RATE_LIMIT_AUTH",
        value_name = "NEOFORGE_RATE_LIMIT_AUTH",
        default_value = "10/min",
        global = true
    )]
    pub rate_limit_auth: RateQuota,

    /// Apply pending migrations when `serve` starts.
    #[arg(long, env = "NEOFORGE_AUTO_MIGRATE", value_name = "NEOFORGE_AUTO_MIGRATE", default_value_t = true, action = clap::ArgAction::Set, global = true)]
    pub auto_migrate: bool,

    /// Refresh token (and session) idle lifetime, in seconds: each refresh starts it again.
    #[arg(long, env = "NEOFORGE_REFRESH_TOKEN_TTL", value_name = "NEOFORGE_REFRESH_TOKEN_TTL", default_value_t = 30 * 86_400, value_parser = clap::value_parser!(u64).range(60..=365 * 86_400), global = true)]
    pub refresh_token_ttl: u64,

    /// How long a process trusts its cached copy of a session's state (revoked? role? user
    /// disabled?), in seconds. PostgreSQL notifications evict entries at once; this bounds the
    /// delay when a notification is lost. 0 reads the database on every request.
    #[arg(long, env = "NEOFORGE_SESSION_CACHE_TTL", value_name = "NEOFORGE_SESSION_CACHE_TTL", default_value_t = 5, value_parser = clap::value_parser!(u64).range(0..=5), global = true)]
    pub session_cache_ttl: u64,

    /// Seconds a client has to send a request's headers, counted from the connection's accept
    /// or from the request's first byte (408 and close beyond). It is also the grace period
    /// before the body rate floor applies.
    #[arg(long, env = "NEOFORGE_HEADER_TIMEOUT", value_name = "NEOFORGE_HEADER_TIMEOUT", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=300), global = true)]
    pub header_timeout: u64,

    /// Seconds an idle keep-alive connection stays open (longer than a load balancer's usual 60,
    /// so the balancer closes first).
    #[arg(long, env = "NEOFORGE_KEEPALIVE_TIMEOUT", value_name = "NEOFORGE_KEEPALIVE_TIMEOUT", default_value_t = 75, value_parser = clap::value_parser!(u64).range(1..=3600), global = true)]
    pub keepalive_timeout: u64,

    /// Slowest accepted request body, in bytes per second averaged from the request's start
    /// (after `NEOFORGE_HEADER_TIMEOUT` seconds of grace); slower bodies get 408 and the
    /// connection closes. 0: no floor (the request timeout still applies).
    #[arg(long, env = "NEOFORGE_BODY_MIN_RATE", value_name = "NEOFORGE_BODY_MIN_RATE", default_value_t = 1024, value_parser = clap::value_parser!(u64).range(0..=1_073_741_824), global = true)]
    pub body_min_rate: u64,

    /// Most client connections open at once; beyond it the server stops accepting and the
    /// kernel's backlog holds the rest (default: the descriptor limit less room for the
    /// database pool, logs and telemetry).
    #[arg(long, env = "NEOFORGE_MAX_CONNECTIONS", value_name = "NEOFORGE_MAX_CONNECTIONS", value_parser = clap::value_parser!(u32).range(1..=1_000_000), global = true)]
    pub max_connections: Option<u32>,

    /// Most connections open at once from one client address (an IPv6 /64 counts as one);
    /// further ones get 503 and are closed. Peers in `NEOFORGE_TRUSTED_PROXIES` are exempt.
    /// 0: no per-address cap.
    #[arg(long, env = "NEOFORGE_MAX_CONNECTIONS_PER_IP", value_name = "NEOFORGE_MAX_CONNECTIONS_PER_IP", default_value_t = 256, value_parser = clap::value_parser!(u32).range(0..=1_000_000), global = true)]
    pub max_connections_per_ip: u32,

    /// Most concurrent streams (requests) on one HTTP/2 connection.
    #[arg(long, env = "NEOFORGE_HTTP2_MAX_STREAMS", value_name = "NEOFORGE_HTTP2_MAX_STREAMS", default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=10_000), global = true)]
    pub http2_max_streams: u32,

    /// Seconds `serve` waits for an unreachable PostgreSQL at start, answering 503 meanwhile,
    /// before it exits (default: waits for ever; 0: exits at once).
    #[arg(
        long,
        env = "NEOFORGE_DB_WAIT",
        value_name = "NEOFORGE_DB_WAIT",
        global = true
    )]
    pub db_wait: Option<u64>,

    /// Comma-separated IPs/CIDRs of reverse proxies whose `X-Forwarded-For` / `Forwarded` is
    /// believed: behind them the client is the right-most untrusted address. Empty: the peer.
    #[arg(
        long,
        env = "NEOFORGE_TRUSTED_PROXIES",
        value_name = "NEOFORGE_TRUSTED_PROXIES",
        value_delimiter = ',',
        global = true
    )]
    pub trusted_proxies: Vec<TrustedProxy>,

    /// Failed sign-ins per account (normalised email), from any address (same format as the
    /// other quotas). Refills continuously: a throttle, not a lock-out.
    #[arg(
        long,
        env = "NEOFORGE_RATE_LIMIT_ACCOUNT",
        value_name = "NEOFORGE_RATE_LIMIT_ACCOUNT",
        default_value = "10/h",
        global = true
    )]
    pub rate_limit_account: RateQuota,

    /// Redis holding the rate-limit buckets, shared by every replica
    /// (`redis://[user:password@]host:port[/db]`, `rediss://` for TLS; Redis 5 or later). Unset:
    /// each process keeps its own buckets. Redis not answering: each process falls back to its
    /// own buckets.
    #[arg(
        long,
        env = "REDIS_URL",
        value_name = "REDIS_URL",
        hide_env_values = true,
        global = true
    )]
    pub redis_url: Option<String>,

    /// Prefix of every key the server writes to Redis, so that deployments (or test runs) can
    /// share one Redis.
    #[arg(
        long,
        env = "NEOFORGE_REDIS_KEY_PREFIX",
        value_name = "NEOFORGE_REDIS_KEY_PREFIX",
        default_value = "neoforge:rl:",
        global = true
    )]
    pub redis_key_prefix: String,

    /// Milliseconds a rate-limit check waits for Redis before the process's own buckets decide.
    #[arg(long, env = "NEOFORGE_REDIS_TIMEOUT_MS", value_name = "NEOFORGE_REDIS_TIMEOUT_MS", default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..=10_000), global = true)]
    pub redis_timeout_ms: u64,

    /// CSP reports per client address to `POST /api/v1/security/csp-report` (same format).
    #[arg(
        long,
        env = "NEOFORGE_RATE_LIMIT_CSP",
        value_name = "NEOFORGE_RATE_LIMIT_CSP",
        default_value = "60/min",
        global = true
    )]
    pub rate_limit_csp: RateQuota,

    /// Send `Content-Security-Policy-Report-Only`, `Reporting-Endpoints` and `Report-To` on
    /// every response (default: on in development, off in production).
    #[arg(
        long,
        env = "NEOFORGE_CSP_REPORT_ONLY",
        value_name = "NEOFORGE_CSP_REPORT_ONLY",
        global = true
    )]
    pub csp_report_only: Option<bool>,

    /// Send `Strict-Transport-Security` (default: on in production, where TLS terminates in
    /// front of the server, off in development).
    #[arg(
        long,
        env = "NEOFORGE_HSTS",
        value_name = "NEOFORGE_HSTS",
        global = true
    )]
    pub hsts: Option<bool>,

    /// Seconds a GraphQL WebSocket may take to send `connection_init` (closed 4408 after).
    #[arg(long, env = "NEOFORGE_WS_INIT_TIMEOUT", value_name = "NEOFORGE_WS_INIT_TIMEOUT", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=300), global = true)]
    pub ws_init_timeout: u64,

    /// Most operations one GraphQL WebSocket may have running at once.
    #[arg(long, env = "NEOFORGE_WS_MAX_OPERATIONS", value_name = "NEOFORGE_WS_MAX_OPERATIONS", default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..=10_000), global = true)]
    pub ws_max_operations: u64,

    /// Seconds between pings on a quiet GraphQL WebSocket; a socket silent for two intervals
    /// (no pong, no message) is dropped.
    #[arg(long, env = "NEOFORGE_WS_PING_INTERVAL", value_name = "NEOFORGE_WS_PING_INTERVAL", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600), global = true)]
    pub ws_ping_interval: u64,

    /// Key that encrypts TOTP secrets at rest (AES-256-GCM under its SHA-256; at least 32
    /// bytes, and your own, in production). Changing it invalidates every enrolled authenticator.
    #[arg(long, env = "NEOFORGE_TOTP_KEY", value_name = "NEOFORGE_TOTP_KEY", default_value = DEV_TOTP_KEY, hide_default_value = true, global = true)]
    pub totp_key: String,

    /// SMTP server for password-reset and verification mail, as a URL:
    /// `smtps://user:pass@host:465` (TLS), `smtp://user:pass@host:587?tls=required` (STARTTLS)
    /// or `smtp://host:25` (plain, for a local relay). Unset: mail is written to the log
    /// (development only; production refuses to start without it).
    #[arg(
        long,
        env = "NEOFORGE_SMTP_URL",
        value_name = "NEOFORGE_SMTP_URL",
        hide_env_values = true,
        global = true
    )]
    pub smtp_url: Option<String>,

    /// The `From` address of the server's mail.
    #[arg(
        long,
        env = "NEOFORGE_SMTP_FROM",
        value_name = "NEOFORGE_SMTP_FROM",
        default_value = "NeoForge <no-reply@neoforge.localhost>",
        global = true
    )]
    pub smtp_from: String,

    /// The frontend's base URL: links in mail point to `<url>/reset-password?token=...` and
    /// `<url>/verify-email?token=...`.
    #[arg(
        long,
        env = "NEOFORGE_PUBLIC_URL",
        value_name = "NEOFORGE_PUBLIC_URL",
        default_value = "http://127.0.0.1:8080",
        global = true
    )]
    pub public_url: String,

    /// Serve `/metrics` on this separate address only (e.g. `127.0.0.1:9464`), not on the API
    /// listener, so production need not expose it publicly.
    #[arg(
        long,
        env = "NEOFORGE_METRICS_BIND",
        value_name = "NEOFORGE_METRICS_BIND",
        global = true
    )]
    pub metrics_bind: Option<SocketAddr>,

    /// Require `Authorization: Bearer <token>` on `/metrics`.
    #[arg(
        long,
        env = "NEOFORGE_METRICS_TOKEN",
        value_name = "NEOFORGE_METRICS_TOKEN",
        hide_env_values = true,
        global = true
    )]
    pub metrics_token: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("NEOFORGE_JWT_SECRET must be set to a non-default secret in production")]
    DefaultSecretInProduction,
    #[error("NEOFORGE_JWT_SECRET must be at least 32 bytes long in production")]
    WeakSecret,
    #[error(
        "NEOFORGE_JWT_SECRET is the published development secret and NEOFORGE_BIND ({0}) is not a loopback address: anyone could mint tokens; set a secret of at least 32 bytes"
    )]
    DefaultSecretOnPublicBind(SocketAddr),
    #[error(
        "NEOFORGE_TOTP_KEY must be set to a non-default key of at least 32 bytes in production"
    )]
    DefaultTotpKeyInProduction,
    #[error(
        "NEOFORGE_SMTP_URL must be set in production: password-reset and verification mail cannot be delivered otherwise"
    )]
    NoSmtpInProduction,
    #[error("NEOFORGE_SMTP_URL is not a valid SMTP URL ({0})")]
    BadSmtpUrl(String),
    #[error("NEOFORGE_SMTP_FROM is not a valid mailbox (`{0}`)")]
    BadSmtpFrom(String),
    #[error("DATABASE_URL must start with sqlite: or postgres:// (got `{0}`)")]
    UnsupportedDatabase(String),
    #[error("NEOFORGE_DATABASE_SESSION_URL must start with postgres:// (got `{0}`)")]
    UnsupportedSessionDatabase(String),
    #[error("NEOFORGE_CORS_ORIGINS: `{0}` is not an origin like https://example.com")]
    BadOrigin(String),
    #[error("REDIS_URL: `{url}` is not a Redis URL like redis://host:6379: {reason}")]
    BadRedisUrl { url: String, reason: String },
}

impl Settings {
    /// Defaults for the given database: what `neoforge` would use with no other variables set.
    pub fn for_database(database_url: impl Into<String>) -> Self {
        use clap::{FromArgMatches, Parser};
        #[derive(Parser)]
        struct Only {
            #[command(flatten)]
            settings: Settings,
        }
        // Parse an empty command line without reading the environment, so tests are hermetic.
        let cmd = <Only as clap::CommandFactory>::command().mut_args(|a| a.env(None::<&str>));
        let matches = cmd.get_matches_from(["neoforge"]);
        let mut settings = Only::from_arg_matches(&matches)
            .map(|o| o.settings)
            .unwrap_or_else(|e| unreachable!("defaults always parse: {e}"));
        settings.database_url = database_url.into();
        settings
    }

    /// Checks that span several values, or that clap cannot express.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !(self.database_url.starts_with("sqlite:")
            || self.database_url.starts_with("postgres://")
            || self.database_url.starts_with("postgresql://"))
        {
            return Err(ConfigError::UnsupportedDatabase(redact_url(
                &self.database_url,
            )));
        }
        if let Some(url) = &self.database_session_url
            && !(url.starts_with("postgres://") || url.starts_with("postgresql://"))
        {
            return Err(ConfigError::UnsupportedSessionDatabase(redact_url(url)));
        }
        // Whatever NEOFORGE_ENV says: a reachable server must not accept tokens anyone can mint.
        if self.jwt_secret == DEV_JWT_SECRET && !self.bind.ip().is_loopback() {
            return Err(ConfigError::DefaultSecretOnPublicBind(self.bind));
        }
        if self.is_production() {
            if self.jwt_secret == DEV_JWT_SECRET {
                return Err(ConfigError::DefaultSecretInProduction);
            }
            if self.jwt_secret.len() < 32 {
                return Err(ConfigError::WeakSecret);
            }
            if self.totp_key == DEV_TOTP_KEY || self.totp_key.len() < 32 {
                return Err(ConfigError::DefaultTotpKeyInProduction);
            }
            if self.smtp_url.is_none() {
                return Err(ConfigError::NoSmtpInProduction);
            }
        }
        if self.smtp_from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(ConfigError::BadSmtpFrom(self.smtp_from.clone()));
        }
        if let Some(url) = &self.smtp_url
            && let Err(err) = lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::from_url(url)
        {
            return Err(ConfigError::BadSmtpUrl(err.to_string()));
        }
        if let Some(url) = &self.redis_url
            && let Err(err) = redis::Client::open(url.as_str())
        {
            return Err(ConfigError::BadRedisUrl {
                url: redact_url(url),
                reason: err.to_string(),
            });
        }
        for origin in &self.cors_origins {
            if origin.parse::<http::HeaderValue>().is_err()
                || !(origin.starts_with("http://") || origin.starts_with("https://"))
            {
                return Err(ConfigError::BadOrigin(origin.clone()));
            }
        }
        Ok(())
    }

    pub fn is_production(&self) -> bool {
        self.environment == Environment::Production
    }

    pub fn graphiql_enabled(&self) -> bool {
        self.graphiql.unwrap_or(!self.is_production())
    }

    pub fn introspection_enabled(&self) -> bool {
        self.introspection.unwrap_or(!self.is_production())
    }

    pub fn csp_report_only_enabled(&self) -> bool {
        self.csp_report_only.unwrap_or(!self.is_production())
    }

    pub fn hsts_enabled(&self) -> bool {
        self.hsts.unwrap_or(self.is_production())
    }

    pub fn is_sqlite(&self) -> bool {
        self.database_url.starts_with("sqlite:")
    }

    /// Where `LISTEN` and the migration lock connect: a session that stays theirs.
    pub fn session_url(&self) -> &str {
        self.database_session_url
            .as_deref()
            .unwrap_or(&self.database_url)
    }

    /// DATABASE_URL is a transaction-pooling PgBouncer (see [`Pooler::Transaction`]).
    pub fn behind_transaction_pooler(&self) -> bool {
        self.database_pooler == Pooler::Transaction && !self.is_sqlite()
    }

    pub fn redis_timeout(&self) -> Duration {
        Duration::from_millis(self.redis_timeout_ms)
    }

    pub fn access_token_ttl(&self) -> Duration {
        Duration::from_secs(self.access_token_ttl)
    }
}

/// A configured quota: `N/s`, `N/min`, `N/h`, or `off`. The burst equals `N`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateQuota(Option<(NonZeroU32, Duration)>);

impl RateQuota {
    pub const OFF: Self = Self(None);

    pub fn per(count: u32, window: Duration) -> Self {
        Self(NonZeroU32::new(count).map(|n| (n, window)))
    }

    pub fn is_off(self) -> bool {
        self.0.is_none()
    }

    /// The count and the window it refills over; `None` when off.
    pub fn limit(self) -> Option<(NonZeroU32, Duration)> {
        self.0
    }
}

impl FromStr for RateQuota {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("off") {
            return Ok(Self::OFF);
        }
        let (count, unit) = s
            .split_once('/')
            .ok_or_else(|| format!("expected N/s, N/min, N/h or off, got `{s}`"))?;
        let count: u32 = count
            .trim()
            .parse()
            .map_err(|_| format!("`{count}` is not a whole number"))?;
        let count = NonZeroU32::new(count).ok_or("the count must be at least 1 (or use `off`)")?;
        let window = match unit.trim() {
            "s" | "sec" | "second" => Duration::from_secs(1),
            "m" | "min" | "minute" => Duration::from_secs(60),
            "h" | "hour" => Duration::from_secs(3600),
            other => return Err(format!("unknown unit `{other}` (use s, min or h)")),
        };
        Ok(Self(Some((count, window))))
    }
}

impl fmt::Display for RateQuota {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            None => f.write_str("off"),
            Some((n, w)) => write!(f, "{n}/{}s", w.as_secs()),
        }
    }
}

/// A database URL safe to print: the password, if any, is replaced.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{}://{}:***@{}", &url[..scheme_end], user, &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn production_refuses_the_default_secret() {
        let mut s = Settings::for_database("sqlite::memory:");
        assert!(s.validate().is_ok());
        s.environment = Environment::Production;
        assert!(matches!(
            s.validate(),
            Err(ConfigError::DefaultSecretInProduction)
        ));
        s.jwt_secret = "short".into();
        assert!(matches!(s.validate(), Err(ConfigError::WeakSecret)));
        s.jwt_secret = "x".repeat(40);
        assert!(matches!(
            s.validate(),
            Err(ConfigError::DefaultTotpKeyInProduction)
        ));
        s.totp_key = "k".repeat(32);
        assert!(matches!(s.validate(), Err(ConfigError::NoSmtpInProduction)));
        s.smtp_url = Some("smtps://mailer:pw@mail.example.com".into());
        assert!(s.validate().is_ok());
        assert!(!s.graphiql_enabled() && !s.introspection_enabled());
    }

    #[test]
    fn the_default_secret_stays_on_loopback() {
        let mut s = Settings::for_database("sqlite::memory:");
        for bind in ["127.0.0.1:8080", "[::1]:8080"] {
            s.bind = bind.parse().unwrap();
            assert!(s.validate().is_ok(), "{bind}");
        }
        for bind in ["0.0.0.0:8080", "[::]:8080", "10.1.2.3:80"] {
            s.bind = bind.parse().unwrap();
            assert!(
                matches!(s.validate(), Err(ConfigError::DefaultSecretOnPublicBind(_))),
                "{bind}"
            );
        }
        s.jwt_secret = "a-real-secret-of-at-least-32-bytes!".into();
        assert!(s.validate().is_ok());
    }

    #[test]
    fn rejects_unknown_database_schemes() {
        let s = Settings::for_database("mysql://u:pw@h/db");
        let err = s.validate().unwrap_err().to_string();
        assert!(err.contains("DATABASE_URL") && !err.contains("pw"), "{err}");
    }

    #[test]
    fn the_session_url_defaults_to_the_database_and_must_be_postgres() {
        let mut s = Settings::for_database("postgres://u@h/db");
        assert_eq!(s.session_url(), "postgres://u@h/db");
        s.database_session_url = Some("postgresql://u@direct/db".into());
        assert!(s.validate().is_ok());
        assert_eq!(s.session_url(), "postgresql://u@direct/db");
        s.database_session_url = Some("sqlite://x.db?pw=secret".into());
        let err = s.validate().unwrap_err().to_string();
        assert!(err.contains("NEOFORGE_DATABASE_SESSION_URL"), "{err}");
        // The transaction pooler is PgBouncer's mode; SQLite has no pooler to be behind.
        s.database_pooler = Pooler::Transaction;
        assert!(s.behind_transaction_pooler());
        assert!(
            !Settings {
                database_pooler: Pooler::Transaction,
                ..Settings::for_database("sqlite::memory:")
            }
            .behind_transaction_pooler()
        );
    }

    #[test]
    fn rejects_a_malformed_redis_url_without_echoing_its_password() {
        let mut s = Settings::for_database("sqlite::memory:");
        s.redis_url = Some("redis://:hunter2@localhost:notaport".into());
        let err = s.validate().unwrap_err().to_string();
        assert!(
            err.contains("REDIS_URL") && !err.contains("hunter2"),
            "{err}"
        );
        s.redis_url = Some("redis://:hunter2@127.0.0.1:6379/2".into());
        assert!(s.validate().is_ok());
    }

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            redact_url("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact_url("sqlite://x.db"), "sqlite://x.db");
    }
}
