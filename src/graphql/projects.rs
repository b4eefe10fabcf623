//! Projects: `projects`, `project`, `createProject`, `updateProject`, `deleteProject`.

use async_graphql::{Context, ID, Object};

use super::IntoGql;
use super::connection::{self, Conn, connection, page_args};
use super::context::parse_id;
use super::loaders::{self, LatestPostsLoader, OpenTicketCountLoader, PostCountLoader, UserLoader};
use super::types::{
    CreateProjectInput, CreateProjectPayload, DeleteProjectInput, DeleteProjectPayload, Project,
    ProjectFilter, ProjectOrder, UpdateProjectInput, UpdateProjectPayload,
};
use super::write;
use crate::bounds::DEFAULT_PAGE_SIZE;
use crate::domain::pagination::Direction;
use crate::domain::projects as domain;
use crate::entity::projects;
use crate::error::Error;

/// Cost of a connection field for the complexity limit: each item costs its selection.
pub fn page_cost(first: Option<i32>, last: Option<i32>, child: usize) -> usize {
    let n = first.or(last).unwrap_or(DEFAULT_PAGE_SIZE).clamp(1, 100);
    usize::try_from(n).unwrap_or(100) * child.max(1) + 1
}

fn filter_to_domain(filter: Option<ProjectFilter>) -> Result<domain::ProjectFilter, Error> {
    let f = filter.unwrap_or_default();
    Ok(domain::ProjectFilter {
        q: f.q,
        visibility: f.visibility.map(Into::into),
        owner_id: f
            .owner_id
            .as_ref()
            .map(|id| parse_id("ownerId", id))
            .transpose()?,
    })
}

#[derive(Default)]
pub struct ProjectQuery;

#[Object]
impl ProjectQuery {
    /// Projects the caller may read: public ones, plus their own private ones (admins: all).
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    async fn projects(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        #[graphql(desc = "Skip this many items (for page numbers); only with `first`.")]
        offset: Option<i32>,
        filter: Option<ProjectFilter>,
        order_by: Option<ProjectOrder>,
    ) -> async_graphql::Result<Conn<Project>> {
        let filter = filter_to_domain(filter).gql()?;
        let (field, direction) = order_by.map_or((Default::default(), Direction::Desc), |o| {
            (o.field.into(), o.direction.into())
        });
        let ordering = domain::ordering(field, direction);
        let args = page_args(first, after, last, before, offset);
        let (page, count) = connection::page(ctx, filter, &ordering, args).await?;
        let owners = page.items.iter().map(|p| p.owner_id);
        let ids = || page.items.iter().map(|p| p.id);
        let when = |field: &str| loaders::selects(ctx, field);
        futures::try_join!(
            loaders::prefetch::<UserLoader, _>(ctx, owners.filter(|_| when("owner"))),
            loaders::prefetch::<OpenTicketCountLoader, _>(
                ctx,
                ids().filter(|_| when("openTicketCount"))
            ),
            loaders::prefetch::<PostCountLoader, _>(ctx, ids().filter(|_| when("postCount"))),
            loaders::prefetch::<LatestPostsLoader, _>(ctx, ids().filter(|_| when("latestPosts"))),
        )?;
        Ok(connection(page, Project::from, count))
    }

    /// One project, or null when it does not exist or is not readable by the caller.
    async fn project(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Project>> {
        connection::one::<projects::Entity, _>(ctx, &id).await
    }
}

#[derive(Default)]
pub struct ProjectMutation;

#[Object]
impl ProjectMutation {
    /// Create a project owned by the caller.
    async fn create_project(
        &self,
        ctx: &Context<'_>,
        input: CreateProjectInput,
        #[graphql(desc = "Retry-safe key: the same key and input replay the first result.")]
        idempotency_key: Option<String>,
    ) -> async_graphql::Result<CreateProjectPayload> {
        let input = domain::CreateProject {
            name: input.name,
            description: input.description,
            visibility: input.visibility.map(Into::into),
        };
        let project = write::create(ctx, input, idempotency_key, domain::create).await?;
        Ok(CreateProjectPayload {
            project: project.into(),
        })
    }

    /// Change a project (owner or admin).
    async fn update_project(
        &self,
        ctx: &Context<'_>,
        input: UpdateProjectInput,
        #[graphql(desc = "Fail with PRECONDITION_FAILED unless the project is at this version.")]
        expected_version: Option<i32>,
        #[graphql(desc = "Retry-safe key: the same key and input replay the first result.")]
        idempotency_key: Option<String>,
    ) -> async_graphql::Result<UpdateProjectPayload> {
        let project = write::update(
            ctx,
            input,
            expected_version,
            idempotency_key,
            domain::update,
        )
        .await?;
        Ok(UpdateProjectPayload {
            project: project.into(),
        })
    }

    /// Delete a project (owner or admin). Its tickets and posts stay, detached from it.
    async fn delete_project(
        &self,
        ctx: &Context<'_>,
        input: DeleteProjectInput,
        #[graphql(desc = "Fail with PRECONDITION_FAILED unless the project is at this version.")]
        expected_version: Option<i32>,
    ) -> async_graphql::Result<DeleteProjectPayload> {
        let deleted_id =
            write::delete::<projects::Entity>(ctx, &input.id, expected_version).await?;
        Ok(DeleteProjectPayload { deleted_id })
    }
}
