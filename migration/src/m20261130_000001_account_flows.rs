//! What TOTP, the password and email flows need.
//! `users.totp_last_step`: the last TOTP time step accepted, so a code works once across
//! replicas (a conditional update decides). `account_tokens`: hashed single-use tokens (password
//! reset, email verification, the sign-in challenge between password and second factor).
//! `outbox_emails`: mail written in the same transaction as the action, sent by a background job.

use sea_orm_migration::{prelude::*, schema::*};

use crate::common::{enum_string, index};
use crate::m20261126_000001_create_users::Users;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Added {
    TotpLastStep,
}

#[derive(DeriveIden)]
enum AccountTokens {
    Table,
    Id,
    UserId,
    Purpose,
    TokenHash,
    Attempts,
    CreatedAt,
    ExpiresAt,
    UsedAt,
}

#[derive(DeriveIden)]
enum OutboxEmails {
    Table,
    Id,
    Recipient,
    Subject,
    Body,
    Attempts,
    CreatedAt,
    NextAttemptAt,
    SentAt,
    LastError,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(big_integer_null(Added::TotpLastStep))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AccountTokens::Table)
                    .col(pk_uuid(AccountTokens::Id))
                    .col(uuid(AccountTokens::UserId))
                    .col(enum_string(
                        AccountTokens::Purpose,
                        "account_tokens_purpose_check",
                        &["password_reset", "email_verification", "login_challenge"],
                        None,
                    ))
                    .col(string_len(AccountTokens::TokenHash, 64))
                    .col(integer(AccountTokens::Attempts).default(0))
                    .col(timestamp_with_time_zone(AccountTokens::CreatedAt))
                    .col(timestamp_with_time_zone(AccountTokens::ExpiresAt))
                    .col(timestamp_with_time_zone_null(AccountTokens::UsedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("account_tokens_user_id_fkey")
                            .from(AccountTokens::Table, AccountTokens::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index("account_tokens_token_hash_key", AccountTokens::Table)
                    .unique()
                    .col(AccountTokens::TokenHash)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index("account_tokens_user_id_idx", AccountTokens::Table)
                    .col(AccountTokens::UserId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(OutboxEmails::Table)
                    .col(pk_uuid(OutboxEmails::Id))
                    .col(string_len(OutboxEmails::Recipient, 320))
                    .col(string_len(OutboxEmails::Subject, 255))
                    .col(text(OutboxEmails::Body))
                    .col(integer(OutboxEmails::Attempts).default(0))
                    .col(timestamp_with_time_zone(OutboxEmails::CreatedAt))
                    .col(timestamp_with_time_zone(OutboxEmails::NextAttemptAt))
                    .col(timestamp_with_time_zone_null(OutboxEmails::SentAt))
                    .col(text_null(OutboxEmails::LastError))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index("outbox_emails_due_idx", OutboxEmails::Table)
                    .col(OutboxEmails::SentAt)
                    .col(OutboxEmails::NextAttemptAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(OutboxEmails::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(AccountTokens::Table).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .drop_column(Added::TotpLastStep)
                    .to_owned(),
            )
            .await
    }
}
