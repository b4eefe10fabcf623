//! REST errors: RFC 9457 `application/problem+json` with `code`, and for invalid input
//! `errors: [{loc, msg, type}]`. Statuses come from the one table, [`crate::http::problem::status_of`].

use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use serde::Serialize;

use super::routes;
use crate::error::{Error, ErrorCode};
use crate::http::problem::{PROBLEM_JSON, status_of};

/// The error codes, looked up by their GraphQL `extensions.code` spelling.
pub fn code_from_str(code: &str) -> Option<ErrorCode> {
    ErrorCode::ALL.into_iter().find(|c| c.as_str() == code)
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
    /// A 412's `current` member and its `ETag` (DESIGN §7). Boxed for the same reason.
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
        crate::http::problem::error_headers(
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
    fn from(err: &Error) -> Self {
        err.log();
        let code = err.code();
        Self {
            status: status_of(code, Some(err)),
            retry_after: err.retry_after().map(|d| d.as_secs()),
            rate_limit: err.rate_limit_headers().map(Box::new),
            challenge: err.challenge().map(Into::into),
            ..Self::new(code, err.public_message())
        }
    }
}

/// GraphQL field path segment (camelCase) → REST member name (snake_case).
pub fn to_snake(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 4);
    for c in s.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// Where an input member lives in a REST request, given the GraphQL path of the error
/// (`["input", "name"]`). `source` is `body` or `query`.
pub fn locate(path: &[String], source: &str) -> Vec<String> {
    let rest: Vec<String> = path
        .iter()
        .skip_while(|s| *s == "input" || *s == "filter")
        .map(|s| to_snake(s))
        .collect();
    match rest.first().map(String::as_str) {
        Some("idempotency_key") => vec!["header".into(), "idempotency-key".into()],
        Some("id") if rest.len() == 1 => vec!["path".into(), "id".into()],
        _ => std::iter::once(source.to_owned()).chain(rest).collect(),
    }
}

/// The REST problem for a GraphQL error (its `extensions.code`, `fields`, `retryAfter`).
pub fn from_graphql(err: &async_graphql::ServerError, source: &str) -> Problem {
    let ext = err.extensions.as_ref();
    let get = |k: &str| {
        ext.and_then(|e| e.get(k))
            .cloned()
            .and_then(|v| v.into_json().ok())
    };
    let code = get("code")
        .and_then(|c| c.as_str().and_then(code_from_str))
        .unwrap_or_else(|| {
            if err.path.is_empty() {
                // A request error (the operation did not validate): a mapping bug, not the client's.
                tracing::error!(error = %err.message, "REST operation failed before execution");
            }
            ErrorCode::InternalServerError
        });
    let mut problem = if code == ErrorCode::InternalServerError {
        Problem::new(code, "internal server error")
    } else {
        Problem::new(code, err.message.clone())
    };
    if code == ErrorCode::BadUserInput
        && let Some(serde_json::Value::Array(fields)) = get("fields")
    {
        let errors: Vec<Invalid> = fields
            .iter()
            .map(|f| Invalid {
                loc: locate(
                    &f["path"]
                        .as_array()
                        .map(|p| {
                            p.iter()
                                .filter_map(|s| s.as_str().map(str::to_owned))
                                .collect::<Vec<_>>()
                        })
                        .unwrap_or_default(),
                    source,
                ),
                msg: f["message"].as_str().unwrap_or_default().to_owned(),
                kind: f["type"].as_str().unwrap_or("value_error").to_owned(),
            })
            .collect();
        let detail = problem.detail;
        problem = Problem::invalid(errors);
        problem.detail = detail;
    }
    problem.retry_after = get("retryAfter").and_then(|v| v.as_u64());
    problem.challenge = get("challenge").and_then(|v| v.as_str().map(Into::into));
    let text = |k: &str| get(k).and_then(|v| v.as_str().map(str::to_owned));
    if let (Some(policy), Some(limit)) = (text("rateLimitPolicy"), text("rateLimit")) {
        problem.rate_limit = Some(Box::new([
            (http::HeaderName::from_static("ratelimit-policy"), policy),
            (http::HeaderName::from_static("ratelimit"), limit),
        ]));
    }
    problem
}

impl Problem {
    /// A 412 of a write to a resource of ETag kind `kind`: the GraphQL error's
    /// `extensions.current` becomes the `current` member in the REST shape and its version the
    /// `ETag`. Absent when the domain left it out (the caller may not read the resource).
    pub fn with_current(mut self, err: &async_graphql::ServerError, kind: &str) -> Self {
        let ext = err.extensions.as_ref();
        let get = |k: &str| ext.and_then(|e| e.get(k)).cloned()?.into_json().ok();
        if self.code != ErrorCode::PreconditionFailed {
            return self;
        }
        let (Some(current), Some(version)) = (get("current"), get("currentVersion")) else {
            return self;
        };
        let shape = routes::shape_of(kind).filter(|s| current["__typename"] == s.name);
        if let (Some(shape), Some(id), Some(version)) =
            (shape, current["id"].as_str(), version.as_i64())
        {
            let tag = super::etag::for_resource(kind, id, version);
            self.current = Some(Box::new((super::output::shape(shape, &current), tag)));
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn looks_up_every_code() {
        for code in [
            "BAD_USER_INPUT",
            "PRECONDITION_FAILED",
            "IDEMPOTENCY_KEY_IN_USE",
        ] {
            assert_eq!(code_from_str(code).unwrap().as_str(), code);
        }
        assert!(code_from_str("NOPE").is_none());
    }

    #[test]
    fn locates_fields() {
        let p = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            locate(&p(&["input", "displayName"]), "body"),
            p(&["body", "display_name"])
        );
        assert_eq!(
            locate(&p(&["input", "ownerId"]), "query"),
            p(&["query", "owner_id"])
        );
        assert_eq!(
            locate(&p(&["input", "idempotencyKey"]), "body"),
            p(&["header", "idempotency-key"])
        );
        assert_eq!(locate(&p(&["input", "id"]), "body"), p(&["path", "id"]));
    }
}
