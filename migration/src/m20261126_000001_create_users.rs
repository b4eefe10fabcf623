use sea_orm_migration::{prelude::*, schema::*};

use crate::common::{enum_string, version};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub enum Users {
    Table,
    Id,
    Email,
    DisplayName,
    PasswordHash,
    Role,
    TotpSecret,
    TotpEnabled,
    RecoveryCodes,
    EmailVerifiedAt,
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
                    .table(Users::Table)
                    .col(pk_uuid(Users::Id))
                    .col(string_len(Users::Email, 320))
                    .col(string_len(Users::DisplayName, 100))
                    .col(text(Users::PasswordHash))
                    .col(enum_string(
                        Users::Role,
                        "users_role_check",
                        &["user", "staff", "admin"],
                        Some("user"),
                    ))
                    .col(text_null(Users::TotpSecret))
                    .col(boolean(Users::TotpEnabled).default(false))
                    .col(text_null(Users::RecoveryCodes))
                    .col(timestamp_with_time_zone_null(Users::EmailVerifiedAt))
                    .col(timestamp_with_time_zone(Users::CreatedAt))
                    .col(timestamp_with_time_zone(Users::UpdatedAt))
                    .col(version(Users::Version))
                    .to_owned(),
            )
            .await?;

        // Case-insensitive uniqueness. sea-query cannot render expression
        // indexes for SQLite, and this statement is valid on both backends.
        manager
            .get_connection()
            .execute_unprepared("CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email))")
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Dropping the table also drops users_email_lower_key.
        manager
            .drop_table(Table::drop().table(Users::Table).to_owned())
            .await
    }
}
