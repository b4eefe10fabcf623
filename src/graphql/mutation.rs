use async_graphql::{Context, Object};

use super::IntoGql;
use super::types::{AuthPayload, LoginInput, RegisterInput, RegisterPayload, User};
use crate::auth::JwtKeys;
use crate::db::Db;
use crate::domain::accounts;
use crate::state::RequestMeta;

pub struct MutationRoot;

fn meta<'a>(ctx: &'a Context<'_>) -> &'a RequestMeta {
    static NONE: std::sync::LazyLock<RequestMeta> = std::sync::LazyLock::new(RequestMeta::default);
    ctx.data_opt::<RequestMeta>().unwrap_or(&NONE)
}

#[Object]
impl MutationRoot {
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
        let user = accounts::register(ctx.data::<Db>()?, meta(ctx), input)
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
            device: input.device,
        };
        let login = accounts::login(ctx.data::<Db>()?, ctx.data::<JwtKeys>()?, meta(ctx), input)
            .await
            .gql()?;
        Ok(AuthPayload {
            access_token: login.access_token,
            token_type: "bearer".into(),
            expires_in: login.expires_in,
            user: User::own(login.user),
        })
    }
}
