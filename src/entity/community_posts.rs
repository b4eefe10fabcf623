//! `community_posts`. `tags` is a JSON array of slugs, a denormalized copy of
//! the post's `community_post_tags` rows (kept in the same transaction).

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "community_posts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub author_id: Uuid,
    pub project_id: Option<Uuid>,
    #[sea_orm(column_type = "String(StringLen::N(200))")]
    pub title: String,
    #[sea_orm(column_type = "Text")]
    pub body: String,
    /// JSON array of lowercase slugs, e.g. `["rust","help"]`.
    #[sea_orm(column_type = "Text")]
    pub tags: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub version: i32,
}

super::positional!(
    id, author_id, project_id, title, body, tags, created_at, updated_at, version
);

super::unrelated!();
