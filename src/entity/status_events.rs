//! `status_events`: append-only service status history.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// Declared in order of severity, so `Ord` ranks `MajorOutage` highest.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
#[serde(rename_all = "snake_case")]
pub enum ServiceStatus {
    #[sea_orm(string_value = "operational")]
    Operational,
    #[sea_orm(string_value = "maintenance")]
    Maintenance,
    #[sea_orm(string_value = "degraded")]
    Degraded,
    #[sea_orm(string_value = "partial_outage")]
    PartialOutage,
    #[sea_orm(string_value = "major_outage")]
    MajorOutage,
}

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "status_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(column_type = "String(StringLen::N(64))")]
    pub service: String,
    pub status: ServiceStatus,
    #[sea_orm(column_type = "Text")]
    pub message: String,
    pub created_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
}

super::positional!(id, service, status, message, created_by, created_at);

super::unrelated!();
