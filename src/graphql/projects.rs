//! Projects: `projects`, `project`, `createProject`, `updateProject`, `deleteProject`.

use async_graphql::{Context, ID, Object};
use uuid::Uuid;

use super::IntoGql;
use super::connection::{self, Conn, connection};
use super::context::parse_id;
use super::loaders::{self, LatestPostsLoader, OpenTicketCountLoader, PostCountLoader, UserLoader};
use super::types::{
    CreateProjectInput, CreateProjectPayload, DeleteProjectInput, DeleteProjectPayload, Project,
    ProjectFilter, ProjectOrder, UpdateProjectInput, UpdateProjectPayload,
};
use super::write;
use crate::domain::context::WriteOptions;
use crate::domain::pagination::PageArgs;
use crate::domain::projects as domain;
use crate::entity::projects;
use crate::error::Error;

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

connection::paged_query! {
    ProjectQuery {}

    /// Projects the caller may read: public ones, plus their own private ones (admins: all).
    projects(filter: Option<ProjectFilter>, order_by: Option<ProjectOrder>) -> Project = list_projects;

    /// One project, or null when it does not exist or is not readable by the caller.
    async fn project(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Project>> {
        connection::one::<projects::Entity, _>(ctx, &id).await
    }
}

async fn list_projects(
    ctx: &Context<'_>,
    args: PageArgs,
    filter: Option<ProjectFilter>,
    order_by: Option<ProjectOrder>,
) -> async_graphql::Result<Conn<Project>> {
    let filter = filter_to_domain(filter).gql()?;
    let ordering = domain::ordering(order_by.map(|o| (o.field.into(), o.direction.into())));
    let (page, count) = connection::page(ctx, filter, &ordering, args).await?;
    let owners = page.items.iter().map(|p| p.owner_id);
    let ids = || page.items.iter().map(|p| p.id);
    let when = |field: &str| {
        let selected = loaders::selects(ctx, field);
        move |_: &Uuid| selected
    };
    futures::try_join!(
        loaders::prefetch::<UserLoader, _>(ctx, owners.filter(when("owner"))),
        loaders::prefetch::<OpenTicketCountLoader, _>(ctx, ids().filter(when("openTicketCount"))),
        loaders::prefetch::<PostCountLoader, _>(ctx, ids().filter(when("postCount"))),
        loaders::prefetch::<LatestPostsLoader, _>(ctx, ids().filter(when("latestPosts"))),
    )?;
    Ok(connection(page, Project::from, count))
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
        write::create(ctx, input, idempotency_key, domain::create).await
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
        let options = WriteOptions::new(expected_version, idempotency_key);
        write::update(ctx, input, options, domain::update).await
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
