//! The one domain error type. It is mapped exactly twice: to GraphQL `extensions.code` in
//! `graphql::error`, and to RFC 9457 problem+json in `http::problem`.

use std::time::Duration;

use http::HeaderName;
use sea_orm::{DbErr, RuntimeErr, SqlErr};
use serde::Serialize;

/// Machine-readable error codes shared by GraphQL (`extensions.code`) and REST (`code`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    BadUserInput,
    Unauthenticated,
    Forbidden,
    NotFound,
    Conflict,
    PreconditionFailed,
    PreconditionRequired,
    IdempotencyKeyInUse,
    IdempotencyKeyMismatch,
    RateLimited,
    PayloadTooLarge,
    UnsupportedMediaType,
    NotAcceptable,
    MethodNotAllowed,
    ServiceUnavailable,
    InternalServerError,
    RequestTimeout,
}

impl ErrorCode {
    pub const ALL: [Self; 17] = [
        Self::BadUserInput,
        Self::Unauthenticated,
        Self::Forbidden,
        Self::NotFound,
        Self::Conflict,
        Self::PreconditionFailed,
        Self::PreconditionRequired,
        Self::IdempotencyKeyInUse,
        Self::IdempotencyKeyMismatch,
        Self::RateLimited,
        Self::PayloadTooLarge,
        Self::UnsupportedMediaType,
        Self::NotAcceptable,
        Self::MethodNotAllowed,
        Self::ServiceUnavailable,
        Self::InternalServerError,
        Self::RequestTimeout,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::BadUserInput => "BAD_USER_INPUT",
            Self::Unauthenticated => "UNAUTHENTICATED",
            Self::Forbidden => "FORBIDDEN",
            Self::NotFound => "NOT_FOUND",
            Self::Conflict => "CONFLICT",
            Self::PreconditionFailed => "PRECONDITION_FAILED",
            Self::PreconditionRequired => "PRECONDITION_REQUIRED",
            Self::IdempotencyKeyInUse => "IDEMPOTENCY_KEY_IN_USE",
            Self::IdempotencyKeyMismatch => "IDEMPOTENCY_KEY_MISMATCH",
            Self::RateLimited => "RATE_LIMITED",
            Self::PayloadTooLarge => "PAYLOAD_TOO_LARGE",
            Self::UnsupportedMediaType => "UNSUPPORTED_MEDIA_TYPE",
            Self::NotAcceptable => "NOT_ACCEPTABLE",
            Self::MethodNotAllowed => "METHOD_NOT_ALLOWED",
            Self::ServiceUnavailable => "SERVICE_UNAVAILABLE",
            Self::InternalServerError => "INTERNAL_SERVER_ERROR",
            Self::RequestTimeout => "REQUEST_TIMEOUT",
        }
    }
}

/// One invalid input field: where (`loc`, e.g. `["input", "email"]`), why, and a stable kind.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub loc: Vec<String>,
    pub msg: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
}

impl FieldError {
    pub fn new(field: &str, kind: &'static str, msg: impl Into<String>) -> Self {
        Self {
            loc: vec![field.to_owned()],
            msg: msg.into(),
            kind,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// One or more input fields are invalid (422 / BAD_USER_INPUT with field paths).
    #[error("invalid input: {}", summary(.0))]
    Validation(Vec<FieldError>),
    /// The request as a whole is malformed (400 / BAD_USER_INPUT).
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unauthenticated(String),
    /// The password was right but the account has two-factor authentication: answer the
    /// challenge with a code (`completeLogin`, `POST /auth/2fa/verify`) or sign in again with
    /// `totp_code`. 401 / UNAUTHENTICATED with `challenge` (GraphQL `extensions.challenge`).
    #[error("this account uses two-factor authentication: send a TOTP code or a recovery code")]
    SecondFactorRequired { challenge: String },
    #[error("{0}")]
    Forbidden(String),
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    /// A conditional write lost; `current` is what won, when the caller may read it.
    #[error("the resource has changed since the version you expected")]
    PreconditionFailed {
        current: Option<Box<crate::entity::Snapshot>>,
    },
    #[error("this request must be conditional (send If-Match)")]
    PreconditionRequired,
    #[error("a request with this idempotency key is still being processed")]
    IdempotencyKeyInUse { retry_after: Duration },
    #[error("this idempotency key was used with a different request")]
    IdempotencyKeyMismatch,
    #[error("too many requests")]
    RateLimited {
        retry_after: Duration,
        /// The budget exceeded, for the `RateLimit` / `RateLimit-Policy` headers.
        budget: Option<Budget>,
    },
    #[error("the database is unavailable")]
    Unavailable(#[source] DbErr),
    /// Anything unexpected. Logged with its cause chain; clients only see a generic message.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

pub const RATE_LIMIT: HeaderName = HeaderName::from_static("ratelimit");
pub const RATE_LIMIT_POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");

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

fn summary(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(|e| format!("{}: {}", e.loc.join("."), e.msg))
        .collect::<Vec<_>>()
        .join("; ")
}

impl Error {
    pub fn invalid(field: &str, kind: &'static str, msg: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(field, kind, msg)])
    }

    pub fn internal(err: impl Into<anyhow::Error>) -> Self {
        Self::Internal(err.into())
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Validation(_) | Self::BadRequest(_) => ErrorCode::BadUserInput,
            Self::Unauthenticated(_) | Self::SecondFactorRequired { .. } => {
                ErrorCode::Unauthenticated
            }
            Self::Forbidden(_) => ErrorCode::Forbidden,
            Self::NotFound(_) => ErrorCode::NotFound,
            Self::Conflict(_) => ErrorCode::Conflict,
            Self::PreconditionFailed { .. } => ErrorCode::PreconditionFailed,
            Self::PreconditionRequired => ErrorCode::PreconditionRequired,
            Self::IdempotencyKeyInUse { .. } => ErrorCode::IdempotencyKeyInUse,
            Self::IdempotencyKeyMismatch => ErrorCode::IdempotencyKeyMismatch,
            Self::RateLimited { .. } => ErrorCode::RateLimited,
            Self::Unavailable(_) => ErrorCode::ServiceUnavailable,
            Self::Internal(_) => ErrorCode::InternalServerError,
        }
    }

    /// The message a client may see. Internal details never leave the process.
    pub fn public_message(&self) -> String {
        match self {
            Self::Internal(_) => "internal server error".to_owned(),
            Self::Unavailable(_) => "the database is unavailable; retry shortly".to_owned(),
            other => other.to_string(),
        }
    }

    /// `RateLimit-Policy` and `RateLimit` values of a rate-limited request.
    pub fn rate_limit_headers(&self) -> Option<[(http::HeaderName, String); 2]> {
        match self {
            Self::RateLimited {
                retry_after,
                budget: Some(budget),
            } => Some(budget.exhausted(*retry_after)),
            _ => None,
        }
    }

    /// The sign-in challenge a client answers with a second factor.
    pub fn challenge(&self) -> Option<&str> {
        match self {
            Self::SecondFactorRequired { challenge } => Some(challenge),
            _ => None,
        }
    }

    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::IdempotencyKeyInUse { retry_after } | Self::RateLimited { retry_after, .. } => {
                Some(*retry_after)
            }
            // Lost races clear at once; an outage takes a few seconds to notice and fix.
            Self::Unavailable(_) if self.is_contention() => Some(Duration::from_secs(1)),
            Self::Unavailable(_) => Some(Duration::from_secs(5)),
            _ => None,
        }
    }

    /// A serialization failure or deadlock: the transaction helper runs the work again.
    pub fn is_contention(&self) -> bool {
        matches!(self, Self::Unavailable(err) if DbFault::of(err) == DbFault::Contention)
    }

    /// Logs server-side failures once, with the full cause chain, inside the current request span
    /// (which carries the request id). Client errors are not worth an error-level line.
    pub fn log(&self) {
        match self {
            Self::Internal(err) => tracing::error!(error = format!("{err:#}"), "internal error"),
            // Transient by definition: worth a warning, not a page.
            Self::Unavailable(err) => tracing::warn!(error = %err, "database unavailable"),
            _ => {}
        }
    }
}

impl From<DbErr> for Error {
    fn from(err: DbErr) -> Self {
        if let Some(SqlErr::UniqueConstraintViolation(_)) = err.sql_err() {
            return Self::Conflict("a resource with these unique values already exists".into());
        }
        if let Some(SqlErr::ForeignKeyConstraintViolation(_)) = err.sql_err() {
            return Self::invalid(
                "id",
                "reference",
                "refers to a resource that does not exist",
            );
        }
        if let DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) = &err
            && e.as_database_error()
                .and_then(|d| d.code())
                .is_some_and(|code| code == "22021" || code == "22P05")
        {
            // PostgreSQL text cannot hold NUL; whatever field carried one, it is bad input.
            return Self::BadRequest("text must not contain NUL characters".into());
        }
        match DbFault::of(&err) {
            DbFault::Unavailable | DbFault::Contention => Self::Unavailable(err),
            DbFault::Other => Self::Internal(err.into()),
        }
    }
}

/// What a database failure means for the request that met it. Decided here and nowhere else:
/// the transaction helper retries [`DbFault::Contention`], the HTTP and GraphQL mappings answer
/// 503 for the transient kinds, and only [`DbFault::Other`] is a bug (500).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DbFault {
    /// The database, or the way to it, is down, restarting, overloaded, read-only after a
    /// failover, or busy beyond its timeouts: worth retrying later, not a bug.
    Unavailable,
    /// The transaction lost a race (serialization failure, deadlock): running the whole
    /// transaction again is expected to succeed.
    Contention,
    /// Anything else: a bug or a schema problem.
    Other,
}

impl DbFault {
    pub fn of(err: &DbErr) -> Self {
        match err {
            DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => Self::Unavailable,
            DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => {
                Self::of_sqlx(e)
            }
            _ => Self::Other,
        }
    }

    fn of_sqlx(err: &sea_orm::sqlx::Error) -> Self {
        use sea_orm::sqlx::Error as E;
        match err {
            E::Io(_) | E::Tls(_) | E::Protocol(_) | E::PoolTimedOut | E::PoolClosed => {
                Self::Unavailable
            }
            E::WorkerCrashed => Self::Unavailable,
            E::Database(db) => {
                let code = db.code().unwrap_or_default();
                if db
                    .try_downcast_ref::<sea_orm::sqlx::sqlite::SqliteError>()
                    .is_some()
                {
                    Self::of_sqlite(&code)
                } else {
                    Self::of_sqlstate(&code)
                }
            }
            _ => Self::Other,
        }
    }

    /// PostgreSQL SQLSTATE codes (appendix A of its manual).
    pub fn of_sqlstate(code: &str) -> Self {
        match code {
            "40001" | "40P01" => Self::Contention,
            // 57P01 admin shutdown, 57P02 crash shutdown, 57P03 cannot connect now, 57014
            // statement timeout / cancel, 25006 read-only transaction (we reached a replica
            // after a failover), 53300 too many connections, 55P03 lock timeout.
            "57P01" | "57P02" | "57P03" | "57014" | "25006" | "53300" | "55P03" => {
                Self::Unavailable
            }
            // Class 08: connection exception.
            c if c.starts_with("08") => Self::Unavailable,
            _ => Self::Other,
        }
    }

    /// SQLite (extended) result codes: BUSY and LOCKED mean the busy timeout ran out.
    pub fn of_sqlite(code: &str) -> Self {
        const SQLITE_BUSY: i32 = 5;
        const SQLITE_LOCKED: i32 = 6;
        match code.parse::<i32>().map(|c| c & 0xff) {
            Ok(SQLITE_BUSY | SQLITE_LOCKED) => Self::Unavailable,
            _ => Self::Other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_do_not_leak() {
        let err = Error::internal(anyhow::anyhow!("password=hunter2 at db.internal"));
        assert_eq!(err.public_message(), "internal server error");
        assert_eq!(err.code().as_str(), "INTERNAL_SERVER_ERROR");
    }

    #[test]
    fn database_faults_are_classified_once() {
        use DbFault::{Contention, Other, Unavailable};
        for (code, fault) in [
            ("57P01", Unavailable),
            ("57P02", Unavailable),
            ("57P03", Unavailable),
            ("08006", Unavailable),
            ("08001", Unavailable),
            ("25006", Unavailable),
            ("57014", Unavailable),
            ("40001", Contention),
            ("40P01", Contention),
            ("23505", Other),
            ("42P01", Other),
        ] {
            assert_eq!(DbFault::of_sqlstate(code), fault, "SQLSTATE {code}");
        }
        // SQLITE_BUSY, SQLITE_BUSY_SNAPSHOT, SQLITE_LOCKED, SQLITE_LOCKED_SHAREDCACHE.
        for code in ["5", "517", "6", "262"] {
            assert_eq!(DbFault::of_sqlite(code), Unavailable, "SQLite {code}");
        }
        assert_eq!(
            DbFault::of_sqlite("2067"),
            Other,
            "a unique violation is not transient"
        );
        let pool = DbErr::ConnectionAcquire(sea_orm::error::ConnAcquireErr::Timeout);
        let err = Error::from(pool);
        assert_eq!(err.code(), ErrorCode::ServiceUnavailable);
        assert_eq!(err.retry_after(), Some(Duration::from_secs(5)));
        assert!(!err.is_contention());
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset");
        let err = Error::from(DbErr::Query(RuntimeErr::SqlxError(std::sync::Arc::new(
            sea_orm::sqlx::Error::Io(io),
        ))));
        assert_eq!(err.code(), ErrorCode::ServiceUnavailable);
    }

    #[test]
    fn validation_summary_names_fields() {
        let err = Error::invalid("email", "value_error.email", "not an email address");
        assert_eq!(
            err.to_string(),
            "invalid input: email: not an email address"
        );
        assert_eq!(err.code(), ErrorCode::BadUserInput);
    }
}
