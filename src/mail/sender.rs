//! The background job that delivers the outbox.

use std::time::Duration;

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::{Mailer, Transport};
use crate::db::Db;
use crate::entity::outbox_emails::{self, Column};

/// How often the outbox is looked at when nothing woke the sender and no retry is due: mail
/// that another replica wrote and could not send before it stopped.
const SAFETY_POLL: Duration = Duration::from_secs(60);
/// How long a claimed message is hidden from other senders while this one delivers it.
const LEASE: chrono::TimeDelta = chrono::TimeDelta::seconds(120);
/// After this many failed attempts a message stays in the outbox, unsent, for an operator.
pub const MAX_ATTEMPTS: i32 = 10;
/// Messages per pass.
const BATCH: u64 = 20;

/// Backoff after the `attempts`-th failure: 5 s doubling, at most an hour.
fn backoff(attempts: i32) -> chrono::TimeDelta {
    let secs = 5u64.saturating_mul(1 << attempts.clamp(0, 10)).min(3600);
    chrono::TimeDelta::seconds(i64::try_from(secs).unwrap_or(3600))
}

pub fn spawn_sender(tasks: &TaskTracker, stop: CancellationToken, db: Db, mailer: Mailer) {
    tasks.spawn(async move {
        loop {
            // Sleeps until the earliest retry, a wake-up from this process, or the safety poll:
            // an idle outbox costs no statements.
            let pause = match drain(&db, &mailer).await {
                Ok(Some(next)) => (next - Utc::now())
                    .to_std()
                    .unwrap_or(Duration::ZERO)
                    .min(SAFETY_POLL),
                Ok(None) => SAFETY_POLL,
                Err(err) => {
                    tracing::warn!(error = %err, "mail outbox pass failed");
                    Duration::from_secs(5)
                }
            };
            tokio::select! {
                () = stop.cancelled() => return,
                () = mailer.wake.notified() => {}
                () = tokio::time::sleep(pause) => {}
            }
        }
    });
}

/// Sends what is due; answers when the next unsent message will be.
async fn drain(db: &Db, mailer: &Mailer) -> crate::error::Result<Option<chrono::DateTime<Utc>>> {
    let now = Utc::now();
    let due = outbox_emails::Entity::find()
        .filter(Column::SentAt.is_null())
        .filter(Column::NextAttemptAt.lte(now))
        .filter(Column::Attempts.lt(MAX_ATTEMPTS))
        .order_by_asc(Column::NextAttemptAt)
        .limit(BATCH)
        .all(db.conn())
        .await?;
    for message in due {
        // Claim it: only the sender whose update matched the row as it read it delivers.
        let claimed = outbox_emails::Entity::update_many()
            .col_expr(Column::NextAttemptAt, Expr::value(now + LEASE))
            .filter(Column::Id.eq(message.id))
            .filter(Column::NextAttemptAt.eq(message.next_attempt_at))
            .filter(Column::SentAt.is_null())
            .exec(db.conn())
            .await?
            .rows_affected
            == 1;
        if !claimed {
            continue;
        }
        match deliver(mailer, &message).await {
            Ok(()) => {
                outbox_emails::Entity::update_many()
                    .col_expr(Column::SentAt, Expr::value(Utc::now()))
                    .col_expr(Column::Body, Expr::value(""))
                    .col_expr(Column::Attempts, Expr::value(message.attempts + 1))
                    .filter(Column::Id.eq(message.id))
                    .exec(db.conn())
                    .await?;
                metrics::counter!("mail_sent_total", "outcome" => "sent").increment(1);
                tracing::info!(mail.id = %message.id, "mail sent");
            }
            Err(err) => {
                let attempts = message.attempts + 1;
                outbox_emails::Entity::update_many()
                    .col_expr(Column::Attempts, Expr::value(attempts))
                    .col_expr(
                        Column::NextAttemptAt,
                        Expr::value(Utc::now() + backoff(attempts)),
                    )
                    .col_expr(Column::LastError, Expr::value(err.to_string()))
                    .filter(Column::Id.eq(message.id))
                    .exec(db.conn())
                    .await?;
                metrics::counter!("mail_sent_total", "outcome" => "failed").increment(1);
                tracing::warn!(mail.id = %message.id, attempts, error = %err, "mail delivery failed; will retry");
            }
        }
    }
    let next = outbox_emails::Entity::find()
        .filter(Column::SentAt.is_null())
        .filter(Column::Attempts.lt(MAX_ATTEMPTS))
        .order_by_asc(Column::NextAttemptAt)
        .one(db.conn())
        .await?;
    Ok(next.map(|m| m.next_attempt_at))
}

async fn deliver(mailer: &Mailer, message: &outbox_emails::Model) -> anyhow::Result<()> {
    use lettre::AsyncTransport;
    match &mailer.transport {
        Transport::Smtp(smtp) => {
            let email = lettre::Message::builder()
                .from(mailer.from.clone())
                .to(message.recipient.parse()?)
                .subject(message.subject.clone())
                .header(lettre::message::header::ContentType::TEXT_PLAIN)
                .body(message.body.clone())?;
            smtp.send(email).await?;
        }
        Transport::Log => {
            // Development only (production requires SMTP): the developer needs the link.
            tracing::info!(
                mail.to = %message.recipient,
                mail.subject = %message.subject,
                mail.body = %message.body,
                "mail (development: NEOFORGE_SMTP_URL is not set, so it is logged, not sent)"
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn backoff_doubles_and_caps() {
        assert_eq!(super::backoff(1).num_seconds(), 10);
        assert_eq!(super::backoff(2).num_seconds(), 20);
        assert_eq!(super::backoff(30).num_seconds(), 3600);
    }
}
