//! The status feed: every recorded status event, delivered to the `statusChanged` subscribers of
//! every server process.
//!
//! - In process, a [`tokio::sync::broadcast`] channel fans events out to subscribers. The process
//!   that records an event delivers it as soon as its transaction commits.
//! - PostgreSQL: the recording transaction also runs `pg_notify('neoforge_status', <event id>)`,
//!   which PostgreSQL delivers to every listening session when (and only if) the transaction
//!   commits. [`StatusFeed::listen`] holds a `LISTEN` session per process, loads each notified
//!   event and forwards it to the local channel. The payload is only the id: messages may exceed
//!   the 8,000-byte notification limit, and the row is always visible once the notification
//!   arrives. When the session drops it reconnects with backoff and then catches up on the
//!   events recorded since it last knew it was connected.
//! - SQLite: one process owns the database file, so the in-process channel is the whole story.
//!
//! Every event is delivered at most once per process: a bounded set of recently delivered ids
//! absorbs the notification of an event this process already delivered itself, and any overlap
//! of a catch-up with live notifications.

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use futures::{Stream, StreamExt};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    Statement,
};
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::db::Db;
use crate::entity::status_events::{Column, Entity, Model};
use crate::error::Result;

/// The PostgreSQL notification channel.
pub const CHANNEL: &str = "neoforge_status";

/// Events a slow subscriber may fall behind by before it skips ahead.
const CAPACITY: usize = 256;
/// Delivered ids remembered for de-duplication.
const REMEMBERED: usize = 4096;
/// How far before the last known-good moment a catch-up starts: covers events stamped before
/// their transaction committed.
const CATCH_UP_MARGIN: chrono::TimeDelta = chrono::TimeDelta::seconds(5);
/// Most events one catch-up delivers.
const CATCH_UP_LIMIT: u64 = 1_000;

/// Recently delivered event ids, oldest evicted first.
#[derive(Default)]
struct Delivered {
    ids: HashSet<Uuid>,
    order: VecDeque<Uuid>,
}

impl Delivered {
    /// Records `id`; false when it was already there.
    fn insert(&mut self, id: Uuid) -> bool {
        if !self.ids.insert(id) {
            return false;
        }
        self.order.push_back(id);
        if self.order.len() > REMEMBERED
            && let Some(old) = self.order.pop_front()
        {
            self.ids.remove(&old);
        }
        true
    }

    fn contains(&self, id: &Uuid) -> bool {
        self.ids.contains(id)
    }
}

struct Inner {
    sender: broadcast::Sender<Arc<Model>>,
    postgres: bool,
    delivered: Mutex<Delivered>,
    /// Cancelled when the server shuts down: subscriptions end, WebSocket connections close and
    /// the listener stops.
    closed: CancellationToken,
}

/// Publishes recorded status events and hands out subscriptions. Cheap to clone.
#[derive(Clone)]
pub struct StatusFeed {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for StatusFeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StatusFeed")
            .field("postgres", &self.inner.postgres)
            .field("subscribers", &self.inner.sender.receiver_count())
            .finish()
    }
}

impl StatusFeed {
    /// A feed for a database on `backend`; `closed` ends it (pass the server's shutdown token).
    pub fn new(backend: DbBackend, closed: CancellationToken) -> Self {
        let (sender, _) = broadcast::channel(CAPACITY);
        Self {
            inner: Arc::new(Inner {
                sender,
                postgres: backend == DbBackend::Postgres,
                delivered: Mutex::default(),
                closed,
            }),
        }
    }

    /// Whether events from other processes arrive through [`StatusFeed::listen`].
    pub fn needs_listener(&self) -> bool {
        self.inner.postgres
    }

    /// Whether the feed has closed (server shutdown).
    pub fn is_closed(&self) -> bool {
        self.inner.closed.is_cancelled()
    }

    /// Resolves when the feed closes (server shutdown).
    pub async fn closing(&self) {
        self.inner.closed.cancelled().await;
    }

    /// Events recorded from now on, by any process, until the feed closes. The subscription is
    /// registered when this is called, not when the stream is first polled.
    pub fn subscribe(&self) -> impl Stream<Item = Arc<Model>> + Send + use<> {
        let receiver = self.inner.sender.subscribe();
        futures::stream::unfold(receiver, |mut receiver| async move {
            loop {
                match receiver.recv().await {
                    Ok(event) => return Some((event, receiver)),
                    Err(broadcast::error::RecvError::Lagged(missed)) => {
                        tracing::warn!(
                            missed,
                            "a status subscriber fell behind and skipped events"
                        );
                    }
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        })
        .take_until(self.inner.closed.clone().cancelled_owned())
    }

    /// Inside the recording transaction: tells the other processes (PostgreSQL delivers the
    /// notification on commit and drops it on rollback). Nothing to do on SQLite.
    pub(crate) async fn announce(&self, conn: &impl ConnectionTrait, event: &Model) -> Result<()> {
        if self.inner.postgres {
            conn.execute_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT pg_notify($1, $2)",
                [CHANNEL.into(), event.id.to_string().into()],
            ))
            .await?;
        }
        Ok(())
    }

    /// After the recording transaction committed: delivers to this process's subscribers.
    pub(crate) fn committed(&self, event: Model) {
        self.deliver(Arc::new(event));
    }

    fn deliver(&self, event: Arc<Model>) {
        let fresh = self
            .inner
            .delivered
            .lock()
            .map(|mut d| d.insert(event.id))
            .unwrap_or(true);
        if fresh {
            // No subscribers is not an error.
            let _ = self.inner.sender.send(event);
        }
    }

    fn already_delivered(&self, id: &Uuid) -> bool {
        self.inner
            .delivered
            .lock()
            .map(|d| d.contains(id))
            .unwrap_or(false)
    }

    fn has_subscribers(&self) -> bool {
        self.inner.sender.receiver_count() > 0
    }

    /// PostgreSQL: forwards the events other processes record to this process's subscribers,
    /// until the feed closes. Reconnects with exponential backoff when the session fails.
    pub async fn listen(self, db: Db, database_url: String) {
        let closed = self.inner.closed.clone();
        // The last moment this process is sure it missed no notification.
        let mut watermark = Utc::now();
        loop {
            let Some(mut listener) =
                super::listener::connect(&database_url, CHANNEL, &closed).await
            else {
                return;
            };
            let listening_since = Utc::now();
            self.catch_up(&db, watermark).await;
            watermark = listening_since;
            loop {
                let next = tokio::select! {
                    () = closed.cancelled() => return,
                    next = listener.try_recv() => next,
                };
                match next {
                    Ok(Some(notification)) => {
                        watermark = Utc::now();
                        self.notified(&db, notification.payload()).await;
                    }
                    Ok(None) => {
                        // The session dropped and sqlx re-established it (and its LISTEN).
                        tracing::warn!("status listener reconnected after losing its session");
                        let listening_since = Utc::now();
                        self.catch_up(&db, watermark).await;
                        watermark = listening_since;
                    }
                    Err(err) => {
                        tracing::warn!(error = %err, "status listener lost its session");
                        break;
                    }
                }
            }
        }
    }

    async fn notified(&self, db: &Db, payload: &str) {
        let Ok(id) = Uuid::parse_str(payload) else {
            tracing::warn!(payload, "ignoring a malformed status notification");
            return;
        };
        if self.already_delivered(&id) {
            return;
        }
        if !self.has_subscribers() {
            // Nobody to tell; remember it so a later catch-up does not replay it.
            if let Ok(mut d) = self.inner.delivered.lock() {
                d.insert(id);
            }
            return;
        }
        match Entity::find_by_id(id).one(db.conn()).await {
            Ok(Some(event)) => self.deliver(Arc::new(event)),
            Ok(None) => tracing::warn!(%id, "a notified status event does not exist"),
            Err(err) => tracing::warn!(error = %err, %id, "cannot load a notified status event"),
        }
    }

    /// Delivers the events recorded since `watermark` (minus a margin) that this process has not
    /// delivered yet: the ones whose notifications may have been lost with the session.
    async fn catch_up(&self, db: &Db, watermark: DateTime<Utc>) {
        if !self.has_subscribers() {
            return;
        }
        let events = Entity::find()
            .filter(Column::CreatedAt.gte(watermark - CATCH_UP_MARGIN))
            .order_by_asc(Column::CreatedAt)
            .order_by_asc(Column::Id)
            .limit(CATCH_UP_LIMIT)
            .all(db.conn())
            .await;
        match events {
            Ok(events) => {
                for event in events {
                    self.deliver(Arc::new(event));
                }
            }
            Err(err) => tracing::warn!(error = %err, "status listener cannot catch up"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_a_bounded_number_of_ids() {
        let mut d = Delivered::default();
        let first = Uuid::now_v7();
        assert!(d.insert(first));
        assert!(!d.insert(first));
        for _ in 0..REMEMBERED {
            d.insert(Uuid::now_v7());
        }
        assert!(!d.contains(&first), "the oldest id is evicted");
        assert_eq!(d.order.len(), REMEMBERED);
        assert_eq!(d.ids.len(), REMEMBERED);
    }

    #[tokio::test]
    async fn delivers_each_event_once_and_ends_on_close() {
        let closed = CancellationToken::new();
        let feed = StatusFeed::new(DbBackend::Sqlite, closed.clone());
        let mut events = Box::pin(feed.subscribe());
        let event = Model {
            id: Uuid::now_v7(),
            service: "api".into(),
            status: crate::entity::ServiceStatus::Degraded,
            message: String::new(),
            created_by: None,
            created_at: Utc::now(),
        };
        let next = Model {
            id: Uuid::now_v7(),
            ..event.clone()
        };
        feed.committed(event.clone());
        feed.committed(event.clone());
        feed.committed(next.clone());
        assert_eq!(events.next().await.map(|e| e.id), Some(event.id));
        assert_eq!(
            events.next().await.map(|e| e.id),
            Some(next.id),
            "no duplicate"
        );
        closed.cancel();
        assert!(events.next().await.is_none(), "the stream ends on close");
    }
}
