//! `service_statuses`: the current state of every service, one row per service, derived from
//! `status_events` and kept current in the same transaction as each event insert. `GET /status`
//! reads it in O(services) instead of scanning the event history.

use sea_orm_migration::{prelude::*, schema::*};

use crate::common::enum_string;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub enum ServiceStatuses {
    Table,
    Service,
    Status,
    Message,
    Since,
    UpdatedAt,
    LastEventId,
}

/// Fills the table from any events recorded before it existed: per service, the latest event
/// (ties on `created_at` broken by `id`) and the start of its current run of equal statuses.
/// Window functions and `WITH … INSERT` work on PostgreSQL and SQLite alike.
const BACKFILL: &str = "
WITH ordered AS (
    SELECT service, status, message, created_at, id,
           CASE WHEN LAG(status) OVER (PARTITION BY service ORDER BY created_at, id) = status
                THEN 0 ELSE 1 END AS starts_run,
           ROW_NUMBER() OVER (PARTITION BY service ORDER BY created_at DESC, id DESC) AS newest
    FROM status_events
),
run_starts AS (
    SELECT service, created_at,
           ROW_NUMBER() OVER (PARTITION BY service ORDER BY created_at DESC, id DESC) AS newest
    FROM ordered
    WHERE starts_run = 1
)
INSERT INTO service_statuses (service, status, message, since, updated_at, last_event_id)
SELECT o.service, o.status, o.message, r.created_at, o.created_at, o.id
FROM ordered o
JOIN run_starts r ON r.service = o.service AND r.newest = 1
WHERE o.newest = 1";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ServiceStatuses::Table)
                    .col(string_len(ServiceStatuses::Service, 64).primary_key())
                    .col(enum_string(
                        ServiceStatuses::Status,
                        "service_statuses_status_check",
                        &[
                            "operational",
                            "maintenance",
                            "degraded",
                            "partial_outage",
                            "major_outage",
                        ],
                        None,
                    ))
                    .col(text(ServiceStatuses::Message).default(""))
                    .col(timestamp_with_time_zone(ServiceStatuses::Since))
                    .col(timestamp_with_time_zone(ServiceStatuses::UpdatedAt))
                    .col(uuid(ServiceStatuses::LastEventId))
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(BACKFILL)
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ServiceStatuses::Table).to_owned())
            .await
    }
}
