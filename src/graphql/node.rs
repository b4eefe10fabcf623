//! Relay object identification: `node(id)` and `nodes(ids)`.

use async_graphql::{Context, ID, Interface, Object};
use uuid::Uuid;

use super::IntoGql;
use super::loaders::{
    self, PostLoader, ProjectLoader, StatusEventLoader, TicketLoader, UserLoader,
};
use super::types::{CommunityPost, Project, StatusEvent, SupportTicket, User};
use crate::error::Error;

/// An object with a globally unique id.
#[derive(Interface)]
#[graphql(field(name = "id", ty = "ID", desc = "Opaque, globally unique identifier."))]
pub enum Node {
    User(User),
    Project(Project),
    SupportTicket(SupportTicket),
    CommunityPost(CommunityPost),
    StatusEvent(StatusEvent),
}

async fn resolve(ctx: &Context<'_>, id: &ID) -> async_graphql::Result<Option<Node>> {
    // Ids are UUIDv7s, unique across tables; an id that is not one refers to nothing.
    let Ok(id) = Uuid::parse_str(id.as_str()) else {
        return Ok(None);
    };
    // Each batch function returns only what the caller may read: the domain decides.
    let (user, project, ticket, post, event) = futures::try_join!(
        loaders::load_one::<UserLoader>(ctx, id),
        loaders::load_one::<ProjectLoader>(ctx, id),
        loaders::load_one::<TicketLoader>(ctx, id),
        loaders::load_one::<PostLoader>(ctx, id),
        loaders::load_one::<StatusEventLoader>(ctx, id),
    )?;
    let node = user
        .map(|u| Node::User(User::new(u)))
        .or_else(|| project.map(|p| Node::Project(p.into())))
        .or_else(|| ticket.map(|t| Node::SupportTicket(t.into())))
        .or_else(|| post.map(|p| Node::CommunityPost(p.into())))
        .or_else(|| event.map(|e| Node::StatusEvent(e.into())));
    Ok(node)
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
    async fn nodes(
        &self,
        ctx: &Context<'_>,
        ids: Vec<ID>,
    ) -> async_graphql::Result<Vec<Option<Node>>> {
        if ids.len() > 100 {
            return Err(Error::BadRequest("`ids` takes at most 100 ids".into())).gql();
        }
        futures::future::try_join_all(ids.iter().map(|id| resolve(ctx, id))).await
    }
}
