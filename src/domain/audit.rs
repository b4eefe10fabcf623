//! Audit events: written in the same transaction as the change they describe.

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};
use uuid::Uuid;

use crate::domain::context::RequestMeta;
use crate::entity::audit_events;
use crate::error::Result;

pub async fn record(
    conn: &impl ConnectionTrait,
    meta: &RequestMeta,
    actor_id: Option<Uuid>,
    action: &str,
    target: Option<String>,
    details: Option<serde_json::Value>,
) -> Result<()> {
    audit_events::ActiveModel {
        id: Set(Uuid::now_v7()),
        at: Set(Utc::now()),
        actor_id: Set(actor_id),
        action: Set(action.to_owned()),
        target: Set(target),
        ip: Set(meta.ip.clone()),
        request_id: Set(meta.request_id.clone()),
        details: Set(details.map(|d| d.to_string())),
    }
    .insert(conn)
    .await?;
    Ok(())
}
