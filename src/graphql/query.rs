use async_graphql::{Context, Object};

use super::IntoGql;
use super::types::User;
use crate::auth::Principal;
use crate::db::Db;
use crate::domain::accounts;

pub struct QueryRoot;

#[Object]
impl QueryRoot {
    /// The signed-in user; null for anonymous requests.
    async fn viewer(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<User>> {
        let principal = ctx.data::<Principal>()?;
        Ok(accounts::viewer(ctx.data::<Db>()?, principal)
            .await
            .gql()?
            .map(User::own))
    }
}
