//! Optimistic concurrency: every mutable row has `version`; writes are conditional on it.
//! Callers first read the row `FOR UPDATE` inside their write transaction (PostgreSQL row lock;
//! SQLite writers are serialised anyway), then write with `WHERE id = ? AND version = ?`, so
//! a check and its write can never be split by another writer.

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::error::{Error, Result};

/// `expectedVersion` / `If-Match`: the caller's view must be the current one.
pub fn expect(expected: Option<i32>, current: i32) -> Result<()> {
    match expected {
        Some(v) if v != current => Err(Error::PreconditionFailed {
            current: Some(current),
        }),
        _ => Ok(()),
    }
}

pub async fn update<E, C>(
    conn: &C,
    changes: E::ActiveModel,
    id_column: E::Column,
    id: Uuid,
    version_column: E::Column,
    version: i32,
) -> Result<()>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    let result = E::update_many()
        .set(changes)
        .filter(id_column.eq(id))
        .filter(version_column.eq(version))
        .exec(conn)
        .await?;
    if result.rows_affected == 0 {
        return Err(Error::PreconditionFailed { current: None });
    }
    Ok(())
}

pub async fn delete<E, C>(
    conn: &C,
    id_column: E::Column,
    id: Uuid,
    version_column: E::Column,
    version: i32,
) -> Result<()>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    let result = E::delete_many()
        .filter(id_column.eq(id))
        .filter(version_column.eq(version))
        .exec(conn)
        .await?;
    if result.rows_affected == 0 {
        return Err(Error::PreconditionFailed { current: None });
    }
    Ok(())
}
