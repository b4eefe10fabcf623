//! Support tickets: a user asks for help, staff handle it. DESIGN §8: the requester, staff and
//! admins read a ticket; any signed-in user opens one; staff and admins change every field, the
//! requester only the subject and body while the ticket is open, and may close it.

use sea_orm::sea_query::Condition;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect, Select, Set};
use uuid::Uuid;

use super::pagination::{self, Direction, Ordering, Page, PageArgs, SortValue};
use super::patch::Patch;
use super::text::{Checks, bounded};
use super::{audit, projects, versioned};
use crate::auth::Principal;
use crate::db::Db;
use crate::entity::support_tickets::{self, Column, Entity, Model, TicketPriority, TicketStatus};
use crate::entity::{projects as project_entity, users};
use crate::error::{Error, FieldError, Result};
use crate::idempotency::{Idempotency, Outcome};
use crate::state::RequestMeta;

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

pub fn ordering(field: TicketOrderField, direction: Direction) -> Ordering<Entity> {
    let (name, column, key): (_, _, fn(&Model) -> SortValue) = match field {
        TicketOrderField::CreatedAt => ("created_at", Column::CreatedAt, |m| {
            SortValue::Time(m.created_at)
        }),
        TicketOrderField::UpdatedAt => ("updated_at", Column::UpdatedAt, |m| {
            SortValue::Time(m.updated_at)
        }),
    };
    Ordering {
        name,
        column,
        id_column: Column::Id,
        direction,
        key,
        id: |m| m.id,
        is_time: true,
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

fn filtered(principal: &Principal, filter: &TicketFilter) -> Select<Entity> {
    let mut select = Entity::find().filter(readable(principal));
    if let Some(s) = filter.status {
        select = select.filter(Column::Status.eq(s));
    }
    if let Some(p) = filter.priority {
        select = select.filter(Column::Priority.eq(p));
    }
    if let Some(id) = filter.project_id {
        select = select.filter(Column::ProjectId.eq(id));
    }
    if let Some(id) = filter.requester_id {
        select = select.filter(Column::RequesterId.eq(id));
    }
    if let Some(id) = filter.assignee_id {
        select = select.filter(Column::AssigneeId.eq(id));
    }
    select
}

/// Tickets the caller may read. Anonymous callers are `Unauthenticated`.
#[tracing::instrument(skip_all)]
pub async fn list(
    db: &Db,
    principal: &Principal,
    filter: &TicketFilter,
    order: &Ordering<Entity>,
    args: &PageArgs,
) -> Result<Page<Model>> {
    principal.require_user()?;
    pagination::paginate(db.conn(), filtered(principal, filter), order, args).await
}

#[tracing::instrument(skip_all)]
pub async fn count(db: &Db, principal: &Principal, filter: &TicketFilter) -> Result<u64> {
    principal.require_user()?;
    Ok(filtered(principal, filter).count(db.conn()).await?)
}

/// One ticket; `NotFound` also when it exists but is not readable (no existence leak).
#[tracing::instrument(skip(db, principal))]
pub async fn get(db: &Db, principal: &Principal, id: Uuid) -> Result<Model> {
    principal.require_user()?;
    Entity::find_by_id(id)
        .filter(readable(principal))
        .one(db.conn())
        .await?
        .ok_or_else(|| Error::NotFound("support ticket".into()))
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
    bounded("subject", raw, 1, 200, true)
}

fn body(raw: &str) -> Result<String, FieldError> {
    bounded("body", raw, 1, 20_000, false)
}

#[tracing::instrument(skip_all)]
pub async fn create(
    db: &Db,
    idem: &Idempotency,
    principal: &Principal,
    meta: &RequestMeta,
    input: CreateTicket,
    key: Option<&str>,
) -> Result<(Model, Outcome)> {
    let requester = principal.require_user()?;
    let keyed = idem.prepare(principal, meta, "createSupportTicket", key, &input)?;
    let mut checks = Checks::default();
    let subject = checks.check(subject(&input.subject));
    let body = checks.check(body(&input.body));
    checks.finish()?;

    let principal = principal.clone();
    let meta = meta.clone();
    idem.run(db, keyed, move |tx| {
        Box::pin(async move {
            if let Some(project_id) = input.project_id {
                // FOR SHARE: the project cannot be deleted between this check and the insert.
                let project = project_entity::Entity::find_by_id(project_id)
                    .lock_shared()
                    .one(tx)
                    .await?;
                if !project.is_some_and(|p| projects::can_read(&principal, &p)) {
                    return Err(Error::invalid(
                        "project_id",
                        "value_error.reference",
                        "no such project",
                    ));
                }
            }
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
            Entity::insert(support_tickets::ActiveModel::from(model.clone()))
                .exec_without_returning(tx)
                .await?;
            audit::record(
                tx,
                &meta,
                Some(requester),
                "ticket.created",
                Some(format!("support_ticket:{}", model.id)),
                None,
            )
            .await?;
            Ok(model)
        })
    })
    .await
}

/// Changes a ticket. Authorization looks at what would actually change: a field sent with its
/// current value is not a change (so PATCH-style clients may echo fields they cannot edit).
#[tracing::instrument(skip(db, idem, principal, meta, patch, key))]
#[allow(clippy::too_many_arguments)]
pub async fn update(
    db: &Db,
    idem: &Idempotency,
    principal: &Principal,
    meta: &RequestMeta,
    id: Uuid,
    patch: UpdateTicket,
    expected_version: Option<i32>,
    key: Option<&str>,
) -> Result<(Model, Outcome)> {
    let actor = principal.require_user()?;
    let keyed = idem.prepare(
        principal,
        meta,
        "updateSupportTicket",
        key,
        &(id, &patch, expected_version),
    )?;
    let mut checks = Checks::default();
    let new_subject = checks.check(
        patch
            .subject
            .required("subject")
            .and_then(|s| s.map(|s| subject(&s)).transpose()),
    );
    let new_body = checks.check(
        patch
            .body
            .required("body")
            .and_then(|b| b.map(|b| body(&b)).transpose()),
    );
    let new_status = checks.check(patch.status.required("status"));
    let new_priority = checks.check(patch.priority.required("priority"));
    checks.finish()?;

    let principal = principal.clone();
    let meta = meta.clone();
    idem.run(db, keyed, move |tx| {
        Box::pin(async move {
            let current = Entity::find_by_id(id)
                .lock_exclusive()
                .one(tx)
                .await?
                .filter(|t| can_read(&principal, t))
                .ok_or_else(|| Error::NotFound("support ticket".into()))?;
            versioned::expect(expected_version, current.version)?;

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
            match patch.assignee_id {
                Patch::Unchanged => {}
                Patch::Null => next.assignee_id = None,
                Patch::Set(a) => next.assignee_id = Some(a),
            }

            authorize_update(&principal, &current, &next)?;

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
                let user = users::Entity::find_by_id(assignee).one(tx).await?;
                if !user.is_some_and(|u| matches!(u.role, users::Role::Staff | users::Role::Admin))
                {
                    checks.check::<()>(Err(FieldError::new(
                        "assignee_id",
                        "value_error.assignee",
                        "must be a staff member or an admin",
                    )));
                }
            }
            checks.finish()?;

            next.updated_at = super::now();
            next.version = current.version + 1;
            let changes = support_tickets::ActiveModel {
                subject: Set(next.subject.clone()),
                body: Set(next.body.clone()),
                status: Set(next.status),
                priority: Set(next.priority),
                assignee_id: Set(next.assignee_id),
                updated_at: Set(next.updated_at),
                version: Set(next.version),
                ..Default::default()
            };
            versioned::update::<Entity, _>(
                tx,
                changes,
                Column::Id,
                id,
                Column::Version,
                current.version,
            )
            .await?;
            audit::record(
                tx,
                &meta,
                Some(actor),
                "ticket.updated",
                Some(format!("support_ticket:{id}")),
                None,
            )
            .await?;
            Ok(next)
        })
    })
    .await
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
