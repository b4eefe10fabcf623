//! PostgreSQL connections that the reads outside transactions ([`Db::one`](super::Db::one),
//! [`Db::all`](super::Db::all)) keep between statements instead of handing them back to sqlx's
//! pool. The statement and the decoding of its rows stay SeaORM's; only the connection it runs
//! on differs (`tests/api/reads.rs` compares both paths).
//!
//! sqlx pings every connection it takes back (`PoolConnection`'s drop spawns a task that sends
//! Sync and waits for ReadyForQuery), so a one-statement read costs two round trips, a spawned
//! task and a second wake-up of a PostgreSQL backend (its measured cost: docs/benchmarks.md,
//! "What moved the numbers"). A connection whose statement succeeded has nothing to flush and
//! is known to be alive, so it waits here for the next read instead. What the ping is for
//! still happens through sqlx's own release:
//!
//! - a read that fails, or whose future is dropped mid-statement, drops its connection, and
//!   sqlx's release pings it (and closes it if it is broken);
//! - a connection unused for [`IDLE_PING`] is pinged before its next read, as the pool pings
//!   idle connections before it lends them (`test_before_acquire_if_idle_for`);
//! - a connection goes back to the pool [`LEND`] after it was taken from it, so the pool's
//!   own lifetime and idle rules still apply to it;
//! - reads here take turns, first come first served, and at most half the pool's connections
//!   are ever kept or in use here, so writes and transactions always find the other half.
//!
//! Not behind a transaction pooler: there every statement must pass the pool's hooks.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use sea_orm::sqlx::pool::PoolConnection;
use sea_orm::sqlx::{Connection, PgPool, Postgres};
use sea_orm::{ConnAcquireErr, DbErr, QueryResult, RuntimeErr, Statement};
use tokio::sync::{Semaphore, SemaphorePermit};

/// How long a kept connection may sit unused before its next read pings it first.
const IDLE_PING: Duration = Duration::from_secs(30);

/// How long after it left the pool a connection goes back to it.
const LEND: Duration = Duration::from_secs(300);

pub(crate) struct Kept {
    idle: Mutex<Vec<Idle>>,
    /// One per read in flight here, handed out first come, first served: reads wait their turn
    /// here rather than some in sqlx's queue while others cycle the kept connections (which
    /// left a few reads waiting far longer than the rest), and never hold more than half the
    /// pool.
    turns: Semaphore,
    idle_ping: Duration,
    lend: Duration,
}

impl std::fmt::Debug for Kept {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kept")
            .field("idle", &self.len())
            .field("free_turns", &self.turns.available_permits())
            .finish()
    }
}

/// A kept connection waiting for the next read.
struct Idle {
    conn: PoolConnection<Postgres>,
    taken: Instant,
    used: Instant,
}

/// A connection a read holds, and its turn.
pub(crate) struct Held<'a> {
    pub conn: PoolConnection<Postgres>,
    taken: Instant,
    _turn: SemaphorePermit<'a>,
}

/// How many rows a read takes.
#[derive(Clone, Copy)]
pub(crate) enum Rows {
    One,
    All,
}

/// The rows (or the driver's error) and how long the statement took once it had a connection.
type Fetched = (Result<Vec<QueryResult>, sea_orm::sqlx::Error>, Duration);

impl Kept {
    /// `stmt` on a kept connection, its values bound as SeaORM binds them; the connection waits
    /// here again only after a statement that succeeded. A refused turn or acquire is the outer
    /// error, reported as SeaORM reports it.
    pub async fn fetch(
        &self,
        pool: &PgPool,
        stmt: &Statement,
        rows: Rows,
    ) -> Result<Fetched, DbErr> {
        let mut held = self.take(pool).await.map_err(acquire_error)?;
        let start = Instant::now();
        let values = stmt.values.clone().unwrap_or(sea_orm::Values(Vec::new()));
        let query = sea_orm::sqlx::query_with(
            sea_orm::sqlx::AssertSqlSafe(stmt.sql.as_str()),
            sea_query_sqlx::SqlxValues(values),
        );
        let found = match rows {
            Rows::One => query
                .fetch_optional(&mut *held.conn)
                .await
                .map(|row| row.map(Into::into).into_iter().collect()),
            Rows::All => query
                .fetch_all(&mut *held.conn)
                .await
                .map(|rows| rows.into_iter().map(Into::into).collect()),
        };
        let elapsed = start.elapsed();
        if found.is_ok() {
            self.put(held);
        }
        Ok((found, elapsed))
    }

    /// Half of a pool of `max_connections`: the other half stays free for writes. `None` for a
    /// pool of one, which has no half to keep.
    pub fn for_pool(max_connections: u32) -> Option<Self> {
        (max_connections >= 2).then(|| Self::new(max_connections))
    }

    fn new(max_connections: u32) -> Self {
        Self::with_limits(max_connections, IDLE_PING, LEND)
    }

    fn with_limits(max_connections: u32, idle_ping: Duration, lend: Duration) -> Self {
        Self {
            idle: Mutex::new(Vec::new()),
            turns: Semaphore::new(usize::try_from(max_connections / 2).unwrap_or(0)),
            idle_ping,
            lend,
        }
    }

    /// A kept connection, else one from the pool, once it is this read's turn. A connection is
    /// opened only when none waits here, so the kept ones never outnumber the turns.
    pub async fn take<'a>(&'a self, pool: &PgPool) -> Result<Held<'a>, sea_orm::sqlx::Error> {
        let wait = pool.options().get_acquire_timeout();
        let turn = match tokio::time::timeout(wait, self.turns.acquire()).await {
            Ok(Ok(turn)) => turn,
            Ok(Err(_closed)) => return Err(sea_orm::sqlx::Error::PoolClosed),
            Err(_elapsed) => return Err(sea_orm::sqlx::Error::PoolTimedOut),
        };
        loop {
            let Some(mut idle) = self.pop() else {
                return Ok(Held {
                    // Boxed: sqlx's acquire future is ~14 KiB, and inline it would make every
                    // read's future that size, copied whole each time it moves; a kept
                    // connection is the common case.
                    conn: Box::pin(pool.acquire()).await?,
                    taken: Instant::now(),
                    _turn: turn,
                });
            };
            if idle.taken.elapsed() > self.lend {
                continue; // dropped: back to the pool through sqlx's release
            }
            if idle.used.elapsed() > self.idle_ping && Box::pin(idle.conn.ping()).await.is_err() {
                continue; // dropped: sqlx's release closes it
            }
            return Ok(Held {
                conn: idle.conn,
                taken: idle.taken,
                _turn: turn,
            });
        }
    }

    /// Keeps a connection whose statement succeeded for the next read, then ends the turn.
    pub fn put(&self, held: Held<'_>) {
        let Held {
            conn,
            taken,
            _turn: turn,
        } = held;
        self.lock().push(Idle {
            conn,
            taken,
            used: Instant::now(),
        });
        drop(turn); // after the push: the next read in line finds the connection
    }

    /// How many connections wait here (idle from the database's point of view).
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Hands every kept connection back to the pool (before it closes).
    pub fn release_all(&self) {
        self.turns.close();
        let all = std::mem::take(&mut *self.lock());
        drop(all); // outside the lock: each drop spawns sqlx's release
    }

    fn pop(&self) -> Option<Idle> {
        self.lock().pop()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Idle>> {
        self.idle
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A pool's refusal as SeaORM reports it (its own mapping is private to its drivers): the
/// callers tell an exhausted or closed pool from a failed connection by it.
fn acquire_error(err: sea_orm::sqlx::Error) -> DbErr {
    use sea_orm::sqlx::Error as E;
    match err {
        E::PoolTimedOut => DbErr::ConnectionAcquire(ConnAcquireErr::Timeout),
        E::PoolClosed => DbErr::ConnectionAcquire(ConnAcquireErr::ConnectionClosed),
        err => DbErr::Conn(RuntimeErr::SqlxError(err.into())),
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

    async fn backend_pid(held: &mut Held<'_>) -> Result<i32, sea_orm::sqlx::Error> {
        sea_orm::sqlx::query_scalar("SELECT pg_backend_pid()")
            .fetch_one(&mut *held.conn)
            .await
    }

    #[tokio::test]
    async fn reads_take_turns_on_half_the_pool_and_reuse_the_kept_connections() {
        let Some(pool) = pool(4).await else { return };
        let kept = Kept::new(4);
        let mut first = kept.take(&pool).await.expect("a connection");
        let mut second = kept.take(&pool).await.expect("a connection");
        let pids = [
            backend_pid(&mut first).await.expect("pid"),
            backend_pid(&mut second).await.expect("pid"),
        ];
        // Two turns for a pool of four: the third read waits for one to end.
        let waiting = tokio::time::timeout(Duration::from_millis(200), kept.take(&pool)).await;
        assert!(waiting.is_err(), "a third read got a turn");
        let third = kept.take(&pool);
        tokio::pin!(third);
        assert!(futures::poll!(third.as_mut()).is_pending());
        kept.put(first);
        let mut third = third.await.expect("the first one's connection");
        assert_eq!(backend_pid(&mut third).await.expect("pid"), pids[0]);
        kept.put(third);
        kept.put(second);
        assert_eq!(kept.len(), 2);
        assert_eq!(pool.size(), 2, "no connection opened beyond the kept ones");
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
