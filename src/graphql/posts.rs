//! Community posts: `communityPosts`, `communityPost`, `createCommunityPost`,
//! `updateCommunityPost`, `deleteCommunityPost`.

use async_graphql::{Context, ID, Object};

use super::connection::{self, Conn, connection};
use super::context::parse_id;
use super::loaders::{self, ProjectLoader, UserLoader};
use super::types::{
    CommunityPost, CommunityPostFilter, CommunityPostOrder, CreateCommunityPostInput,
    CreateCommunityPostPayload, DeleteCommunityPostInput, DeleteCommunityPostPayload,
    UpdateCommunityPostInput, UpdateCommunityPostPayload,
};
use super::{IntoGql, write};
use crate::domain::context::WriteOptions;
use crate::domain::pagination::PageArgs;
use crate::domain::posts as domain;
use crate::entity::community_posts;
use crate::error::Error;

fn filter_to_domain(filter: Option<CommunityPostFilter>) -> Result<domain::PostFilter, Error> {
    let f = filter.unwrap_or_default();
    Ok(domain::PostFilter {
        tag: f.tag,
        project_id: f
            .project_id
            .as_ref()
            .map(|id| parse_id("projectId", id))
            .transpose()?,
        author_id: f
            .author_id
            .as_ref()
            .map(|id| parse_id("authorId", id))
            .transpose()?,
    })
}

connection::paged_query! {
    PostQuery {}

    /// Community posts (readable by anyone). Default order: newest first.
    community_posts(
        #[graphql(desc = "Only posts matching every given filter.")] filter: Option<CommunityPostFilter>,
        #[graphql(desc = "Sort order; default: created, newest first.")] order_by: Option<CommunityPostOrder>,
    ) -> CommunityPost = list_posts;

    /// One community post, or null when it does not exist.
    async fn community_post(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The post's id.")] id: ID,
    ) -> async_graphql::Result<Option<CommunityPost>> {
        connection::one::<community_posts::Entity, _>(ctx, &id).await
    }
}

async fn list_posts(
    ctx: &Context<'_>,
    args: PageArgs,
    filter: Option<CommunityPostFilter>,
    order_by: Option<CommunityPostOrder>,
) -> async_graphql::Result<Conn<CommunityPost>> {
    let filter = filter_to_domain(filter).gql()?;
    let ordering = domain::ordering(order_by.map(|o| (o.field.into(), o.direction.into())));
    let (page, count) = connection::page(ctx, filter, &ordering, args).await?;
    let authors = page.items.iter().map(|p| p.author_id);
    let projects = page.items.iter().filter_map(|p| p.project_id);
    futures::try_join!(
        loaders::prefetch::<UserLoader, _>(
            ctx,
            authors.filter(|_| loaders::selects(ctx, "author"))
        ),
        loaders::prefetch::<ProjectLoader, _>(
            ctx,
            projects.filter(|_| loaders::selects(ctx, "project"))
        ),
    )?;
    Ok(connection(page, CommunityPost::from, count))
}

#[derive(Default)]
pub struct PostMutation;

#[Object]
impl PostMutation {
    /// Write a community post as the caller (signed-in users).
    async fn create_community_post(
        &self,
        ctx: &Context<'_>,
        input: CreateCommunityPostInput,
        #[graphql(desc = "Retry-safe key: the same key and input replay the first result.")]
        idempotency_key: Option<String>,
    ) -> async_graphql::Result<CreateCommunityPostPayload> {
        let input = domain::CreatePost {
            title: input.title,
            body: input.body,
            tags: input.tags.unwrap_or_default(),
            project_id: input
                .project_id
                .as_ref()
                .map(|id| parse_id("projectId", id))
                .transpose()
                .gql()?,
        };
        write::create(ctx, input, idempotency_key, domain::create).await
    }

    /// Change a community post (its author, staff or an admin).
    async fn update_community_post(
        &self,
        ctx: &Context<'_>,
        input: UpdateCommunityPostInput,
        #[graphql(desc = "Fail with PRECONDITION_FAILED unless the post is at this version.")]
        expected_version: Option<i32>,
        #[graphql(desc = "Retry-safe key: the same key and input replay the first result.")]
        idempotency_key: Option<String>,
    ) -> async_graphql::Result<UpdateCommunityPostPayload> {
        let options = WriteOptions::new(expected_version, idempotency_key);
        write::update(ctx, input, options, domain::update).await
    }

    /// Delete a community post (its author, staff or an admin).
    async fn delete_community_post(
        &self,
        ctx: &Context<'_>,
        input: DeleteCommunityPostInput,
        #[graphql(desc = "Fail with PRECONDITION_FAILED unless the post is at this version.")]
        expected_version: Option<i32>,
    ) -> async_graphql::Result<DeleteCommunityPostPayload> {
        let deleted_id =
            write::delete::<community_posts::Entity>(ctx, &input.id, expected_version).await?;
        Ok(DeleteCommunityPostPayload { deleted_id })
    }
}
