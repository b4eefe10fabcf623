use async_graphql::{Context, Enum, ID, InputObject, MaybeUndefined, Object, SimpleObject};
use chrono::{DateTime, Utc};

use super::{OrderDirection, Project, User};
use crate::domain::posts::{self as domain, PostOrderField};
use crate::entity::community_posts;
use crate::error::Error;
use crate::graphql::context::principal;
use crate::graphql::loaders::{self, ProjectLoader};
use crate::graphql::write::{self, UpdateInput};

/// A post as the schema presents it: the row itself, each field read from it when it is
/// selected (see [`super::Project`]), so a list of titles neither copies bodies nor parses tags.
pub struct CommunityPost {
    pub model: community_posts::Model,
}

impl From<community_posts::Model> for CommunityPost {
    fn from(model: community_posts::Model) -> Self {
        Self { model }
    }
}

/// A post in the NeoForge community forum. Readable by anyone.
#[Object]
impl CommunityPost {
    /// 1–200 characters, one line.
    async fn title(&self) -> &str {
        &self.model.title
    }

    /// 1–20,000 characters.
    async fn body(&self) -> &str {
        &self.model.body
    }

    /// Up to 10 lowercase slugs, in the order the author gave them.
    async fn tags(&self) -> Vec<String> {
        domain::tags_of(&self.model)
    }

    /// When the post was created (UTC).
    async fn created_at(&self) -> DateTime<Utc> {
        self.model.created_at
    }

    /// When the post last changed (UTC).
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

    /// The author's id: `author { id }` without loading the user.
    async fn author_id(&self) -> ID {
        ID(self.model.author_id.to_string())
    }

    /// The id of the project the post is about, even when the caller may not read that project.
    async fn project_id(&self) -> Option<ID> {
        self.model.project_id.map(|id| ID(id.to_string()))
    }

    /// The user who wrote the post.
    async fn author(&self) -> Option<User> {
        Some(User::referenced(self.model.author_id))
    }

    /// The project the post is about; null when there is none or the caller may not read it.
    async fn project(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Project>> {
        let Some(project_id) = self.model.project_id else {
            return Ok(None);
        };
        Ok(loaders::load_one::<ProjectLoader>(ctx, project_id)
            .await?
            .map(Project::from))
    }

    /// Whether the caller may update or delete this post (its author, staff and admins).
    async fn viewer_can_edit(&self, ctx: &Context<'_>) -> bool {
        domain::can_write(principal(ctx), &self.model)
    }
}

/// Filters for `communityPosts`. All given filters must match.
#[derive(InputObject, Default)]
pub struct CommunityPostFilter {
    /// Only posts carrying this tag (compared case-insensitively).
    pub tag: Option<String>,
    /// Only posts about this project.
    pub project_id: Option<ID>,
    /// Only posts written by this user.
    pub author_id: Option<ID>,
}

/// Sort keys for `communityPosts`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum, Default)]
pub enum CommunityPostOrderBy {
    /// When the post was created.
    #[default]
    CreatedAt,
    /// When the post last changed.
    UpdatedAt,
}

impl From<CommunityPostOrderBy> for PostOrderField {
    fn from(v: CommunityPostOrderBy) -> Self {
        match v {
            CommunityPostOrderBy::CreatedAt => Self::CreatedAt,
            CommunityPostOrderBy::UpdatedAt => Self::UpdatedAt,
        }
    }
}

/// Ordering for `communityPosts` (ties broken by id). Default: newest first.
#[derive(InputObject)]
pub struct CommunityPostOrder {
    /// The sort key.
    pub field: CommunityPostOrderBy,
    /// Default: DESC.
    #[graphql(default_with = "OrderDirection::Desc")]
    pub direction: OrderDirection,
}

/// Write a community post.
#[derive(InputObject)]
pub struct CreateCommunityPostInput {
    /// 1–200 characters, one line.
    pub title: String,
    /// 1–20,000 characters.
    pub body: String,
    /// Up to 10 tags: lowercase slugs (a-z, 0-9, inner hyphens) of at most 32 characters.
    /// Uppercase letters are lowercased; duplicates are dropped, order kept.
    pub tags: Option<Vec<String>>,
    /// The project the post is about; it must be readable by the author.
    pub project_id: Option<ID>,
}

/// Change a community post. Omitted fields stay as they are.
#[derive(InputObject)]
pub struct UpdateCommunityPostInput {
    /// The post to change.
    pub id: ID,
    /// 1–200 characters, one line.
    pub title: MaybeUndefined<String>,
    /// 1–20,000 characters.
    pub body: MaybeUndefined<String>,
    /// Replaces every tag (same rules as on create).
    pub tags: MaybeUndefined<Vec<String>>,
}

impl UpdateInput for UpdateCommunityPostInput {
    type Patch = domain::UpdatePost;

    fn id(&self) -> &ID {
        &self.id
    }

    fn into_patch(self) -> Result<domain::UpdatePost, Error> {
        Ok(domain::UpdatePost {
            title: self.title.into(),
            body: self.body.into(),
            tags: self.tags.into(),
        })
    }
}

/// Delete a community post.
#[derive(InputObject)]
pub struct DeleteCommunityPostInput {
    /// The post to delete.
    pub id: ID,
}

/// Result of `createCommunityPost`.
#[derive(SimpleObject)]
pub struct CreateCommunityPostPayload {
    /// The new post.
    pub community_post: CommunityPost,
}

/// Result of `updateCommunityPost`.
#[derive(SimpleObject)]
pub struct UpdateCommunityPostPayload {
    /// The post as it is now.
    pub community_post: CommunityPost,
}

write::payload_of!(
    community_posts::Model => CreateCommunityPostPayload.community_post,
    UpdateCommunityPostPayload.community_post,
);

/// Result of `deleteCommunityPost`.
#[derive(SimpleObject)]
pub struct DeleteCommunityPostPayload {
    /// The id of the deleted post.
    pub deleted_id: ID,
}
