//! GraphQL result → REST body, driven by [`Shape`]s.

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;

use super::input::PageReq;
use super::spec::{Conv, Shape};

/// Reshapes one GraphQL object (camelCase, SCREAMING enums, nested relations) into the REST
/// object (snake_case, lowercase enums, related objects as `*_id`), as a tree (the `current`
/// representation a 412 problem carries); response bodies use [`Shaped`] directly.
pub fn shape(shape: &Shape, value: &Value) -> Value {
    // Cannot fail: every key is a string and every value already JSON.
    serde_json::to_value(Shaped(shape, value)).unwrap_or(Value::Null)
}

/// One GraphQL object in its REST shape, serialised straight into the response body (no
/// intermediate tree); members in name order, as a `serde_json` map keeps them.
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

/// A connection (`{ totalCount nodes }`) as the REST page `{ items, page, page_size, pages,
/// total }`, serialised straight into the response body (members in name order).
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

    /// Lists of objects, nested objects and lowercased enums are reshaped at every depth, and
    /// members come out in name order.
    #[test]
    fn shapes_nested_objects_and_lists_in_name_order() {
        use crate::rest::routes::{STATUS, TOKENS};
        let status = json!({ "overall": "DEGRADED", "updatedAt": null, "services": [
            { "service": "api", "status": "MAJOR_OUTAGE", "message": "m", "since": "s",
              "updatedAt": "u" }] });
        assert_eq!(
            serde_json::to_string(&Shaped(&STATUS, &status)).unwrap(),
            r#"{"overall":"degraded","services":[{"message":"m","service":"api","since":"s","#
                .to_owned()
                + r#""status":"major_outage","updated_at":"u"}],"updated_at":null}"#
        );
        let tokens = json!({ "accessToken": "a", "tokenType": "Bearer", "expiresIn": 900,
            "sessionId": "s", "user": { "id": "u1", "displayName": "D", "role": "ADMIN",
            "createdAt": "t" } });
        assert_eq!(
            shape(&TOKENS, &tokens),
            json!({ "access_token": "a", "token_type": "Bearer", "expires_in": 900,
                "refresh_token": null, "session_id": "s", "user": { "id": "u1", "email": null,
                "display_name": "D", "role": "admin", "created_at": "t" } })
        );
    }

    #[test]
    fn counts_pages() {
        let conn = |n: u64| json!({ "totalCount": n, "nodes": [] });
        let req = PageReq {
            page: 1,
            page_size: 10,
        };
        let pages = |n| {
            serde_json::to_value(PageBody::new(&PROJECT, &conn(n), req)).unwrap()["pages"].clone()
        };
        assert_eq!(pages(0), 0);
        assert_eq!(pages(20), 2);
        assert_eq!(pages(21), 3);
    }
}
