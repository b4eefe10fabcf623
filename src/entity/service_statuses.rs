//! `service_statuses`: the current state of each service, derived from `status_events` and
//! updated in the same transaction as every event insert (see `domain::status`).

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

pub use super::status_events::ServiceStatus;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "service_statuses")]
pub struct Model {
    #[sea_orm(
        primary_key,
        auto_increment = false,
        column_type = "String(StringLen::N(64))"
    )]
    pub service: String,
    /// The status of the latest event.
    pub status: ServiceStatus,
    /// The message of the latest event.
    #[sea_orm(column_type = "Text")]
    pub message: String,
    /// When the current run of this status began (its first event).
    pub since: DateTimeUtc,
    /// When the latest event was recorded.
    pub updated_at: DateTimeUtc,
    /// The latest event (ties on `updated_at` are broken by this id).
    pub last_event_id: Uuid,
}

super::unrelated!();
