use async_graphql::{Context, Enum, ID, Object};
use chrono::{DateTime, Utc};
use tokio::sync::OnceCell;
use uuid::Uuid;

use crate::domain::accounts;
use crate::entity::users;
use crate::error::Error;
use crate::graphql::IntoGql;
use crate::graphql::loaders::{self, UserLoader};

/// A NeoForge account.
pub struct User {
    id: Uuid,
    /// The row, once known: a user reached through a foreign key (`owner`, `author`, …) is
    /// loaded only when a field other than `id` is asked for, through the request's batching
    /// loader, so `owner { id }` costs no statement.
    model: OnceCell<users::Model>,
    /// Set when the account is the caller's own, even before a token exists (register, login).
    own: bool,
}

impl User {
    pub fn new(model: users::Model) -> Self {
        Self {
            id: model.id,
            model: OnceCell::new_with(Some(model)),
            own: false,
        }
    }

    /// The caller's own account: private fields are visible.
    pub fn own(model: users::Model) -> Self {
        Self {
            own: true,
            ..Self::new(model)
        }
    }

    /// The user a foreign key names. Anyone may read a user's profile, and every foreign key
    /// to `users` either cascades or sets null on delete, so the row exists.
    pub fn referenced(id: Uuid) -> Self {
        Self {
            id,
            model: OnceCell::new(),
            own: false,
        }
    }

    async fn model(&self, ctx: &Context<'_>) -> async_graphql::Result<&users::Model> {
        self.model
            .get_or_try_init(|| async {
                loaders::load_one::<UserLoader>(ctx, self.id)
                    .await?
                    .ok_or_else(|| Error::NotFound("user".into()))
                    .gql()
            })
            .await
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
        self.own || principal.user_id() == Some(self.id) || principal.is_admin()
    }

    /// `flag` of the account's state for those who may see it, null for anyone else.
    async fn private_flag(
        &self,
        ctx: &Context<'_>,
        flag: impl FnOnce(&users::Model) -> bool,
    ) -> async_graphql::Result<Option<bool>> {
        if !self.private(ctx) {
            return Ok(None);
        }
        Ok(Some(flag(self.model(ctx).await?)))
    }
}

#[Object]
impl User {
    /// Opaque, stable identifier.
    pub async fn id(&self) -> ID {
        ID(self.id.to_string())
    }

    /// Email address (lowercased). Visible only to the user themself and to staff; null otherwise.
    async fn email(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<&str>> {
        let principal = crate::graphql::context::principal(ctx);
        let model = self.model(ctx).await?;
        Ok((self.own || accounts::can_see_email(principal, model)).then_some(model.email.as_str()))
    }

    /// Public name shown next to the user's posts and tickets.
    async fn display_name(&self, ctx: &Context<'_>) -> async_graphql::Result<&str> {
        Ok(&self.model(ctx).await?.display_name)
    }

    /// The user's role.
    async fn role(&self, ctx: &Context<'_>) -> async_graphql::Result<UserRole> {
        Ok(self.model(ctx).await?.role.into())
    }

    /// When the account was created (UTC).
    async fn created_at(&self, ctx: &Context<'_>) -> async_graphql::Result<DateTime<Utc>> {
        Ok(self.model(ctx).await?.created_at)
    }

    /// Whether an admin has disabled the account. Visible to the user and to admins.
    async fn disabled(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<bool>> {
        self.private_flag(ctx, |m| m.disabled_at.is_some()).await
    }

    /// Whether the email address was confirmed. Visible to the user and to admins.
    async fn email_verified(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<bool>> {
        self.private_flag(ctx, |m| m.email_verified_at.is_some())
            .await
    }

    /// Whether sign-in needs a TOTP code. Visible to the user and to admins.
    async fn two_factor_enabled(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<bool>> {
        self.private_flag(ctx, |m| m.totp_enabled).await
    }
}
