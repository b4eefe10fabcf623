//! `outbox_emails`: mail to send, written in the transaction of the action that causes it and
//! delivered by `crate::mail`'s background sender.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "outbox_emails")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(column_type = "String(StringLen::N(320))")]
    pub recipient: String,
    #[sea_orm(column_type = "String(StringLen::N(255))")]
    pub subject: String,
    /// Emptied once sent: it may carry a single-use link.
    #[sea_orm(column_type = "Text")]
    pub body: String,
    pub attempts: i32,
    pub created_at: DateTimeUtc,
    pub next_attempt_at: DateTimeUtc,
    pub sent_at: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text", nullable)]
    pub last_error: Option<String>,
}

super::unrelated!();
