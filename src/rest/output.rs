//! GraphQL result → REST body, driven by [`Shape`]s.

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Value};

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

/// [`shape`] written straight into the response body: the same JSON, byte for byte (members
/// in name order, as `serde_json`'s map keeps them), without the intermediate tree.
pub struct Shaped<'a>(pub &'a Shape, pub &'a Value);

impl Serialize for Shaped<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let Shaped(shape, value) = *self;
        let mut fields: Vec<_> = shape.fields.iter().collect();
        fields.sort_unstable_by_key(|f| f.name);
        let mut map = serializer.serialize_map(Some(fields.len()))?;
        for f in fields {
            let v = value.get(f.gql).unwrap_or(&Value::Null);
            match (&f.conv, v) {
                (_, Value::Null) => map.serialize_entry(f.name, &Value::Null)?,
                (Conv::Lower(_), Value::String(s)) => {
                    map.serialize_entry(f.name, &s.to_ascii_lowercase())?;
                }
                (Conv::Object(inner), v) => map.serialize_entry(f.name, &Shaped(inner, v))?,
                (Conv::List(inner), Value::Array(items)) => {
                    map.serialize_entry(f.name, &ShapedList(inner, items))?;
                }
                (_, v) => map.serialize_entry(f.name, v)?,
            }
        }
        map.end()
    }
}

struct ShapedList<'a>(&'a Shape, &'a [Value]);

impl Serialize for ShapedList<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.1.iter().map(|item| Shaped(self.0, item)))
    }
}

/// [`page`] written straight into the response body (members in name order, like [`page`]).
#[derive(serde::Serialize)]
pub struct PageBody<'a> {
    items: ShapedList<'a>,
    page: u64,
    page_size: u32,
    pages: u64,
    total: u64,
}

impl<'a> PageBody<'a> {
    pub fn new(shape: &'a Shape, connection: &'a Value, req: PageReq) -> Self {
        let items = connection["nodes"]
            .as_array()
            .map_or(&[][..], Vec::as_slice);
        let total = connection["totalCount"].as_u64().unwrap_or(0);
        Self {
            items: ShapedList(shape, items),
            page: req.page,
            page_size: req.page_size,
            pages: total.div_ceil(u64::from(req.page_size)),
            total,
        }
    }
}

#[cfg(test)] // the reference `PageBody` is checked against
/// A connection (`{ totalCount nodes }`) → `{ items, total, page, page_size, pages }`.
pub fn page(shape: &Shape, connection: &Value, req: PageReq) -> Value {
    let items: Vec<Value> = connection["nodes"]
        .as_array()
        .map(|nodes| nodes.iter().map(|n| self::shape(shape, n)).collect())
        .unwrap_or_default();
    let total = connection["totalCount"].as_u64().unwrap_or(0);
    let size = u64::from(req.page_size);
    serde_json::json!({
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
    use serde_json::json;

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

    /// The streamed body is the tree's bytes: nested objects, lists, lowercased enums, nulls
    /// and missing members included.
    #[test]
    fn streamed_bodies_equal_the_shaped_trees() {
        use crate::rest::routes::TABLE;
        let ticket = json!({ "id": "t1", "status": "IN_PROGRESS", "priority": "HIGH",
            "title": "T", "body": null, "project": { "id": "p1", "name": "N" },
            "tags": ["a", "b"], "version": 3 });
        let project = json!({ "id": "p1", "ownerId": "u1", "name": "N", "description": null,
            "visibility": "PRIVATE", "createdAt": "t", "version": 2,
            "latestPosts": [{ "id": "x", "title": "y" }] });
        let mut shapes = 0;
        for route in TABLE {
            let of = match &route.output {
                crate::rest::spec::Output::Item { shape, .. }
                | crate::rest::spec::Output::Page { shape, .. } => *shape,
                crate::rest::spec::Output::Empty => continue,
            };
            shapes += 1;
            for value in [&ticket, &project, &json!({})] {
                let streamed = serde_json::to_vec(&Shaped(of, value)).unwrap();
                let tree = serde_json::to_vec(&shape(of, value)).unwrap();
                assert_eq!(streamed, tree, "{} {}", route.method, route.path);
                let connection = json!({ "totalCount": 21, "nodes": [value, value] });
                let req = PageReq {
                    page: 2,
                    page_size: 10,
                };
                let streamed = serde_json::to_vec(&PageBody::new(of, &connection, req)).unwrap();
                let tree = serde_json::to_vec(&page(of, &connection, req)).unwrap();
                assert_eq!(streamed, tree, "{} {} (page)", route.method, route.path);
            }
        }
        assert!(shapes > 10, "only {shapes} shapes compared");
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
