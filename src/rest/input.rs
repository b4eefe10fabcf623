//! Request → GraphQL variables, driven by the route's [`Input`] spec.

use serde_json::{Map, Value, json};

use super::spec::{BodyField, Input, Kind, Param};
use crate::bounds::MAX_PAGE_SIZE;
use crate::http::problem::{Invalid, Problem};

pub const DEFAULT_PAGE_SIZE: u32 = crate::bounds::DEFAULT_PAGE_SIZE.unsigned_abs();

/// The page a list request asked for.
#[derive(Clone, Copy, Debug)]
pub struct PageReq {
    pub page: u64,
    pub page_size: u32,
}

fn screaming(v: &str) -> String {
    v.to_ascii_uppercase()
}

/// Checks one value against its kind and converts it to the GraphQL spelling.
fn convert(kind: Kind, value: &Value, loc: &[&str]) -> Result<Value, Invalid> {
    match (kind, value) {
        (Kind::Str | Kind::Id, Value::String(_)) => Ok(value.clone()),
        (Kind::Str | Kind::Id, _) => Err(Invalid::new(loc, "type_error.str", "must be a string")),
        (Kind::Enum(allowed), Value::String(s)) if allowed.contains(&s.as_str()) => {
            Ok(Value::String(screaming(s)))
        }
        (Kind::Enum(allowed), _) => Err(Invalid::new(
            loc,
            "value_error.enum",
            format!("must be one of: {}", allowed.join(", ")),
        )),
        (Kind::StrList, Value::Array(items)) if items.iter().all(Value::is_string) => {
            Ok(value.clone())
        }
        (Kind::StrList, _) => Err(Invalid::new(
            loc,
            "type_error.list",
            "must be a list of strings",
        )),
    }
}

/// The largest page number accepted (far past any real list; keeps the offset arithmetic small).
pub const MAX_PAGE: u64 = 1_000_000_000;

/// `?page=&page_size=`: page 1–[`MAX_PAGE`], page_size 1–100.
fn page(query: &[(String, String)], errors: &mut Vec<Invalid>) -> PageReq {
    let last = |name: &str| {
        query
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let page = match last("page") {
        None => 1,
        Some(raw) => match raw.trim().parse::<u64>() {
            Ok(p) if (1..=MAX_PAGE).contains(&p) => p,
            _ => {
                errors.push(Invalid::new(
                    &["query", "page"],
                    "value_error.number",
                    format!("must be an integer from 1 to {MAX_PAGE}"),
                ));
                1
            }
        },
    };
    let page_size = match last("page_size") {
        None => DEFAULT_PAGE_SIZE,
        Some(raw) => match raw.trim().parse::<u32>() {
            Ok(s) if (1..=MAX_PAGE_SIZE as u32).contains(&s) => s,
            _ => {
                errors.push(Invalid::new(
                    &["query", "page_size"],
                    "value_error.number",
                    format!("must be an integer from 1 to {MAX_PAGE_SIZE}"),
                ));
                DEFAULT_PAGE_SIZE
            }
        },
    };
    PageReq { page, page_size }
}

fn filters(params: &[Param], query: &[(String, String)], errors: &mut Vec<Invalid>) -> Value {
    let mut filter = Map::new();
    for p in params {
        let Some((_, raw)) = query.iter().rev().find(|(k, _)| k == p.name) else {
            continue;
        };
        // NUL is never text; PostgreSQL would refuse it and SQLite would search for it.
        if raw.contains('\0') {
            errors.push(Invalid::new(
                &["query", p.name],
                "value_error.chars",
                "must not contain NUL characters",
            ));
            continue;
        }
        match convert(p.kind, &Value::String(raw.clone()), &["query", p.name]) {
            Ok(v) => {
                filter.insert(p.gql.to_owned(), v);
            }
            Err(e) => errors.push(e),
        }
    }
    if filter.is_empty() {
        Value::Null
    } else {
        Value::Object(filter)
    }
}

/// The JSON body → the GraphQL input object. Unknown members and mistyped values → 422.
fn body_input(fields: &[BodyField], body: &Value) -> Result<Map<String, Value>, Problem> {
    let Value::Object(members) = body else {
        return Err(Problem::invalid(vec![Invalid::new(
            &["body"],
            "type_error.dict",
            "the body must be a JSON object",
        )]));
    };
    let mut errors = Vec::new();
    let mut input = Map::new();
    for (name, value) in members {
        match fields.iter().find(|f| f.name == name) {
            None => errors.push(Invalid::new(
                &["body", name],
                "value_error.extra",
                "unknown field",
            )),
            Some(f) if value.is_null() => {
                if f.required {
                    errors.push(Invalid::new(
                        &["body", name],
                        "type_error.none",
                        "must not be null",
                    ));
                } else {
                    input.insert(f.gql.to_owned(), Value::Null);
                }
            }
            Some(f) => match convert(f.kind, value, &["body", name]) {
                Ok(v) => {
                    input.insert(f.gql.to_owned(), v);
                }
                Err(e) => errors.push(e),
            },
        }
    }
    for f in fields.iter().filter(|f| f.required) {
        if !members.contains_key(f.name) {
            errors.push(Invalid::new(
                &["body", f.name],
                "value_error.missing",
                "field required",
            ));
        }
    }
    if errors.is_empty() {
        Ok(input)
    } else {
        Err(Problem::invalid(errors))
    }
}

/// What the request contributes: the variables, and for lists the requested page.
pub struct Mapped {
    pub variables: Map<String, Value>,
    pub page: Option<PageReq>,
}

pub fn map(
    input: &Input,
    id: Option<&str>,
    query: &[(String, String)],
    body: Option<&Value>,
) -> Result<Mapped, Problem> {
    let mut variables = Map::new();
    let mut page_req = None;
    match input {
        Input::None => {}
        Input::Id => {
            variables.insert("id".into(), json!(id));
        }
        Input::IdInput => {
            variables.insert("input".into(), json!({ "id": id }));
        }
        Input::List { filters: params } => {
            let mut errors = Vec::new();
            let req = page(query, &mut errors);
            let filter = filters(params, query, &mut errors);
            if !errors.is_empty() {
                return Err(Problem::invalid(errors));
            }
            let offset = (req.page - 1).saturating_mul(u64::from(req.page_size));
            variables.insert("first".into(), json!(req.page_size));
            // Past i32: far beyond any real list; the page is simply empty.
            variables.insert("offset".into(), json!(offset.min(i32::MAX as u64)));
            variables.insert("filter".into(), filter);
            page_req = Some(req);
        }
        Input::Body { fields } => {
            let empty = Value::Object(Map::new());
            let mut object = body_input(fields, body.unwrap_or(&empty))?;
            if let Some(id) = id {
                object.insert("id".into(), json!(id));
            }
            variables.insert("input".into(), Value::Object(object));
        }
    }
    Ok(Mapped {
        variables,
        page: page_req,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rest::spec::body as b;

    const FIELDS: &[BodyField] = &[
        b("name", "name", Kind::Str, true, ""),
        b(
            "visibility",
            "visibility",
            Kind::Enum(&["public", "private"]),
            false,
            "",
        ),
        b("display_name", "displayName", Kind::Str, false, ""),
    ];

    #[test]
    fn maps_bodies() {
        let input = body_input(
            FIELDS,
            &json!({ "name": "x", "visibility": "public", "display_name": "Ada" }),
        )
        .unwrap();
        assert_eq!(
            Value::Object(input),
            json!({ "name": "x", "visibility": "PUBLIC", "displayName": "Ada" })
        );
        let err = body_input(FIELDS, &json!({ "visibility": "PUBLIC", "extra": 1 })).unwrap_err();
        let locs: Vec<_> = err
            .errors
            .unwrap()
            .iter()
            .map(|e| e.loc.join("."))
            .collect();
        assert_eq!(locs, ["body.extra", "body.visibility", "body.name"]);
        assert!(body_input(FIELDS, &json!([1])).is_err());
        assert!(body_input(FIELDS, &json!({ "name": 5 })).is_err());
        assert!(body_input(FIELDS, &json!({ "name": null })).is_err());
    }

    #[test]
    fn validates_pages() {
        let q = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect::<Vec<_>>()
        };
        let mut errors = Vec::new();
        let p = page(&q(&[("page", "3"), ("page_size", "100")]), &mut errors);
        assert!(errors.is_empty());
        assert_eq!((p.page, p.page_size), (3, 100));
        for bad in [
            ("page", "0"),
            ("page", "x"),
            ("page_size", "0"),
            ("page_size", "101"),
            ("page", "-1"),
        ] {
            let mut errors = Vec::new();
            page(&q(&[bad]), &mut errors);
            assert_eq!(errors.len(), 1, "{bad:?}");
        }
    }
}
