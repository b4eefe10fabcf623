//! Protection in front of the API (DESIGN §9): rate limits per tier.

pub mod client_address;
pub mod csp;
pub mod rate_limit;
pub mod shared_buckets;
pub mod sign_in;
pub mod threats;

use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};

use crate::auth::Caller;
use crate::error::{Error, ErrorCode};
use crate::state::AppState;

pub use crate::config::RateQuota;
pub use rate_limit::{Client, RateLimits, Tier};
pub use threats::Threat;

/// Signed-in requests draw from their user's budget, everything else from the client IP's.
/// Runs after [`crate::auth::caller::identify`], which decided the caller; a bad token counts
/// as anonymous here and the handler answers it with 401. `Err` is the 429 to send instead of
/// running the request; `Ok(Some(_))` is the budget to report on the response ([`report`]).
pub async fn enforce(
    state: &AppState,
    caller: Option<&Caller>,
    path: &str,
) -> Result<Option<rate_limit::Allowed>, Response> {
    let limits = &state.services.rate_limits;
    if limits.is_off() {
        return Ok(None);
    }
    let user = caller.and_then(Caller::user_id);
    let ip = caller.and_then(|c| c.meta.ip);
    let (tier, client) = match (user, ip) {
        (Some(id), _) => (Tier::Api, Client::User(id)),
        (None, Some(ip)) => (Tier::Anonymous, Client::ip(ip)),
        (None, None) => return Ok(None),
    };
    tracing::Span::current().record("ratelimit.tier", tier.as_str());
    match limits.check(tier, &client).await {
        Ok(allowed) => Ok(allowed),
        Err(limited) => {
            tracing::info!(tier = limited.tier.as_str(), "rate limit exceeded");
            let err = Error::from(limited);
            let mut response = if path.starts_with("/api/") {
                crate::rest::problem::Problem::from(&err).render(path)
            } else {
                graphql_error(&err)
            };
            limited.write_headers(response.headers_mut());
            Err(response)
        }
    }
}

/// The request tier's remaining budget on the response, unless a budget drawn inside (sign-in,
/// account) refused the request: that one describes the 429, and the request tier's remaining
/// units would contradict it.
pub fn report(allowed: Option<rate_limit::Allowed>, mut response: Response) -> Response {
    if let Some(allowed) = allowed
        && !response
            .headers()
            .contains_key(rate_limit::RATE_LIMIT_POLICY)
    {
        allowed.write_headers(response.headers_mut());
    }
    response
}

/// A GraphQL-over-HTTP request error (no `data`), as `/graphql` answers other request errors.
fn graphql_error(err: &Error) -> Response {
    let retry = err.retry_after().map(|d| d.as_secs()).unwrap_or(1);
    let body = serde_json::json!({ "errors": [{
        "message": err.public_message(),
        "extensions": { "code": ErrorCode::RateLimited.as_str(), "retryAfter": retry },
    }]});
    let mut response = (
        StatusCode::TOO_MANY_REQUESTS,
        serde_json::to_vec(&body).unwrap_or_default(),
    )
        .into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(header::RETRY_AFTER, HeaderValue::from(retry.max(1)));
    response
}

/// Every minute, drops the buckets of clients that have gone quiet.
pub fn spawn_housekeeping(
    tasks: &tokio_util::task::TaskTracker,
    shutdown: tokio_util::sync::CancellationToken,
    limits: RateLimits,
) {
    tasks.spawn(async move {
        let mut ticker = tokio::time::interval(std::time::Duration::from_secs(60));
        loop {
            tokio::select! {
                () = shutdown.cancelled() => break,
                _ = ticker.tick() => limits.forget_idle(),
            }
        }
    });
}
