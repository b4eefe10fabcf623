use sea_orm_migration::{prelude::*, schema::*};

use crate::common::{desc, index};
use crate::m20261126_000001_create_users::Users;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub enum Sessions {
    Table,
    Id,
    UserId,
    DeviceLabel,
    UserAgent,
    Ip,
    CreatedAt,
    LastSeenAt,
    RevokedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Sessions::Table)
                    .col(pk_uuid(Sessions::Id))
                    .col(uuid(Sessions::UserId))
                    .col(string_len_null(Sessions::DeviceLabel, 100))
                    .col(string_len_null(Sessions::UserAgent, 512))
                    .col(string_len_null(Sessions::Ip, 64))
                    .col(timestamp_with_time_zone(Sessions::CreatedAt))
                    .col(timestamp_with_time_zone(Sessions::LastSeenAt))
                    .col(timestamp_with_time_zone_null(Sessions::RevokedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("sessions_user_id_fkey")
                            .from(Sessions::Table, Sessions::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_index(
                index("sessions_user_id_created_at_idx", Sessions::Table)
                    .col(Sessions::UserId)
                    .col(desc(Sessions::CreatedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Sessions::Table).to_owned())
            .await
    }
}
