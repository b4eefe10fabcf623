//! The whole HTTP application: the routes of [`crate::http`] and [`crate::rest`] behind the
//! route-independent tower layers (request id, trace span, security headers, CORS, request
//! deadline, body limit).

use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use http::{HeaderName, HeaderValue, Method, Request, header};
use tower::ServiceBuilder;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::trace::TraceLayer;

use crate::error::ErrorCode;
use crate::http::admission::admit;
use crate::http::problem::{Dialect, Problem, problem};
use crate::http::{csp, graphql, health, playground, ws};
use crate::state::AppState;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The whole HTTP application: the route-independent layers around the router, as one
/// cloneable service. Served as it is rather than through an outer `Router`'s fallback, which
/// would route every request twice.
pub type App = tower::util::BoxCloneSyncService<
    Request<axum::body::Body>,
    axum::response::Response,
    std::convert::Infallible,
>;

pub fn app(state: AppState) -> App {
    let settings = state.settings.clone();
    // Admission guards the API only: probes, metrics and static assets stay reachable. Each
    // API router answers its refusals in its own dialect.
    let admission = |dialect| axum::middleware::from_fn_with_state((state.clone(), dialect), admit);
    let graphql = Router::new()
        .route("/graphql", get(graphql::get).post(graphql::post))
        .route("/graphql/ws", get(ws::websocket))
        .route_layer(admission(Dialect::Graphql));
    let rest = crate::rest::router().route_layer(admission(Dialect::Problem));
    let routes = Router::new()
        // Before the REST shim's catch-all; its own budget, not the API's.
        .route(
            crate::security::csp::PATH,
            axum::routing::post(csp::report)
                .layer(DefaultBodyLimit::max(crate::security::csp::MAX_BODY)),
        )
        .route("/health/live", get(health::live))
        .route("/health/ready", get(health::ready))
        .merge(crate::http::metrics::public_routes(&settings))
        .route("/graphql/assets/{name}", get(playground::asset))
        .merge(graphql)
        .merge(rest)
        .fallback(|| async { problem(ErrorCode::NotFound, "no such route") })
        .layer(axum::middleware::from_fn(crate::http::metrics::track_http))
        .with_state(state);

    // Route-independent layers wrap the router rather than each of its routes: axum clones a
    // route's whole stack for every request it serves, and a `from_fn` layer clones the stack
    // below it again. `http.route` is therefore not known yet when the span opens;
    // `http::metrics::track_http`, inside the router, records it.
    let trace = TraceLayer::new_for_http()
        .make_span_with(|req: &Request<_>| {
            let request_id = req
                .headers()
                .get(&REQUEST_ID)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            let user_agent = req
                .headers()
                .get(header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            // Semantic-convention names; `http.route`, `client.address`, `enduser.id` and
            // `ratelimit.tier` are recorded by the layers that decide them, the status once the
            // response exists.
            let span = tracing::info_span!(
                "http.request",
                otel.name = %req.method(),
                otel.kind = "server",
                otel.status_code = tracing::field::Empty,
                http.request.method = %req.method(),
                http.route = tracing::field::Empty,
                url.path = req.uri().path(),
                url.scheme = "http",
                user_agent.original = user_agent,
                http.response.status_code = tracing::field::Empty,
                client.address = tracing::field::Empty,
                enduser.id = tracing::field::Empty,
                ratelimit.tier = tracing::field::Empty,
                error.type = tracing::field::Empty,
                request_id,
            );
            crate::telemetry::accept_parent(&span, req.headers());
            span
        })
        .on_response(
            |res: &http::Response<_>, _latency: Duration, span: &tracing::Span| {
                let status = res.status();
                span.record("http.response.status_code", status.as_u16());
                if status.is_server_error() {
                    span.record("otel.status_code", "ERROR");
                    span.record("error.type", status.as_str());
                }
            },
        );

    let request_timeout = Duration::from_secs(settings.request_timeout);
    let headers = std::sync::Arc::new(response_headers(&settings));
    let app = ServiceBuilder::new()
        // The trace layer wraps the body (to see its end); hyper gets axum's body type.
        .map_response(|res: http::Response<_>| res.map(axum::body::Body::new))
        .layer(SetRequestIdLayer::new(REQUEST_ID, RequestIds))
        .layer(trace)
        .map_response(move |mut res: axum::response::Response| {
            crate::telemetry::return_parent(res.headers_mut());
            for (name, value) in headers.iter() {
                if !res.headers().contains_key(name) {
                    res.headers_mut().insert(name.clone(), value.clone());
                }
            }
            res
        })
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(cors(&settings.cors_origins))
        .layer(axum::middleware::from_fn(move |req, next| {
            deadline(request_timeout, req, next)
        }))
        .layer(DefaultBodyLimit::max(
            usize::try_from(settings.body_limit).unwrap_or(usize::MAX),
        ))
        .service(routes);
    App::new(app)
}

/// A random UUID per request that came without an id, like tower-http's `MakeRequestUuid`
/// but formatted on the stack rather than through a `String` and a header parse.
#[derive(Clone, Copy)]
struct RequestIds;

impl MakeRequestId for RequestIds {
    fn make_request_id<B>(&mut self, _: &Request<B>) -> Option<RequestId> {
        let mut buf = uuid::Uuid::encode_buffer();
        let id = uuid::Uuid::new_v4().hyphenated().encode_lower(&mut buf);
        HeaderValue::from_str(id).ok().map(RequestId::new)
    }
}

/// A request that outlives the configured timeout is dropped (its transaction rolls back) and
/// answered 503 + `Retry-After` as problem+json, like a database outage; or 408 if its body
/// has not all arrived yet.
async fn deadline(
    limit: Duration,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let path = req.uri().path().to_owned();
    let version = req.version();
    let body = req.extensions().get::<super::BodyWatch>().cloned();
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(response) => response,
        // The client, not the server, was slow: its body had not arrived.
        Err(_) if body.is_some_and(|b| b.is_awaited()) => {
            tracing::info!(
                timeout_s = limit.as_secs(),
                "request body not received in time"
            );
            super::body::timeout_response(version, &path)
        }
        Err(_) => {
            tracing::warn!(timeout_s = limit.as_secs(), "request timed out");
            let mut problem = Problem::new(
                ErrorCode::ServiceUnavailable,
                "the request took too long; retry shortly",
            );
            problem.retry_after = Some(5);
            problem.render(&path)
        }
    }
}

/// Headers every response carries unless its handler set them: the browser hardening headers,
/// CSP report-only outside production and HSTS in production (each configurable).
fn response_headers(settings: &crate::config::Settings) -> Vec<(HeaderName, HeaderValue)> {
    let mut headers = vec![
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ),
    ];
    if settings.csp_report_only_enabled() {
        headers.extend(crate::security::csp::report_only_headers());
    }
    if settings.hsts_enabled() {
        headers.push((
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        ));
    }
    headers
}

fn cors(origins: &[String]) -> CorsLayer {
    let origins: Vec<HeaderValue> = origins.iter().filter_map(|o| o.parse().ok()).collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([
            Method::GET,
            Method::HEAD,
            Method::POST,
            Method::PATCH,
            Method::DELETE,
        ])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::IF_MATCH,
            header::IF_NONE_MATCH,
            HeaderName::from_static("idempotency-key"),
            REQUEST_ID,
        ])
        .expose_headers([
            header::ETAG,
            header::LOCATION,
            header::RETRY_AFTER,
            HeaderName::from_static("idempotent-replayed"),
            HeaderName::from_static("ratelimit"),
            HeaderName::from_static("ratelimit-policy"),
            REQUEST_ID,
        ])
        .max_age(Duration::from_secs(600))
}
