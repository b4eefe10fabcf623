//! Shapes shared by the domain's batch functions (`projects::by_ids`,
//! `posts::latest_for_projects`, …), which the GraphQL DataLoaders adapt: one statement per
//! batch, an answer for every key asked, so a request's loader cache is complete.

use std::collections::HashMap;

use sea_orm::sea_query::{Asterisk, Expr, Func};
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter, QuerySelect, Select};
use uuid::Uuid;

use crate::db::positional::Columns;
use crate::db::{Db, Positional};
use crate::error::Result;

struct CountRow {
    group_key: Uuid,
    n: i64,
}

impl Positional for CountRow {
    const COLUMNS: &'static [&'static str] = &["group_key", "n"];
    fn read(columns: &mut Columns<'_>) -> Result<Self, DbErr> {
        Ok(Self {
            group_key: columns.take()?,
            n: columns.take()?,
        })
    }
}

/// Counts the rows of `select` per value of `group` among `keys` (0 for keys without rows).
/// `COUNT(*)`, not of a column: PostgreSQL can then answer from an index on `group` (and the
/// filter's columns) without reading the rows.
pub async fn count_per<E: EntityTrait>(
    db: &Db,
    select: Select<E>,
    group: E::Column,
    keys: &[Uuid],
) -> Result<HashMap<Uuid, i64>> {
    let query = select
        .select_only()
        .column_as(group, "group_key")
        .column_as(Expr::expr(Func::count(Expr::col(Asterisk))), "n")
        .filter(group.is_in(keys.iter().copied()))
        .group_by(group);
    let rows: Vec<CountRow> = db.all(&query).await?;
    let mut counts: HashMap<Uuid, i64> = keys.iter().map(|k| (*k, 0)).collect();
    counts.extend(rows.into_iter().map(|r| (r.group_key, r.n)));
    Ok(counts)
}

/// The rows of `E` whose primary key `id` is among `keys`, keyed by it.
pub async fn by_ids<E: EntityTrait<Model: Positional>>(
    db: &Db,
    select: Select<E>,
    id: E::Column,
    keys: &[Uuid],
    key_of: impl Fn(&E::Model) -> Uuid,
) -> Result<HashMap<Uuid, E::Model>> {
    let rows: Vec<E::Model> = db
        .all(&select.filter(id.is_in(keys.iter().copied())))
        .await?;
    Ok(rows.into_iter().map(|r| (key_of(&r), r)).collect())
}
