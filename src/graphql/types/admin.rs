use async_graphql::{ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};

use super::{User, UserRole};
use crate::entity::audit_events;

/// Give an account another role (admins).
#[derive(InputObject)]
pub struct SetUserRoleInput {
    /// The account's id.
    pub id: ID,
    pub role: UserRole,
}

/// An account to act on (admins).
#[derive(InputObject)]
pub struct UserIdInput {
    /// The account's id.
    pub id: ID,
}

/// The account after an admin's change.
#[derive(SimpleObject)]
pub struct AdminUserPayload {
    pub user: User,
}

/// Result of `deleteUser`.
#[derive(SimpleObject)]
pub struct DeleteUserPayload {
    pub deleted_id: ID,
}

/// Result of `revokeUserSessions`.
#[derive(SimpleObject)]
pub struct RevokeUserSessionsPayload {
    /// How many sessions ended.
    pub revoked_count: i64,
}

/// Narrow the audit log; all given members must match.
#[derive(InputObject, Default)]
pub struct AuditEventFilter {
    /// Events caused by this user.
    pub actor_id: Option<ID>,
    /// An action (`login.failed`), or a family with a trailing dot (`2fa.`, `user.`).
    pub action: Option<String>,
    /// A target, e.g. `user:<id>`, `session:<id>`, `project:<id>`.
    pub target: Option<String>,
    /// From this instant (inclusive).
    pub since: Option<DateTime<Utc>>,
    /// Before this instant (exclusive).
    pub until: Option<DateTime<Utc>>,
}

/// One security-relevant change, written in the transaction that made it.
pub struct AuditEvent(pub audit_events::Model);

impl From<audit_events::Model> for AuditEvent {
    fn from(model: audit_events::Model) -> Self {
        Self(model)
    }
}

#[Object]
impl AuditEvent {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// When it happened (UTC).
    async fn at(&self) -> DateTime<Utc> {
        self.0.at
    }

    /// Who did it; null for anonymous requests (failed sign-ins, reset requests) and the system.
    async fn actor_id(&self) -> Option<ID> {
        self.0.actor_id.map(|id| ID(id.to_string()))
    }

    /// What happened, e.g. `login`, `login.failed`, `refresh_token.reused`, `2fa.enabled`,
    /// `password.changed`, `user.role_changed`, `project.deleted`.
    async fn action(&self) -> &str {
        &self.0.action
    }

    /// What it happened to, e.g. `user:<id>`.
    async fn target(&self) -> Option<&str> {
        self.0.target.as_deref()
    }

    /// The client address of the request.
    async fn ip(&self) -> Option<&str> {
        self.0.ip.as_deref()
    }

    /// The request's `X-Request-Id`.
    async fn request_id(&self) -> Option<&str> {
        self.0.request_id.as_deref()
    }

    /// Further facts as a JSON object, encoded as a string (e.g. `{"from":"user","to":"staff"}`).
    async fn details(&self) -> Option<&str> {
        self.0.details.as_deref()
    }
}
