//! `audit_events`: append-only security log.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "audit_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub at: DateTimeUtc,
    pub actor_id: Option<Uuid>,
    #[sea_orm(column_type = "String(StringLen::N(64))")]
    pub action: String,
    #[sea_orm(column_type = "String(StringLen::N(255))", nullable)]
    pub target: Option<String>,
    #[sea_orm(column_type = "String(StringLen::N(64))", nullable)]
    pub ip: Option<String>,
    #[sea_orm(column_type = "String(StringLen::N(128))", nullable)]
    pub request_id: Option<String>,
    /// JSON object.
    #[sea_orm(column_type = "Text", nullable)]
    pub details: Option<String>,
}

super::positional!(id, at, actor_id, action, target, ip, request_id, details);

super::unrelated!();
