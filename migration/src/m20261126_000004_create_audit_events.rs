use sea_orm_migration::{prelude::*, schema::*};

use crate::common::{desc, index};
use crate::m20261126_000001_create_users::Users;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub enum AuditEvents {
    Table,
    Id,
    At,
    ActorId,
    Action,
    Target,
    Ip,
    RequestId,
    Details,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AuditEvents::Table)
                    .col(pk_uuid(AuditEvents::Id))
                    .col(timestamp_with_time_zone(AuditEvents::At))
                    .col(uuid_null(AuditEvents::ActorId))
                    .col(string_len(AuditEvents::Action, 64))
                    .col(string_len_null(AuditEvents::Target, 255))
                    .col(string_len_null(AuditEvents::Ip, 64))
                    .col(string_len_null(AuditEvents::RequestId, 128))
                    .col(text_null(AuditEvents::Details))
                    .foreign_key(
                        ForeignKey::create()
                            .name("audit_events_actor_id_fkey")
                            .from(AuditEvents::Table, AuditEvents::ActorId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_index(
                index("audit_events_at_id_idx", AuditEvents::Table)
                    .col(desc(AuditEvents::At))
                    .col(desc(AuditEvents::Id))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index("audit_events_actor_id_idx", AuditEvents::Table)
                    .col(AuditEvents::ActorId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AuditEvents::Table).to_owned())
            .await
    }
}
