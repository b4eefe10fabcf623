//! The one domain error type. It is mapped exactly twice: to GraphQL `extensions.code` in
//! `graphql::error`, and to RFC 9457 problem+json in `http::problem`.

use std::time::Duration;

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
}

impl ErrorCode {
    pub const ALL: [Self; 16] = [
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
    #[error("{0}")]
    Forbidden(String),
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("the resource has changed since the version you expected")]
    PreconditionFailed { current: Option<i32> },
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
        budget: Option<crate::security::rate_limit::Budget>,
    },
    #[error("the database is unavailable")]
    Unavailable(#[source] DbErr),
    /// Anything unexpected. Logged with its cause chain; clients only see a generic message.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

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
            Self::Unauthenticated(_) => ErrorCode::Unauthenticated,
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

    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::IdempotencyKeyInUse { retry_after } | Self::RateLimited { retry_after, .. } => {
                Some(*retry_after)
            }
            Self::Unavailable(_) => Some(Duration::from_secs(5)),
            _ => None,
        }
    }

    /// Logs server-side failures once, with the full cause chain, inside the current request span
    /// (which carries the request id). Client errors are not worth an error-level line.
    pub fn log(&self) {
        match self {
            Self::Internal(err) => tracing::error!(error = format!("{err:#}"), "internal error"),
            Self::Unavailable(err) => tracing::error!(error = %err, "database unavailable"),
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
        match &err {
            DbErr::ConnectionAcquire(_) | DbErr::Conn(RuntimeErr::SqlxError(_)) => {
                Self::Unavailable(err)
            }
            _ => Self::Internal(err.into()),
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
    fn validation_summary_names_fields() {
        let err = Error::invalid("email", "value_error.email", "not an email address");
        assert_eq!(
            err.to_string(),
            "invalid input: email: not an email address"
        );
        assert_eq!(err.code(), ErrorCode::BadUserInput);
    }
}
