//! The pools behind PgBouncer in transaction pooling mode (`NEOFORGE_DATABASE_POOLER=transaction`).
//!
//! PgBouncer (1.18, Debian's) lends a client a server session for one transaction and takes it
//! back at the first ReadyForQuery outside one. sqlx runs a statement with arguments in two
//! exchanges, Parse/Describe/Sync and then Bind/Execute/Sync, so outside a transaction the Bind
//! can land on another session than its Parse, one that lacks the statement ("prepared
//! statement sqlx_s_N does not exist") or holds another client's statement of that name, which
//! then runs with this one's arguments ("bind message supplies 2 parameters, but prepared
//! statement sqlx_s_1 requires 1"). Inside an explicit transaction the session stays put, but
//! sqlx names its statements per client connection (sqlx_s_1, sqlx_s_2, …), so a session
//! another client used before already holds "sqlx_s_1" ("already exists"); without its cache
//! sqlx still names them (SeaORM's queries are "persistent") and never closes them. So here:
//!
//! - no statement cache, and every transaction starts with `DEALLOCATE ALL`: the statements it
//!   prepares find free names and live only until the session's next transaction;
//! - the pool of single statements (`Db::conn`) begins a transaction on every connection it
//!   hands out and commits it when the connection comes back;
//! - write transactions come from a second pool without those hooks: a `BEGIN` inside the
//!   hooks' transaction would only warn, and its `COMMIT` would end the hooks' one;
//! - `statement_timeout` is `SET LOCAL` per transaction: PgBouncer refuses it as a startup
//!   parameter, and a session setting would not follow the next transaction to its session.
//!   For the same reason sqlx's `extra_float_digits` startup parameter is left out.

use std::time::Duration;

use sea_orm::sqlx::pool::PoolConnectionMetadata;
use sea_orm::sqlx::postgres::{PgConnectOptions, PgConnection};
use sea_orm::sqlx::{self, Executor};
use sea_orm::{ConnectOptions, ConnectionTrait, DatabaseTransaction, DbErr};

/// Options shared by both pools.
fn unnamed_statements(opts: &mut ConnectOptions) {
    opts.map_sqlx_postgres_opts(|o| startup_parameters(o.statement_cache_capacity(0)));
}

/// Only the startup parameters PgBouncer passes on (it refuses a connection with others).
pub(crate) fn startup_parameters(options: PgConnectOptions) -> PgConnectOptions {
    options.extra_float_digits(None)
}

/// The pool of single statements: each connection it hands out is inside a transaction.
pub(super) fn single_statements(opts: &mut ConnectOptions, statement_timeout: Duration) {
    unnamed_statements(opts);
    let begin = begin_sql(statement_timeout);
    let on_acquire = begin.clone();
    // A connection opened to keep the pool warm would sit idle in the transaction its
    // `after_connect` began (and hold a server session): open connections only when asked.
    // The pool must also be built lazily: sqlx's eager build releases its test connection
    // without `after_release`.
    opts.min_connections(0).connect_lazy(true);
    opts.map_sqlx_postgres_before_acquire(move |conn, _| {
        let sql = on_acquire.clone();
        Box::pin(async move { execute(conn, sql).await.map(|()| true) })
    });
    opts.map_sqlx_postgres_pool_opts(move |pool| {
        let begin = begin.clone();
        pool.after_connect(move |conn, _: PoolConnectionMetadata| {
            let sql = begin.clone();
            Box::pin(execute(conn, sql))
        })
        .after_release(|conn, _| {
            // Also ends a transaction an error aborted (COMMIT then rolls back).
            Box::pin(async move { execute(conn, "COMMIT".to_owned()).await.map(|()| true) })
        })
    });
}

/// The pool write transactions begin on: no hooks.
pub(super) fn transactions(opts: &mut ConnectOptions) {
    unnamed_statements(opts);
}

/// What a write transaction needs from its session, once it has begun.
pub(super) async fn prepare_session(
    tx: &DatabaseTransaction,
    statement_timeout: Duration,
) -> Result<(), DbErr> {
    tx.execute_unprepared(&session_sql(statement_timeout))
        .await
        .map(|_| ())
}

/// One simple-protocol message: one round trip for all three statements.
fn begin_sql(statement_timeout: Duration) -> String {
    format!("BEGIN; {}", session_sql(statement_timeout))
}

fn session_sql(statement_timeout: Duration) -> String {
    format!(
        "SET LOCAL statement_timeout = {}; DEALLOCATE ALL",
        statement_timeout.as_millis()
    )
}

async fn execute(conn: &mut PgConnection, sql: String) -> Result<(), sqlx::Error> {
    conn.execute(sqlx::raw_sql(sqlx::AssertSqlSafe(sql)))
        .await
        .map(|_| ())
}
