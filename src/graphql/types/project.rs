use async_graphql::{Context, Enum, ID, InputObject, MaybeUndefined, Object, SimpleObject};
use chrono::{DateTime, Utc};

use super::{CommunityPost, OrderDirection, User};
use crate::domain::projects::{self as domain, ProjectOrderField};
use crate::entity::projects::{self, Visibility as DbVisibility};
use crate::error::Error;
use crate::graphql::context::principal;
use crate::graphql::loaders::{self, LatestPostsLoader, OpenTicketCountLoader, PostCountLoader};
use crate::graphql::write::{self, UpdateInput};

/// Who can see a project.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum)]
pub enum Visibility {
    /// Anyone, signed in or not.
    Public,
    /// Only the owner and admins.
    Private,
}

impl From<DbVisibility> for Visibility {
    fn from(v: DbVisibility) -> Self {
        match v {
            DbVisibility::Public => Self::Public,
            DbVisibility::Private => Self::Private,
        }
    }
}

impl From<Visibility> for DbVisibility {
    fn from(v: Visibility) -> Self {
        match v {
            Visibility::Public => Self::Public,
            Visibility::Private => Self::Private,
        }
    }
}

/// A project as the schema presents it: the row itself, each field read from it when it is
/// selected (a projection built up front copied every listed project's name and description,
/// selected or not). The schema's description is the `#[Object]` impl's.
pub struct Project {
    pub model: projects::Model,
}

impl From<projects::Model> for Project {
    fn from(model: projects::Model) -> Self {
        Self { model }
    }
}

/// A NeoForge project.
#[Object]
impl Project {
    /// 1–120 characters.
    async fn name(&self) -> &str {
        &self.model.name
    }

    /// Up to 5,000 characters (may be empty).
    async fn description(&self) -> &str {
        &self.model.description
    }

    /// Who can see the project.
    async fn visibility(&self) -> Visibility {
        self.model.visibility.into()
    }

    /// When the project was created (UTC).
    async fn created_at(&self) -> DateTime<Utc> {
        self.model.created_at
    }

    /// When the project last changed (UTC).
    async fn updated_at(&self) -> DateTime<Utc> {
        self.model.updated_at
    }

    /// Starts at 1, +1 on every change. Pass it as `expectedVersion` to update safely.
    async fn version(&self) -> i32 {
        self.model.version
    }

    /// Opaque, stable identifier.
    pub async fn id(&self) -> ID {
        ID(self.model.id.to_string())
    }

    /// The owner's id: `owner { id }` without loading the user.
    async fn owner_id(&self) -> ID {
        ID(self.model.owner_id.to_string())
    }

    /// The user who owns the project.
    async fn owner(&self) -> Option<User> {
        Some(User::referenced(self.model.owner_id))
    }

    /// Support tickets of this project that are still open (`OPEN` or `IN_PROGRESS`).
    async fn open_ticket_count(&self, ctx: &Context<'_>) -> async_graphql::Result<i64> {
        Ok(
            loaders::load_one::<OpenTicketCountLoader>(ctx, self.model.id)
                .await?
                .unwrap_or(0),
        )
    }

    /// Number of community posts about this project.
    async fn post_count(&self, ctx: &Context<'_>) -> async_graphql::Result<i64> {
        Ok(loaders::load_one::<PostCountLoader>(ctx, self.model.id)
            .await?
            .unwrap_or(0))
    }

    /// The project's newest community posts (at most 3), newest first.
    async fn latest_posts(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<CommunityPost>> {
        let posts = loaders::load_one::<LatestPostsLoader>(ctx, self.model.id).await?;
        Ok(posts
            .unwrap_or_default()
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// Whether the caller may update or delete this project.
    async fn viewer_can_edit(&self, ctx: &Context<'_>) -> bool {
        let p = principal(ctx);
        p.is_admin() || p.user_id() == Some(self.model.owner_id)
    }
}

/// Filters for `projects`. All given filters must match.
#[derive(InputObject, Default)]
pub struct ProjectFilter {
    /// Case-insensitive substring of the name.
    pub q: Option<String>,
    /// Only projects with this visibility.
    pub visibility: Option<Visibility>,
    /// Only projects owned by this user.
    pub owner_id: Option<ID>,
}

/// Sort keys for `projects`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum, Default)]
pub enum ProjectOrderBy {
    /// When the project was created.
    #[default]
    CreatedAt,
    /// When the project last changed.
    UpdatedAt,
    /// Name, in byte order.
    Name,
}

impl From<ProjectOrderBy> for ProjectOrderField {
    fn from(v: ProjectOrderBy) -> Self {
        match v {
            ProjectOrderBy::CreatedAt => Self::CreatedAt,
            ProjectOrderBy::UpdatedAt => Self::UpdatedAt,
            ProjectOrderBy::Name => Self::Name,
        }
    }
}

/// Ordering for `projects` (ties broken by id). Default: newest first.
#[derive(InputObject)]
pub struct ProjectOrder {
    /// The sort key.
    pub field: ProjectOrderBy,
    /// Default: DESC.
    #[graphql(default_with = "OrderDirection::Desc")]
    pub direction: OrderDirection,
}

/// Create a project.
#[derive(InputObject)]
pub struct CreateProjectInput {
    /// 1–120 characters.
    pub name: String,
    /// Up to 5,000 characters.
    pub description: Option<String>,
    /// Default: PRIVATE.
    pub visibility: Option<Visibility>,
}

/// Change a project. Omitted fields stay as they are.
#[derive(InputObject)]
pub struct UpdateProjectInput {
    /// The project to change.
    pub id: ID,
    /// 1–120 characters; null is an error.
    pub name: MaybeUndefined<String>,
    /// Up to 5,000 characters; null is an error (send "" to clear).
    pub description: MaybeUndefined<String>,
    /// New visibility; null is an error.
    pub visibility: MaybeUndefined<Visibility>,
}

/// Delete a project.
#[derive(InputObject)]
pub struct DeleteProjectInput {
    /// The project to delete.
    pub id: ID,
}

/// Result of `createProject`.
#[derive(SimpleObject)]
pub struct CreateProjectPayload {
    /// The new project.
    pub project: Project,
}

/// Result of `updateProject`.
#[derive(SimpleObject)]
pub struct UpdateProjectPayload {
    /// The project as changed.
    pub project: Project,
}

write::payload_of!(projects::Model => CreateProjectPayload.project, UpdateProjectPayload.project);

/// Result of `deleteProject`.
#[derive(SimpleObject)]
pub struct DeleteProjectPayload {
    /// The id of the deleted project.
    pub deleted_id: ID,
}

impl UpdateInput for UpdateProjectInput {
    type Patch = domain::UpdateProject;

    fn id(&self) -> &ID {
        &self.id
    }

    fn into_patch(self) -> Result<domain::UpdateProject, Error> {
        Ok(domain::UpdateProject {
            name: self.name.into(),
            description: self.description.into(),
            visibility: crate::domain::patch::Patch::from(
                self.visibility.map_value(DbVisibility::from),
            ),
        })
    }
}
