//! Relay object identification: `node(id)` and `nodes(ids)`.

use async_graphql::dataloader::DataLoader;
use async_graphql::{Context, ID, Interface, Object};
use uuid::Uuid;

use super::context::principal;
use super::loaders::{ProjectLoader, UserLoader, loader_error};
use super::types::{Project, User};
use super::IntoGql;
use crate::domain::projects;
use crate::error::Error;

/// An object with a globally unique id.
#[derive(Interface)]
#[graphql(field(name = "id", ty = "ID", desc = "Opaque, globally unique identifier."))]
pub enum Node {
    User(User),
    Project(Project),
}

async fn resolve(ctx: &Context<'_>, id: &ID) -> async_graphql::Result<Option<Node>> {
    // Ids are UUIDv7s, unique across tables; an id that is not one refers to nothing.
    let Ok(id) = Uuid::parse_str(id.as_str()) else { return Ok(None) };
    let users = ctx.data::<DataLoader<UserLoader>>()?;
    let projects_loader = ctx.data::<DataLoader<ProjectLoader>>()?;
    let (user, project) = futures::try_join!(users.load_one(id), projects_loader.load_one(id)).map_err(loader_error)?;
    if let Some(user) = user {
        return Ok(Some(Node::User(User::new(user))));
    }
    Ok(project.filter(|p| projects::can_read(principal(ctx), p)).map(|p| Node::Project(p.into())))
}

#[derive(Default)]
pub struct NodeQuery;

#[Object]
impl NodeQuery {
    /// Fetch any object by id; null when it does not exist or the caller may not read it.
    async fn node(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Node>> {
        resolve(ctx, &id).await
    }

    /// Fetch several objects by id, in order; null entries for the missing or unreadable.
    async fn nodes(&self, ctx: &Context<'_>, ids: Vec<ID>) -> async_graphql::Result<Vec<Option<Node>>> {
        if ids.len() > 100 {
            return Err(Error::BadRequest("`ids` takes at most 100 ids".into())).gql();
        }
        futures::future::try_join_all(ids.iter().map(|id| resolve(ctx, id))).await
    }
}
