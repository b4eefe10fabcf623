//! The OpenAPI 3.1 document of `/api/v1`, generated from the route table: paths, parameters,
//! request bodies, response shapes, headers and every status a route can answer.

use std::collections::BTreeMap;

use http::Method;
use serde_json::{Map, Value, json};

use super::input::{DEFAULT_PAGE_SIZE, MAX_PAGE};
use super::routes::TABLE;
use super::spec::{Conv, CookieUse, Input, Kind, Output, RouteSpec, Scalar, Shape};
use crate::bounds::{self as b, MAX_PAGE_SIZE};

fn reference(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn nullable(schema: Value) -> Value {
    json!({ "oneOf": [schema, { "type": "null" }] })
}

fn shape_schema(shape: &Shape, schemas: &mut BTreeMap<String, Value>) -> Value {
    if !schemas.contains_key(shape.name) {
        schemas.insert(shape.name.to_owned(), Value::Null); // reserve (recursion guard)
        let mut props = Map::new();
        for f in shape.fields {
            let schema = match &f.conv {
                Conv::Same(Scalar::Str) => json!({ "type": "string" }),
                Conv::Same(Scalar::Int) => json!({ "type": "integer" }),
                Conv::Same(Scalar::DateTime) => json!({ "type": "string", "format": "date-time" }),
                Conv::Same(Scalar::Bool) => json!({ "type": "boolean" }),
                Conv::Lower(values) => json!({ "type": "string", "enum": values }),
                Conv::Object(inner) => shape_schema(inner, schemas),
                Conv::List(inner) => {
                    json!({ "type": "array", "items": shape_schema(inner, schemas) })
                }
                Conv::Strings => json!({ "type": "array", "items": { "type": "string" } }),
            };
            let schema = if f.nullable { nullable(schema) } else { schema };
            props.insert(f.name.to_owned(), schema);
        }
        let required: Vec<&str> = shape.fields.iter().map(|f| f.name).collect();
        schemas.insert(
            shape.name.to_owned(),
            json!({ "type": "object", "properties": props, "required": required }),
        );
    }
    reference(shape.name)
}

/// No control characters (what single-line fields refuse), and at least one visible character.
const LINE: &str = r"^[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$";
/// No NUL (multi-line text); `TEXT_NOT_BLANK` also needs a visible character.
const TEXT: &str = r"^[^\x00]*$";
const TEXT_NOT_BLANK: &str = r"^[^\x00]*\S[^\x00]*$";
/// A bare key (printable ASCII, no surrounding space, not starting with a quote) or an
/// RFC 8941 sf-string (`"..."` with `\"` and `\\` escapes).
const IDEMPOTENCY_KEY: &str = r#"^([!#-~]([ -~]*[!-~])?|"([ !#-\[\]-~]|\\["\\])+")$"#;
const SLUG: &str = "^[a-z0-9]+(-[a-z0-9]+)*$";

/// What the domain accepts for a member of this name, so that a contract fuzzer generates
/// input the server takes. The domain enforces these rules; this only describes them.
fn constraints(name: &str, kind: Kind) -> Value {
    let line = |min: usize, max: usize| json!({ "type": "string", "minLength": min, "maxLength": max, "pattern": LINE });
    let text = |min: usize, max: usize| {
        let pattern = if min > 0 { TEXT_NOT_BLANK } else { TEXT };
        json!({ "type": "string", "minLength": min, "maxLength": max, "pattern": pattern })
    };
    let slug = |max: usize| json!({ "type": "string", "maxLength": max, "pattern": SLUG });
    match (name, kind) {
        (_, Kind::Id) => json!({ "type": "string", "format": "uuid" }),
        (_, Kind::Enum(values)) => json!({ "type": "string", "enum": values }),
        ("name", _) => line(b::PROJECT_NAME.min, b::PROJECT_NAME.max),
        ("title" | "subject", _) => line(b::TITLE.min, b::TITLE.max),
        ("display_name", _) => line(b::DISPLAY_NAME.min, b::DISPLAY_NAME.max),
        ("description", _) => text(b::PROJECT_DESCRIPTION.min, b::PROJECT_DESCRIPTION.max),
        ("body", _) => text(b::BODY.min, b::BODY.max),
        ("message", _) => text(b::STATUS_MESSAGE.min, b::STATUS_MESSAGE.max),
        // Free search text and device labels: any length (labels are cut to 100 characters).
        ("device" | "q", _) => json!({ "type": "string", "pattern": TEXT }),
        ("service", _) => slug(b::SERVICE_NAME_MAX),
        ("tag", _) => slug(b::TAG_MAX),
        ("tags", _) => json!({ "type": "array", "maxItems": b::MAX_TAGS,
            "items": slug(b::TAG_MAX) }),
        ("email", _) => json!({ "type": "string", "format": "email", "maxLength": b::EMAIL_MAX }),
        ("password", _) => {
            json!({ "type": "string", "minLength": b::PASSWORD.min, "maxLength": b::PASSWORD.max })
        }
        ("totp_code", _) => json!({ "type": "string", "pattern": "^[0-9]{6,8}$" }),
        _ => kind_schema(kind),
    }
}

fn kind_schema(kind: Kind) -> Value {
    match kind {
        Kind::Str => json!({ "type": "string" }),
        Kind::Id => json!({ "type": "string", "format": "uuid" }),
        Kind::Enum(values) => json!({ "type": "string", "enum": values }),
        Kind::StrList => json!({ "type": "array", "items": { "type": "string" } }),
    }
}

fn problem_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": { "application/problem+json": { "schema": reference("Problem") } },
    })
}

fn header(description: &str) -> Value {
    json!({ "description": description, "schema": { "type": "string" } })
}

fn operation(route: &RouteSpec, schemas: &mut BTreeMap<String, Value>) -> Value {
    let mut params = Vec::new();
    if route.path.contains("{id}") {
        params.push(json!({ "name": "id", "in": "path", "required": true, "schema": { "type": "string", "format": "uuid" } }));
    }
    let mut request_body = None;
    match &route.input {
        Input::List { filters } => {
            params.push(json!({ "name": "page", "in": "query", "required": false,
                "schema": { "type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1 } }));
            params.push(json!({ "name": "page_size", "in": "query", "required": false,
                "schema": { "type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE, "default": DEFAULT_PAGE_SIZE } }));
            for p in *filters {
                params.push(json!({ "name": p.name, "in": "query", "required": false,
                    "description": p.doc, "schema": constraints(p.name, p.kind) }));
            }
        }
        Input::Body { fields } => {
            let mut props = Map::new();
            for f in *fields {
                let mut schema = constraints(f.name, f.kind);
                // Updates refuse `null` for members that cannot be cleared; creates read it as
                // "omitted".
                if f.nullable || (!f.required && route.method == Method::POST) {
                    schema = nullable(schema);
                }
                props.insert(
                    f.name.to_owned(),
                    json!({ "description": f.doc, "allOf": [schema] }),
                );
            }
            let required: Vec<&str> = fields
                .iter()
                .filter(|f| f.required)
                .map(|f| f.name)
                .collect();
            request_body = Some(
                json!({ "required": true, "content": { "application/json": { "schema": {
                "type": "object", "properties": props, "required": required, "additionalProperties": false } } } }),
            );
        }
        Input::None | Input::Id | Input::IdInput => {}
    }
    if route.headers.idempotency_key {
        params.push(json!({ "name": "Idempotency-Key", "in": "header", "required": false,
            "description": "1–255 printable ASCII characters; retries with the same key replay the first result.",
            "schema": { "type": "string", "maxLength": 257, "pattern": IDEMPOTENCY_KEY } }));
    }
    if route.headers.if_match.is_some() {
        params.push(json!({ "name": "If-Match", "in": "header", "required": false,
            "description": "The resource's ETag: the write happens only at that version.", "schema": { "type": "string" } }));
    }
    let cookie = route.cookie;
    if cookie == Some(CookieUse::Rotate) {
        params.push(json!({ "name": super::cookie::NAME, "in": "cookie", "required": false,
            "description": "The browser's refresh token (HttpOnly), used when the body has no refresh_token.",
            "schema": { "type": "string" } }));
    }
    let read = route.method == Method::GET;
    if read {
        params.push(json!({ "name": "If-None-Match", "in": "header", "required": false, "schema": { "type": "string" } }));
    }

    let mut headers = Map::new();
    let body_schema = match &route.output {
        Output::Empty => None,
        Output::Page { shape, .. } => {
            let item = shape_schema(shape, schemas);
            let name = format!("{}Page", shape.name);
            schemas.insert(name.clone(), json!({ "type": "object",
                "properties": { "items": { "type": "array", "items": item }, "total": { "type": "integer" },
                    "page": { "type": "integer" }, "page_size": { "type": "integer" }, "pages": { "type": "integer" } },
                "required": ["items", "total", "page", "page_size", "pages"] }));
            Some(reference(&name))
        }
        Output::Item {
            shape, location, ..
        } => {
            if location.is_some() {
                headers.insert("Location".into(), header("The new resource's URL."));
            }
            Some(shape_schema(shape, schemas))
        }
    };
    if read || matches!(route.output, Output::Item { etag: Some(_), .. }) {
        headers.insert("ETag".into(), header("Entity tag of the representation."));
    }
    if route.headers.idempotency_key {
        headers.insert(
            "Idempotent-Replayed".into(),
            header("`true` when this is a replayed result."),
        );
    }
    headers.insert("Cache-Control".into(), header("Caching policy."));
    if let Some(usage) = cookie {
        headers.insert(
            "Set-Cookie".into(),
            header(match usage {
                CookieUse::Clear => "Clears the refresh cookie.",
                _ => "Browsers (requests with Origin): `neoforge_refresh=<refresh token>; Path=/api/v1/auth/refresh; HttpOnly; Secure; SameSite=Strict`, and `refresh_token` is null in the body.",
            }),
        );
    }
    let mut success = json!({ "description": route.summary, "headers": headers });
    if let Some(schema) = body_schema {
        success["content"] = json!({ "application/json": { "schema": schema } });
    }
    let mut responses = Map::new();
    responses.insert(route.success.as_u16().to_string(), success);
    if read {
        responses.insert(
            "304".into(),
            json!({ "description": "Not modified (If-None-Match matched).", "headers": {
                "ETag": header("Entity tag of the representation."),
                "Cache-Control": header("Caching policy."),
                "Vary": header("Request headers the representation depends on."),
            } }),
        );
    }
    let mut errors: Vec<u16> = vec![400, 401, 404, 429, 500, 503];
    if matches!(route.input, Input::Body { .. }) {
        errors.extend([413, 415, 422]);
    }
    errors.extend(route.errors);
    errors.sort_unstable();
    errors.dedup();
    for status in errors {
        let reason = http::StatusCode::from_u16(status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("Error");
        responses.insert(status.to_string(), problem_response(reason));
    }
    if let Some(shape) = route.headers.if_match.and_then(super::routes::shape_of) {
        let current = shape_schema(shape, schemas);
        let name = format!("{}Conflict", shape.name);
        schemas.insert(name.clone(), json!({ "allOf": [reference("Problem"), { "type": "object",
            "properties": { "current": current },
            "description": "`current`: the resource as GET returns it now (present when the caller may read it)." }] }));
        responses.insert(
            "412".into(),
            json!({
            "description": "The resource changed since the If-Match ETag: `current` is what won.",
            "headers": { "ETag": header("Entity tag of `current`.") },
            "content": { "application/problem+json": { "schema": reference(&name) } } }),
        );
    }
    let mut op = json!({
        "summary": route.summary,
        "operationId": operation_id(route),
        "parameters": params,
        "responses": responses,
        // A bearer token is optional everywhere: routes decide what anonymous callers get.
        "security": [{ "bearer": [] }, {}],
    });
    if let Some(body) = request_body {
        op["requestBody"] = body;
    }
    op
}

/// The GraphQL operation's name (`query ListProjects(...)` → `ListProjects`).
fn operation_id(route: &RouteSpec) -> String {
    route
        .operation
        .split(|c: char| c == '(' || c == '{' || c.is_whitespace())
        .filter(|w| !w.is_empty())
        .nth(1)
        .unwrap_or(route.path)
        .to_owned()
}

/// `POST /security/csp-report` (served by `crate::security::csp`, outside the route table).
fn csp_report() -> Value {
    let legacy = json!({ "type": "object", "required": ["csp-report"], "properties": {
        "csp-report": { "type": "object", "required": ["effective-directive"], "properties": {
            "document-uri": { "type": "string" }, "blocked-uri": { "type": "string" },
            "violated-directive": { "type": "string" }, "effective-directive": { "type": "string" } } } } });
    let reports = json!({ "type": "array", "minItems": 1, "maxItems": 100, "items": {
        "type": "object", "required": ["type", "body"], "properties": {
            "type": { "type": "string" }, "url": { "type": "string" }, "age": { "type": "integer" },
            "body": { "type": "object", "required": ["effectiveDirective"], "properties": {
                "documentURL": { "type": "string" }, "blockedURL": { "type": "string" },
                "effectiveDirective": { "type": "string" } } } } } });
    json!({
        "summary": "Receive a Content Security Policy violation report (browsers send these).",
        "operationId": "ReportCspViolation",
        "requestBody": { "required": true, "content": {
            "application/csp-report": { "schema": legacy },
            "application/reports+json": { "schema": reports } } },
        "responses": {
            "204": { "description": "Report received." },
            "400": problem_response("Not a CSP report."),
            "413": problem_response("The report is over 64 KiB."),
            "415": problem_response("Not application/csp-report or application/reports+json."),
            "429": { "description": "Too many reports from this address.",
                "headers": { "Retry-After": header("Seconds to wait."),
                    "RateLimit": header("Remaining budget."), "RateLimit-Policy": header("The budget.") },
                "content": { "application/problem+json": { "schema": reference("Problem") } } },
        },
    })
}

/// The whole document.
pub fn document() -> Value {
    let mut schemas = BTreeMap::new();
    schemas.insert("Problem".to_owned(), json!({
        "type": "object",
        "properties": {
            "type": { "type": "string" }, "title": { "type": "string" }, "status": { "type": "integer" },
            "detail": { "type": "string" }, "instance": { "type": "string" }, "code": { "type": "string" },
            "errors": { "type": "array", "items": { "type": "object",
                "properties": { "loc": { "type": "array", "items": { "type": "string" } },
                    "msg": { "type": "string" }, "type": { "type": "string" } },
                "required": ["loc", "msg", "type"] } }
        },
        "required": ["type", "title", "status", "detail", "instance", "code"],
    }));
    let mut paths: BTreeMap<&str, Map<String, Value>> = BTreeMap::new();
    for route in TABLE {
        let op = operation(route, &mut schemas);
        let entry = paths.entry(route.path).or_default();
        entry.insert(route.method.as_str().to_ascii_lowercase(), op.clone());
        if route.method == Method::GET {
            let mut head = op;
            head["operationId"] = Value::String(format!("{}Head", operation_id(route)));
            for (_, response) in head["responses"].as_object_mut().into_iter().flatten() {
                if let Some(r) = response.as_object_mut() {
                    r.remove("content");
                }
            }
            entry.insert("head".into(), head);
        }
    }
    paths.entry("/openapi.json").or_default().insert(
        "get".into(),
        json!({ "summary": "This document.", "operationId": "OpenApi",
            "responses": { "200": { "description": "OpenAPI 3.1", "content": { "application/json": { "schema": { "type": "object" } } } } } }),
    );
    paths
        .entry("/security/csp-report")
        .or_default()
        .insert("post".into(), csp_report());
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "NeoForge REST API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "REST compatibility shim over the NeoForge GraphQL schema. See docs/api.md.",
        },
        "servers": [{ "url": super::PREFIX }],
        "components": {
            "schemas": schemas,
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer", "bearerFormat": "JWT" } },
        },
        "paths": paths,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn documents_every_route() {
        let doc = super::document();
        for route in super::TABLE {
            let op = &doc["paths"][route.path][route.method.as_str().to_ascii_lowercase()];
            assert!(op.is_object(), "{} {}", route.method, route.path);
            assert!(op["responses"][route.success.as_u16().to_string()].is_object());
        }
        assert_eq!(
            doc["paths"]["/projects"]["get"]["operationId"],
            "ListProjects"
        );
    }
}
