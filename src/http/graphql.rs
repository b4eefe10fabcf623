//! GraphQL over HTTP (the GraphQL-over-HTTP specification), replacing async-graphql-axum's stock
//! handler, which always answers 200 with one media type and runs mutations over GET.
//!
//! - `Accept` negotiation between `application/graphql-response+json` and `application/json`
//!   (absent or `*/*`: `application/json`, for legacy clients); 406 when neither is acceptable.
//! - Under `application/graphql-response+json`, requests that fail before execution (parse,
//!   validation, variable coercion) get 400; under `application/json` they get 200 as the spec
//!   requires for legacy clients. Unparseable bodies get 400 either way.
//! - GET executes queries only: a mutation over GET is 405 with `Allow: POST`.

use std::net::SocketAddr;

use async_graphql::parser::types::OperationType;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{ConnectInfo, Query, State};
use axum::response::{Html, IntoResponse, Response};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use serde::Deserialize;

use crate::auth::Principal;
use crate::error::{Error, ErrorCode};
use crate::state::{AppState, RequestMeta};

const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";
const JSON: &str = "application/json";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Flavor {
    GraphqlResponse,
    Json,
}

impl Flavor {
    fn content_type(self) -> HeaderValue {
        HeaderValue::from_static(match self {
            Self::GraphqlResponse => "application/graphql-response+json; charset=utf-8",
            Self::Json => "application/json; charset=utf-8",
        })
    }
}

/// Picks the response media type from `Accept`, honouring q-values.
fn negotiate(headers: &HeaderMap) -> Option<Flavor> {
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
        return Some(Flavor::Json);
    };
    let mut best: Option<(f32, Flavor)> = None;
    for range in accept.split(',') {
        let mut parts = range.split(';').map(str::trim);
        let media = parts.next().unwrap_or_default().to_ascii_lowercase();
        let q = parts
            .filter_map(|p| p.strip_prefix("q="))
            .find_map(|q| q.parse::<f32>().ok())
            .unwrap_or(1.0);
        let flavor = match media.as_str() {
            GRAPHQL_RESPONSE_JSON => Flavor::GraphqlResponse,
            JSON | "application/*" | "*/*" => Flavor::Json,
            _ => continue,
        };
        // Equal q: the specific graphql-response type beats the generic ones.
        let better = match best {
            None => q > 0.0,
            Some((bq, bf)) => {
                q > bq || (q == bq && flavor == Flavor::GraphqlResponse && bf != flavor)
            }
        };
        if better && q > 0.0 {
            best = Some((q, flavor));
        }
    }
    best.map(|(_, f)| f)
}

/// A GraphQL-shaped error body for failures that happen before execution.
fn request_error(flavor: Flavor, status: StatusCode, code: ErrorCode, message: &str) -> Response {
    let body = serde_json::json!({ "errors": [{ "message": message, "extensions": { "code": code.as_str() } }] });
    let mut response = (status, serde_json::to_vec(&body).unwrap_or_default()).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, flavor.content_type());
    response
}

fn unauthenticated(flavor: Flavor, err: &Error) -> Response {
    let mut response = request_error(
        flavor,
        StatusCode::UNAUTHORIZED,
        ErrorCode::Unauthenticated,
        &err.public_message(),
    );
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static(r#"Bearer realm="neoforge", error="invalid_token""#),
    );
    response
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

/// Is the operation that this document would run a mutation (or subscription)?
fn is_mutation(query: &str, operation_name: Option<&str>) -> bool {
    let Ok(doc) = async_graphql::parser::parse_query(query) else {
        return false;
    };
    let ty = match (&doc.operations, operation_name) {
        (async_graphql::parser::types::DocumentOperations::Single(op), _) => Some(op.node.ty),
        (async_graphql::parser::types::DocumentOperations::Multiple(ops), Some(name)) => {
            ops.get(name).map(|op| op.node.ty)
        }
        (async_graphql::parser::types::DocumentOperations::Multiple(ops), None)
            if ops.len() == 1 =>
        {
            ops.values().next().map(|op| op.node.ty)
        }
        _ => None,
    };
    matches!(
        ty,
        Some(OperationType::Mutation | OperationType::Subscription)
    )
}

#[tracing::instrument(skip_all, fields(graphql.method = "GET"))]
pub async fn get(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    params: Result<Query<GetParams>, QueryRejection>,
) -> Response {
    let wants_html = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"));
    if wants_html && state.settings.graphiql_enabled() {
        return playground();
    }
    let Some(flavor) = negotiate(&headers) else {
        return crate::http::problem::problem(
            ErrorCode::NotAcceptable,
            "accept application/graphql-response+json or application/json",
        );
    };
    let params = match params {
        Ok(Query(p)) => p,
        Err(err) => {
            return request_error(
                flavor,
                StatusCode::BAD_REQUEST,
                ErrorCode::BadUserInput,
                &err.body_text(),
            );
        }
    };
    let Some(query) = params.query.filter(|q| !q.trim().is_empty()) else {
        return request_error(
            flavor,
            StatusCode::BAD_REQUEST,
            ErrorCode::BadUserInput,
            "missing `query` parameter",
        );
    };
    if is_mutation(&query, params.operation_name.as_deref()) {
        let mut response = request_error(
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
    let mut request = async_graphql::Request::new(query);
    request.operation_name = params.operation_name;
    for (field, raw) in [
        ("variables", params.variables),
        ("extensions", params.extensions),
    ] {
        let Some(raw) = raw else { continue };
        match serde_json::from_str::<serde_json::Value>(&raw) {
            Ok(serde_json::Value::Object(map)) if field == "variables" => {
                request.variables =
                    async_graphql::Variables::from_json(serde_json::Value::Object(map));
            }
            Ok(obj @ serde_json::Value::Object(_)) => {
                request.extensions = serde_json::from_value(obj).unwrap_or_default();
            }
            _ => {
                let msg = format!("`{field}` must be a JSON object");
                return request_error(
                    flavor,
                    StatusCode::BAD_REQUEST,
                    ErrorCode::BadUserInput,
                    &msg,
                );
            }
        }
    }
    execute(&state, flavor, &headers, peer, request).await
}

#[tracing::instrument(skip_all, fields(graphql.method = "POST"))]
pub async fn post(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let Some(flavor) = negotiate(&headers) else {
        return crate::http::problem::problem(
            ErrorCode::NotAcceptable,
            "accept application/graphql-response+json or application/json",
        );
    };
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let media = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if media != JSON {
        return request_error(
            flavor,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::UnsupportedMediaType,
            "send the request body as application/json",
        );
    }
    let body = match body {
        Ok(body) => body,
        Err(rejection) => {
            let (status, code) = if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                (StatusCode::PAYLOAD_TOO_LARGE, ErrorCode::PayloadTooLarge)
            } else {
                (StatusCode::BAD_REQUEST, ErrorCode::BadUserInput)
            };
            return request_error(flavor, status, code, &rejection.body_text());
        }
    };
    let request: async_graphql::Request = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(err) => {
            let msg = format!("the body is not a GraphQL request: {err}");
            return request_error(
                flavor,
                StatusCode::BAD_REQUEST,
                ErrorCode::BadUserInput,
                &msg,
            );
        }
    };
    execute(&state, flavor, &headers, peer, request).await
}

async fn execute(
    state: &AppState,
    flavor: Flavor,
    headers: &HeaderMap,
    peer: SocketAddr,
    request: async_graphql::Request,
) -> Response {
    let principal = match Principal::from_headers(headers, &state.jwt) {
        Ok(p) => p,
        Err(err) => return unauthenticated(flavor, &err),
    };
    let request = request
        .data(principal)
        .data(RequestMeta::from_parts(headers, Some(peer)));
    let response = state.schema.execute(request).await;

    // A request error: nothing executed, so no data and no error has a path.
    let request_failed = response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| e.path.is_empty());
    let status = if flavor == Flavor::GraphqlResponse && request_failed {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
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
    http_response
        .headers_mut()
        .insert(header::CONTENT_TYPE, flavor.content_type());
    http_response
}

fn playground() -> Response {
    let html = async_graphql::http::GraphiQLSource::build()
        .endpoint("/graphql")
        .title("NeoForge API")
        .finish();
    Html(html).into_response()
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
        assert_eq!(negotiate(&HeaderMap::new()), Some(Flavor::Json));
        assert_eq!(negotiate(&accept("*/*")), Some(Flavor::Json));
        assert_eq!(
            negotiate(&accept(GRAPHQL_RESPONSE_JSON)),
            Some(Flavor::GraphqlResponse)
        );
        assert_eq!(
            negotiate(&accept(
                "application/json, application/graphql-response+json"
            )),
            Some(Flavor::GraphqlResponse)
        );
        assert_eq!(
            negotiate(&accept(
                "application/graphql-response+json;q=0.5, application/json"
            )),
            Some(Flavor::Json)
        );
        assert_eq!(negotiate(&accept("text/plain")), None);
        assert_eq!(negotiate(&accept("application/json;q=0")), None);
    }

    #[test]
    fn detects_mutations() {
        assert!(is_mutation("mutation { login }", None));
        assert!(!is_mutation("{ viewer { id } }", None));
        assert!(is_mutation("query A { x } mutation B { y }", Some("B")));
        assert!(!is_mutation("query A { x } mutation B { y }", Some("A")));
    }
}
