//! `/metrics` (Prometheus text) and the layer that counts every HTTP request by route.

use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::HeaderMap;

use crate::config::Settings;
use crate::metrics::{handle, http_request, method_label, pool_gauges};
use crate::state::AppState;

/// Request rate and latency by method, route template and status.
pub async fn track_http(req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = method_label(req.method());
    let matched = req.extensions().get::<MatchedPath>().cloned();
    // The request span opened before routing; a wildcard route (the REST shim's) names its own
    // routes, so its template would say nothing.
    if let Some(route) = matched.as_ref().map(MatchedPath::as_str)
        && !route.contains("{*")
    {
        let span = tracing::Span::current();
        span.record("http.route", route);
        if crate::telemetry::exporting() {
            crate::telemetry::rename(&span, format!("{method} {route}"));
        }
    }
    // Route templates are a fixed set; anything that matched none is one series.
    let route = matched.as_ref().map_or("unmatched", MatchedPath::as_str);
    let response = next.run(req).await;
    http_request(
        method,
        route,
        response.status().as_u16(),
        start.elapsed().as_secs_f64(),
    );
    response
}

/// `/metrics` on the API listener, unless it has a listener of its own.
pub fn public_routes(settings: &Settings) -> Router<AppState> {
    let router = Router::new();
    if settings.metrics_bind.is_some() {
        return router;
    }
    router.route("/metrics", get(scrape))
}

/// The router of the separate metrics listener (`NEOFORGE_METRICS_BIND`).
pub fn listener_router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(scrape))
        .with_state(state)
}

/// `GET /metrics`: behind the bearer token when one is configured; scrape-time gauges refreshed.
async fn scrape(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(token) = &state.settings.metrics_token
        && !bearer_matches(&headers, token)
    {
        return (
            http::StatusCode::UNAUTHORIZED,
            [(http::header::WWW_AUTHENTICATE, "Bearer")],
        )
            .into_response();
    }
    let (size, idle, max) = state.db().pool_stats();
    pool_gauges(size, idle, max);
    (
        [(http::header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        handle().render(),
    )
        .into_response()
}

/// Compares digests, so the time taken says nothing about how much of the token matched.
fn bearer_matches(headers: &http::HeaderMap, token: &str) -> bool {
    use sha2::{Digest, Sha256};
    let Some(given) = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return false;
    };
    let (a, b) = (Sha256::digest(given.trim()), Sha256::digest(token));
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}
