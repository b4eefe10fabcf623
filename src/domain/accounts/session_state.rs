//! Revocation without a database read per request.
//!
//! Access tokens are stateless JWTs, so a revoked session, a disabled or deleted user, or a
//! changed role would otherwise hold until the token expires. [`SessionStates`] is a small
//! per-process cache of each session's state (active or not, and the user's current role) that
//! the caller decision consults on every request:
//! - a hit costs a map lookup under a read lock;
//! - a miss (or an entry older than `NEOFORGE_SESSION_CACHE_TTL`, 5 s at most) reads the
//!   session and its user once;
//! - every change that ends a session or alters its user (logout, revocation, reuse detection,
//!   disable, role change) evicts the entries at once in this process, and on PostgreSQL
//!   `pg_notify('neoforge_sessions', 's:<session>' | 'u:<user>')` in the same transaction
//!   evicts them in every other process when it commits. A lost notification (the listener
//!   reconnecting) is bounded by the TTL, and the listener drops the whole cache whenever it
//!   (re)connects, so no process trusts state older than its last known-good moment.
//!
//! A read that raced an eviction must not put the stale answer back: evictions bump an epoch,
//! and a miss only fills the cache if the epoch did not move while it read.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, DbBackend, EntityTrait, Statement};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::db::Db;
use crate::entity::users::Role;
use crate::entity::{sessions, users};
use crate::error::Result;

/// The PostgreSQL notification channel.
pub const CHANNEL: &str = "neoforge_sessions";
/// Entries kept at most; beyond it the cache starts over (a miss costs one indexed read).
const CAPACITY: usize = 100_000;

/// An active session: whose it is and the user's role now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Active {
    pub user_id: Uuid,
    pub role: Role,
}

/// What changed: one session, or everything about one user.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    Session(Uuid),
    User(Uuid),
}

impl Scope {
    fn payload(self) -> String {
        match self {
            Self::Session(id) => format!("s:{id}"),
            Self::User(id) => format!("u:{id}"),
        }
    }

    fn parse(payload: &str) -> Option<Self> {
        let (kind, id) = payload.split_once(':')?;
        let id = Uuid::parse_str(id).ok()?;
        match kind {
            "s" => Some(Self::Session(id)),
            "u" => Some(Self::User(id)),
            _ => None,
        }
    }
}

struct Entry {
    /// `None`: revoked, unknown, or its user is disabled or gone.
    state: Option<Active>,
    /// The owner, when known, so a user-wide change finds the entry.
    user_id: Option<Uuid>,
    fetched: Instant,
}

struct Inner {
    entries: RwLock<HashMap<Uuid, Entry>>,
    epoch: AtomicU64,
    ttl: Duration,
    postgres: bool,
}

/// The per-process session-state cache. Cheap to clone.
#[derive(Clone)]
pub struct SessionStates {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for SessionStates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionStates")
            .field("ttl", &self.inner.ttl)
            .finish_non_exhaustive()
    }
}

impl SessionStates {
    pub fn new(backend: DbBackend, ttl: Duration) -> Self {
        Self {
            inner: Arc::new(Inner {
                entries: RwLock::new(HashMap::new()),
                epoch: AtomicU64::new(0),
                ttl,
                postgres: backend == DbBackend::Postgres,
            }),
        }
    }

    /// Whether other processes' changes arrive through [`SessionStates::listen`].
    pub fn needs_listener(&self) -> bool {
        self.inner.postgres
    }

    /// The session's state: from the cache when fresh, else from the database.
    pub async fn check(&self, db: &Db, session_id: Uuid) -> Result<Option<Active>> {
        if let Some(state) = self.cached(session_id) {
            return Ok(state);
        }
        let epoch = self.inner.epoch.load(Ordering::Acquire);
        let row = sessions::Entity::find_by_id(session_id)
            .find_also_related(users::Entity)
            .one(db.conn())
            .await?;
        let user_id = row.as_ref().map(|(s, _)| s.user_id);
        if let Some((session, Some(_))) = &row
            && session.revoked_at.is_none()
        {
            touch(db, session);
        }
        let state = match row {
            Some((session, Some(user)))
                if session.revoked_at.is_none() && user.disabled_at.is_none() =>
            {
                Some(Active {
                    user_id: user.id,
                    role: user.role,
                })
            }
            _ => None,
        };
        if !self.inner.ttl.is_zero()
            && let Ok(mut entries) = self.inner.entries.write()
            && self.inner.epoch.load(Ordering::Acquire) == epoch
        {
            if entries.len() >= CAPACITY {
                entries.clear();
            }
            entries.insert(
                session_id,
                Entry {
                    state,
                    user_id,
                    fetched: Instant::now(),
                },
            );
        }
        Ok(state)
    }

    fn cached(&self, session_id: Uuid) -> Option<Option<Active>> {
        let entries = self.inner.entries.read().ok()?;
        let entry = entries.get(&session_id)?;
        (entry.fetched.elapsed() < self.inner.ttl).then_some(entry.state)
    }

    /// Inside the changing transaction: tells the other processes on commit (PostgreSQL drops
    /// the notification on rollback). Nothing to do on SQLite, where this process is the only one.
    pub async fn announce(&self, conn: &impl ConnectionTrait, scope: Scope) -> Result<()> {
        if self.inner.postgres {
            conn.execute_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT pg_notify($1, $2)",
                [CHANNEL.into(), scope.payload().into()],
            ))
            .await?;
        }
        Ok(())
    }

    /// Forgets what `scope` covers, in this process.
    pub fn evict(&self, scope: Scope) {
        self.inner.epoch.fetch_add(1, Ordering::AcqRel);
        if let Ok(mut entries) = self.inner.entries.write() {
            match scope {
                Scope::Session(id) => {
                    entries.remove(&id);
                }
                Scope::User(id) => entries.retain(|_, e| e.user_id != Some(id)),
            }
        }
    }

    fn evict_all(&self) {
        self.inner.epoch.fetch_add(1, Ordering::AcqRel);
        if let Ok(mut entries) = self.inner.entries.write() {
            entries.clear();
        }
    }

    /// PostgreSQL: applies other processes' changes until `closed`. Reconnects with backoff;
    /// every (re)connection starts from an empty cache, since notifications sent while the
    /// session was down are lost.
    pub async fn listen(self, database_url: String, closed: CancellationToken) {
        loop {
            let Some(mut listener) =
                crate::domain::listener::connect(&database_url, CHANNEL, &closed).await
            else {
                return;
            };
            self.evict_all();
            loop {
                let next = tokio::select! {
                    () = closed.cancelled() => return,
                    next = listener.try_recv() => next,
                };
                match next {
                    Ok(Some(notification)) => match Scope::parse(notification.payload()) {
                        Some(scope) => self.evict(scope),
                        None => tracing::warn!("ignoring a malformed session notification"),
                    },
                    // sqlx re-established the session (and its LISTEN): anything sent meanwhile
                    // is lost.
                    Ok(None) => self.evict_all(),
                    Err(err) => {
                        tracing::warn!(error = %err, "session listener lost its session");
                        self.evict_all();
                        break;
                    }
                }
            }
        }
    }
}

/// How stale `last_seen_at` may get: it is written at most once per this interval per session.
const LAST_SEEN_EVERY: chrono::TimeDelta = chrono::TimeDelta::seconds(60);

/// Records that the session was used, when its `last_seen_at` is over a minute old. The write
/// is conditional, so replicas racing on one session write it once, and it runs off the
/// request's path.
fn touch(db: &Db, session: &sessions::Model) {
    let now = chrono::Utc::now();
    if now - session.last_seen_at < LAST_SEEN_EVERY {
        return;
    }
    let (db, id) = (db.clone(), session.id);
    tokio::spawn(async move {
        use sea_orm::{ColumnTrait, QueryFilter, sea_query::Expr};
        let touched = sessions::Entity::update_many()
            .col_expr(sessions::Column::LastSeenAt, Expr::value(now))
            .filter(sessions::Column::Id.eq(id))
            .filter(sessions::Column::LastSeenAt.lt(now - LAST_SEEN_EVERY))
            .exec(db.conn())
            .await;
        if let Err(err) = touched {
            tracing::warn!(error = %err, "cannot record a session's last use");
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_round_trip_through_payloads() {
        for scope in [Scope::Session(Uuid::now_v7()), Scope::User(Uuid::now_v7())] {
            assert_eq!(Scope::parse(&scope.payload()), Some(scope));
        }
        assert_eq!(Scope::parse("x:1"), None);
        assert_eq!(Scope::parse("s:not-a-uuid"), None);
    }

    #[test]
    fn evictions_cover_their_scope_only() {
        let states = SessionStates::new(DbBackend::Sqlite, Duration::from_secs(5));
        let (user, other) = (Uuid::now_v7(), Uuid::now_v7());
        let (s1, s2, s3) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        {
            let mut entries = states.inner.entries.write().unwrap();
            for (sid, uid) in [(s1, user), (s2, user), (s3, other)] {
                let state = Some(Active {
                    user_id: uid,
                    role: Role::User,
                });
                let fetched = Instant::now();
                let user_id = Some(uid);
                entries.insert(
                    sid,
                    Entry {
                        state,
                        user_id,
                        fetched,
                    },
                );
            }
        }
        states.evict(Scope::Session(s1));
        assert!(states.cached(s1).is_none());
        assert!(states.cached(s2).is_some());
        states.evict(Scope::User(user));
        assert!(states.cached(s2).is_none());
        assert!(states.cached(s3).is_some(), "another user's session stays");
    }
}
