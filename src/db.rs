//! Database connection, migrations and the write-transaction discipline for both backends.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};
use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseExecutor,
    DatabaseTransaction, DbBackend, DbErr, EntityTrait, IntoDatabaseExecutor, QueryResult,
    QuerySelect, QueryTrait, Select, SqliteTransactionMode, Statement, TransactionOptions,
    TransactionTrait,
};
use tokio::sync::Mutex;

use crate::config::{Settings, redact_url};
pub use positional::Positional;

mod kept;
pub mod positional;
pub(crate) mod transaction_pooler;

/// Advisory-lock key that serialises `migrate` across replicas ("neoforge" in ASCII).
const MIGRATION_LOCK_KEY: i64 = 0x6e65_6f66_6f72_6765;

/// A pooled connection plus the knowledge of how to write safely on its backend.
#[derive(Clone, Debug)]
pub struct Db {
    conn: DatabaseConnection,
    /// Behind a transaction pooler: the pool write transactions begin on, and the
    /// `statement_timeout` each sets for itself (see `db/transaction_pooler.rs`).
    pooled: Option<(DatabaseConnection, Duration)>,
    /// SQLite has one writer. Deferred transactions that read and then write fail with
    /// "database is locked" under concurrency, so writes take this in-process gate and then
    /// `BEGIN IMMEDIATE`. PostgreSQL needs no gate.
    sqlite_writer: Option<Arc<Mutex<()>>>,
    /// PostgreSQL connections that reads outside transactions keep between statements (not
    /// behind a transaction pooler); see `db/kept.rs`.
    kept: Option<Arc<kept::Kept>>,
    /// SQL statements executed through this pool (tests assert DataLoader batching with it).
    statements: Arc<AtomicU64>,
    /// Why the database cannot serve yet (unreachable at start, migrations not applied);
    /// `None` once it can. See [`crate::startup`].
    unavailable: Arc<std::sync::RwLock<Option<String>>>,
}

/// A write transaction. On SQLite it holds the writer gate until commit or drop.
pub struct WriteTx {
    pub tx: DatabaseTransaction,
    _gate: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl WriteTx {
    pub async fn commit(self) -> Result<(), DbErr> {
        self.tx.commit().await
    }

    /// Rolls back and releases the writer gate.
    pub async fn rollback(self) -> Result<(), DbErr> {
        self.tx.rollback().await
    }
}

impl std::ops::Deref for WriteTx {
    type Target = DatabaseTransaction;
    fn deref(&self) -> &Self::Target {
        &self.tx
    }
}

/// A schema change `neoforge migrate` can make.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Migration {
    Up,
    Down(u32),
    Fresh,
}

impl Migration {
    async fn run(self, conn: DatabaseExecutor<'_>) -> Result<(), DbErr> {
        match self {
            Self::Up => Migrator::up(conn, None).await,
            Self::Down(steps) => Migrator::down(conn, Some(steps)).await,
            Self::Fresh => Migrator::fresh(conn).await,
        }
    }
}

impl Db {
    #[tracing::instrument(skip_all, fields(db.url = %redact_url(&settings.database_url)))]
    pub async fn connect(settings: &Settings) -> Result<Self, DbErr> {
        if settings.behind_transaction_pooler() {
            // Those pools open connections lazily: reach the database once, as the eager
            // pool does, so a wrong URL still fails here.
            let db = Self::connect_lazily(settings).await?;
            db.ping().await?;
            return Ok(db);
        }
        let conn = Database::connect(Self::options(settings)).await?;
        Ok(Self::around(conn, None, settings))
    }

    /// A pool that opens its connections on first use: for starting while the database is
    /// unreachable ([`crate::startup`]).
    pub async fn connect_lazily(settings: &Settings) -> Result<Self, DbErr> {
        let mut opts = Self::options(settings);
        opts.connect_lazy(true);
        if !settings.behind_transaction_pooler() {
            let conn = Database::connect(opts).await?;
            return Ok(Self::around(conn, None, settings));
        }
        let timeout = Duration::from_millis(settings.db_statement_timeout);
        let mut writes = opts.clone();
        transaction_pooler::transactions(&mut writes);
        transaction_pooler::single_statements(&mut opts, timeout);
        let conn = Database::connect(opts).await?;
        let writes = Database::connect(writes).await?;
        Ok(Self::around(conn, Some((writes, timeout)), settings))
    }

    fn options(settings: &Settings) -> ConnectOptions {
        let mut opts = ConnectOptions::new(settings.database_url.clone());
        let connect_timeout = Duration::from_secs(settings.db_connect_timeout);
        opts.max_connections(settings.db_max_connections)
            .min_connections(1)
            .connect_timeout(connect_timeout)
            .acquire_timeout(connect_timeout)
            // sqlx pings every connection it hands out by default: a second round trip per
            // statement. Only a connection that sat idle may have been dropped by the server or
            // a proxy.
            .test_before_acquire_if_idle_for(Duration::from_secs(30))
            .sqlx_logging(false);
        if settings.is_sqlite() {
            // WAL lets readers proceed while the single writer writes; the busy timeout covers the
            // brief moments another process (e.g. `neoforge migrate`) holds the lock.
            opts.map_sqlx_sqlite_opts(|o| {
                o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                    .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                    .busy_timeout(Duration::from_secs(5))
                    .foreign_keys(true)
                    .create_if_missing(true)
            });
        } else if !settings.behind_transaction_pooler() {
            // A startup parameter (PgBouncer refuses it; see db/transaction_pooler.rs).
            opts.statement_timeout(Duration::from_millis(settings.db_statement_timeout));
        }
        opts
    }

    fn around(
        mut conn: DatabaseConnection,
        mut pooled: Option<(DatabaseConnection, Duration)>,
        settings: &Settings,
    ) -> Self {
        let statements = Arc::new(AtomicU64::new(0));
        let system = if settings.is_sqlite() {
            "sqlite"
        } else {
            "postgresql"
        };
        conn.set_metric_callback(count_statements(statements.clone(), system));
        if let Some((writes, _)) = &mut pooled {
            writes.set_metric_callback(count_statements(statements.clone(), system));
        }
        let kept = if conn.get_database_backend() == DbBackend::Postgres && pooled.is_none() {
            kept::Kept::for_pool(settings.db_max_connections).map(Arc::new)
        } else {
            None
        };
        Self {
            conn,
            pooled,
            kept,
            sqlite_writer: settings.is_sqlite().then(|| Arc::new(Mutex::new(()))),
            statements,
            unavailable: Arc::default(),
        }
    }

    /// The first row of `select`, as SeaORM's `Select::one` reads it, on a kept connection
    /// where there are (`db/kept.rs`), decoded by position (`db/positional.rs`).
    pub async fn one<E: EntityTrait<Model: Positional>>(
        &self,
        select: Select<E>,
    ) -> Result<Option<E::Model>, DbErr> {
        let stmt = select.limit(1).build(self.backend());
        let row = self.read(stmt, kept::Rows::One).await?.pop();
        row.as_ref().map(positional::decode_one).transpose()
    }

    /// The rows of `query` decoded as `M`, as SeaORM's `all` reads them, the same way as
    /// [`Db::one`].
    pub async fn all<M: Positional>(&self, query: &impl QueryTrait) -> Result<Vec<M>, DbErr> {
        self.all_statement(query.build(self.backend())).await
    }

    /// [`Db::all`] for a statement already built.
    pub async fn all_statement<M: Positional>(&self, stmt: Statement) -> Result<Vec<M>, DbErr> {
        let rows = self.read(stmt, kept::Rows::All).await?;
        positional::decode_all(&rows)
    }

    async fn read(&self, stmt: Statement, rows: kept::Rows) -> Result<Vec<QueryResult>, DbErr> {
        let Some(kept) = &self.kept else {
            return match rows {
                kept::Rows::One => Ok(self.conn.query_one_raw(stmt).await?.into_iter().collect()),
                kept::Rows::All => self.conn.query_all_raw(stmt).await,
            };
        };
        let pool = self.conn.get_postgres_connection_pool();
        let (found, elapsed) = kept.fetch(pool, &stmt, rows).await?;
        counted(
            &self.statements,
            &crate::telemetry::Statement {
                sql: &stmt.sql,
                system: "postgresql",
                elapsed,
                failed: found.is_err(),
            },
        );
        found.map_err(|err| DbErr::Query(sea_orm::RuntimeErr::SqlxError(err.into())))
    }

    /// Why the database cannot serve yet, if it cannot.
    pub fn unavailable(&self) -> Option<String> {
        self.unavailable
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    pub fn set_unavailable(&self, reason: Option<String>) {
        *self
            .unavailable
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = reason;
    }

    pub fn statements_executed(&self) -> u64 {
        self.statements.load(AtomicOrdering::Relaxed)
    }

    /// The pool's connections right now: (open, idle, configured maximum).
    /// Behind a transaction pooler, the two pools' sum.
    pub fn pool_stats(&self) -> (u32, u32, u32) {
        let (open, mut idle, max) = pool_stats(&self.conn);
        if let Some(kept) = &self.kept {
            idle = idle.saturating_add(self::idle(kept.len()));
        }
        match &self.pooled {
            Some((writes, _)) => {
                let (w_open, w_idle, w_max) = pool_stats(writes);
                (open + w_open, idle + w_idle, max + w_max)
            }
            None => (open, idle, max),
        }
    }

    pub fn conn(&self) -> &DatabaseConnection {
        &self.conn
    }

    pub fn backend(&self) -> DbBackend {
        self.conn.get_database_backend()
    }

    /// Begins a transaction that is allowed to write (see [`Db::sqlite_writer`]).
    pub async fn begin_write(&self) -> Result<WriteTx, DbErr> {
        let gate = match &self.sqlite_writer {
            Some(m) => Some(m.clone().lock_owned().await),
            None => None,
        };
        let options = TransactionOptions {
            sqlite_transaction_mode: gate.as_ref().map(|_| SqliteTransactionMode::Immediate),
            ..Default::default()
        };
        let Some((writes, statement_timeout)) = &self.pooled else {
            let tx = self.conn.begin_with_options(options).await?;
            return Ok(WriteTx { tx, _gate: gate });
        };
        let tx = writes.begin_with_options(options).await?;
        transaction_pooler::prepare_session(&tx, *statement_timeout).await?;
        Ok(WriteTx { tx, _gate: gate })
    }

    /// Applies pending migrations (what `serve` does at start).
    pub async fn migrate_up(&self, settings: &Settings) -> Result<(), DbErr> {
        self.migrate(settings, Migration::Up).await
    }

    /// Runs a schema change so that concurrent starters cannot race. PostgreSQL: a session
    /// advisory lock on a dedicated connection: the first replica migrates, the others wait for
    /// the lock and then find nothing pending. SQLite: one `BEGIN IMMEDIATE` transaction around
    /// the whole run, which serialises processes sharing the file the same way. The lock and the
    /// migration take a session of their own: `NEOFORGE_DATABASE_SESSION_URL`, which bypasses a
    /// transaction pooler (a session lock taken through one stays on a server session that the
    /// pooler lends to others).
    #[tracing::instrument(skip(self, settings))]
    pub async fn migrate(&self, settings: &Settings, action: Migration) -> Result<(), DbErr> {
        if self.backend() != DbBackend::Postgres {
            if action == Migration::Fresh {
                // Dropping tables needs `PRAGMA foreign_keys = OFF`, a no-op inside a transaction.
                return Migrator::fresh(&self.conn).await;
            }
            let tx = self.begin_write().await?;
            action.run((&tx.tx).into_database_executor()).await?;
            return tx.commit().await;
        }
        let mut opts = ConnectOptions::new(settings.session_url().to_owned());
        opts.max_connections(1)
            .min_connections(1)
            .connect_timeout(Duration::from_secs(settings.db_connect_timeout))
            .sqlx_logging(false);
        let conn = Database::connect(opts).await?;
        let lock = |sql: &str| {
            Statement::from_sql_and_values(DbBackend::Postgres, sql, [MIGRATION_LOCK_KEY.into()])
        };
        conn.execute_raw(lock("SELECT pg_advisory_lock($1)"))
            .await?;
        tracing::debug!("holding the migration lock");
        let result = action.run((&conn).into_database_executor()).await;
        let unlocked = conn
            .execute_raw(lock("SELECT pg_advisory_unlock($1)"))
            .await;
        let _ = conn.close().await;
        result.and(unlocked.map(|_| ()))
    }

    /// Names of migrations not yet applied.
    pub async fn pending_migrations(&self) -> Result<Vec<String>, DbErr> {
        Ok(Migrator::get_pending_migrations(&self.conn)
            .await?
            .iter()
            .map(|m| m.name().to_owned())
            .collect())
    }

    pub async fn ping(&self) -> Result<(), DbErr> {
        self.conn.ping().await
    }

    pub async fn close(self) {
        if let Some(kept) = &self.kept {
            kept.release_all();
        }
        let _ = self.conn.close().await;
        if let Some((writes, _)) = self.pooled {
            let _ = writes.close().await;
        }
    }
}

/// Runs after every statement, including those of DataLoader batches and transactions, in the
/// task that issued it: the current span is the statement's parent.
fn count_statements(
    counter: Arc<AtomicU64>,
    system: &'static str,
) -> impl Fn(&sea_orm::metric::Info<'_>) + Send + Sync + 'static {
    move |info| {
        counted(
            &counter,
            &crate::telemetry::Statement {
                sql: &info.statement.sql,
                system,
                elapsed: info.elapsed,
                failed: info.failed,
            },
        );
    }
}

/// A statement that ran: the pool's count, the metrics and its span.
fn counted(counter: &AtomicU64, stmt: &crate::telemetry::Statement<'_>) {
    counter.fetch_add(1, AtomicOrdering::Relaxed);
    crate::metrics::statement(stmt);
    crate::telemetry::statement_span(stmt);
}

/// A pool's connections right now: (open, idle, configured maximum).
fn pool_stats(conn: &DatabaseConnection) -> (u32, u32, u32) {
    match conn.get_database_backend() {
        DbBackend::Postgres => {
            let pool = conn.get_postgres_connection_pool();
            (
                pool.size(),
                idle(pool.num_idle()),
                pool.options().get_max_connections(),
            )
        }
        DbBackend::Sqlite => {
            let pool = conn.get_sqlite_connection_pool();
            (
                pool.size(),
                idle(pool.num_idle()),
                pool.options().get_max_connections(),
            )
        }
        _ => (0, 0, 0),
    }
}

fn idle(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}
