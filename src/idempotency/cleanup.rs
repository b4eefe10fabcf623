//! Deletes expired idempotency keys in bounded batches: on an interval while the server runs
//! (stopping with it), and once from `neoforge idempotency cleanup`.

use std::time::Duration;

use chrono::Utc;
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{EntityTrait, QueryFilter};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::db::Db;
use crate::entity::idempotency_keys::{self, Column};

const BATCH: u64 = 1_000;

/// Deletes every key that expired before now, `BATCH` rows per statement so no single
/// statement holds locks for long. Returns how many were deleted.
#[tracing::instrument(skip_all, fields(deleted))]
pub async fn cleanup_expired(db: &Db) -> Result<u64, sea_orm::DbErr> {
    let mut deleted = 0;
    loop {
        let now = Utc::now();
        let batch = Query::select()
            .columns([Column::Scope, Column::Key])
            .from(idempotency_keys::Entity)
            .and_where(Expr::col(Column::ExpiresAt).lte(now))
            .limit(BATCH)
            .to_owned();
        let result = idempotency_keys::Entity::delete_many()
            .filter(
                Expr::tuple([Expr::col(Column::Scope), Expr::col(Column::Key)]).in_subquery(batch),
            )
            .exec(db.conn())
            .await?;
        deleted += result.rows_affected;
        if result.rows_affected < BATCH {
            break;
        }
    }
    tracing::Span::current().record("deleted", deleted);
    metrics::counter!("idempotency_cleanup_runs_total").increment(1);
    metrics::gauge!("idempotency_cleanup_last_success_timestamp_seconds").set(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64()),
    );
    metrics::counter!("idempotency_keys_deleted_total").increment(deleted);
    if deleted > 0 {
        tracing::info!(deleted, "expired idempotency keys removed");
    }
    Ok(deleted)
}

/// Runs [`cleanup_expired`] every `interval` until `shutdown` is cancelled.
pub fn spawn_cleanup(tasks: &TaskTracker, shutdown: CancellationToken, db: Db, interval: Duration) {
    tasks.spawn(async move {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = shutdown.cancelled() => break,
                _ = ticker.tick() => {
                    if let Err(err) = cleanup_expired(&db).await {
                        metrics::counter!("idempotency_cleanup_failures_total").increment(1);
                        tracing::warn!(error = %err, "idempotency cleanup failed; will retry");
                    }
                }
            }
        }
    });
}
