//! GraphQL over HTTP (the GraphQL-over-HTTP specification), replacing async-graphql-axum's stock
//! handler, which always answers 200 with one media type and runs mutations over GET.
//!
//! - `Accept` negotiation between `application/graphql-response+json` and `application/json`
//!   (absent or `*/*`: `application/json`, for legacy clients); 406 when neither is acceptable.
//! - Under `application/graphql-response+json`, requests that fail before execution (parse,
//!   validation, variable coercion) get 400; under `application/json` they get 200 as the spec
//!   requires for legacy clients. Unparseable bodies get 400 either way.
//! - GET executes queries only: a mutation over GET is 405 with `Allow: POST`.
//! - A request that is not a well-formed GraphQL-over-HTTP request (body not a JSON object,
//!   `query` missing or not a string, `operationName` not a string, `variables`/`extensions` not
//!   an object; `null` stands for absent) gets 400 under either media type.
//! - Variables are coerced before execution ([`vars`]): a missing, null or mistyped variable
//!   is a request error (`BAD_USER_INPUT`, no `data`), not a field error.
//! - `GET /graphql` with `Accept: text/html` is the GraphiQL playground ([`super::playground`])
//!   while it is enabled; GET responses say `Vary: Accept`.

mod vars;

use std::sync::OnceLock;

use async_graphql::parser::types::{ExecutableDocument, OperationType};
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use serde::Deserialize;

use super::caller::Caller;
use super::problem::{GraphqlMedia, graphql_error, graphql_errors, graphql_request_error, problem};
use crate::error::{Error, ErrorCode};
use crate::graphql::AppSchema;
use crate::state::AppState;

const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";
const JSON: &str = "application/json";

/// Picks the response media type from `Accept`, honouring q-values.
fn negotiate(headers: &HeaderMap) -> Option<GraphqlMedia> {
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
        return Some(GraphqlMedia::Json);
    };
    let mut best: Option<(f32, GraphqlMedia)> = None;
    for range in accept.split(',') {
        let mut parts = range.split(';').map(str::trim);
        let media = parts.next().unwrap_or_default().to_ascii_lowercase();
        let q = parts
            .filter_map(|p| p.strip_prefix("q="))
            .find_map(|q| q.parse::<f32>().ok())
            .unwrap_or(1.0);
        let flavor = match media.as_str() {
            GRAPHQL_RESPONSE_JSON => GraphqlMedia::GraphqlResponse,
            JSON | "application/*" | "*/*" => GraphqlMedia::Json,
            _ => continue,
        };
        // Equal q: the specific graphql-response type beats the generic ones.
        let better = match best {
            None => q > 0.0,
            Some((bq, bf)) => {
                q > bq || (q == bq && flavor == GraphqlMedia::GraphqlResponse && bf != flavor)
            }
        };
        if better && q > 0.0 {
            best = Some((q, flavor));
        }
    }
    best.map(|(_, f)| f)
}

/// A request that is not a well-formed GraphQL-over-HTTP request: 400 whatever the media type.
fn malformed(flavor: GraphqlMedia, message: &str) -> Response {
    graphql_request_error(
        flavor,
        StatusCode::BAD_REQUEST,
        ErrorCode::BadUserInput,
        message,
    )
}

#[derive(Deserialize)]
pub struct GetParams {
    query: Option<String>,
    #[serde(rename = "operationName")]
    #[serde(default, deserialize_with = "empty_as_none")]
    operation_name: Option<String>,
    #[serde(default, deserialize_with = "empty_as_none")]
    variables: Option<String>,
    #[serde(default, deserialize_with = "empty_as_none")]
    extensions: Option<String>,
}

fn empty_as_none<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(Option::<String>::deserialize(d)?.filter(|s| !s.is_empty()))
}

/// Reads an optional map parameter (`variables`, `extensions`): absent and `null` are the same.
fn map_param(
    name: &str,
    value: Option<serde_json::Value>,
) -> Result<Option<serde_json::Value>, String> {
    match value {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(map @ serde_json::Value::Object(_)) => Ok(Some(map)),
        Some(_) => Err(format!("`{name}` must be a JSON object")),
    }
}

/// Fills `variables` and `extensions` of `request` from their (JSON) parameter values.
fn set_maps(
    request: &mut async_graphql::Request,
    variables: Option<serde_json::Value>,
    extensions: Option<serde_json::Value>,
) -> Result<(), String> {
    if let Some(variables) = map_param("variables", variables)? {
        request.variables = async_graphql::Variables::from_json(variables);
    }
    if let Some(extensions) = map_param("extensions", extensions)? {
        request.extensions = serde_json::from_value(extensions)
            .map_err(|e| format!("`extensions` is not valid: {e}"))?;
    }
    Ok(())
}

/// The request parameters of a POST body (GraphQL-over-HTTP "JSON Encoding"). Other members
/// are ignored; `null` stands for an absent optional parameter.
fn parse_body(body: &[u8]) -> Result<async_graphql::Request, String> {
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| format!("the body is not a GraphQL request: {e}"))?;
    let serde_json::Value::Object(mut params) = value else {
        return Err("the body must be a JSON object (batched requests are not supported)".into());
    };
    let query = match params.remove("query") {
        Some(serde_json::Value::String(query)) => query,
        None | Some(serde_json::Value::Null) => {
            return Err("missing `query`: the GraphQL document, as a string".into());
        }
        Some(_) => return Err("`query` must be a string".into()),
    };
    let mut request = async_graphql::Request::new(query);
    match params.remove("operationName") {
        None | Some(serde_json::Value::Null) => {}
        Some(serde_json::Value::String(name)) => {
            request.operation_name = Some(name).filter(|n| !n.is_empty());
        }
        Some(_) => return Err("`operationName` must be a string".into()),
    }
    set_maps(
        &mut request,
        params.remove("variables"),
        params.remove("extensions"),
    )?;
    Ok(request)
}

/// Is the operation that this document would run a mutation (or subscription)?
fn is_mutation(doc: &ExecutableDocument, operation_name: Option<&str>) -> bool {
    matches!(
        crate::graphql::documents::select_operation(doc, operation_name).map(|(_, op)| op.ty),
        Some(OperationType::Mutation | OperationType::Subscription)
    )
}

/// The schema's input types, read once from its SDL. Every schema this process builds has
/// the same types (they are Rust types), so one table serves them all.
fn input_types(schema: &AppSchema) -> Option<&'static vars::InputTypes> {
    static TYPES: OnceLock<Option<vars::InputTypes>> = OnceLock::new();
    TYPES
        .get_or_init(|| match vars::InputTypes::from_sdl(&schema.sdl()) {
            Ok(types) => Some(types),
            Err(err) => {
                tracing::error!(%err, "cannot read the schema's input types; variables are coerced during execution only");
                None
            }
        })
        .as_ref()
}

#[tracing::instrument(skip_all, fields(graphql.method = "GET"))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    params: Result<Query<GetParams>, QueryRejection>,
) -> Response {
    let mut response = get_inner(&state, &caller, &headers, params).await;
    // The same URL answers JSON or the playground, by `Accept`: caches must keep them apart.
    response
        .headers_mut()
        .insert(header::VARY, HeaderValue::from_static("accept"));
    response
}

async fn get_inner(
    state: &AppState,
    caller: &Caller,
    headers: &HeaderMap,
    params: Result<Query<GetParams>, QueryRejection>,
) -> Response {
    let wants_html = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"));
    if wants_html && state.settings.graphiql_enabled() {
        return super::playground::page();
    }
    let Some(flavor) = negotiate(headers) else {
        return problem(
            ErrorCode::NotAcceptable,
            "accept application/graphql-response+json or application/json",
        );
    };
    let params = match params {
        Ok(Query(p)) => p,
        Err(err) => return malformed(flavor, &err.body_text()),
    };
    let Some(query) = params.query.filter(|q| !q.trim().is_empty()) else {
        return malformed(flavor, "missing `query` parameter");
    };
    let mut request = async_graphql::Request::new(query);
    request.operation_name = params.operation_name;
    // `variables` and `extensions` travel as JSON text in the query string.
    let json = |name: &str, raw: Option<String>| {
        raw.map(|raw| serde_json::from_str::<serde_json::Value>(&raw))
            .transpose()
            .map_err(|_| format!("`{name}` must be a JSON object"))
    };
    let (variables, extensions) = match (
        json("variables", params.variables),
        json("extensions", params.extensions),
    ) {
        (Ok(v), Ok(e)) => (v, e),
        (Err(msg), _) | (_, Err(msg)) => return malformed(flavor, &msg),
    };
    if let Err(msg) = set_maps(&mut request, variables, extensions) {
        return malformed(flavor, &msg);
    }
    // Parsed once here (or found parsed); execution reuses the document. A document that does
    // not parse is executed anyway, so that the schema reports the syntax error.
    let doc = state.documents.attach(&mut request);
    let operation_name = request.operation_name.clone();
    if let Ok(doc) = request.parsed_query()
        && is_mutation(doc, operation_name.as_deref())
    {
        let mut response = graphql_request_error(
            flavor,
            StatusCode::METHOD_NOT_ALLOWED,
            ErrorCode::MethodNotAllowed,
            "mutations must be sent with POST",
        );
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        return response;
    }
    execute(state, flavor, caller, request, doc).await
}

#[tracing::instrument(skip_all, fields(graphql.method = "POST"))]
pub async fn post(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let Some(flavor) = negotiate(&headers) else {
        return problem(
            ErrorCode::NotAcceptable,
            "accept application/graphql-response+json or application/json",
        );
    };
    // UTF-8 is assumed when no charset is given; any other charset is unsupported.
    let (media, charset_ok) = super::body_media_type(&headers);
    if media != JSON || !charset_ok {
        return graphql_request_error(
            flavor,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::UnsupportedMediaType,
            "send the request body as application/json (UTF-8)",
        );
    }
    let body = match body {
        Ok(body) => body,
        Err(rejection) => {
            let (status, code) = if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                crate::security::Threat::OversizeBody.record();
                (StatusCode::PAYLOAD_TOO_LARGE, ErrorCode::PayloadTooLarge)
            } else {
                (StatusCode::BAD_REQUEST, ErrorCode::BadUserInput)
            };
            return graphql_request_error(flavor, status, code, &rejection.body_text());
        }
    };
    let mut request = match parse_body(&body) {
        Ok(request) => request,
        Err(msg) => {
            crate::security::Threat::MalformedJson.record();
            return malformed(flavor, &msg);
        }
    };
    let doc = state.documents.attach(&mut request);
    execute(&state, flavor, &caller, request, doc).await
}

async fn execute(
    state: &AppState,
    flavor: GraphqlMedia,
    caller: &Caller,
    mut request: async_graphql::Request,
    doc: Option<std::sync::Arc<crate::graphql::documents::Document>>,
) -> Response {
    let request_context = match caller.context(&state.services) {
        Ok(request_context) => request_context,
        Err(err) => return graphql_error(flavor, &err),
    };
    if let Some(response) = coerce_variables(state, flavor, &mut request) {
        return response;
    }
    // The cached document travels with the request: the hooks' validation reads and keeps
    // what full validation established about it.
    let request = request.data(request_context);
    let request = match doc {
        Some(doc) => request.data(doc),
        None => request,
    };
    let response = state.schema.execute(request).await;

    // A request error: nothing executed, so no data and no error has a path.
    let request_failed = response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| e.path.is_empty());
    let rate_limited = request_failed
        && response.errors.iter().all(|e| {
            e.extensions
                .as_ref()
                .and_then(|x| x.get("code"))
                .is_some_and(|c| *c == async_graphql::Value::from(ErrorCode::RateLimited.as_str()))
        });
    let status = if rate_limited {
        // Over its complexity budget: a 429 like any other, whatever the media type.
        StatusCode::TOO_MANY_REQUESTS
    } else if flavor == GraphqlMedia::GraphqlResponse && request_failed {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let limit_headers = rate_limited
        .then(|| response.errors.first())
        .flatten()
        .and_then(|e| e.extensions.as_ref())
        .map(|x| {
            let text = |k: &str| match x.get(k) {
                Some(async_graphql::Value::String(s)) => Some(s.clone()),
                Some(async_graphql::Value::Number(n)) => Some(n.to_string()),
                _ => None,
            };
            [
                (header::RETRY_AFTER, text("retryAfter")),
                (
                    http::HeaderName::from_static("ratelimit-policy"),
                    text("rateLimitPolicy"),
                ),
                (
                    http::HeaderName::from_static("ratelimit"),
                    text("rateLimit"),
                ),
            ]
        });
    let extra_headers = response.http_headers.clone();
    // A request error has no `data` entry at all (GraphQL-over-HTTP §"request error").
    let body = if request_failed {
        serde_json::to_vec(&serde_json::json!({ "errors": response.errors }))
    } else {
        serde_json::to_vec(&response)
    };
    let body = match body {
        Ok(body) => body,
        Err(err) => return Error::internal(err).into_response(),
    };
    let mut http_response = (status, body).into_response();
    http_response.headers_mut().extend(extra_headers);
    for (name, value) in limit_headers.into_iter().flatten() {
        if let Some(value) = value.and_then(|v| HeaderValue::from_str(&v).ok()) {
            http_response.headers_mut().insert(name, value);
        }
    }
    http_response
        .headers_mut()
        .insert(header::CONTENT_TYPE, flavor.content_type());
    http_response
}

/// The request error for variables that do not coerce to their declared types, if any.
/// (GraphQL `CoerceVariableValues()`, which async-graphql defers to field execution.)
fn coerce_variables(
    state: &AppState,
    flavor: GraphqlMedia,
    request: &mut async_graphql::Request,
) -> Option<Response> {
    let types = input_types(&state.schema)?;
    let operation_name = request.operation_name.clone();
    let variables = std::mem::take(&mut request.variables);
    let errors = match request.parsed_query() {
        Ok(doc) => types.check(doc, operation_name.as_deref(), &variables),
        Err(_) => Vec::new(), // execution reports the syntax error
    };
    request.variables = variables;
    if errors.is_empty() {
        return None;
    }
    let status = match flavor {
        GraphqlMedia::GraphqlResponse => StatusCode::BAD_REQUEST,
        GraphqlMedia::Json => StatusCode::OK,
    };
    let code = ErrorCode::BadUserInput.as_str();
    Some(graphql_errors(
        flavor,
        status,
        errors.iter().map(|e| e.to_json(code)).collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT, HeaderValue::from_str(v).unwrap());
        h
    }

    #[test]
    fn negotiates_media_types() {
        assert_eq!(negotiate(&HeaderMap::new()), Some(GraphqlMedia::Json));
        assert_eq!(negotiate(&accept("*/*")), Some(GraphqlMedia::Json));
        assert_eq!(
            negotiate(&accept(GRAPHQL_RESPONSE_JSON)),
            Some(GraphqlMedia::GraphqlResponse)
        );
        assert_eq!(
            negotiate(&accept(
                "application/json, application/graphql-response+json"
            )),
            Some(GraphqlMedia::GraphqlResponse)
        );
        assert_eq!(
            negotiate(&accept(
                "application/graphql-response+json;q=0.5, application/json"
            )),
            Some(GraphqlMedia::Json)
        );
        assert_eq!(negotiate(&accept("text/plain")), None);
        assert_eq!(negotiate(&accept("application/json;q=0")), None);
    }

    #[test]
    fn detects_mutations() {
        let m = |q: &str, op: Option<&str>| {
            is_mutation(&async_graphql::parser::parse_query(q).unwrap(), op)
        };
        assert!(m("mutation { login }", None));
        assert!(!m("{ viewer { id } }", None));
        assert!(m("query A { x } mutation B { y }", Some("B")));
        assert!(!m("query A { x } mutation B { y }", Some("A")));
        assert!(
            !m("query A { x } mutation B { y }", None),
            "ambiguous: a request error"
        );
        assert!(m("subscription { s }", None));
    }

    #[test]
    fn parses_request_parameters() {
        let r = parse_body(
            br#"{"query":"{ a }","operationName":null,"variables":null,"extensions":null}"#,
        )
        .unwrap();
        assert_eq!(r.query, "{ a }");
        assert!(r.operation_name.is_none() && r.variables.is_empty());
        let r = parse_body(br#"{"query":"query A { a }","operationName":"A","variables":{"x":1},"extensions":{"e":true}}"#)
            .unwrap();
        assert_eq!(r.operation_name.as_deref(), Some("A"));
        assert_eq!(r.variables.len(), 1);
        assert_eq!(r.extensions.0.len(), 1);
        for bad in [
            &br#"{"qeury":"{ a }"}"#[..],
            br#"{"query":5}"#,
            br#"{"query":"{ a }","operationName":5}"#,
            br#"{"query":"{ a }","variables":[7]}"#,
            br#"{"query":"{ a }","variables":"{}"}"#,
            br#"{"query":"{ a }","extensions":1}"#,
            br#"[{"query":"{ a }"}]"#,
            b"NONSENSE",
            b"",
        ] {
            assert!(parse_body(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }
}
