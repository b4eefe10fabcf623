//! Accounts: `viewer`, `register`, `login`.

use async_graphql::{Context, Object};

use super::IntoGql;
use super::context::parse_id;
use super::context::request_context;
use super::types::{
    AuthPayload, LoginInput, LogoutPayload, RefreshTokenInput, RegisterInput, RegisterPayload, User,
};
use super::types::{
    RevokeOtherSessionsPayload, RevokeSessionInput, RevokeSessionPayload, Session, SessionList,
};
use crate::domain::accounts;

#[derive(Default)]
pub struct AccountQuery;

#[Object]
impl AccountQuery {
    /// The signed-in user; null for anonymous requests.
    async fn viewer(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<User>> {
        Ok(accounts::viewer(request_context(ctx)?)
            .await
            .gql()?
            .map(User::own))
    }

    /// The caller's open sessions (signed-in devices), newest first; `current` marks the one
    /// making this request. `first` 1–100 (default 20).
    async fn sessions(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20, validator(minimum = 1, maximum = 100))] first: i32,
        #[graphql(default = 0, validator(minimum = 0))] offset: i32,
    ) -> async_graphql::Result<SessionList> {
        let request_context = request_context(ctx)?;
        let (first, offset) = (first.unsigned_abs().into(), offset.unsigned_abs().into());
        let (total, page) = accounts::devices::list(request_context, first, offset)
            .await
            .gql()?;
        let current = match &request_context.principal {
            crate::auth::Principal::User { session_id, .. } => Some(*session_id),
            crate::auth::Principal::Anonymous => None,
        };
        Ok(SessionList {
            total_count: i64::try_from(total).unwrap_or(i64::MAX),
            nodes: page
                .into_iter()
                .map(|model| Session {
                    current: Some(model.id) == current,
                    model,
                })
                .collect(),
        })
    }
}

#[derive(Default)]
pub struct AccountMutation;

#[Object]
impl AccountMutation {
    /// Create an account with role USER.
    async fn register(
        &self,
        ctx: &Context<'_>,
        input: RegisterInput,
    ) -> async_graphql::Result<RegisterPayload> {
        let input = accounts::RegisterInput {
            email: input.email,
            password: input.password,
            display_name: input.display_name,
        };
        let user = accounts::register(request_context(ctx)?, input)
            .await
            .gql()?;
        Ok(RegisterPayload {
            user: User::own(user),
        })
    }

    /// Sign in; returns a short-lived access token.
    async fn login(
        &self,
        ctx: &Context<'_>,
        input: LoginInput,
    ) -> async_graphql::Result<AuthPayload> {
        let input = accounts::LoginInput {
            email: input.email,
            password: input.password,
            totp_code: input.totp_code,
            device: input.device,
        };
        let login = accounts::login(request_context(ctx)?, input).await.gql()?;
        Ok(AuthPayload::from(login))
    }

    /// Exchange a refresh token for a new access token and a new refresh token (rotation).
    /// A refresh token works once: presenting it again ends its session.
    async fn refresh_token(
        &self,
        ctx: &Context<'_>,
        input: RefreshTokenInput,
    ) -> async_graphql::Result<AuthPayload> {
        let login = accounts::refresh(request_context(ctx)?, &input.refresh_token)
            .await
            .gql()?;
        Ok(AuthPayload::from(login))
    }

    /// Sign out: ends the caller's session (its refresh token stops working; its access tokens
    /// are refused within seconds on every server).
    async fn logout(&self, ctx: &Context<'_>) -> async_graphql::Result<LogoutPayload> {
        let revoked = accounts::logout(request_context(ctx)?).await.gql()?;
        Ok(LogoutPayload { revoked })
    }
}

#[derive(Default)]
pub struct SessionMutation;

#[Object]
impl SessionMutation {
    /// End one of your sessions (your current one too: that signs you out).
    async fn revoke_session(
        &self,
        ctx: &Context<'_>,
        input: RevokeSessionInput,
    ) -> async_graphql::Result<RevokeSessionPayload> {
        let id = parse_id("id", &input.id).gql()?;
        accounts::devices::revoke(request_context(ctx)?, id)
            .await
            .gql()?;
        Ok(RevokeSessionPayload {
            session_id: input.id,
        })
    }

    /// End every session of yours except the current one ("sign out everywhere else").
    async fn revoke_other_sessions(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<RevokeOtherSessionsPayload> {
        let ended = accounts::devices::revoke_others(request_context(ctx)?)
            .await
            .gql()?;
        Ok(RevokeOtherSessionsPayload {
            revoked_count: i64::try_from(ended).unwrap_or(i64::MAX),
        })
    }
}

impl From<accounts::Login> for AuthPayload {
    fn from(login: accounts::Login) -> Self {
        Self {
            access_token: login.access_token,
            token_type: "bearer".into(),
            expires_in: login.expires_in,
            refresh_token: Some(login.refresh_token),
            session_id: async_graphql::ID(login.session_id.to_string()),
            user: User::own(login.user),
        }
    }
}
