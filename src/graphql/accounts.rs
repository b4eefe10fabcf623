//! Accounts: `viewer`, `register`, `login`.

use async_graphql::{Context, Object};

use super::IntoGql;
use super::context::cx;
use super::types::{AuthPayload, LoginInput, RegisterInput, RegisterPayload, User};
use crate::domain::accounts;

#[derive(Default)]
pub struct AccountQuery;

#[Object]
impl AccountQuery {
    /// The signed-in user; null for anonymous requests.
    async fn viewer(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<User>> {
        Ok(accounts::viewer(cx(ctx)?).await.gql()?.map(User::own))
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
        let user = accounts::register(cx(ctx)?, input).await.gql()?;
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
        let login = accounts::login(cx(ctx)?, input).await.gql()?;
        Ok(AuthPayload {
            access_token: login.access_token,
            token_type: "bearer".into(),
            expires_in: login.expires_in,
            user: User::own(login.user),
        })
    }
}
