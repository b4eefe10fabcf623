//! Mail: a transactional outbox and the background sender that drains it.
//!
//! An action that sends mail (password reset, email verification) writes its message into
//! `outbox_emails` in its own transaction: the mail exists exactly when the action committed.
//! The sender claims due messages one at a time with a conditional update that pushes their
//! next attempt a lease ahead (so replicas never send one message twice at once), delivers them
//! over SMTP with `lettre`, and on failure retries with capped exponential backoff. Without
//! `NEOFORGE_SMTP_URL` (development only; production refuses to start) messages are written to
//! the log instead.

mod sender;

use std::sync::Arc;

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};
use tokio::sync::Notify;
use uuid::Uuid;

use crate::entity::outbox_emails;
use crate::error::Result;

pub use sender::spawn_sender;

/// What delivers a message.
#[derive(Clone)]
pub enum Transport {
    Smtp(lettre::AsyncSmtpTransport<lettre::Tokio1Executor>),
    /// Development without SMTP: the message goes to the log.
    Log,
}

/// The outbox's handle: where mail goes and how to wake the sender. Cheap to clone.
#[derive(Clone)]
pub struct Mailer {
    pub(crate) transport: Transport,
    pub(crate) from: lettre::message::Mailbox,
    /// Links in mail start with it (`NEOFORGE_PUBLIC_URL`, without a trailing slash).
    public_url: Arc<str>,
    pub(crate) wake: Arc<Notify>,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("smtp", &matches!(self.transport, Transport::Smtp(_)))
            .finish_non_exhaustive()
    }
}

impl Mailer {
    /// From validated settings (`Settings::validate` checked the URL and the sender).
    pub fn from_settings(settings: &crate::config::Settings) -> anyhow::Result<Self> {
        let transport = match &settings.smtp_url {
            Some(url) => Transport::Smtp(
                lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::from_url(url)?
                    .timeout(Some(std::time::Duration::from_secs(20)))
                    .build(),
            ),
            None => Transport::Log,
        };
        Ok(Self {
            transport,
            from: settings.smtp_from.parse()?,
            public_url: settings.public_url.trim_end_matches('/').into(),
            wake: Arc::new(Notify::new()),
        })
    }

    /// A link into the frontend: `<NEOFORGE_PUBLIC_URL><path>?token=<token>`.
    pub fn link(&self, path: &str, token: &str) -> String {
        format!("{}{path}?token={token}", self.public_url)
    }

    /// Writes a message into the outbox inside the caller's transaction; the sender picks it up
    /// once that commits. Call [`Mailer::poke`] after the commit to send it at once.
    pub async fn enqueue(
        &self,
        conn: &impl ConnectionTrait,
        to: &str,
        subject: &str,
        body: String,
    ) -> Result<()> {
        let now = Utc::now();
        outbox_emails::ActiveModel {
            id: Set(Uuid::now_v7()),
            recipient: Set(to.to_owned()),
            subject: Set(subject.to_owned()),
            body: Set(body),
            attempts: Set(0),
            created_at: Set(now),
            next_attempt_at: Set(now),
            sent_at: Set(None),
            last_error: Set(None),
        }
        .insert(conn)
        .await?;
        Ok(())
    }

    /// Wakes this process's sender (others find the message on their next poll).
    pub fn poke(&self) {
        self.wake.notify_one();
    }
}
