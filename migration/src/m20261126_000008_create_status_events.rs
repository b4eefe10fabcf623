use sea_orm_migration::{prelude::*, schema::*};

use crate::common::{desc, enum_string, index};
use crate::m20261126_000001_create_users::Users;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub enum StatusEvents {
    Table,
    Id,
    Service,
    Status,
    Message,
    CreatedBy,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(StatusEvents::Table)
                    .col(pk_uuid(StatusEvents::Id))
                    .col(string_len(StatusEvents::Service, 64))
                    .col(enum_string(
                        StatusEvents::Status,
                        "status_events_status_check",
                        &[
                            "operational",
                            "maintenance",
                            "degraded",
                            "partial_outage",
                            "major_outage",
                        ],
                        None,
                    ))
                    .col(text(StatusEvents::Message).default(""))
                    .col(uuid_null(StatusEvents::CreatedBy))
                    .col(timestamp_with_time_zone(StatusEvents::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("status_events_created_by_fkey")
                            .from(StatusEvents::Table, StatusEvents::CreatedBy)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;

        let indexes = [
            index(
                "status_events_service_created_at_id_idx",
                StatusEvents::Table,
            )
            .col(StatusEvents::Service)
            .col(desc(StatusEvents::CreatedAt))
            .col(desc(StatusEvents::Id))
            .to_owned(),
            index("status_events_created_at_id_idx", StatusEvents::Table)
                .col(desc(StatusEvents::CreatedAt))
                .col(desc(StatusEvents::Id))
                .to_owned(),
            index("status_events_created_by_idx", StatusEvents::Table)
                .col(StatusEvents::CreatedBy)
                .to_owned(),
        ];
        for stmt in indexes {
            manager.create_index(stmt).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(StatusEvents::Table).to_owned())
            .await
    }
}
