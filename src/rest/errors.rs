//! GraphQL errors as REST problems: the persisted operation's `extensions.code`, field paths
//! and extras become the problem+json members the frontend reads (rendered by
//! [`crate::http::problem`]).

use super::routes;
use crate::error::ErrorCode;
use crate::http::problem::{Invalid, Problem};

/// The error codes, looked up by their GraphQL `extensions.code` spelling.
pub fn code_from_str(code: &str) -> Option<ErrorCode> {
    ErrorCode::ALL.into_iter().find(|c| c.as_str() == code)
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
