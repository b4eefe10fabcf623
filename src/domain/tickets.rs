//! Support tickets: a user asks for help, staff handle it. The requester, staff and admins read a
//! ticket; any signed-in user opens one; staff and admins change every field, the requester only
//! the subject and body while the ticket is open, and may close it.

use sea_orm::sea_query::Condition;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryTrait, Select};
use std::collections::HashMap;

use uuid::Uuid;

use super::batch;
use super::context::{RequestContext, WriteOptions};
use super::listing::Listed;
use super::pagination::{Direction, Ordering};
use super::patch::Patch;
use super::projects;
use super::text::{Checks, bounded};
use super::versioned::{self, Guarded};
use super::write::{self, Tx};
use crate::auth::Principal;
use crate::bounds::{BODY, TITLE};
use crate::entity::support_tickets::{Column, Entity, Model, TicketPriority, TicketStatus};
use crate::entity::users;
use crate::error::{Error, FieldError, Result};
use crate::idempotency::Outcome;

#[derive(Clone, Debug, Default)]
pub struct TicketFilter {
    pub status: Option<TicketStatus>,
    pub priority: Option<TicketPriority>,
    pub project_id: Option<Uuid>,
    pub requester_id: Option<Uuid>,
    pub assignee_id: Option<Uuid>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TicketOrderField {
    #[default]
    CreatedAt,
    UpdatedAt,
}

pub fn ordering(order: Option<(TicketOrderField, Direction)>) -> Ordering<Entity> {
    let (field, direction) = order.unwrap_or_default();
    match field {
        TicketOrderField::CreatedAt => Ordering::created(direction),
        TicketOrderField::UpdatedAt => Ordering::updated(direction),
    }
}

/// The tickets `principal` may read: staff and admins all, users their own, anonymous none.
pub fn readable(principal: &Principal) -> Condition {
    match principal {
        p if p.is_staff() => Condition::all(),
        Principal::User { id, .. } => Condition::all().add(Column::RequesterId.eq(*id)),
        Principal::Anonymous => Condition::all().add(Column::Id.is_null()),
    }
}

pub fn can_read(principal: &Principal, ticket: &Model) -> bool {
    principal.is_staff() || principal.user_id() == Some(ticket.requester_id)
}

impl Guarded for Entity {
    fn readable(principal: &Principal, row: &Model) -> bool {
        can_read(principal, row)
    }

    /// Whether a change is allowed depends on what changes: see [`authorize_update`].
    fn writable(_: &Principal, _: &Model) -> Result<()> {
        Ok(())
    }
}

/// Status changes staff may make. Staying in the same status is always allowed (a no-op).
pub fn transition_allowed(from: TicketStatus, to: TicketStatus) -> bool {
    use TicketStatus::{Closed, InProgress, Open, Resolved};
    from == to
        || matches!(
            (from, to),
            (Open, InProgress | Resolved | Closed)
                | (InProgress, Open | Resolved | Closed)
                | (Resolved, Closed | Open)
                | (Closed, Open)
        )
}

impl Listed for Entity {
    type Filter = TicketFilter;
    const NOUN: &'static str = "support ticket";
    const ID: Column = Column::Id;

    /// The caller's own tickets (staff and admins: all); anonymous callers are refused.
    fn visible(ctx: &RequestContext, filter: &TicketFilter) -> Result<Select<Entity>> {
        ctx.principal.require_user()?;
        Ok(filtered(&ctx.principal, filter))
    }
}

fn filtered(principal: &Principal, filter: &TicketFilter) -> Select<Entity> {
    Entity::find()
        .filter(readable(principal))
        .apply_if(filter.status, |q, s| q.filter(Column::Status.eq(s)))
        .apply_if(filter.priority, |q, p| q.filter(Column::Priority.eq(p)))
        .apply_if(filter.project_id, |q, id| {
            q.filter(Column::ProjectId.eq(id))
        })
        .apply_if(filter.requester_id, |q, id| {
            q.filter(Column::RequesterId.eq(id))
        })
        .apply_if(filter.assignee_id, |q, id| {
            q.filter(Column::AssigneeId.eq(id))
        })
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct CreateTicket {
    pub subject: String,
    pub body: String,
    pub priority: Option<TicketPriority>,
    pub project_id: Option<Uuid>,
}

#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct UpdateTicket {
    pub status: Patch<TicketStatus>,
    pub priority: Patch<TicketPriority>,
    /// `Null` unassigns.
    pub assignee_id: Patch<Uuid>,
    pub subject: Patch<String>,
    pub body: Patch<String>,
}

fn subject(raw: &str) -> Result<String, FieldError> {
    bounded("subject", raw, TITLE.min, TITLE.max, true)
}

fn body(raw: &str) -> Result<String, FieldError> {
    bounded("body", raw, BODY.min, BODY.max, false)
}

#[tracing::instrument(skip_all)]
pub async fn create(
    ctx: &RequestContext,
    input: CreateTicket,
    options: &WriteOptions,
) -> Result<(Model, Outcome)> {
    let requester = ctx.principal.require_user()?;
    let mut checks = Checks::default();
    let subject = checks.check(subject(&input.subject));
    let body = checks.check(body(&input.body));
    checks.finish()?;
    let now = super::now();
    let model = Model {
        id: Uuid::now_v7(),
        requester_id: requester,
        project_id: input.project_id,
        subject: subject.unwrap_or_default(),
        body: body.unwrap_or_default(),
        status: TicketStatus::Open,
        priority: input.priority.unwrap_or(TicketPriority::Normal),
        assignee_id: None,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    write::keyed(ctx, "createSupportTicket", options, &input, move |tx| {
        Box::pin(async move {
            projects::check_reference(tx, model.project_id).await?;
            versioned::insert::<Entity>(tx, model).await
        })
    })
    .await
}

/// Changes a ticket. Authorization looks at what would actually change: a field sent with its
/// current value is not a change (so PATCH-style clients may echo fields they cannot edit).
#[tracing::instrument(skip(ctx, patch, options))]
pub async fn update(
    ctx: &RequestContext,
    id: Uuid,
    patch: UpdateTicket,
    options: &WriteOptions,
) -> Result<(Model, Outcome)> {
    ctx.principal.require_user()?;
    let expected = options.expected_version;
    let input = (id, &patch, expected);
    let mut checks = Checks::default();
    let new_subject = checks.check(
        patch
            .subject
            .clone()
            .required("subject")
            .and_then(|s| s.map(|s| subject(&s)).transpose()),
    );
    let new_body = checks.check(
        patch
            .body
            .clone()
            .required("body")
            .and_then(|b| b.map(|b| body(&b)).transpose()),
    );
    let new_status = checks.check(patch.status.clone().required("status"));
    let new_priority = checks.check(patch.priority.clone().required("priority"));
    checks.finish()?;
    let assignee = patch.assignee_id.clone();
    write::keyed(ctx, "updateSupportTicket", options, &input, move |tx| {
        Box::pin(async move {
            let principal = &tx.ctx.principal;
            let current = versioned::lock::<Entity>(tx, id, expected).await?;
            let mut next = current.clone();
            if let Some(Some(s)) = new_subject {
                next.subject = s;
            }
            if let Some(Some(b)) = new_body {
                next.body = b;
            }
            if let Some(Some(s)) = new_status {
                next.status = s;
            }
            if let Some(Some(p)) = new_priority {
                next.priority = p;
            }
            match assignee {
                Patch::Unchanged => {}
                Patch::Null => next.assignee_id = None,
                Patch::Set(a) => next.assignee_id = Some(a),
            }
            authorize_update(principal, &current, &next)?;
            check_change(tx, &current, &next).await?;
            if current.status != next.status && principal.is_staff() {
                // Staff moving a ticket along is what support audits look for.
                let details = serde_json::json!({ "from": current.status, "to": next.status });
                let target = Some(format!("ticket:{id}"));
                let actor = principal.user_id();
                crate::domain::audit::record(
                    tx.conn,
                    &tx.ctx.meta,
                    actor,
                    "ticket.status_changed",
                    target,
                    Some(details),
                )
                .await?;
            }
            versioned::save::<Entity>(tx, &current, next).await
        })
    })
    .await
}

/// The status transition and the assignee of a change must be valid.
async fn check_change(tx: Tx<'_>, current: &Model, next: &Model) -> Result<()> {
    let mut checks = Checks::default();
    if !transition_allowed(current.status, next.status) {
        checks.check::<()>(Err(FieldError::new(
            "status",
            "value_error.transition",
            format!(
                "a ticket cannot go from {} to {}",
                status_name(current.status),
                status_name(next.status)
            ),
        )));
    }
    if let Some(assignee) = next.assignee_id.filter(|a| Some(*a) != current.assignee_id) {
        let user = users::Entity::find_by_id(assignee).one(tx.conn).await?;
        if !user.is_some_and(|u| matches!(u.role, users::Role::Staff | users::Role::Admin)) {
            checks.check::<()>(Err(FieldError::new(
                "assignee_id",
                "value_error.assignee",
                "must be a staff member or an admin",
            )));
        }
    }
    checks.finish()
}

/// Tickets by id, for `node`: only those the caller may read.
#[tracing::instrument(skip_all, fields(ids = ids.len()))]
pub async fn by_ids(ctx: &RequestContext, ids: &[Uuid]) -> Result<HashMap<Uuid, Model>> {
    let select = Entity::find().filter(readable(&ctx.principal));
    batch::by_ids(ctx.db(), select, Column::Id, ids, |row| row.id).await
}

/// Per project: its tickets still open (`open` or `in_progress`), for every id asked (0 when
/// none). A count, not the tickets: shown with any project the caller may read.
#[tracing::instrument(skip_all, fields(ids = ids.len()))]
pub async fn open_counts_for_projects(
    ctx: &RequestContext,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, i64>> {
    let select =
        Entity::find().filter(Column::Status.is_in([TicketStatus::Open, TicketStatus::InProgress]));
    batch::count_per(ctx.db(), select, Column::ProjectId, ids).await
}

/// Staff and admins may change anything. The requester may edit the subject and body while the
/// ticket is open and may close it; nothing else.
fn authorize_update(principal: &Principal, current: &Model, next: &Model) -> Result<()> {
    if principal.is_staff() {
        return Ok(());
    }
    if next.priority != current.priority || next.assignee_id != current.assignee_id {
        return Err(Error::Forbidden(
            "only staff may change a ticket's priority or assignee".into(),
        ));
    }
    if next.status != current.status && next.status != TicketStatus::Closed {
        return Err(Error::Forbidden(
            "you may close your ticket; only staff may change its status otherwise".into(),
        ));
    }
    let edits_text = next.subject != current.subject || next.body != current.body;
    if edits_text && current.status != TicketStatus::Open {
        return Err(Error::Forbidden(
            "the subject and body can only be edited while the ticket is open".into(),
        ));
    }
    Ok(())
}

fn status_name(s: TicketStatus) -> &'static str {
    match s {
        TicketStatus::Open => "OPEN",
        TicketStatus::InProgress => "IN_PROGRESS",
        TicketStatus::Resolved => "RESOLVED",
        TicketStatus::Closed => "CLOSED",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use TicketStatus::{Closed, InProgress, Open, Resolved};

    #[test]
    fn status_transitions() {
        let all = [Open, InProgress, Resolved, Closed];
        let allowed = [
            (Open, InProgress),
            (Open, Resolved),
            (Open, Closed),
            (InProgress, Open),
            (InProgress, Resolved),
            (InProgress, Closed),
            (Resolved, Closed),
            (Resolved, Open),
            (Closed, Open),
        ];
        for from in all {
            for to in all {
                let expected = from == to || allowed.contains(&(from, to));
                assert_eq!(transition_allowed(from, to), expected, "{from:?} -> {to:?}");
            }
        }
    }
}
