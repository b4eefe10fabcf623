//! The REST compatibility shim: `/api/v1` (the contract is docs/api.md) onto the same GraphQL
//! schema.
//!
//! Each route of [`routes::TABLE`] is a persisted GraphQL operation, parsed once at start-up.
//! A request is matched against the table, its path, query, body and headers become the
//! operation's variables ([`input`]), the schema executes it with the caller's principal, and
//! the result becomes the REST body, status, ETag and cache headers ([`output`], [`etag`]).
//! Errors are problem+json with the status of the one mapping in `crate::http::problem`.
//! Nothing here decides who may do what or what is valid beyond the wire format.

pub mod cookie;
pub mod errors;
pub mod etag;
pub mod input;
pub mod openapi;
pub mod output;
pub mod routes;
pub mod spec;

use std::sync::LazyLock;
use tracing::Instrument;

use async_graphql::parser::types::ExecutableDocument;
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri, header};
use serde_json::Value;

use crate::error::ErrorCode;
use crate::http::caller::Caller;
use crate::state::AppState;
use output::ResultTree;

use self::etag::IfMatch;
use self::spec::{Cache, Input, NullMeans, Output, RouteSpec};
use crate::http::problem::{Invalid, Problem};

pub const PREFIX: &str = "/api/v1";
const JSON: &str = "application/json";
const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
const REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

/// A route of the table, compiled: its operation parsed, its path split.
pub struct Route {
    pub spec: &'static RouteSpec,
    pub document: ExecutableDocument,
    /// For single-resource GETs: `{ id version }` of the same resource, enough to answer a
    /// matching `If-None-Match` with 304 without executing and serialising the whole operation.
    probe: Option<ExecutableDocument>,
    segments: Vec<&'static str>,
    /// `/api/v1/projects/{id}`: the span's `http.route`.
    template: String,
    /// `GET /api/v1/projects/{id}`: the span's name and `rest.route`.
    label: String,
    /// The persisted operation's name: `rest.operation`.
    operation: String,
}

impl Route {
    fn compile(spec: &'static RouteSpec) -> Self {
        let document = async_graphql::parser::parse_query(spec.operation).unwrap_or_else(|e| {
            panic!(
                "REST route {} {}: bad operation: {e}",
                spec.method, spec.path
            )
        });
        let segments = spec.path.trim_matches('/').split('/').collect();
        let probe =
            probe_operation(spec).and_then(|op| async_graphql::parser::parse_query(op).ok());
        let template = format!("{PREFIX}{}", spec.path);
        let operation = document
            .operations
            .iter()
            .next()
            .and_then(|(name, _)| name.map(|n| n.to_string()))
            .unwrap_or_default();
        Self {
            spec,
            document,
            probe,
            segments,
            label: format!("{} {template}", spec.method),
            template,
            operation,
        }
    }

    /// Matches a path (without the prefix, without a trailing slash); `Some(id)` on a match.
    fn matches<'p>(&self, path: &[&'p str]) -> Option<Option<&'p str>> {
        if path.len() != self.segments.len() {
            return None;
        }
        let mut id = None;
        for (pattern, actual) in self.segments.iter().zip(path) {
            if *pattern == "{id}" {
                id = Some(*actual);
            } else if pattern != actual {
                return None;
            }
        }
        Some(id)
    }
}

/// For single-resource GETs with an ETag: the operation that reads just `{ id version }`.
fn probe_operation(spec: &RouteSpec) -> Option<String> {
    match (&spec.method, &spec.input, &spec.output) {
        (
            &Method::GET,
            Input::Id,
            Output::Item {
                path,
                etag: Some(_),
                ..
            },
        ) => Some(format!(
            "query Probe($id: ID!) {{ {}(id: $id) {{ id version }} }}",
            path[0]
        )),
        _ => None,
    }
}

/// The route table, compiled once.
pub static TABLE: LazyLock<Vec<Route>> =
    LazyLock::new(|| routes::TABLE.iter().map(Route::compile).collect());

/// The OpenAPI document, generated once from the table.
static OPENAPI: LazyLock<Value> = LazyLock::new(openapi::document);

/// The one axum route of the shim; [`dispatch`] finds the table's route.
pub const CATCH_ALL: &str = "/api/v1/{*path}";

/// The shim's routes, to merge into the application router.
pub fn router() -> Router<AppState> {
    LazyLock::force(&TABLE);
    Router::new().route(CATCH_ALL, any(dispatch))
}

fn allow(methods: &[Method]) -> String {
    let mut names: Vec<&str> = Vec::new();
    for m in methods {
        if !names.contains(&m.as_str()) {
            names.push(m.as_str());
        }
        if *m == Method::GET && !names.contains(&"HEAD") {
            names.push("HEAD");
        }
    }
    names.join(", ")
}

async fn dispatch(
    State(state): State<AppState>,
    caller: Caller,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let instance = uri.path().to_owned();
    let path = instance.strip_prefix(PREFIX).unwrap_or(&instance);
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let head = method == Method::HEAD;
    let wanted = if head { Method::GET } else { method.clone() };

    let mut methods = Vec::new();
    let mut found = None;
    for route in TABLE.iter() {
        if let Some(id) = route.matches(&segments) {
            methods.push(route.spec.method.clone());
            if route.spec.method == wanted {
                found = Some((route, id));
            }
        }
    }
    if segments == ["openapi.json"] && !matches!(method, Method::GET | Method::HEAD) {
        methods.push(Method::GET);
    } else if segments == ["openapi.json"] {
        let mut response = axum::Json(OPENAPI.clone()).into_response();
        response.headers_mut().insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=300"),
        );
        return if head { strip_body(response) } else { response };
    }
    let Some((route, id)) = found else {
        if methods.is_empty() {
            return Problem::new(ErrorCode::NotFound, "no such route").render(&instance);
        }
        if method == Method::OPTIONS {
            let mut response = StatusCode::NO_CONTENT.into_response();
            if let Ok(v) = HeaderValue::from_str(&allow(&methods)) {
                response.headers_mut().insert(header::ALLOW, v);
            }
            return response;
        }
        let mut problem = Problem::new(
            ErrorCode::MethodNotAllowed,
            format!("{method} is not allowed here"),
        );
        problem.allow = Some(allow(&methods).into());
        return problem.render(&instance);
    };
    let matched = (route, id);
    let span = route_span(route);
    let handled = handle(&state, &caller, matched, uri.query(), &headers, body)
        .instrument(span.clone())
        .await;
    let mut response = match handled {
        Ok(response) => response,
        Err(problem) => problem.render(&instance),
    };
    if response.status().is_server_error() {
        span.record("otel.status_code", "ERROR");
    }
    // RFC 6750 §3.1: a request that sent no credentials gets the challenge without an error.
    if response.status() == StatusCode::UNAUTHORIZED && !headers.contains_key(header::AUTHORIZATION)
    {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static(r#"Bearer realm="neoforge""#),
        );
    }
    if head { strip_body(response) } else { response }
}

/// HEAD: the GET response's headers (with its length), no body.
fn strip_body(response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    let len = axum::body::HttpBody::size_hint(&body).exact();
    if let Some(len) = len
        && !parts.headers.contains_key(header::CONTENT_LENGTH)
        && parts.status != StatusCode::NOT_MODIFIED
    {
        parts
            .headers
            .insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    }
    Response::from_parts(parts, Body::empty())
}

fn header_str(headers: &HeaderMap, name: impl header::AsHeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The JSON body of a write: 415 unless `application/json` (UTF-8), 413 when too large,
/// 400 when it is not JSON.
fn read_json(headers: &HeaderMap, body: Result<Bytes, BytesRejection>) -> Result<Value, Problem> {
    let (media, charset_ok) = crate::http::body_media_type(headers);
    let json_media =
        media == JSON || (media.starts_with("application/") && media.ends_with("+json"));
    if !json_media || !charset_ok {
        return Err(Problem::new(
            ErrorCode::UnsupportedMediaType,
            "send the request body as application/json (UTF-8)",
        ));
    }
    let body = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            crate::security::Threat::OversizeBody.record();
            Problem::new(ErrorCode::PayloadTooLarge, "the request body is too large")
        } else {
            Problem::bad_request(rejection.body_text())
        }
    })?;
    serde_json::from_slice(&body).map_err(|e| {
        crate::security::Threat::MalformedJson.record();
        Problem::bad_request(format!("the body is not valid JSON: {e}"))
    })
}

fn query_pairs(uri: Option<&str>) -> Vec<(String, String)> {
    uri.map(|q| {
        form_urlencoded::parse(q.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    })
    .unwrap_or_default()
}

/// The `If-Match` precondition of a write → `$version`.
fn precondition(
    route: &RouteSpec,
    headers: &HeaderMap,
    id: Option<&str>,
    required: bool,
) -> Result<Option<i32>, Problem> {
    let Some(kind) = route.headers.if_match else {
        return Ok(None);
    };
    let Some(raw) = headers.get(header::IF_MATCH) else {
        if required {
            return Err(Problem::new(
                ErrorCode::PreconditionRequired,
                "this request must be conditional: send If-Match with the resource's ETag",
            ));
        }
        return Ok(None);
    };
    // A tag that can never match still goes to the domain as a version no row ever has: it
    // must first find the resource readable, so a stranger learns nothing (404, not 412).
    const NEVER: i32 = 0;
    let Ok(raw) = raw.to_str() else {
        return Ok(Some(NEVER));
    };
    match etag::if_match(raw, kind, id.unwrap_or_default()) {
        IfMatch::Any => Ok(None),
        IfMatch::Version(v) => Ok(Some(v)),
        IfMatch::Never => Ok(Some(NEVER)),
    }
}

/// The source of input errors, for `loc`.
fn source(input: &Input) -> &'static str {
    match input {
        Input::List { .. } => "query",
        Input::Body { .. } => "body",
        _ => "path",
    }
}

/// The route-table entry and the persisted operation it runs, as a span; the request span
/// learns the route template (axum only saw the shim's catch-all).
fn route_span(route: &'static Route) -> tracing::Span {
    let request = tracing::Span::current();
    request.record("http.route", route.template.as_str());
    crate::telemetry::rename(&request, route.label.as_str());
    tracing::info_span!(
        "rest.route",
        otel.name = format_args!("REST {}", route.label),
        otel.status_code = tracing::field::Empty,
        rest.route = route.label.as_str(),
        rest.operation = route.operation.as_str(),
    )
}

async fn handle(
    state: &AppState,
    caller: &Caller,
    (route, id): (&Route, Option<&str>),
    query: Option<&str>,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Problem> {
    let spec = route.spec;
    let request_context = caller
        .context(&state.services)
        .map_err(|e| Problem::from(&e))?;
    // Ids are UUIDs: any other path segment names nothing. Every spelling `Uuid` accepts
    // (upper case, braces, no hyphens) is normalised, so ETags and `If-Match` agree.
    let id = match id {
        Some(id) => Some(
            uuid::Uuid::parse_str(id)
                .map_err(|_| Problem::new(ErrorCode::NotFound, "no such resource"))?
                .to_string(),
        ),
        None => None,
    };
    let id = id.as_deref();
    let mut json = match spec.input {
        Input::Body { .. } => Some(read_json(headers, body)?),
        _ => None,
    };
    let cookie_plan = match spec.cookie {
        Some(usage) => Some(cookie::before(
            usage,
            headers,
            json.as_mut(),
            &state.settings.cors_origins,
        )?),
        None => None,
    };
    let version = precondition(spec, headers, id, state.settings.require_if_match)?;
    let mapped = input::map(&spec.input, id, &query_pairs(query), json.as_ref())?;
    let mut variables = mapped.variables;
    if let Some(version) = version {
        variables.insert("version".into(), Value::from(version));
    }
    if spec.headers.idempotency_key
        && let Some(raw) = headers.get(IDEMPOTENCY_KEY)
    {
        let key = raw.to_str().map_err(|_| {
            Problem::invalid(vec![Invalid::new(
                &["header", "idempotency-key"],
                "value_error.idempotency_key",
                "must be 1–255 printable ASCII characters (bare, or a quoted string)",
            )])
        })?;
        variables.insert("key".into(), Value::from(key));
    }
    let variables = async_graphql::Variables::from_json(Value::Object(variables));

    if let (Some(probe), Some(inm)) = (&route.probe, header_str(headers, header::IF_NONE_MATCH)) {
        let request = crate::graphql::persisted(probe.clone(), variables.clone(), &request_context);
        let data = state.persisted.execute(request).await.data;
        if let Output::Item {
            path,
            etag: Some(kind),
            ..
        } = &spec.output
        {
            let value = output::at(&data, path);
            if let (Some(id), Some(version)) = output::identity(value) {
                let tag = etag::for_resource(kind, id, version);
                if etag::none_match(inm, &tag) {
                    let out = representation_headers(spec, headers, Some(&tag));
                    return Ok(with_headers(StatusCode::NOT_MODIFIED, out, Body::empty()));
                }
            }
        }
    }
    let request = crate::graphql::persisted(route.document.clone(), variables, &request_context);
    let response = state.persisted.execute(request).await;
    if let Some(err) = response.errors.first() {
        let problem = errors::from_graphql(err, source(&spec.input));
        return Err(match spec.headers.if_match {
            Some(kind) => problem.with_current(err, kind),
            None => problem,
        });
    }
    let replayed = response.http_headers.contains_key(&REPLAYED);
    let Some(plan) = cookie_plan else {
        return respond(spec, headers, &response.data, mapped.page, replayed);
    };
    // The token moves from the body into a cookie: the one change made to the data, on JSON.
    let mut data = response
        .data
        .into_json()
        .map_err(|e| Problem::from(&crate::error::Error::internal(e)))?;
    let item = match &spec.output {
        Output::Item { path, .. } => output::at_mut(&mut data, path),
        _ => None,
    };
    let set_cookie = cookie::after(plan, item, state.settings.refresh_token_ttl);
    let mut response = respond(spec, headers, &data, mapped.page, replayed)?;
    if let Some(value) = set_cookie {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    Ok(response)
}

/// About how many headers a REST response leaves with once every layer has added its own
/// (request id, CORS, rate limit, security headers): its map is sized for them once instead of
/// regrown, every entry moved, as each layer inserts.
const RESPONSE_HEADERS: usize = 24;

/// A response whose headers are `headers` itself, not copied into a fresh map.
fn with_headers(status: StatusCode, headers: HeaderMap, body: Body) -> Response {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    response
}

/// `ETag`, `Cache-Control` and `Vary` of a representation (docs/api.md, "ETags and conditional requests"), for 200 and 304 alike.
fn representation_headers(spec: &RouteSpec, headers: &HeaderMap, tag: Option<&str>) -> HeaderMap {
    let mut out = HeaderMap::with_capacity(RESPONSE_HEADERS);
    if let Some(v) = tag.and_then(|t| HeaderValue::from_str(t).ok()) {
        out.insert(header::ETAG, v);
    }
    let authenticated = headers.contains_key(header::AUTHORIZATION);
    let cache = match spec.cache {
        Cache::NoStore => "no-store".to_owned(),
        Cache::Private => "private, no-cache".to_owned(),
        Cache::Public(_) if authenticated => "private, no-cache".to_owned(),
        Cache::Public(secs) => format!("public, max-age={secs}, must-revalidate"),
    };
    if let Ok(v) = HeaderValue::from_str(&cache) {
        out.insert(header::CACHE_CONTROL, v);
    }
    if spec.cache != Cache::NoStore {
        out.insert(header::VARY, HeaderValue::from_static("authorization"));
    }
    out
}

/// The successful REST response for a route's GraphQL `data`.
fn respond<T: ResultTree>(
    spec: &RouteSpec,
    headers: &HeaderMap,
    data: &T,
    page: Option<input::PageReq>,
    replayed: bool,
) -> Result<Response, Problem> {
    let mut location = None;
    let mut tag = None;
    // Written straight into the body, without the reshaped tree (`output::RestObject`).
    let written = match &spec.output {
        Output::Empty => None,
        Output::Page { path, shape } => {
            let req = page.unwrap_or(input::PageReq {
                page: 1,
                page_size: input::DEFAULT_PAGE_SIZE,
            });
            Some(serde_json::to_vec(&output::PageBody::new(
                shape,
                output::at(data, path),
                req,
            )))
        }
        Output::Item {
            path,
            shape,
            etag: kind,
            location: base,
            null,
        } => {
            let value = output::at(data, path);
            if value.is_null() {
                return Err(match null {
                    NullMeans::NotFound => Problem::new(ErrorCode::NotFound, "no such resource"),
                    NullMeans::Unauthenticated => {
                        Problem::new(ErrorCode::Unauthenticated, "sign in to do this")
                    }
                });
            }
            let (id, version) = output::identity(value);
            let id = id.unwrap_or_default();
            if let Some(kind) = kind {
                let version = version.unwrap_or_default();
                tag = Some(etag::for_resource(kind, id, version));
            }
            if let Some(base) = base {
                location = Some(format!("{PREFIX}{base}/{id}"));
            }
            Some(serde_json::to_vec(&output::RestObject(shape, value)))
        }
    };
    let body = written
        .transpose()
        .map_err(|e| Problem::from(&crate::error::Error::internal(e)))?;
    let empty = body.is_none();
    let bytes = body.unwrap_or_default();
    let read = spec.method == Method::GET;
    if read && tag.is_none() {
        tag = Some(etag::for_body(&bytes));
    }

    let mut out = representation_headers(spec, headers, tag.as_deref());
    if let Some(location) = location.and_then(|l| HeaderValue::from_str(&l).ok()) {
        out.insert(header::LOCATION, location);
    }
    if replayed {
        out.insert(REPLAYED, HeaderValue::from_static("true"));
    }

    if read
        && let (Some(tag), Some(inm)) = (&tag, header_str(headers, header::IF_NONE_MATCH))
        && etag::none_match(inm, tag)
    {
        return Ok(with_headers(StatusCode::NOT_MODIFIED, out, Body::empty()));
    }
    if empty {
        return Ok(with_headers(spec.success, out, Body::empty()));
    }
    out.insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON));
    Ok(with_headers(spec.success, out, Body::from(bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_parses_and_paths_are_unique() {
        assert_eq!(TABLE.len(), routes::TABLE.len());
        for (i, a) in routes::TABLE.iter().enumerate() {
            for b in &routes::TABLE[i + 1..] {
                assert!(
                    a.method != b.method || a.path != b.path,
                    "{} {}",
                    a.method,
                    a.path
                );
            }
            // The fragments each operation spells out are the shared ones.
            if let Some(at) = a.operation.find("fragment ") {
                assert!(
                    routes::FRAGMENTS.contains(&&a.operation[at..]),
                    "{}",
                    a.path
                );
            }
        }
    }

    /// Full validation errors of `operation`, under the default depth and complexity limits,
    /// executed at the largest page size without other variables or context data: a valid
    /// operation then fails only for its missing variable values or inside resolvers (errors
    /// with a path).
    async fn validation_errors(operation: &str) -> Vec<String> {
        let settings = crate::config::Settings::for_database("sqlite::memory:");
        let schema = async_graphql::Schema::build(
            crate::graphql::QueryRoot::default(),
            crate::graphql::MutationRoot::default(),
            crate::graphql::SubscriptionRoot::default(),
        )
        .limit_depth(settings.graphql_max_depth as usize)
        .limit_complexity(settings.graphql_max_complexity as usize)
        .finish();
        let missing_variable =
            |m: &str| m.starts_with("Variable ") && m.ends_with(" is not defined.");
        let largest_page = async_graphql::Variables::from_json(serde_json::json!({
            "first": crate::bounds::MAX_PAGE_SIZE,
            "offset": 0,
        }));
        let request = async_graphql::Request::new(operation).variables(largest_page);
        let response = schema.execute(request).await;
        response
            .errors
            .into_iter()
            .filter(|e| e.path.is_empty() && !missing_variable(&e.message))
            .map(|e| e.message)
            .collect()
    }

    /// The shim executes its operations without validating them (`graphql::Schemas`), so every
    /// persisted operation must pass full validation here, within the limits.
    #[tokio::test]
    async fn every_operation_passes_full_validation() {
        for route in routes::TABLE {
            let probe = probe_operation(route);
            for operation in std::iter::once(route.operation).chain(probe.as_deref()) {
                let errors = validation_errors(operation).await;
                assert!(
                    errors.is_empty(),
                    "{} {}: {operation}: {errors:?}",
                    route.method,
                    route.path
                );
            }
        }
        let broken = "query Q($id: ID!) { project(id: $id) { id nope } }";
        assert!(!validation_errors(broken).await.is_empty());
        // 60 fields on each of 100 nodes: over the default complexity of 5,000.
        let fields: String = (0..60).map(|i| format!("f{i}: id ")).collect();
        let too_complex = format!(
            "query Q($first: Int!) {{ projects(first: $first) {{ nodes {{ {fields} }} }} }}"
        );
        assert!(
            validation_errors(&too_complex)
                .await
                .iter()
                .any(|e| e.contains("too complex")),
            "the limits apply here"
        );
    }

    #[test]
    fn allow_lists_head_with_get() {
        assert_eq!(allow(&[Method::GET, Method::POST]), "GET, HEAD, POST");
    }
}
