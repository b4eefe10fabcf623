//! The one mapping from domain errors to HTTP: RFC 9457 `application/problem+json`.

use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use serde::Serialize;

use crate::error::{Error, ErrorCode, FieldError};

pub const PROBLEM_JSON: &str = "application/problem+json";

#[derive(Serialize)]
struct Problem<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    title: &'a str,
    status: u16,
    detail: String,
    code: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    errors: Option<&'a [FieldError]>,
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
    let status = status_of(code, None);
    let mut response = render(status, code, detail.into(), None);
    error_headers(response.headers_mut(), status, None, None);
    response
}

fn render(
    status: StatusCode,
    code: ErrorCode,
    detail: String,
    errors: Option<&[FieldError]>,
) -> Response {
    let body = Problem {
        kind: "about:blank",
        title: status.canonical_reason().unwrap_or("Error"),
        status: status.as_u16(),
        detail,
        code: code.as_str(),
        errors,
    };
    let bytes = serde_json::to_vec(&body).unwrap_or_default();
    let mut response = (status, bytes).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    response
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
        self.log();
        let code = self.code();
        let errors = match &self {
            Error::Validation(fields) => Some(fields.as_slice()),
            _ => None,
        };
        let status = status_of(code, Some(&self));
        let mut response = render(status, code, self.public_message(), errors);
        headers_of(response.headers_mut(), status, &self);
        response
    }
}
