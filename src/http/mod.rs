//! The axum router and its tower layers (DESIGN §2).

pub mod graphql;
pub mod health;
pub mod playground;
pub mod problem;

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
use crate::state::AppState;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The whole HTTP application: the route-independent layers around the router, as one
/// cloneable service. Served as it is rather than through an outer `Router`'s fallback, which
/// would route every request twice (docs/benchmarks.md, "Session 13").
pub type App = tower::util::BoxCloneSyncService<
    Request<axum::body::Body>,
    axum::response::Response,
    std::convert::Infallible,
>;

pub fn router(state: AppState) -> App {
    let settings = state.settings.clone();
    // Rate limits guard the API only: probes, metrics and static assets stay reachable.
    let api = Router::new()
        .route("/graphql", get(graphql::get).post(graphql::post))
        .route("/graphql/ws", get(crate::graphql::subscription::websocket))
        .merge(crate::rest::router())
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), admit));
    let routes = Router::new()
        // Before the REST shim's catch-all; its own budget, not the API's (see `security::csp`).
        .route(
            crate::security::csp::PATH,
            axum::routing::post(crate::security::csp::report)
                .layer(DefaultBodyLimit::max(crate::security::csp::MAX_BODY)),
        )
        .route("/health/live", get(health::live))
        .route("/health/ready", get(health::ready))
        .merge(crate::metrics::public_routes(&settings))
        .route("/graphql/assets/{name}", get(playground::asset))
        .merge(api)
        .fallback(|| async { problem::problem(ErrorCode::NotFound, "no such route") })
        .layer(axum::middleware::from_fn(crate::metrics::track_http))
        .with_state(state);

    // Route-independent layers wrap the router rather than each of its routes: axum clones a
    // route's whole stack for every request it serves, and a `from_fn` layer clones the stack
    // below it again. `http.route` is therefore not known yet when the span opens;
    // `metrics::track_http`, inside the router, records it.
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

/// The API's admission: the caller decided once, then the budget that uses it, then whether the
/// database is up. One layer rather than three because axum's `from_fn` clones the whole
/// service stack below it for every request.
async fn admit(
    axum::extract::State(state): axum::extract::State<AppState>,
    mut req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    crate::auth::caller::identify(&state, &mut req).await;
    let allowed =
        match crate::security::enforce(&state, req.extensions().get(), req.uri().path()).await {
            Ok(allowed) => allowed,
            Err(refused) => return refused,
        };
    let response = match crate::startup::gate(&state, req.uri().path()) {
        Some(refused) => refused,
        None => next.run(req).await,
    };
    crate::security::report(allowed, response)
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
    let body = req.extensions().get::<crate::server::BodyWatch>().cloned();
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(response) => response,
        // The client, not the server, was slow: its body had not arrived.
        Err(_) if body.is_some_and(|b| b.is_awaited()) => {
            tracing::info!(
                timeout_s = limit.as_secs(),
                "request body not received in time"
            );
            crate::server::body::timeout_response(version, &path)
        }
        Err(_) => {
            tracing::warn!(timeout_s = limit.as_secs(), "request timed out");
            let mut problem = crate::rest::problem::Problem::new(
                ErrorCode::ServiceUnavailable,
                "the request took too long; retry shortly",
            );
            problem.retry_after = Some(5);
            problem.render(&path)
        }
    }
}

/// A request body's media type, lowercased, and whether its charset (if any) is UTF-8, the
/// only one the API reads.
pub fn body_media_type(headers: &http::HeaderMap) -> (String, bool) {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let mut parts = content_type.split(';').map(str::trim);
    let media = parts.next().unwrap_or_default().to_ascii_lowercase();
    let utf8 = parts
        .filter_map(|p| p.split_once('='))
        .filter(|(k, _)| k.trim().eq_ignore_ascii_case("charset"))
        .all(|(_, v)| {
            let v = v.trim().trim_matches('"');
            v.eq_ignore_ascii_case("utf-8") || v.eq_ignore_ascii_case("utf8")
        });
    (media, utf8)
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
