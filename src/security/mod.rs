//! Protection in front of the API (DESIGN §9): rate limits per tier.

pub mod rate_limit;

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};

use crate::auth::Principal;
use crate::error::{Error, ErrorCode};
use crate::state::AppState;

pub use rate_limit::{Client, RateLimits, RateQuota, Tier};

/// Signed-in requests draw from their user's budget, everything else from the client IP's.
/// A bad token counts as anonymous here; the handler answers it with 401.
pub async fn enforce(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if state.rate_limits.is_off() {
        return next.run(req).await;
    }
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    let user = Principal::from_headers(req.headers(), &state.jwt)
        .ok()
        .and_then(|p| p.user_id());
    let (tier, client) = match (user, peer) {
        (Some(id), _) => (Tier::Api, Client::User(id)),
        (None, Some(addr)) => (Tier::Anonymous, Client::Ip(addr.ip())),
        (None, None) => return next.run(req).await,
    };
    match state.rate_limits.check(tier, &client) {
        Ok(None) => next.run(req).await,
        Ok(Some(allowed)) => {
            let mut response = next.run(req).await;
            allowed.write_headers(response.headers_mut());
            response
        }
        Err(limited) => {
            tracing::info!(tier = limited.tier.as_str(), "rate limit exceeded");
            let path = req.uri().path();
            let err = Error::from(limited);
            let mut response = if path.starts_with("/api/") {
                crate::rest::problem::Problem::from(&err).render(path)
            } else {
                graphql_error(&err)
            };
            limited.write_headers(response.headers_mut());
            response
        }
    }
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
