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
        ip: Set(meta.ip.map(|ip| ip.to_string())),
        request_id: Set(meta.request_id.clone()),
        details: Set(details.map(|d| d.to_string())),
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// What an admin narrows the audit log to; every member optional, all must match.
#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    pub actor_id: Option<Uuid>,
    /// Exact action (`login.failed`), or a family with a trailing dot (`2fa.`).
    pub action: Option<String>,
    /// Exact target (`user:<id>`, `session:<id>`, `project:<id>`).
    pub target: Option<String>,
    /// From this instant, inclusive.
    pub since: Option<chrono::DateTime<Utc>>,
    /// Before this instant, exclusive.
    pub until: Option<chrono::DateTime<Utc>>,
}

impl crate::domain::listing::Listed for audit_events::Entity {
    type Filter = AuditFilter;
    const NOUN: &'static str = "audit event";
    const ID: audit_events::Column = audit_events::Column::Id;

    /// The audit log is for admins.
    fn visible(
        ctx: &crate::domain::context::RequestContext,
        filter: &AuditFilter,
    ) -> Result<sea_orm::Select<Self>> {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

        use audit_events::Column;
        match ctx.principal.user_id() {
            None => {
                return Err(crate::error::Error::Unauthenticated(
                    "sign in to do this".into(),
                ));
            }
            Some(_) if !ctx.principal.is_admin() => {
                return Err(crate::error::Error::Forbidden(
                    "only admins may read the audit log".into(),
                ));
            }
            Some(_) => {}
        }
        let mut select = audit_events::Entity::find();
        if let Some(actor) = filter.actor_id {
            select = select.filter(Column::ActorId.eq(actor));
        }
        match filter.action.as_deref().map(str::trim) {
            Some(family) if family.ends_with('.') => {
                select = select.filter(Column::Action.starts_with(family));
            }
            Some(action) => select = select.filter(Column::Action.eq(action)),
            None => {}
        }
        if let Some(target) = &filter.target {
            select = select.filter(Column::Target.eq(target.trim()));
        }
        if let Some(since) = filter.since {
            select = select.filter(Column::At.gte(since));
        }
        if let Some(until) = filter.until {
            select = select.filter(Column::At.lt(until));
        }
        Ok(select)
    }
}

/// Newest first by default; ties broken by id.
pub fn ordering(
    direction: Option<crate::domain::pagination::Direction>,
) -> crate::domain::pagination::Ordering<audit_events::Entity> {
    use crate::domain::pagination::{Ordering, SortValue};
    Ordering {
        name: "at",
        column: audit_events::Column::At,
        id_column: audit_events::Column::Id,
        direction: direction.unwrap_or_default(),
        key: |m| SortValue::Time(m.at),
        id: |m| m.id,
        is_time: true,
    }
}
