//! Optimistic concurrency: every mutable row has `version`; writes are conditional on it.
//! Writers first read the row `FOR UPDATE` inside their write transaction (PostgreSQL row lock;
//! SQLite writers are serialised anyway), then write with `WHERE id = ? AND version = ?`, so
//! a check and its write can never be split by another writer. The update and delete paths of
//! every versioned resource are the functions here; a resource supplies only its rules.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QuerySelect,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use super::write::Tx;
use crate::error::{Error, Result};

/// A table whose rows carry `id`, `updated_at` and `version`.
pub trait Versioned: EntityTrait<Model = Self::Row> {
    type Row: Clone
        + Send
        + Sync
        + Serialize
        + DeserializeOwned
        + IntoActiveModel<Self::ActiveModel>
        + sea_orm::FromQueryResult;
    /// How errors name it (`project not found`).
    const NOUN: &'static str;
    /// How audit events name it: `{AUDIT}.updated`, target `{TARGET}:{id}`.
    const AUDIT: &'static str;
    const TARGET: &'static str;
    const ID: Self::Column;
    const VERSION: Self::Column;
    fn id(row: &Self::Row) -> Uuid;
    fn version(row: &Self::Row) -> i32;
    fn touch(row: &mut Self::Row, version: i32, at: DateTime<Utc>);
}

/// Implements [`Versioned`] for an entity module whose model has `id`, `updated_at`, `version`.
macro_rules! versioned {
    ($module:path, $noun:literal, $audit:literal, $target:literal) => {
        const _: () = {
            use $module as m;
            impl $crate::domain::versioned::Versioned for m::Entity {
                type Row = m::Model;
                const NOUN: &'static str = $noun;
                const AUDIT: &'static str = $audit;
                const TARGET: &'static str = $target;
                const ID: m::Column = m::Column::Id;
                const VERSION: m::Column = m::Column::Version;
                fn id(row: &m::Model) -> uuid::Uuid {
                    row.id
                }
                fn version(row: &m::Model) -> i32 {
                    row.version
                }
                fn touch(row: &mut m::Model, version: i32, at: chrono::DateTime<chrono::Utc>) {
                    row.version = version;
                    row.updated_at = at;
                }
            }
        };
    };
}
versioned!(crate::entity::projects, "project", "project", "project");
versioned!(
    crate::entity::support_tickets,
    "support ticket",
    "ticket",
    "support_ticket"
);
versioned!(
    crate::entity::community_posts,
    "community post",
    "post",
    "post"
);

/// `expectedVersion` / `If-Match`: the caller's view must be the current one.
pub fn expect(expected: Option<i32>, current: i32) -> Result<()> {
    match expected {
        Some(v) if v != current => Err(Error::PreconditionFailed {
            current: Some(current),
        }),
        _ => Ok(()),
    }
}

fn not_found<E: Versioned>() -> Error {
    Error::NotFound(E::NOUN.into())
}

/// Reads the row inside the write transaction, locked: `NotFound` unless `readable` (no
/// existence leak), then `writable` decides, then the caller's expected version must hold.
/// The write itself is still conditional on that version.
pub async fn lock<E: Versioned>(
    tx: Tx<'_>,
    id: Uuid,
    expected_version: Option<i32>,
    readable: impl FnOnce(&E::Row) -> bool,
    writable: impl FnOnce(&E::Row) -> Result<()>,
) -> Result<E::Row> {
    let current = E::find()
        .filter(E::ID.eq(id))
        .lock_exclusive()
        .one(tx.conn)
        .await?
        .filter(readable)
        .ok_or_else(not_found::<E>)?;
    writable(&current)?;
    expect(expected_version, E::version(&current))?;
    Ok(current)
}

/// Writes `next` over `current` as its next version, conditional on `current`'s version, and
/// audits `{AUDIT}.updated`.
pub async fn save<E: Versioned>(tx: Tx<'_>, current: &E::Row, mut next: E::Row) -> Result<E::Row>
where
    E::ActiveModel: ActiveModelBehavior + Send,
{
    let (id, version) = (E::id(current), E::version(current));
    E::touch(&mut next, version + 1, super::now());
    let changes = next.clone().into_active_model().reset_all();
    let result = E::update_many()
        .set(changes)
        .filter(E::ID.eq(id))
        .filter(E::VERSION.eq(version))
        .exec(tx.conn)
        .await?;
    if result.rows_affected == 0 {
        return Err(Error::PreconditionFailed { current: None });
    }
    let action = format!("{}.updated", E::AUDIT);
    tx.audit(&action, format!("{}:{id}", E::TARGET)).await?;
    Ok(next)
}

/// Deletes `current`, conditional on its version, and audits `{AUDIT}.deleted`.
pub async fn remove<E: Versioned>(tx: Tx<'_>, current: &E::Row) -> Result<()> {
    let (id, version) = (E::id(current), E::version(current));
    let result = E::delete_many()
        .filter(E::ID.eq(id))
        .filter(E::VERSION.eq(version))
        .exec(tx.conn)
        .await?;
    if result.rows_affected == 0 {
        return Err(Error::PreconditionFailed { current: None });
    }
    let action = format!("{}.deleted", E::AUDIT);
    tx.audit(&action, format!("{}:{id}", E::TARGET)).await
}
