use sea_orm_migration::{prelude::*, schema::*};

use crate::common::index;
use crate::m20261126_000002_create_sessions::Sessions;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub enum RefreshTokens {
    Table,
    Id,
    SessionId,
    TokenHash,
    CreatedAt,
    ExpiresAt,
    RotatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RefreshTokens::Table)
                    .col(pk_uuid(RefreshTokens::Id))
                    .col(uuid(RefreshTokens::SessionId))
                    .col(string_len(RefreshTokens::TokenHash, 128))
                    .col(timestamp_with_time_zone(RefreshTokens::CreatedAt))
                    .col(timestamp_with_time_zone(RefreshTokens::ExpiresAt))
                    .col(timestamp_with_time_zone_null(RefreshTokens::RotatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("refresh_tokens_session_id_fkey")
                            .from(RefreshTokens::Table, RefreshTokens::SessionId)
                            .to(Sessions::Table, Sessions::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_index(
                index("refresh_tokens_token_hash_key", RefreshTokens::Table)
                    .unique()
                    .col(RefreshTokens::TokenHash)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index("refresh_tokens_session_id_idx", RefreshTokens::Table)
                    .col(RefreshTokens::SessionId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(RefreshTokens::Table).to_owned())
            .await
    }
}
