use sea_orm_migration::{prelude::*, schema::*};

use crate::common::{desc, enum_string, index, version};
use crate::m20261126_000001_create_users::Users;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub enum Projects {
    Table,
    Id,
    OwnerId,
    Name,
    Description,
    Visibility,
    CreatedAt,
    UpdatedAt,
    Version,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Projects::Table)
                    .col(pk_uuid(Projects::Id))
                    .col(uuid(Projects::OwnerId))
                    .col(string_len(Projects::Name, 120))
                    .col(text(Projects::Description).default(""))
                    .col(enum_string(
                        Projects::Visibility,
                        "projects_visibility_check",
                        &["public", "private"],
                        Some("private"),
                    ))
                    .col(timestamp_with_time_zone(Projects::CreatedAt))
                    .col(timestamp_with_time_zone(Projects::UpdatedAt))
                    .col(version(Projects::Version))
                    .foreign_key(
                        ForeignKey::create()
                            .name("projects_owner_id_fkey")
                            .from(Projects::Table, Projects::OwnerId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        let indexes = [
            index("projects_created_at_id_idx", Projects::Table)
                .col(desc(Projects::CreatedAt))
                .col(desc(Projects::Id))
                .to_owned(),
            index("projects_owner_id_created_at_id_idx", Projects::Table)
                .col(Projects::OwnerId)
                .col(desc(Projects::CreatedAt))
                .col(desc(Projects::Id))
                .to_owned(),
            index("projects_visibility_created_at_id_idx", Projects::Table)
                .col(Projects::Visibility)
                .col(desc(Projects::CreatedAt))
                .col(desc(Projects::Id))
                .to_owned(),
            index("projects_name_id_idx", Projects::Table)
                .col(Projects::Name)
                .col(Projects::Id)
                .to_owned(),
            index("projects_updated_at_id_idx", Projects::Table)
                .col(Projects::UpdatedAt)
                .col(Projects::Id)
                .to_owned(),
        ];
        for stmt in indexes {
            manager.create_index(stmt).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Projects::Table).to_owned())
            .await
    }
}
