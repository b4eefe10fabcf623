use sea_orm_migration::{prelude::*, schema::*};

use crate::common::{enum_string, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub enum IdempotencyKeys {
    Table,
    Scope,
    Key,
    Fingerprint,
    State,
    Response,
    CreatedAt,
    ExpiresAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(IdempotencyKeys::Table)
                    .col(string_len(IdempotencyKeys::Scope, 255))
                    .col(string_len(IdempotencyKeys::Key, 255))
                    .col(string_len(IdempotencyKeys::Fingerprint, 128))
                    .col(enum_string(
                        IdempotencyKeys::State,
                        "idempotency_keys_state_check",
                        &["in_progress", "completed"],
                        None,
                    ))
                    .col(text_null(IdempotencyKeys::Response))
                    .col(timestamp_with_time_zone(IdempotencyKeys::CreatedAt))
                    .col(timestamp_with_time_zone(IdempotencyKeys::ExpiresAt))
                    .primary_key(
                        Index::create()
                            .name("idempotency_keys_pkey")
                            .col(IdempotencyKeys::Scope)
                            .col(IdempotencyKeys::Key),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_index(
                index("idempotency_keys_expires_at_idx", IdempotencyKeys::Table)
                    .col(IdempotencyKeys::ExpiresAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(IdempotencyKeys::Table).to_owned())
            .await
    }
}
