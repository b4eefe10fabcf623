//! PostgreSQL connections that [`Db::query_one`](super::Db::query_one) and
//! [`Db::query_all`](super::Db::query_all) keep between statements instead of handing them back
//! to sqlx's pool.
//!
//! sqlx pings every connection it takes back (`PoolConnection`'s drop spawns a task that sends
//! Sync and waits for ReadyForQuery), so a one-statement read costs two round trips, a spawned
//! task and a second wake-up of a PostgreSQL backend: a fifth of a W1 request's throughput
//! (docs/benchmarks.md, "Session 8"). A connection whose statement succeeded has nothing to
//! flush and is known to be alive, so it waits here for the next read instead. What the ping
//! is for still happens through sqlx's own release:
//!
//! - a read that fails, or whose future is dropped mid-statement, drops its connection, and
//!   sqlx's release pings it (and closes it if it is broken);
//! - a connection unused for [`IDLE_PING`] is pinged before its next read, as the pool pings
//!   idle connections before it lends them (`test_before_acquire_if_idle_for`);
//! - a connection goes back to the pool [`LEND`] after it was taken from it, so the pool's
//!   own lifetime and idle rules still apply to it;
//! - at most half the pool waits here, so writes and transactions always find the other half.
//!
//! Not behind a transaction pooler: there every statement must pass the pool's hooks.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use sea_orm::sqlx::pool::PoolConnection;
use sea_orm::sqlx::{Connection, PgPool, Postgres};

/// How long a kept connection may sit unused before its next read pings it first.
const IDLE_PING: Duration = Duration::from_secs(30);

/// How long after it left the pool a connection goes back to it.
const LEND: Duration = Duration::from_secs(300);

pub(crate) struct Kept {
    idle: Mutex<Vec<Held>>,
    cap: usize,
    idle_ping: Duration,
    lend: Duration,
}

impl std::fmt::Debug for Kept {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kept")
            .field("idle", &self.len())
            .field("cap", &self.cap)
            .finish()
    }
}

/// A connection taken from the pool, with when it was taken and last used.
pub(crate) struct Held {
    pub conn: PoolConnection<Postgres>,
    taken: Instant,
    used: Instant,
}

impl Kept {
    /// Keeps at most half of a pool of `max_connections`.
    pub fn new(max_connections: u32) -> Self {
        Self::with_limits(max_connections, IDLE_PING, LEND)
    }

    fn with_limits(max_connections: u32, idle_ping: Duration, lend: Duration) -> Self {
        Self {
            idle: Mutex::new(Vec::new()),
            cap: usize::try_from(max_connections / 2).unwrap_or(0),
            idle_ping,
            lend,
        }
    }

    /// A kept connection, else one from the pool.
    pub async fn take(&self, pool: &PgPool) -> Result<Held, sea_orm::sqlx::Error> {
        loop {
            let Some(mut held) = self.pop() else {
                let conn = pool.acquire().await?;
                let now = Instant::now();
                return Ok(Held {
                    conn,
                    taken: now,
                    used: now,
                });
            };
            if held.taken.elapsed() > self.lend {
                continue; // dropped: back to the pool through sqlx's release
            }
            if held.used.elapsed() > self.idle_ping && held.conn.ping().await.is_err() {
                continue; // dropped: sqlx's release closes it
            }
            return Ok(held);
        }
    }

    /// Keeps a connection whose statement succeeded, or lets it go back to the pool.
    pub fn put(&self, mut held: Held) {
        held.used = Instant::now();
        let refused = {
            let mut idle = self.lock();
            if idle.len() < self.cap {
                idle.push(held);
                None
            } else {
                Some(held)
            }
        };
        drop(refused); // outside the lock: its drop spawns sqlx's release
    }

    /// How many connections wait here (idle from the database's point of view).
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Hands every kept connection back to the pool (before it closes).
    pub fn release_all(&self) {
        let all = std::mem::take(&mut *self.lock());
        drop(all);
    }

    fn pop(&self) -> Option<Held> {
        self.lock().pop()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Held>> {
        self.idle
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::sqlx::postgres::PgPoolOptions;

    /// A pool on `TEST_DATABASE_URL` when it names PostgreSQL (these tests need one).
    async fn pool(max: u32) -> Option<PgPool> {
        let url = std::env::var("TEST_DATABASE_URL").ok()?;
        if !url.starts_with("postgres") {
            return None;
        }
        let pool = PgPoolOptions::new()
            .max_connections(max)
            .connect(&url)
            .await;
        Some(pool.expect("connect to TEST_DATABASE_URL"))
    }

    async fn backend_pid(held: &mut Held) -> Result<i32, sea_orm::sqlx::Error> {
        sea_orm::sqlx::query_scalar("SELECT pg_backend_pid()")
            .fetch_one(&mut *held.conn)
            .await
    }

    #[tokio::test]
    async fn a_kept_connection_serves_the_next_read_and_half_the_pool_at_most_waits() {
        let Some(pool) = pool(4).await else { return };
        let kept = Kept::new(4);
        let mut held: Vec<Held> = Vec::new();
        for _ in 0..3 {
            held.push(kept.take(&pool).await.expect("a connection"));
        }
        let mut pids = Vec::new();
        for h in &mut held {
            pids.push(backend_pid(h).await.expect("pid"));
        }
        for h in held {
            kept.put(h);
        }
        assert_eq!(kept.len(), 2, "half of a pool of four");
        let mut again = kept.take(&pool).await.expect("a kept connection");
        assert!(pids.contains(&backend_pid(&mut again).await.expect("pid")));
        assert_eq!(kept.len(), 1);
        kept.put(again);
        kept.release_all();
        assert_eq!(kept.len(), 0);
    }

    #[tokio::test]
    async fn a_kept_connection_idle_too_long_is_checked_and_replaced_when_dead() {
        let Some(pool) = pool(4).await else { return };
        let kept = Kept::with_limits(4, Duration::ZERO, LEND);
        let mut held = kept.take(&pool).await.expect("a connection");
        let dead = backend_pid(&mut held).await.expect("pid");
        kept.put(held);
        let killed: bool = sea_orm::sqlx::query_scalar("SELECT pg_terminate_backend($1)")
            .bind(dead)
            .fetch_one(&pool)
            .await
            .expect("terminate");
        assert!(killed);
        tokio::time::sleep(Duration::from_millis(100)).await;
        let mut next = kept.take(&pool).await.expect("a live connection");
        let pid = backend_pid(&mut next).await.expect("the read runs");
        assert_ne!(pid, dead);
    }

    #[tokio::test]
    async fn a_kept_connection_goes_back_to_the_pool_after_its_loan() {
        let Some(pool) = pool(4).await else { return };
        let kept = Kept::with_limits(4, IDLE_PING, Duration::ZERO);
        let held = kept.take(&pool).await.expect("a connection");
        let lent = held.taken;
        kept.put(held);
        assert_eq!(kept.len(), 1);
        let next = kept.take(&pool).await.expect("a connection");
        assert_eq!(kept.len(), 0);
        assert!(
            next.taken > lent,
            "a new loan from the pool, not the expired one"
        );
    }
}
