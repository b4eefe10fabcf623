use sea_orm_migration::{prelude::*, schema::*};

use crate::common::{desc, index, version};
use crate::m20261126_000001_create_users::Users;
use crate::m20261126_000005_create_projects::Projects;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub enum CommunityPosts {
    Table,
    Id,
    AuthorId,
    ProjectId,
    Title,
    Body,
    Tags,
    CreatedAt,
    UpdatedAt,
    Version,
}

#[derive(DeriveIden)]
pub enum CommunityPostTags {
    Table,
    PostId,
    Tag,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CommunityPosts::Table)
                    .col(pk_uuid(CommunityPosts::Id))
                    .col(uuid(CommunityPosts::AuthorId))
                    .col(uuid_null(CommunityPosts::ProjectId))
                    .col(string_len(CommunityPosts::Title, 200))
                    .col(text(CommunityPosts::Body))
                    // JSON array of tag slugs; denormalized copy of community_post_tags.
                    .col(text(CommunityPosts::Tags).default("[]"))
                    .col(timestamp_with_time_zone(CommunityPosts::CreatedAt))
                    .col(timestamp_with_time_zone(CommunityPosts::UpdatedAt))
                    .col(version(CommunityPosts::Version))
                    .foreign_key(
                        ForeignKey::create()
                            .name("community_posts_author_id_fkey")
                            .from(CommunityPosts::Table, CommunityPosts::AuthorId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("community_posts_project_id_fkey")
                            .from(CommunityPosts::Table, CommunityPosts::ProjectId)
                            .to(Projects::Table, Projects::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(CommunityPostTags::Table)
                    .col(uuid(CommunityPostTags::PostId))
                    .col(string_len(CommunityPostTags::Tag, 64))
                    .col(timestamp_with_time_zone(CommunityPostTags::CreatedAt))
                    .primary_key(
                        Index::create()
                            .name("community_post_tags_pkey")
                            .col(CommunityPostTags::Tag)
                            .col(CommunityPostTags::PostId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("community_post_tags_post_id_fkey")
                            .from(CommunityPostTags::Table, CommunityPostTags::PostId)
                            .to(CommunityPosts::Table, CommunityPosts::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        let indexes = [
            index("community_posts_created_at_id_idx", CommunityPosts::Table)
                .col(desc(CommunityPosts::CreatedAt))
                .col(desc(CommunityPosts::Id))
                .to_owned(),
            index(
                "community_posts_author_id_created_at_id_idx",
                CommunityPosts::Table,
            )
            .col(CommunityPosts::AuthorId)
            .col(desc(CommunityPosts::CreatedAt))
            .col(desc(CommunityPosts::Id))
            .to_owned(),
            index(
                "community_posts_project_id_created_at_id_idx",
                CommunityPosts::Table,
            )
            .col(CommunityPosts::ProjectId)
            .col(desc(CommunityPosts::CreatedAt))
            .col(desc(CommunityPosts::Id))
            .to_owned(),
            index(
                "community_post_tags_tag_created_at_post_id_idx",
                CommunityPostTags::Table,
            )
            .col(CommunityPostTags::Tag)
            .col(desc(CommunityPostTags::CreatedAt))
            .col(desc(CommunityPostTags::PostId))
            .to_owned(),
            // The primary key leads with `tag`; this serves "tags of a post"
            // lookups and the ON DELETE CASCADE from community_posts.
            index("community_post_tags_post_id_idx", CommunityPostTags::Table)
                .col(CommunityPostTags::PostId)
                .to_owned(),
        ];
        for stmt in indexes {
            manager.create_index(stmt).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(CommunityPostTags::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(CommunityPosts::Table).to_owned())
            .await
    }
}
