//! Keyset pagination shared by every list: opaque cursors of (sort key, id), `first/after`,
//! `last/before`, and `offset` for the REST shim's page numbers. Results stay stable while rows
//! are inserted between pages, and a cursor whose row was deleted still marks a position.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Condition, Order as SqlOrder};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Select, Value};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::db::{Db, Positional};
use crate::error::{Error, Result};

pub use crate::bounds::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};

/// The arguments every connection field takes.
#[derive(Clone, Debug, Default)]
pub struct PageArgs {
    pub first: Option<i32>,
    pub after: Option<String>,
    pub last: Option<i32>,
    pub before: Option<String>,
    pub offset: Option<i32>,
}

/// A list's direction; newest first (`Desc`) unless the caller asks otherwise.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Direction {
    Asc,
    #[default]
    Desc,
}

impl Direction {
    fn reversed(self) -> Self {
        match self {
            Self::Asc => Self::Desc,
            Self::Desc => Self::Asc,
        }
    }

    fn sql(self) -> SqlOrder {
        match self {
            Self::Asc => SqlOrder::Asc,
            Self::Desc => SqlOrder::Desc,
        }
    }
}

/// A sort key value as it appears in a cursor.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SortValue {
    Time(DateTime<Utc>),
    Text(String),
}

impl From<SortValue> for Value {
    fn from(v: SortValue) -> Self {
        match v {
            SortValue::Time(t) => t.into(),
            SortValue::Text(s) => s.into(),
        }
    }
}

/// Longest text sort key a cursor may carry (the sort columns hold names and titles).
const MAX_TEXT_KEY: usize = 1024;

/// Whether every backend can compare a column with `key`. A cursor is client input: a
/// well-formed one may still carry a year PostgreSQL's `timestamptz` or SQLite's text
/// ordering cannot hold (year -5000, +200000), or text PostgreSQL refuses (NUL), and the
/// database's error would surface as a 500.
fn storable(key: &SortValue) -> bool {
    use chrono::Datelike;
    match key {
        SortValue::Time(t) => (1..=9999).contains(&t.year()),
        SortValue::Text(s) => s.len() <= MAX_TEXT_KEY && !s.contains('\0'),
    }
}

/// How one list is ordered: a sort column tie-broken by the primary key `id`.
pub struct Ordering<E: EntityTrait> {
    /// Stable name written into cursors, e.g. `created_at`.
    pub name: &'static str,
    pub column: E::Column,
    pub id_column: E::Column,
    pub direction: Direction,
    pub key: fn(&E::Model) -> SortValue,
    pub id: fn(&E::Model) -> Uuid,
    /// The sort column holds timestamps (so cursors decode their key as one).
    pub is_time: bool,
}

/// A table whose rows carry an `id` and a creation time (and, if they change, an update time).
pub trait Chronological: EntityTrait {
    const ID: Self::Column;
    const CREATED_AT: Self::Column;
    /// Rows that never change name their creation time again.
    const UPDATED_AT: Self::Column;
    fn id(row: &Self::Model) -> Uuid;
    fn created_at(row: &Self::Model) -> DateTime<Utc>;
    fn updated_at(row: &Self::Model) -> DateTime<Utc>;
}

/// Implements [`Chronological`] for an entity module with `id`, `created_at` and the named
/// update-time column.
macro_rules! chronological {
    ($module:path, $updated:ident, $Updated:ident) => {
        const _: () = {
            use $module as m;
            impl $crate::domain::pagination::Chronological for m::Entity {
                const ID: m::Column = m::Column::Id;
                const CREATED_AT: m::Column = m::Column::CreatedAt;
                const UPDATED_AT: m::Column = m::Column::$Updated;
                fn id(row: &m::Model) -> Uuid {
                    row.id
                }
                fn created_at(row: &m::Model) -> DateTime<Utc> {
                    row.created_at
                }
                fn updated_at(row: &m::Model) -> DateTime<Utc> {
                    row.$updated
                }
            }
        };
    };
}
chronological!(crate::entity::projects, updated_at, UpdatedAt);
chronological!(crate::entity::support_tickets, updated_at, UpdatedAt);
chronological!(crate::entity::community_posts, updated_at, UpdatedAt);
chronological!(crate::entity::status_events, created_at, CreatedAt);

impl<E: Chronological> Ordering<E> {
    /// By creation time, ties broken by id.
    pub fn created(direction: Direction) -> Self {
        let key = |m: &E::Model| SortValue::Time(E::created_at(m));
        Self::with_key("created_at", E::CREATED_AT, key, true, direction)
    }

    /// By last update, ties broken by id.
    pub fn updated(direction: Direction) -> Self {
        let key = |m: &E::Model| SortValue::Time(E::updated_at(m));
        Self::with_key("updated_at", E::UPDATED_AT, key, true, direction)
    }

    /// By `column` (named `name` in cursors, its value `key`), ties broken by id.
    pub fn with_key(
        name: &'static str,
        column: E::Column,
        key: fn(&E::Model) -> SortValue,
        is_time: bool,
        direction: Direction,
    ) -> Self {
        Self {
            name,
            column,
            id_column: E::ID,
            direction,
            key,
            id: E::id,
            is_time,
        }
    }
}

#[derive(Serialize, Deserialize)]
struct CursorData {
    o: String,
    d: Direction,
    k: serde_json::Value,
    i: Uuid,
}

pub struct Page<M> {
    pub items: Vec<M>,
    pub cursors: Vec<Cursor>,
    pub has_next_page: bool,
    pub has_previous_page: bool,
}

fn bad(msg: impl Into<String>) -> Error {
    Error::BadRequest(msg.into())
}

/// An item's place in its ordering, encoded to the opaque cursor text only when asked: a page
/// of `nodes` never selects its cursors, and encoding them for every item costs work nobody
/// reads.
#[derive(Clone, Debug)]
pub struct Cursor {
    name: &'static str,
    direction: Direction,
    key: SortValue,
    id: Uuid,
}

impl Cursor {
    pub fn encode(&self) -> String {
        let data = CursorData {
            o: self.name.to_owned(),
            d: self.direction,
            k: serde_json::to_value(&self.key).unwrap_or_default(),
            i: self.id,
        };
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&data).unwrap_or_default())
    }
}

impl<E: EntityTrait> Ordering<E> {
    pub fn cursor(&self, model: &E::Model) -> Cursor {
        Cursor {
            name: self.name,
            direction: self.direction,
            key: (self.key)(model),
            id: (self.id)(model),
        }
    }

    fn decode(&self, arg: &str, cursor: &str) -> Result<(SortValue, Uuid)> {
        let invalid = || bad(format!("`{arg}` is not a valid cursor for this list"));
        let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
        let data: CursorData = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
        if data.o != self.name || data.d != self.direction {
            return Err(bad(format!("`{arg}` is a cursor for a different ordering")));
        }
        let key = if self.is_time {
            serde_json::from_value::<DateTime<Utc>>(data.k).map(SortValue::Time)
        } else {
            serde_json::from_value::<String>(data.k).map(SortValue::Text)
        }
        .map_err(|_| invalid())?;
        if !storable(&key) {
            return Err(invalid());
        }
        Ok((key, data.i))
    }

    /// Rows strictly beyond (key, id) when walking in `direction`.
    fn beyond(&self, key: SortValue, id: Uuid, direction: Direction) -> Condition {
        let value: Value = key.into();
        let (key_past, id_past) = match direction {
            Direction::Asc => (self.column.gt(value.clone()), self.id_column.gt(id)),
            Direction::Desc => (self.column.lt(value.clone()), self.id_column.lt(id)),
        };
        Condition::any()
            .add(key_past)
            .add(Condition::all().add(self.column.eq(value)).add(id_past))
    }
}

/// Checks the arguments: one of `first`/`last`, each within 1–100, `offset` only going forward.
pub fn validate(args: &PageArgs) -> Result<()> {
    if args.first.is_some() && args.last.is_some() {
        return Err(bad("pass either `first` or `last`, not both"));
    }
    for (name, value) in [("first", args.first), ("last", args.last)] {
        if let Some(n) = value
            && !(1..=MAX_PAGE_SIZE).contains(&n)
        {
            return Err(bad(format!(
                "`{name}` must be between 1 and {MAX_PAGE_SIZE}"
            )));
        }
    }
    if let Some(offset) = args.offset {
        if offset < 0 {
            return Err(bad("`offset` must not be negative"));
        }
        if args.last.is_some() || args.before.is_some() || args.after.is_some() {
            return Err(bad("`offset` combines with `first` only"));
        }
    }
    Ok(())
}

/// Runs `select` (already filtered and authorised) as one page.
pub async fn paginate<E: EntityTrait<Model: Positional>>(
    db: &Db,
    select: Select<E>,
    ordering: &Ordering<E>,
    args: &PageArgs,
) -> Result<Page<E::Model>> {
    validate(args)?;
    let backwards = args.last.is_some();
    let limit = args.first.or(args.last).unwrap_or(DEFAULT_PAGE_SIZE);
    let mut query = select;
    if let Some(after) = &args.after {
        let (key, id) = ordering.decode("after", after)?;
        query = query.filter(ordering.beyond(key, id, ordering.direction));
    }
    if let Some(before) = &args.before {
        let (key, id) = ordering.decode("before", before)?;
        query = query.filter(ordering.beyond(key, id, ordering.direction.reversed()));
    }
    let walk = if backwards {
        ordering.direction.reversed()
    } else {
        ordering.direction
    };
    query = query
        .order_by(ordering.column, walk.sql())
        .order_by(ordering.id_column, walk.sql())
        .limit(u64::try_from(limit).unwrap_or(20) + 1);
    if let Some(offset) = args.offset.filter(|o| *o > 0) {
        query = query.offset(u64::try_from(offset).unwrap_or(0));
    }
    let mut items: Vec<E::Model> = db.all(&query).await?;
    let more = items.len() > limit as usize;
    items.truncate(limit as usize);
    if backwards {
        items.reverse();
    }
    let cursors = items.iter().map(|m| ordering.cursor(m)).collect();
    let (has_next_page, has_previous_page) = if backwards {
        (args.before.is_some(), more)
    } else {
        (more, args.after.is_some() || args.offset.unwrap_or(0) > 0)
    };
    Ok(Page {
        items,
        cursors,
        has_next_page,
        has_previous_page,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;
    use serde_json::json;

    fn ordering(is_time: bool) -> Ordering<crate::entity::projects::Entity> {
        use crate::entity::projects::Column;
        Ordering {
            name: "created_at",
            column: Column::CreatedAt,
            id_column: Column::Id,
            direction: Direction::Desc,
            key: |m| SortValue::Time(m.created_at),
            id: |m| m.id,
            is_time,
        }
    }

    fn encode(k: serde_json::Value) -> String {
        let data = json_cursor(k);
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&data).unwrap())
    }

    fn json_cursor(k: serde_json::Value) -> CursorData {
        CursorData {
            o: "created_at".into(),
            d: Direction::Desc,
            k,
            i: Uuid::nil(),
        }
    }

    #[test]
    fn cursors_with_unstorable_keys_are_bad_input() {
        let time = ordering(true);
        assert!(
            time.decode("after", &encode("2026-01-02T03:04:05Z".into()))
                .is_ok()
        );
        for k in [
            "-5000-01-01T00:00:00Z",
            "+200000-01-01T00:00:00Z",
            "0000-12-31T23:59:59Z",
            "not a time",
        ] {
            let err = time.decode("after", &encode(k.into())).unwrap_err();
            assert!(matches!(err, Error::BadRequest(_)), "{k}: {err:?}");
        }
        for k in [json!(5), json!(null), json!([1]), json!({"a": 1})] {
            assert!(time.decode("after", &encode(k)).is_err());
        }
        let text = ordering(false);
        assert!(text.decode("after", &encode("Zebra".into())).is_ok());
        assert!(text.decode("after", &encode("a\0b".into())).is_err());
        assert!(
            text.decode("after", &encode("x".repeat(5000).into()))
                .is_err()
        );
    }

    /// Random bytes, random base64 and mutated real cursors: decoding answers a `BadRequest`
    /// or a key every backend can compare, and never panics.
    #[test]
    fn fuzzed_cursors_never_escape_as_anything_but_bad_input() {
        let mut rng = rand::rng();
        let orderings = [ordering(true), ordering(false)];
        let seeds = [
            encode("2026-01-02T03:04:05Z".into()),
            encode("Zebra".into()),
        ];
        for round in 0..20_000 {
            let cursor = match round % 3 {
                0 => {
                    let n = rng.random_range(0..200);
                    let bytes: Vec<u8> = (0..n).map(|_| rng.random()).collect();
                    String::from_utf8_lossy(&bytes).into_owned()
                }
                1 => {
                    let n = rng.random_range(0..200);
                    let bytes: Vec<u8> = (0..n).map(|_| rng.random()).collect();
                    URL_SAFE_NO_PAD.encode(bytes)
                }
                _ => {
                    let seed = &seeds[round % 2];
                    let mut json = URL_SAFE_NO_PAD.decode(seed).unwrap();
                    for _ in 0..rng.random_range(1..4) {
                        let at = rng.random_range(0..json.len());
                        let noise = b"0123456789-+:TZ\"\\ {}[],x";
                        json[at] = noise[rng.random_range(0..noise.len())];
                    }
                    URL_SAFE_NO_PAD.encode(json)
                }
            };
            for o in &orderings {
                match o.decode("after", &cursor) {
                    Ok((key, _)) => assert!(storable(&key), "{cursor}"),
                    Err(Error::BadRequest(_)) => {}
                    Err(other) => panic!("{cursor}: {other:?}"),
                }
            }
        }
    }

    #[test]
    fn rejects_bad_page_arguments() {
        let ok = PageArgs {
            first: Some(100),
            ..Default::default()
        };
        assert!(validate(&ok).is_ok());
        for args in [
            PageArgs {
                first: Some(1),
                last: Some(1),
                ..Default::default()
            },
            PageArgs {
                first: Some(0),
                ..Default::default()
            },
            PageArgs {
                first: Some(101),
                ..Default::default()
            },
            PageArgs {
                last: Some(-1),
                ..Default::default()
            },
            PageArgs {
                offset: Some(-1),
                ..Default::default()
            },
            PageArgs {
                offset: Some(5),
                after: Some("x".into()),
                ..Default::default()
            },
        ] {
            assert!(validate(&args).is_err(), "{args:?}");
        }
    }
}
