use async_graphql::{ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};

use crate::entity::sessions;

/// A signed-in device: one sign-in and the refreshes that followed it.
pub struct Session {
    pub model: sessions::Model,
    /// Whether this is the session of the request's own token.
    pub current: bool,
}

#[Object]
impl Session {
    /// Opaque, stable identifier.
    async fn id(&self) -> ID {
        ID(self.model.id.to_string())
    }

    /// The label given at sign-in (`device`), if any.
    async fn device_label(&self) -> Option<&str> {
        self.model.device_label.as_deref()
    }

    /// The `User-Agent` of the sign-in request.
    async fn user_agent(&self) -> Option<&str> {
        self.model.user_agent.as_deref()
    }

    /// The client address of the sign-in request.
    async fn ip(&self) -> Option<&str> {
        self.model.ip.as_deref()
    }

    /// When the session was opened (UTC).
    async fn created_at(&self) -> DateTime<Utc> {
        self.model.created_at
    }

    /// When the session was last used (UTC; updated at most once a minute).
    async fn last_seen_at(&self) -> DateTime<Utc> {
        self.model.last_seen_at
    }

    /// True for the session making this request.
    async fn current(&self) -> bool {
        self.current
    }
}

/// The caller's open sessions, newest first.
#[derive(SimpleObject)]
pub struct SessionList {
    /// Open sessions in all.
    pub total_count: i64,
    /// This page of them.
    pub nodes: Vec<Session>,
}

/// End one of your sessions.
#[derive(InputObject)]
pub struct RevokeSessionInput {
    /// The session's id (from `sessions`).
    pub id: ID,
}

/// Result of `revokeSession`.
#[derive(SimpleObject)]
pub struct RevokeSessionPayload {
    /// The session that ended.
    pub session_id: ID,
}

/// Result of `revokeOtherSessions`.
#[derive(SimpleObject)]
pub struct RevokeOtherSessionsPayload {
    /// How many sessions ended.
    pub revoked_count: i64,
}
