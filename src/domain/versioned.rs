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

use super::context::{RequestContext, WriteOptions};
use super::pagination::Chronological;
use super::write::{self, Tx};
use crate::auth::Principal;
pub use crate::entity::Snapshot;
use crate::error::{Error, Result};
use futures::future::BoxFuture;

/// A table whose rows carry `id`, `updated_at` and `version`.
pub trait Versioned: Chronological + EntityTrait<Model = Self::Row> {
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
    const VERSION: Self::Column;
    fn version(row: &Self::Row) -> i32;
    /// The row as a lost conditional write reports it (the `current` of a 412, docs/api.md).
    fn snapshot(row: Self::Row) -> Snapshot;
    fn touch(row: &mut Self::Row, version: i32, at: DateTime<Utc>);
}

/// Implements [`Versioned`] for an entity module whose model has `id`, `updated_at`, `version`.
macro_rules! versioned {
    ($module:path, $variant:ident, $noun:literal, $audit:literal, $target:literal) => {
        const _: () = {
            use $module as m;
            impl $crate::domain::versioned::Versioned for m::Entity {
                type Row = m::Model;
                const NOUN: &'static str = $noun;
                const AUDIT: &'static str = $audit;
                const TARGET: &'static str = $target;
                const VERSION: m::Column = m::Column::Version;
                fn version(row: &m::Model) -> i32 {
                    row.version
                }
                fn snapshot(row: m::Model) -> $crate::entity::Snapshot {
                    $crate::entity::Snapshot::$variant(row)
                }
                fn touch(row: &mut m::Model, version: i32, at: chrono::DateTime<chrono::Utc>) {
                    row.version = version;
                    row.updated_at = at;
                }
            }
        };
    };
}
versioned!(
    crate::entity::projects,
    Project,
    "project",
    "project",
    "project"
);
versioned!(
    crate::entity::support_tickets,
    Ticket,
    "support ticket",
    "ticket",
    "support_ticket"
);
versioned!(
    crate::entity::community_posts,
    Post,
    "community post",
    "post",
    "post"
);

/// Who may see and change the rows of a [`Versioned`] table (the table in docs/api.md, "Who may
/// read and change what").
pub trait Guarded: Versioned {
    /// Rows the caller may not read do not exist for them (no existence leak).
    fn readable(principal: &Principal, row: &Self::Row) -> bool;
    /// Whether the caller may change or delete the row; `Forbidden` with the reason if not.
    fn writable(principal: &Principal, row: &Self::Row) -> Result<()>;
    /// Rows that hang off this one and go with it.
    fn on_delete<'t>(_tx: Tx<'t>, _row: &'t Self::Row) -> BoxFuture<'t, Result<()>> {
        Box::pin(async { Ok(()) })
    }
}

/// `expectedVersion` / `If-Match`: the caller's view must be the current one; if not, the
/// error carries `current` (which the caller has already been found allowed to read).
fn expect<E: Versioned>(expected: Option<i32>, current: &E::Row) -> Result<()> {
    match expected {
        Some(v) if v != E::version(current) => Err(conflict::<E>(current.clone())),
        _ => Ok(()),
    }
}

fn conflict<E: Versioned>(current: E::Row) -> Error {
    Error::PreconditionFailed {
        current: Some(Box::new(E::snapshot(current))),
    }
}

fn not_found<E: Versioned>() -> Error {
    Error::NotFound(E::NOUN.into())
}

/// Reads the row inside the write transaction, locked: `NotFound` unless readable by the
/// caller, then `Forbidden` unless writable, then the caller's expected version must hold.
/// The write itself is still conditional on that version.
pub async fn lock<E: Guarded>(tx: Tx<'_>, id: Uuid, expected: Option<i32>) -> Result<E::Row> {
    let principal = &tx.ctx.principal;
    let current = E::find()
        .filter(E::ID.eq(id))
        .lock_exclusive()
        .one(tx.conn)
        .await?
        .filter(|row| E::readable(principal, row))
        .ok_or_else(not_found::<E>)?;
    E::writable(principal, &current)?;
    expect::<E>(expected, &current)?;
    Ok(current)
}

/// Deletes a row the caller may change, at the version they expect, with what hangs off it.
pub async fn delete<E: Guarded>(
    ctx: &RequestContext,
    id: Uuid,
    options: &WriteOptions,
) -> Result<E::Row> {
    ctx.principal.require_user()?;
    let expected = options.expected_version;
    write::transaction(ctx, move |tx| {
        Box::pin(async move {
            let current = lock::<E>(tx, id, expected).await?;
            E::on_delete(tx, &current).await?;
            remove::<E>(tx, &current).await?;
            Ok(current)
        })
    })
    .await
}

/// Inserts a new row (version 1) and audits `{AUDIT}.created`.
pub async fn insert<E: Versioned>(tx: Tx<'_>, row: E::Row) -> Result<E::Row>
where
    E::ActiveModel: ActiveModelBehavior + Send,
{
    E::insert(row.clone().into_active_model())
        .exec_without_returning(tx.conn)
        .await?;
    let action = format!("{}.created", E::AUDIT);
    tx.audit(&action, format!("{}:{}", E::TARGET, E::id(&row)))
        .await?;
    Ok(row)
}

/// Writes `next` over `current` as its next version, conditional on `current`'s version, and
/// audits `{AUDIT}.updated`.
pub async fn save<E: Guarded>(tx: Tx<'_>, current: &E::Row, mut next: E::Row) -> Result<E::Row>
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
    applied::<E>(tx, result.rows_affected, id, "updated").await?;
    Ok(next)
}

/// Deletes `current`, conditional on its version, and audits `{AUDIT}.deleted`.
pub async fn remove<E: Guarded>(tx: Tx<'_>, current: &E::Row) -> Result<()> {
    let (id, version) = (E::id(current), E::version(current));
    let result = E::delete_many()
        .filter(E::ID.eq(id))
        .filter(E::VERSION.eq(version))
        .exec(tx.conn)
        .await?;
    applied::<E>(tx, result.rows_affected, id, "deleted").await
}

/// A conditional write that matched no row lost to a concurrent one (it reports what won, or
/// that the row is gone); one that matched is audited as `{AUDIT}.{what}`.
async fn applied<E: Guarded>(tx: Tx<'_>, rows: u64, id: Uuid, what: &str) -> Result<()> {
    if rows == 0 {
        let winner = E::find()
            .filter(E::ID.eq(id))
            .one(tx.conn)
            .await?
            .filter(|row| E::readable(&tx.ctx.principal, row));
        return Err(winner.map_or_else(not_found::<E>, conflict::<E>));
    }
    let action = format!("{}.{what}", E::AUDIT);
    tx.audit(&action, format!("{}:{id}", E::TARGET)).await
}
