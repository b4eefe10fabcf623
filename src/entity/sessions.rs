//! `sessions`: one per signed-in device; a refresh-token family.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sessions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    #[sea_orm(column_type = "String(StringLen::N(100))", nullable)]
    pub device_label: Option<String>,
    #[sea_orm(column_type = "String(StringLen::N(512))", nullable)]
    pub user_agent: Option<String>,
    #[sea_orm(column_type = "String(StringLen::N(64))", nullable)]
    pub ip: Option<String>,
    pub created_at: DateTimeUtc,
    pub last_seen_at: DateTimeUtc,
    pub revoked_at: Option<DateTimeUtc>,
    /// Why the session ended: `logout`, `reuse`, `revoked`, `password`, `disabled`.
    #[sea_orm(column_type = "String(StringLen::N(32))", nullable)]
    pub revoked_reason: Option<String>,
}

super::belongs_to!(User: users via UserId);
