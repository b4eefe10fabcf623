//! The one renderer of errors at the HTTP edge. An error is answered in the dialect of the
//! router its request came through ([`Dialect`]): RFC 9457 `application/problem+json` for the
//! REST shim and everything outside `/graphql`, a GraphQL request error (`{"errors": [...]}`,
//! no `data`) for the GraphQL endpoints. Statuses come from one table, [`status_of`].

use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use serde::Serialize;

use crate::error::{Error, ErrorCode, FieldError};

pub const PROBLEM_JSON: &str = "application/problem+json";

/// How the router a request came through answers errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    Problem,
    Graphql,
}

impl Dialect {
    /// `err` as a response to a request for `path`.
    pub fn render(self, err: &Error, path: &str) -> Response {
        match self {
            Self::Problem => Problem::of(err).render(path),
            Self::Graphql => graphql_error(GraphqlMedia::Json, err),
        }
    }
}

/// The media type a GraphQL-over-HTTP response is written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GraphqlMedia {
    GraphqlResponse,
    Json,
}

impl GraphqlMedia {
    pub fn content_type(self) -> HeaderValue {
        HeaderValue::from_static(match self {
            Self::GraphqlResponse => "application/graphql-response+json; charset=utf-8",
            Self::Json => "application/json; charset=utf-8",
        })
    }
}

/// A GraphQL request error for a domain error (not logged here): its code, `retryAfter` when
/// the client should come back, and the status and headers the same error gets as a problem.
pub fn graphql_error(media: GraphqlMedia, err: &Error) -> Response {
    let code = err.code();
    let status = status_of(code, Some(err));
    let retry = err.retry_after().map(|d| d.as_secs().max(1));
    let mut response = coded(media, status, code, &err.public_message(), retry);
    headers_of(response.headers_mut(), status, err);
    response
}

/// A GraphQL request error with a code and no domain error behind it (a malformed request).
pub fn graphql_request_error(
    media: GraphqlMedia,
    status: StatusCode,
    code: ErrorCode,
    message: &str,
) -> Response {
    coded(media, status, code, message, None)
}

fn coded(
    media: GraphqlMedia,
    status: StatusCode,
    code: ErrorCode,
    message: &str,
    retry_after: Option<u64>,
) -> Response {
    let mut extensions = serde_json::json!({ "code": code.as_str() });
    if let Some(secs) = retry_after {
        extensions["retryAfter"] = secs.into();
    }
    let error = serde_json::json!({ "message": message, "extensions": extensions });
    graphql_errors(media, status, vec![error])
}

/// A request error: `{"errors": [...]}` and no `data` entry.
pub fn graphql_errors(
    media: GraphqlMedia,
    status: StatusCode,
    errors: Vec<serde_json::Value>,
) -> Response {
    let body = serde_json::json!({ "errors": errors });
    let mut response = (status, serde_json::to_vec(&body).unwrap_or_default()).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, media.content_type());
    response
}

pub fn status_of(code: ErrorCode, err: Option<&Error>) -> StatusCode {
    match code {
        ErrorCode::BadUserInput => match err {
            Some(Error::Validation(_)) => StatusCode::UNPROCESSABLE_ENTITY,
            _ => StatusCode::BAD_REQUEST,
        },
        ErrorCode::Unauthenticated => StatusCode::UNAUTHORIZED,
        ErrorCode::Forbidden => StatusCode::FORBIDDEN,
        ErrorCode::NotFound => StatusCode::NOT_FOUND,
        ErrorCode::Conflict | ErrorCode::IdempotencyKeyInUse => StatusCode::CONFLICT,
        ErrorCode::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
        ErrorCode::PreconditionRequired => StatusCode::PRECONDITION_REQUIRED,
        ErrorCode::IdempotencyKeyMismatch => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ErrorCode::NotAcceptable => StatusCode::NOT_ACCEPTABLE,
        ErrorCode::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
        ErrorCode::ServiceUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::InternalServerError => StatusCode::INTERNAL_SERVER_ERROR,
        ErrorCode::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
    }
}

/// A problem response for statuses that have no domain error behind them (404 route, 413, 415).
pub fn problem(code: ErrorCode, detail: impl Into<String>) -> Response {
    Problem::new(code, detail).render("")
}

/// One invalid input member, located in the request (`["body", "name"]`, `["query", "page"]`).
#[derive(Clone, Debug, Serialize)]
pub struct Invalid {
    pub loc: Vec<String>,
    pub msg: String,
    #[serde(rename = "type")]
    pub kind: String,
}

impl Invalid {
    pub fn new(loc: &[&str], kind: &str, msg: impl Into<String>) -> Self {
        Self {
            loc: loc.iter().map(|s| (*s).to_owned()).collect(),
            msg: msg.into(),
            kind: kind.to_owned(),
        }
    }
}

#[derive(Serialize)]
struct Body<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    title: &'a str,
    status: u16,
    detail: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    instance: &'a str,
    code: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    errors: Option<&'a [Invalid]>,
    /// A lost conditional write: the resource as GET returns it now.
    #[serde(skip_serializing_if = "Option::is_none")]
    current: Option<&'a serde_json::Value>,
    /// A sign-in that needs its second factor: answer this at `/auth/2fa/verify`.
    #[serde(skip_serializing_if = "Option::is_none")]
    totp_required: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    challenge: Option<&'a str>,
}

/// A problem response.
#[derive(Debug)]
pub struct Problem {
    pub code: ErrorCode,
    pub status: StatusCode,
    pub detail: String,
    pub errors: Option<Vec<Invalid>>,
    pub retry_after: Option<u64>,
    /// Boxed like the rest of the rare members: see `rate_limit`.
    pub allow: Option<Box<str>>,
    /// `RateLimit-Policy` and `RateLimit` of a 429.
    /// Boxed: rare, and a `Problem` travels in every REST `Result`.
    pub rate_limit: Option<Box<[(http::HeaderName, String); 2]>>,
    /// A 412's `current` member and its `ETag`. Boxed for the same reason.
    pub current: Option<Box<(serde_json::Value, String)>>,
    /// The sign-in challenge of a password accepted without its second factor (boxed: rare,
    /// and the size of `Problem` matters, see `rate_limit`).
    pub challenge: Option<Box<str>>,
}

impl Problem {
    pub fn new(code: ErrorCode, detail: impl Into<String>) -> Self {
        Self {
            code,
            status: status_of(code, None),
            detail: detail.into(),
            errors: None,
            retry_after: None,
            allow: None,
            rate_limit: None,
            current: None,
            challenge: None,
        }
    }

    /// 422 with field errors.
    pub fn invalid(errors: Vec<Invalid>) -> Self {
        let detail = errors
            .iter()
            .map(|e| format!("{}: {}", e.loc.join("."), e.msg))
            .collect::<Vec<_>>()
            .join("; ");
        Self {
            status: status_of(
                ErrorCode::BadUserInput,
                Some(&Error::Validation(Vec::new())),
            ),
            errors: Some(errors),
            ..Self::new(ErrorCode::BadUserInput, format!("invalid input: {detail}"))
        }
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(ErrorCode::BadUserInput, detail)
    }

    pub fn render(&self, instance: &str) -> Response {
        let body = Body {
            kind: "about:blank",
            title: self.status.canonical_reason().unwrap_or("Error"),
            status: self.status.as_u16(),
            detail: &self.detail,
            instance,
            code: self.code.as_str(),
            errors: self.errors.as_deref(),
            current: self.current.as_deref().map(|(value, _)| value),
            totp_required: self.challenge.as_ref().map(|_| true),
            challenge: self.challenge.as_deref(),
        };
        let bytes = serde_json::to_vec(&body).unwrap_or_default();
        let mut response = (self.status, bytes).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        error_headers(
            headers,
            self.status,
            self.retry_after,
            self.rate_limit.clone().map(|pairs| *pairs),
        );
        if let Some(tag) = self
            .current
            .as_deref()
            .and_then(|(_, tag)| HeaderValue::from_str(tag).ok())
        {
            headers.insert(header::ETAG, tag);
        }
        if let Some(allow) = self
            .allow
            .as_deref()
            .and_then(|a| HeaderValue::from_str(a).ok())
        {
            headers.insert(header::ALLOW, allow);
        }
        response
    }
}

impl From<&Error> for Problem {
    /// The problem for `err`, logged when it is the server's failure.
    fn from(err: &Error) -> Self {
        err.log();
        Self::of(err)
    }
}

impl Problem {
    /// The problem for `err`, not logged (the caller has said what happened).
    pub fn of(err: &Error) -> Self {
        let code = err.code();
        Self {
            status: status_of(code, Some(err)),
            retry_after: err.retry_after().map(|d| d.as_secs()),
            rate_limit: err.rate_limit_headers().map(Box::new),
            challenge: err.challenge().map(Into::into),
            errors: match err {
                Error::Validation(fields) => Some(fields.iter().map(Invalid::from).collect()),
                _ => None,
            },
            ..Self::new(code, err.public_message())
        }
    }
}

/// The headers an error answer carries in any dialect (problem+json, REST, GraphQL): the bearer
/// challenge on 401, `Retry-After` in whole seconds (at least 1), and the exhausted budget's
/// `RateLimit-Policy`/`RateLimit` pair.
pub fn error_headers(
    headers: &mut HeaderMap,
    status: StatusCode,
    retry_after_secs: Option<u64>,
    rate_limit: Option<[(HeaderName, String); 2]>,
) {
    if status == StatusCode::UNAUTHORIZED {
        headers.insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static(r#"Bearer realm="neoforge", error="invalid_token""#),
        );
    }
    if let Some(secs) = retry_after_secs {
        headers.insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
    }
    if let Some(pairs) = rate_limit {
        crate::security::rate_limit::write_pairs(headers, pairs);
    }
}

/// [`error_headers`] for a domain error answered with `status`.
pub fn headers_of(headers: &mut HeaderMap, status: StatusCode, err: &Error) {
    error_headers(
        headers,
        status,
        err.retry_after().map(|d| d.as_secs()),
        err.rate_limit_headers(),
    );
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        Problem::from(&self).render("")
    }
}

impl From<&FieldError> for Invalid {
    fn from(field: &FieldError) -> Self {
        Self {
            loc: field.loc.clone(),
            msg: field.msg.clone(),
            kind: field.kind.to_owned(),
        }
    }
}
