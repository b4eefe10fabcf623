use async_graphql::{ComplexObject, Enum, ID, InputObject, SimpleObject};
use chrono::{DateTime, Utc};

use super::{OrderDirection, User};
use crate::domain::status::StatusSummary;
use crate::entity::service_statuses;
use crate::entity::status_events::{self, ServiceStatus as DbServiceStatus};

/// How well a service works, from best to worst: the order is the order of severity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
pub enum ServiceStatusLevel {
    /// Working normally.
    Operational,
    /// Planned maintenance.
    Maintenance,
    /// Working, but slower or less reliable than usual.
    Degraded,
    /// Part of the service is unavailable.
    PartialOutage,
    /// The service is unavailable.
    MajorOutage,
}

impl From<DbServiceStatus> for ServiceStatusLevel {
    fn from(s: DbServiceStatus) -> Self {
        match s {
            DbServiceStatus::Operational => Self::Operational,
            DbServiceStatus::Maintenance => Self::Maintenance,
            DbServiceStatus::Degraded => Self::Degraded,
            DbServiceStatus::PartialOutage => Self::PartialOutage,
            DbServiceStatus::MajorOutage => Self::MajorOutage,
        }
    }
}

impl From<ServiceStatusLevel> for DbServiceStatus {
    fn from(s: ServiceStatusLevel) -> Self {
        match s {
            ServiceStatusLevel::Operational => Self::Operational,
            ServiceStatusLevel::Maintenance => Self::Maintenance,
            ServiceStatusLevel::Degraded => Self::Degraded,
            ServiceStatusLevel::PartialOutage => Self::PartialOutage,
            ServiceStatusLevel::MajorOutage => Self::MajorOutage,
        }
    }
}

/// One recorded status of a service, at a moment in time. Events are never changed or deleted.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct StatusEvent {
    /// The service: a lowercase slug, 1–64 characters.
    pub service: String,
    /// The service's status from this moment on.
    pub status: ServiceStatusLevel,
    /// What is happening (up to 2,000 characters; may be empty).
    pub message: String,
    /// When the event was recorded (UTC).
    pub created_at: DateTime<Utc>,
    #[graphql(skip)]
    pub model: status_events::Model,
}

impl From<status_events::Model> for StatusEvent {
    fn from(m: status_events::Model) -> Self {
        Self {
            service: m.service.clone(),
            status: m.status.into(),
            message: m.message.clone(),
            created_at: m.created_at,
            model: m,
        }
    }
}

#[ComplexObject]
impl StatusEvent {
    /// Opaque, stable identifier.
    pub async fn id(&self) -> ID {
        ID(self.model.id.to_string())
    }

    /// The id of the staff member or admin who recorded the event; null once their account is
    /// deleted.
    async fn created_by_id(&self) -> Option<ID> {
        self.model.created_by.map(|id| ID(id.to_string()))
    }

    /// The staff member or admin who recorded the event; null once their account is deleted.
    async fn created_by(&self) -> Option<User> {
        self.model.created_by.map(User::referenced)
    }
}

/// The current state of one service: its latest event.
#[derive(SimpleObject)]
pub struct ServiceState {
    /// The service: a lowercase slug.
    pub service: String,
    /// The status of the service's latest event.
    pub status: ServiceStatusLevel,
    /// The message of the service's latest event (may be empty).
    pub message: String,
    /// When the current status began: the first event of the unbroken run of this status.
    pub since: DateTime<Utc>,
    /// When the service's latest event was recorded.
    pub updated_at: DateTime<Utc>,
}

impl From<service_statuses::Model> for ServiceState {
    fn from(m: service_statuses::Model) -> Self {
        Self {
            service: m.service,
            status: m.status.into(),
            message: m.message,
            since: m.since,
            updated_at: m.updated_at,
        }
    }
}

/// The status page: every service that ever had an event, and the overall status.
#[derive(SimpleObject)]
pub struct ServiceStatusSummary {
    /// The most severe status of any service; OPERATIONAL when no event was ever recorded.
    pub overall: ServiceStatusLevel,
    /// Every service's current state, sorted by service name.
    pub services: Vec<ServiceState>,
    /// When the latest event of any service was recorded; null when there is none.
    pub updated_at: Option<DateTime<Utc>>,
}

impl From<StatusSummary> for ServiceStatusSummary {
    fn from(s: StatusSummary) -> Self {
        Self {
            overall: s.overall.into(),
            services: s.services.into_iter().map(Into::into).collect(),
            updated_at: s.updated_at,
        }
    }
}

/// Filters for `statusEvents`.
#[derive(InputObject, Default)]
pub struct StatusEventFilter {
    /// Only events of this service (a lowercase slug).
    pub service: Option<String>,
}

/// Sort keys for `statusEvents`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum, Default)]
pub enum StatusEventOrderBy {
    /// When the event was recorded.
    #[default]
    CreatedAt,
}

/// Ordering for `statusEvents` (ties broken by id). Default: newest first.
#[derive(InputObject)]
pub struct StatusEventOrder {
    /// The sort key.
    pub field: StatusEventOrderBy,
    /// Default: DESC.
    #[graphql(default_with = "OrderDirection::Desc")]
    pub direction: OrderDirection,
}

/// Record a service's status (staff and admins).
#[derive(InputObject)]
pub struct CreateStatusEventInput {
    /// The service: a lowercase slug (a-z, 0-9, inner hyphens), 1–64 characters.
    pub service: String,
    /// The service's status from now on.
    pub status: ServiceStatusLevel,
    /// What is happening: up to 2,000 characters. Default: empty.
    pub message: Option<String>,
}

/// Result of `createStatusEvent`.
#[derive(SimpleObject)]
pub struct CreateStatusEventPayload {
    /// The recorded event.
    pub status_event: StatusEvent,
}

crate::graphql::write::payload_of!(status_events::Model => CreateStatusEventPayload.status_event);
