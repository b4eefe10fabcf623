//! GraphQL result → REST body, driven by [`Shape`]s.

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;

use super::input::PageReq;
use super::spec::{Conv, Shape};

/// A GraphQL result tree, read member by member while a REST body is written from it. Two value
/// types implement it: async-graphql's own value, which response bodies are written from
/// directly (converting it to `serde_json` first would copy every string of the result once
/// more), and a `serde_json` tree (a 412 problem's `current`, the routes that move a token into a
/// cookie).
pub trait ResultTree: Serialize + Sized + 'static {
    /// `null`, for members that are absent.
    fn null() -> &'static Self;
    fn member(&self, key: &str) -> Option<&Self>;
    fn is_null(&self) -> bool;
    /// A string's or an enum value's text.
    fn text(&self) -> Option<&str>;
    fn items(&self) -> Option<&[Self]>;
    fn integer(&self) -> Option<i64>;
}

impl ResultTree for Value {
    fn null() -> &'static Self {
        static NULL: Value = Value::Null;
        &NULL
    }
    fn member(&self, key: &str) -> Option<&Self> {
        self.get(key)
    }
    fn is_null(&self) -> bool {
        Value::is_null(self)
    }
    fn text(&self) -> Option<&str> {
        self.as_str()
    }
    fn items(&self) -> Option<&[Self]> {
        self.as_array().map(Vec::as_slice)
    }
    fn integer(&self) -> Option<i64> {
        self.as_i64()
    }
}

impl ResultTree for async_graphql::Value {
    fn null() -> &'static Self {
        static NULL: async_graphql::Value = async_graphql::Value::Null;
        &NULL
    }
    fn member(&self, key: &str) -> Option<&Self> {
        match self {
            Self::Object(members) => members.get(key),
            _ => None,
        }
    }
    fn is_null(&self) -> bool {
        matches!(self, Self::Null)
    }
    fn text(&self) -> Option<&str> {
        match self {
            Self::String(s) => Some(s),
            Self::Enum(name) => Some(name.as_str()),
            _ => None,
        }
    }
    fn items(&self) -> Option<&[Self]> {
        match self {
            Self::List(items) => Some(items),
            _ => None,
        }
    }
    fn integer(&self) -> Option<i64> {
        match self {
            Self::Number(n) => n.as_i64(),
            _ => None,
        }
    }
}

/// Reshapes one GraphQL object (camelCase, SCREAMING enums, nested relations) into the REST
/// object (snake_case, lowercase enums, related objects as `*_id`), as a tree (the `current`
/// representation a 412 problem carries); response bodies use [`RestObject`] directly.
pub fn shape(shape: &Shape, value: &Value) -> Value {
    // Cannot fail: every key is a string and every value already JSON.
    serde_json::to_value(RestObject(shape, value)).unwrap_or(Value::Null)
}

/// One GraphQL object written as its REST object (snake_case members, lowercase enums, related
/// objects as `*_id`), serialised straight into the response body with no intermediate tree;
/// members in name order, as a `serde_json` map keeps them.
pub struct RestObject<'a, T>(pub &'a Shape, pub &'a T);

impl<T: ResultTree> Serialize for RestObject<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let RestObject(shape, value) = *self;
        let mut fields: Vec<_> = shape.fields.iter().collect();
        fields.sort_unstable_by_key(|f| f.name);
        let mut map = serializer.serialize_map(Some(fields.len()))?;
        for f in fields {
            let v = value.member(f.gql).unwrap_or(T::null());
            if v.is_null() {
                map.serialize_entry(f.name, &())?;
                continue;
            }
            match (&f.conv, v.text(), v.items()) {
                (Conv::Lower(_), Some(s), _) => {
                    map.serialize_entry(f.name, &s.to_ascii_lowercase())?;
                }
                (Conv::Object(inner), ..) => map.serialize_entry(f.name, &RestObject(inner, v))?,
                (Conv::List(inner), _, Some(items)) => {
                    map.serialize_entry(f.name, &RestObjectList(inner, items))?;
                }
                _ => map.serialize_entry(f.name, v)?,
            }
        }
        map.end()
    }
}

/// A list of GraphQL objects, each written as a [`RestObject`].
struct RestObjectList<'a, T>(&'a Shape, &'a [T]);

impl<T: ResultTree> Serialize for RestObjectList<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.1.iter().map(|item| RestObject(self.0, item)))
    }
}

/// A connection (`{ totalCount nodes }`) as the REST page `{ items, page, page_size, pages,
/// total }`, serialised straight into the response body (members in name order).
#[derive(serde::Serialize)]
#[serde(bound = "T: ResultTree")]
pub struct PageBody<'a, T> {
    items: RestObjectList<'a, T>,
    page: u64,
    page_size: u32,
    pages: u64,
    total: u64,
}

impl<'a, T: ResultTree> PageBody<'a, T> {
    pub fn new(shape: &'a Shape, connection: &'a T, req: PageReq) -> Self {
        let items = connection.member("nodes").and_then(T::items).unwrap_or(&[]);
        let total = connection
            .member("totalCount")
            .and_then(T::integer)
            .and_then(|n| u64::try_from(n).ok())
            .unwrap_or(0);
        Self {
            items: RestObjectList(shape, items),
            page: req.page,
            page_size: req.page_size,
            pages: total.div_ceil(u64::from(req.page_size)),
            total,
        }
    }
}

/// The value at `path` below `data`, `null` where absent.
pub fn at<'a, T: ResultTree>(data: &'a T, path: &[&str]) -> &'a T {
    path.iter()
        .fold(data, |v, k| v.member(k).unwrap_or(T::null()))
}

/// The `id` and `version` of a resource's GraphQL object: what its ETag is made of.
pub fn identity<T: ResultTree>(value: &T) -> (Option<&str>, Option<i64>) {
    (
        value.member("id").and_then(T::text),
        value.member("version").and_then(T::integer),
    )
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
            serde_json::to_string(&RestObject(&STATUS, &status)).unwrap(),
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

    /// Bodies are written from async-graphql's value as they were from its JSON form: the same
    /// bytes for enums (an `Enum`, not a string, there), nulls, absent members, nested objects,
    /// lists and pages.
    #[test]
    fn graphql_values_are_written_as_their_json_form_is() {
        use crate::rest::routes::{STATUS, TOKENS};
        use async_graphql::{Name, Value as Gql};
        let status = Gql::from_json(json!({ "overall": "DEGRADED", "updatedAt": null,
            "services": [{ "service": "api", "message": "m", "since": "s", "updatedAt": "u" }] }))
        .unwrap();
        let Gql::Object(mut members) = status else {
            panic!("an object")
        };
        let Some(Gql::List(services)) = members.get_mut("services") else {
            panic!("a list")
        };
        let Gql::Object(service) = &mut services[0] else {
            panic!("an object")
        };
        service.insert(Name::new("status"), Gql::Enum(Name::new("MAJOR_OUTAGE")));
        members.insert(Name::new("overall"), Gql::Enum(Name::new("DEGRADED")));
        let status = Gql::Object(members);
        let as_json = status.clone().into_json().unwrap();
        let written = serde_json::to_string(&RestObject(&STATUS, &status)).unwrap();
        assert_eq!(
            written,
            serde_json::to_string(&RestObject(&STATUS, &as_json)).unwrap()
        );
        assert!(written.contains(r#""status":"major_outage""#), "{written}");

        let tokens = json!({ "accessToken": "a", "tokenType": "Bearer", "expiresIn": 900,
            "sessionId": "s", "user": { "id": "u1", "displayName": "D", "role": "ADMIN",
            "createdAt": "t", "email": null } });
        let gql = Gql::from_json(tokens.clone()).unwrap();
        assert_eq!(
            serde_json::to_string(&RestObject(&TOKENS, &gql)).unwrap(),
            serde_json::to_string(&RestObject(&TOKENS, &tokens)).unwrap()
        );

        let page = json!({ "totalCount": 21, "nodes": [{ "id": "p1", "ownerId": "u1",
            "name": "N", "description": "", "visibility": "PUBLIC", "createdAt": "t",
            "updatedAt": "t", "version": 2 }] });
        let gql = Gql::from_json(page.clone()).unwrap();
        let req = PageReq {
            page: 3,
            page_size: 10,
        };
        assert_eq!(
            serde_json::to_string(&PageBody::new(&PROJECT, &gql, req)).unwrap(),
            serde_json::to_string(&PageBody::new(&PROJECT, &page, req)).unwrap()
        );
        assert_eq!(at(&gql, &["nodes", "x"]), Gql::null());
    }
}
