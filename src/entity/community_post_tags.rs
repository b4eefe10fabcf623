//! `community_post_tags`: one row per (tag, post), for filtering posts by tag.
//! Primary key is (tag, post_id); `created_at` is copied from the post so
//! tag listings can be keyset-paginated by (created_at DESC, post_id DESC).

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "community_post_tags")]
pub struct Model {
    #[sea_orm(
        primary_key,
        auto_increment = false,
        column_type = "String(StringLen::N(64))"
    )]
    pub tag: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub post_id: Uuid,
    pub created_at: DateTimeUtc,
}

super::unrelated!();
