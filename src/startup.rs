//! Starting without the database. Under compose or Kubernetes the server often starts before
//! PostgreSQL accepts connections: rather than exit with a bare "pool timed out", `serve` names
//! the database and the reason once, answers `/health/ready` and the API with 503, and brings
//! the database up in the background (connect, migrate) with capped exponential backoff.
//! `NEOFORGE_DB_WAIT` bounds the wait for those who prefer the process to exit (0: at once).

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use sea_orm::sqlx::Connection as _;
use sea_orm::sqlx::postgres::{PgConnectOptions, PgConnection};
use tokio_util::sync::CancellationToken;

use crate::config::Settings;
use crate::db::Db;

const MIN_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(15);

/// Waits for a database that was unreachable at start, then connects and migrates it and marks
/// the server ready: a background job of `serve`.
pub struct DatabaseWait {
    settings: Settings,
    deadline: Option<Instant>,
    reason: String,
    /// Set when the wait allowed by `NEOFORGE_DB_WAIT` ran out: `serve` then exits with it.
    gave_up: Arc<OnceLock<String>>,
}

/// Connects and migrates. When PostgreSQL cannot be reached and `NEOFORGE_DB_WAIT` allows
/// waiting, returns instead a pool that connects lazily, marked not ready, and the job that
/// makes it ready. SQLite opens a local file: nothing to wait for, so it fails at once.
pub async fn open(settings: &Settings) -> anyhow::Result<(Db, Option<DatabaseWait>)> {
    if !settings.is_sqlite()
        && let Err(reason) = probe(settings).await
    {
        let target = target(settings);
        if settings.db_wait == Some(0) {
            anyhow::bail!("database {target} is unavailable: {reason}");
        }
        tracing::warn!(
            db.target = %target,
            %reason,
            wait_s = ?settings.db_wait,
            "database unavailable at start: serving 503 and retrying in the background"
        );
        let db = Db::connect_lazily(settings).await?;
        db.set_unavailable(Some(reason.clone()));
        let database_wait = DatabaseWait {
            settings: settings.clone(),
            deadline: settings
                .db_wait
                .map(|s| Instant::now() + Duration::from_secs(s)),
            reason,
            gave_up: Arc::default(),
        };
        return Ok((db, Some(database_wait)));
    }
    let db = Db::connect(settings).await?;
    if settings.auto_migrate {
        db.migrate_up(settings).await?;
    }
    Ok((db, None))
}

impl DatabaseWait {
    /// Where `serve` finds out that the wait ran out.
    pub fn gave_up(&self) -> Arc<OnceLock<String>> {
        self.gave_up.clone()
    }

    /// Retries until the database answers and is migrated, `stop` is cancelled, or the wait
    /// runs out (then cancels `stop`, so the server exits). Logs when the reason changes, not
    /// on every attempt.
    pub async fn run(mut self, db: Db, stop: CancellationToken) {
        let target = target(&self.settings);
        let mut backoff = MIN_BACKOFF;
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(backoff) => {}
            }
            backoff = (backoff * 2).min(MAX_BACKOFF);
            let attempt = match probe(&self.settings).await {
                Ok(()) if self.settings.auto_migrate => db
                    .migrate_up(&self.settings)
                    .await
                    .map_err(|e| format!("cannot migrate: {e}")),
                other => other,
            };
            match attempt {
                Ok(()) => {
                    db.set_unavailable(None);
                    tracing::info!(db.target = %target, "database available: ready");
                    return;
                }
                Err(reason) => {
                    if reason != self.reason {
                        tracing::warn!(db.target = %target, %reason, "database still unavailable");
                        self.reason = reason;
                    }
                    db.set_unavailable(Some(self.reason.clone()));
                }
            }
            if self.deadline.is_some_and(|d| Instant::now() >= d) {
                let message = format!(
                    "database {target} still unavailable after NEOFORGE_DB_WAIT={}s: {}",
                    self.settings.db_wait.unwrap_or_default(),
                    self.reason
                );
                tracing::error!("{message}");
                let _ = self.gave_up.set(message);
                stop.cancel();
                return;
            }
        }
    }
}

/// `host:port/database` of the configured PostgreSQL: what an operator needs to look at, and
/// never the password.
pub fn target(settings: &Settings) -> String {
    match settings.database_url.parse::<PgConnectOptions>() {
        Ok(o) => format!(
            "{}:{}/{}",
            o.get_host(),
            o.get_port(),
            o.get_database().unwrap_or("")
        ),
        Err(_) => crate::config::redact_url(&settings.database_url),
    }
}

/// One direct connection attempt, outside the pool, so the reason is the real one (refused,
/// unknown host, authentication, no such database) rather than the pool's "timed out".
async fn probe(settings: &Settings) -> Result<(), String> {
    let options = settings
        .database_url
        .parse::<PgConnectOptions>()
        .map_err(|e| format!("bad DATABASE_URL: {e}"))?;
    let options = if settings.behind_transaction_pooler() {
        crate::db::transaction_pooler::startup_parameters(options)
    } else {
        options
    };
    let limit = Duration::from_secs(settings.db_connect_timeout);
    match tokio::time::timeout(limit, PgConnection::connect_with(&options)).await {
        Err(_) => Err(format!(
            "no answer within {}s (host down or traffic dropped)",
            limit.as_secs()
        )),
        Ok(Err(err)) => Err(reason(&err)),
        Ok(Ok(conn)) => {
            let _ = conn.close().await;
            Ok(())
        }
    }
}

/// A connection failure in an operator's words.
fn reason(err: &sea_orm::sqlx::Error) -> String {
    use sea_orm::sqlx::Error as E;
    match err {
        E::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
            "connection refused (is PostgreSQL running and listening there?)".to_owned()
        }
        E::Io(io) if io.to_string().contains("lookup") => {
            format!("cannot resolve the host name (DNS): {io}")
        }
        E::Io(io) => format!("network error: {io}"),
        E::Tls(e) => format!("TLS error: {e}"),
        E::Database(db) => {
            let what = match db.code().as_deref() {
                Some("28P01" | "28000") => "authentication failed",
                Some("3D000") => "no such database",
                Some("57P03") => "the server is starting up or shutting down",
                Some("53300") => "too many connections",
                _ => "refused by the server",
            };
            format!("{what}: {}", db.message())
        }
        other => other.to_string(),
    }
}
