use async_graphql::{ComplexObject, Context, Enum, ID, InputObject, MaybeUndefined, SimpleObject};
use chrono::{DateTime, Utc};

use super::{OrderDirection, Project, User};
use crate::domain::patch::Patch;
use crate::domain::tickets::{self as domain, TicketOrderField};
use crate::entity::support_tickets::{
    self, TicketPriority as DbTicketPriority, TicketStatus as DbTicketStatus,
};
use crate::error::Error;
use crate::graphql::context::parse_id;
use crate::graphql::loaders::{self, ProjectLoader};
use crate::graphql::write::{self, UpdateInput};

/// Where a support ticket is in its life cycle.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
pub enum TicketStatus {
    /// New, waiting for staff. The requester may still edit the subject and body.
    Open,
    /// Staff are working on it.
    InProgress,
    /// Staff consider it solved; it can be reopened or closed.
    Resolved,
    /// Done. Staff can reopen it.
    Closed,
}

impl From<DbTicketStatus> for TicketStatus {
    fn from(v: DbTicketStatus) -> Self {
        match v {
            DbTicketStatus::Open => Self::Open,
            DbTicketStatus::InProgress => Self::InProgress,
            DbTicketStatus::Resolved => Self::Resolved,
            DbTicketStatus::Closed => Self::Closed,
        }
    }
}

impl From<TicketStatus> for DbTicketStatus {
    fn from(v: TicketStatus) -> Self {
        match v {
            TicketStatus::Open => Self::Open,
            TicketStatus::InProgress => Self::InProgress,
            TicketStatus::Resolved => Self::Resolved,
            TicketStatus::Closed => Self::Closed,
        }
    }
}

/// How urgent a support ticket is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
pub enum TicketPriority {
    /// Whenever there is time.
    Low,
    /// The default.
    Normal,
    /// Soon.
    High,
    /// Now.
    Urgent,
}

impl From<DbTicketPriority> for TicketPriority {
    fn from(v: DbTicketPriority) -> Self {
        match v {
            DbTicketPriority::Low => Self::Low,
            DbTicketPriority::Normal => Self::Normal,
            DbTicketPriority::High => Self::High,
            DbTicketPriority::Urgent => Self::Urgent,
        }
    }
}

impl From<TicketPriority> for DbTicketPriority {
    fn from(v: TicketPriority) -> Self {
        match v {
            TicketPriority::Low => Self::Low,
            TicketPriority::Normal => Self::Normal,
            TicketPriority::High => Self::High,
            TicketPriority::Urgent => Self::Urgent,
        }
    }
}

/// A request for help, visible to its requester, staff and admins.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct SupportTicket {
    /// One line, 1–200 characters.
    pub subject: String,
    /// 1–20,000 characters.
    pub body: String,
    /// Where the ticket is in its life cycle.
    pub status: TicketStatus,
    /// How urgent the ticket is.
    pub priority: TicketPriority,
    /// When the ticket was opened (UTC).
    pub created_at: DateTime<Utc>,
    /// When the ticket last changed (UTC).
    pub updated_at: DateTime<Utc>,
    /// Starts at 1, +1 on every change. Pass it as `expectedVersion` to update safely.
    pub version: i32,
    #[graphql(skip)]
    pub model: support_tickets::Model,
}

impl From<support_tickets::Model> for SupportTicket {
    fn from(m: support_tickets::Model) -> Self {
        Self {
            subject: m.subject.clone(),
            body: m.body.clone(),
            status: m.status.into(),
            priority: m.priority.into(),
            created_at: m.created_at,
            updated_at: m.updated_at,
            version: m.version,
            model: m,
        }
    }
}

#[ComplexObject]
impl SupportTicket {
    /// Opaque, stable identifier.
    pub async fn id(&self) -> ID {
        ID(self.model.id.to_string())
    }

    /// The requester's id: `requester { id }` without loading the user.
    async fn requester_id(&self) -> ID {
        ID(self.model.requester_id.to_string())
    }

    /// The assignee's id; null while unassigned.
    async fn assignee_id(&self) -> Option<ID> {
        self.model.assignee_id.map(|id| ID(id.to_string()))
    }

    /// The id of the project the ticket is about, even when the caller may not read that project.
    async fn project_id(&self) -> Option<ID> {
        self.model.project_id.map(|id| ID(id.to_string()))
    }

    /// The user who opened the ticket.
    async fn requester(&self) -> Option<User> {
        Some(User::referenced(self.model.requester_id))
    }

    /// The staff member handling the ticket; null while unassigned.
    async fn assignee(&self) -> Option<User> {
        self.model.assignee_id.map(User::referenced)
    }

    /// The project the ticket is about; null when there is none or the caller cannot read it.
    async fn project(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Project>> {
        let Some(id) = self.model.project_id else {
            return Ok(None);
        };
        Ok(loaders::load_one::<ProjectLoader>(ctx, id)
            .await?
            .map(Project::from))
    }
}

/// Filters for `supportTickets`. All given filters must match.
#[derive(InputObject, Default)]
pub struct SupportTicketFilter {
    /// Only tickets in this status.
    pub status: Option<TicketStatus>,
    /// Only tickets with this priority.
    pub priority: Option<TicketPriority>,
    /// Only tickets about this project.
    pub project_id: Option<ID>,
    /// Only tickets opened by this user.
    pub requester_id: Option<ID>,
    /// Only tickets assigned to this user.
    pub assignee_id: Option<ID>,
}

/// Sort keys for `supportTickets`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum, Default)]
pub enum SupportTicketOrderBy {
    /// When the ticket was opened.
    #[default]
    CreatedAt,
    /// When the ticket last changed.
    UpdatedAt,
}

impl From<SupportTicketOrderBy> for TicketOrderField {
    fn from(v: SupportTicketOrderBy) -> Self {
        match v {
            SupportTicketOrderBy::CreatedAt => Self::CreatedAt,
            SupportTicketOrderBy::UpdatedAt => Self::UpdatedAt,
        }
    }
}

/// Ordering for `supportTickets` (ties broken by id). Default: newest first.
#[derive(InputObject)]
pub struct SupportTicketOrder {
    /// The sort key.
    pub field: SupportTicketOrderBy,
    /// Default: DESC.
    #[graphql(default_with = "OrderDirection::Desc")]
    pub direction: OrderDirection,
}

/// Open a support ticket.
#[derive(InputObject)]
pub struct CreateSupportTicketInput {
    /// One line, 1–200 characters.
    pub subject: String,
    /// 1–20,000 characters.
    pub body: String,
    /// Default: NORMAL.
    pub priority: Option<TicketPriority>,
    /// A project the caller can read, if the ticket is about one.
    pub project_id: Option<ID>,
}

/// Change a support ticket. Omitted fields stay as they are. Staff and admins may change every
/// field; the requester may edit `subject` and `body` while the ticket is OPEN, and may set
/// `status` to CLOSED.
#[derive(InputObject)]
pub struct UpdateSupportTicketInput {
    /// The ticket to change.
    pub id: ID,
    /// The new status. Allowed moves: OPEN → IN_PROGRESS/RESOLVED/CLOSED, IN_PROGRESS →
    /// OPEN/RESOLVED/CLOSED, RESOLVED → CLOSED/OPEN, CLOSED → OPEN.
    pub status: MaybeUndefined<TicketStatus>,
    /// The new priority (staff only).
    pub priority: MaybeUndefined<TicketPriority>,
    /// A staff member or admin to handle the ticket; null unassigns it (staff only).
    pub assignee_id: MaybeUndefined<ID>,
    /// One line, 1–200 characters.
    pub subject: MaybeUndefined<String>,
    /// 1–20,000 characters.
    pub body: MaybeUndefined<String>,
}

/// Result of `createSupportTicket`.
#[derive(SimpleObject)]
pub struct CreateSupportTicketPayload {
    /// The new ticket (status OPEN, version 1).
    pub ticket: SupportTicket,
}

/// Result of `updateSupportTicket`.
#[derive(SimpleObject)]
pub struct UpdateSupportTicketPayload {
    /// The ticket after the change.
    pub ticket: SupportTicket,
}

write::payload_of!(support_tickets::Model => CreateSupportTicketPayload.ticket, UpdateSupportTicketPayload.ticket);

impl UpdateInput for UpdateSupportTicketInput {
    type Patch = domain::UpdateTicket;

    fn id(&self) -> &ID {
        &self.id
    }

    fn into_patch(self) -> Result<domain::UpdateTicket, Error> {
        let assignee_id = match &self.assignee_id {
            MaybeUndefined::Undefined => Patch::Unchanged,
            MaybeUndefined::Null => Patch::Null,
            MaybeUndefined::Value(a) => Patch::Set(parse_id("assignee_id", a)?),
        };
        Ok(domain::UpdateTicket {
            status: Patch::from(self.status.map_value(DbTicketStatus::from)),
            priority: Patch::from(self.priority.map_value(DbTicketPriority::from)),
            assignee_id,
            subject: self.subject.into(),
            body: self.body.into(),
        })
    }
}
