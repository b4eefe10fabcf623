use async_graphql::{Context, Enum, ID, Object};
use chrono::{DateTime, Utc};

use crate::domain::accounts;
use crate::entity::users;

/// A NeoForge account.
pub struct User {
    model: users::Model,
    /// Set when the account is the caller's own, even before a token exists (register, login).
    own: bool,
}

impl User {
    pub fn new(model: users::Model) -> Self {
        Self { model, own: false }
    }

    /// The caller's own account: private fields are visible.
    pub fn own(model: users::Model) -> Self {
        Self { model, own: true }
    }
}

/// What an account may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
pub enum UserRole {
    /// A regular member.
    User,
    /// Support staff: handles tickets, moderates posts, records status events.
    Staff,
    /// Full administrative rights.
    Admin,
}

impl From<users::Role> for UserRole {
    fn from(role: users::Role) -> Self {
        match role {
            users::Role::User => Self::User,
            users::Role::Staff => Self::Staff,
            users::Role::Admin => Self::Admin,
        }
    }
}

impl User {
    /// The account's own state (not its profile): for the user and admins.
    fn private(&self, ctx: &Context<'_>) -> bool {
        let principal = crate::graphql::context::principal(ctx);
        self.own || principal.user_id() == Some(self.model.id) || principal.is_admin()
    }
}

#[Object]
impl User {
    /// Opaque, stable identifier.
    pub async fn id(&self) -> ID {
        ID(self.model.id.to_string())
    }

    /// Email address (lowercased). Visible only to the user themself and to staff; null otherwise.
    async fn email(&self, ctx: &Context<'_>) -> Option<&str> {
        let principal = crate::graphql::context::principal(ctx);
        (self.own || accounts::can_see_email(principal, &self.model))
            .then_some(self.model.email.as_str())
    }

    /// Public name shown next to the user's posts and tickets.
    async fn display_name(&self) -> &str {
        &self.model.display_name
    }

    /// The user's role.
    async fn role(&self) -> UserRole {
        self.model.role.into()
    }

    /// When the account was created (UTC).
    async fn created_at(&self) -> DateTime<Utc> {
        self.model.created_at
    }

    /// Whether an admin has disabled the account. Visible to the user and to admins.
    async fn disabled(&self, ctx: &Context<'_>) -> Option<bool> {
        self.private(ctx)
            .then_some(self.model.disabled_at.is_some())
    }

    /// Whether the email address was confirmed. Visible to the user and to admins.
    async fn email_verified(&self, ctx: &Context<'_>) -> Option<bool> {
        self.private(ctx)
            .then_some(self.model.email_verified_at.is_some())
    }

    /// Whether sign-in needs a TOTP code. Visible to the user and to admins.
    async fn two_factor_enabled(&self, ctx: &Context<'_>) -> Option<bool> {
        self.private(ctx).then_some(self.model.totp_enabled)
    }
}
