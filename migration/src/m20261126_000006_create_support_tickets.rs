use sea_orm_migration::{prelude::*, schema::*};

use crate::common::{desc, enum_string, index, version};
use crate::m20261126_000001_create_users::Users;
use crate::m20261126_000005_create_projects::Projects;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub enum SupportTickets {
    Table,
    Id,
    RequesterId,
    ProjectId,
    Subject,
    Body,
    Status,
    Priority,
    AssigneeId,
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
                    .table(SupportTickets::Table)
                    .col(pk_uuid(SupportTickets::Id))
                    .col(uuid(SupportTickets::RequesterId))
                    .col(uuid_null(SupportTickets::ProjectId))
                    .col(string_len(SupportTickets::Subject, 200))
                    .col(text(SupportTickets::Body))
                    .col(enum_string(
                        SupportTickets::Status,
                        "support_tickets_status_check",
                        &["open", "in_progress", "resolved", "closed"],
                        Some("open"),
                    ))
                    .col(enum_string(
                        SupportTickets::Priority,
                        "support_tickets_priority_check",
                        &["low", "normal", "high", "urgent"],
                        Some("normal"),
                    ))
                    .col(uuid_null(SupportTickets::AssigneeId))
                    .col(timestamp_with_time_zone(SupportTickets::CreatedAt))
                    .col(timestamp_with_time_zone(SupportTickets::UpdatedAt))
                    .col(version(SupportTickets::Version))
                    .foreign_key(
                        ForeignKey::create()
                            .name("support_tickets_requester_id_fkey")
                            .from(SupportTickets::Table, SupportTickets::RequesterId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("support_tickets_project_id_fkey")
                            .from(SupportTickets::Table, SupportTickets::ProjectId)
                            .to(Projects::Table, Projects::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("support_tickets_assignee_id_fkey")
                            .from(SupportTickets::Table, SupportTickets::AssigneeId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;

        let indexes = [
            index("support_tickets_created_at_id_idx", SupportTickets::Table)
                .col(desc(SupportTickets::CreatedAt))
                .col(desc(SupportTickets::Id))
                .to_owned(),
            index(
                "support_tickets_status_created_at_id_idx",
                SupportTickets::Table,
            )
            .col(SupportTickets::Status)
            .col(desc(SupportTickets::CreatedAt))
            .col(desc(SupportTickets::Id))
            .to_owned(),
            index(
                "support_tickets_priority_created_at_id_idx",
                SupportTickets::Table,
            )
            .col(SupportTickets::Priority)
            .col(desc(SupportTickets::CreatedAt))
            .col(desc(SupportTickets::Id))
            .to_owned(),
            index(
                "support_tickets_project_id_status_idx",
                SupportTickets::Table,
            )
            .col(SupportTickets::ProjectId)
            .col(SupportTickets::Status)
            .to_owned(),
            index(
                "support_tickets_requester_id_created_at_id_idx",
                SupportTickets::Table,
            )
            .col(SupportTickets::RequesterId)
            .col(desc(SupportTickets::CreatedAt))
            .col(desc(SupportTickets::Id))
            .to_owned(),
            index("support_tickets_assignee_id_idx", SupportTickets::Table)
                .col(SupportTickets::AssigneeId)
                .to_owned(),
        ];
        for stmt in indexes {
            manager.create_index(stmt).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(SupportTickets::Table).to_owned())
            .await
    }
}
