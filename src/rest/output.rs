//! GraphQL result → REST body, driven by [`Shape`]s.

use serde_json::{Map, Value, json};

use super::input::PageReq;
use super::spec::{Conv, Shape};

/// Reshapes one GraphQL object (camelCase, SCREAMING enums, nested relations) into the REST
/// object (snake_case, lowercase enums, related objects as `*_id`).
pub fn shape(shape: &Shape, value: &Value) -> Value {
    let mut out = Map::new();
    for f in shape.fields {
        let v = value.get(f.gql).unwrap_or(&Value::Null);
        let converted = match (&f.conv, v) {
            (_, Value::Null) => Value::Null,
            (Conv::Same(_) | Conv::Strings, v) => v.clone(),
            (Conv::Lower(_), Value::String(s)) => Value::String(s.to_ascii_lowercase()),
            (Conv::Lower(_), v) => v.clone(),
            (Conv::Object(inner), v) => self::shape(inner, v),
            (Conv::List(inner), Value::Array(items)) => {
                Value::Array(items.iter().map(|i| self::shape(inner, i)).collect())
            }
            (Conv::List(_), v) => v.clone(),
        };
        out.insert(f.name.to_owned(), converted);
    }
    Value::Object(out)
}

/// A connection (`{ totalCount nodes }`) → `{ items, total, page, page_size, pages }`.
pub fn page(shape: &Shape, connection: &Value, req: PageReq) -> Value {
    let items: Vec<Value> = connection["nodes"]
        .as_array()
        .map(|nodes| nodes.iter().map(|n| self::shape(shape, n)).collect())
        .unwrap_or_default();
    let total = connection["totalCount"].as_u64().unwrap_or(0);
    let size = u64::from(req.page_size);
    json!({
        "items": items,
        "total": total,
        "page": req.page,
        "page_size": req.page_size,
        "pages": total.div_ceil(size),
    })
}

/// The value at `path` below `data`.
pub fn at<'a>(data: &'a Value, path: &[&str]) -> &'a Value {
    path.iter()
        .fold(data, |v, k| v.get(k).unwrap_or(&Value::Null))
}

/// The value at `path` below `data`, to change it; `None` when absent.
pub fn at_mut<'a>(data: &'a mut Value, path: &[&str]) -> Option<&'a mut Value> {
    path.iter().try_fold(data, |v, k| v.get_mut(*k))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rest::routes::PROJECT;

    #[test]
    fn shapes_projects() {
        let gql = json!({ "id": "p1", "ownerId": "u1", "name": "N", "description": "",
            "visibility": "PUBLIC", "createdAt": "t", "updatedAt": "t", "version": 2 });
        assert_eq!(
            shape(&PROJECT, &gql),
            json!({ "id": "p1", "owner_id": "u1", "name": "N", "description": "",
                "visibility": "public", "created_at": "t", "updated_at": "t", "version": 2 })
        );
    }

    #[test]
    fn counts_pages() {
        let conn = |n: u64| json!({ "totalCount": n, "nodes": [] });
        let req = PageReq {
            page: 1,
            page_size: 10,
        };
        assert_eq!(page(&PROJECT, &conn(0), req)["pages"], 0);
        assert_eq!(page(&PROJECT, &conn(20), req)["pages"], 2);
        assert_eq!(page(&PROJECT, &conn(21), req)["pages"], 3);
    }
}
