//! Direct database access for seeding and sampling: PostgreSQL through tokio-postgres, SQLite
//! through the `sqlite3` shell (so the bench does not need its own SQLite driver build).

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use tokio_postgres::{Client, NoTls, SimpleQueryMessage};

pub const PG_ADMIN: &str = "host=127.0.0.1 port=5432 user=postgres dbname=postgres";

/// The benchmark database: `neoforge_bench`, or `NEOFORGE_BENCH_DB` (so two benches on one
/// PostgreSQL do not drop each other's database).
pub fn pg_db() -> &'static str {
    static NAME: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    NAME.get_or_init(|| {
        std::env::var("NEOFORGE_BENCH_DB")
            .ok()
            .filter(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or_else(|| "neoforge_bench".to_owned())
    })
}

pub enum Sql {
    Pg(Client),
    Sqlite(PathBuf),
}

pub async fn pg_connect(config: &str) -> Result<Client> {
    let (client, conn) = tokio_postgres::connect(config, NoTls)
        .await
        .with_context(|| format!("connect to PostgreSQL ({config})"))?;
    tokio::spawn(async move {
        if let Err(e) = conn.await {
            eprintln!("postgres connection: {e}");
        }
    });
    Ok(client)
}

/// Drops and recreates the benchmark database so every run starts from the same state.
pub async fn pg_fresh_database() -> Result<()> {
    let admin = pg_connect(PG_ADMIN).await?;
    admin
        .batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", pg_db()))
        .await
        .context("drop benchmark database")?;
    admin
        .batch_execute(&format!("CREATE DATABASE {}", pg_db()))
        .await
        .context("create benchmark database")?;
    Ok(())
}

/// `sslmode` matters: the Debian server has TLS on, sqlx prefers it, and the replay client does
/// not use it, so the default `disable` keeps server and ceiling on the same footing.
pub fn pg_url(sslmode: &str) -> String {
    format!(
        "postgres://postgres@127.0.0.1:5432/{}?sslmode={sslmode}",
        pg_db()
    )
}

pub fn pg_bench_config() -> String {
    format!("host=127.0.0.1 port=5432 user=postgres dbname={}", pg_db())
}

impl Sql {
    pub async fn exec(&self, sql: &str) -> Result<()> {
        match self {
            Self::Pg(c) => c
                .batch_execute(sql)
                .await
                .with_context(|| format!("execute: {sql}")),
            Self::Sqlite(path) => sqlite3(path, sql).await.map(|_| ()),
        }
    }

    /// Rows as text, NULL as an empty string.
    pub async fn rows(&self, sql: &str) -> Result<Vec<Vec<String>>> {
        match self {
            Self::Pg(c) => {
                let messages = c
                    .simple_query(sql)
                    .await
                    .with_context(|| format!("query: {sql}"))?;
                Ok(messages
                    .into_iter()
                    .filter_map(|m| match m {
                        SimpleQueryMessage::Row(row) => Some(
                            (0..row.len())
                                .map(|i| row.get(i).unwrap_or_default().to_owned())
                                .collect(),
                        ),
                        _ => None,
                    })
                    .collect())
            }
            Self::Sqlite(path) => Ok(sqlite3(path, sql)
                .await?
                .lines()
                .map(|l| l.split('\u{1f}').map(str::to_owned).collect())
                .collect()),
        }
    }

    /// An expression rendering uuid column `col` as canonical text on either backend.
    pub fn id_text(&self, col: &str) -> String {
        match self {
            Self::Pg(_) => format!("{col}::text"),
            Self::Sqlite(_) => {
                let h = format!("lower(hex({col}))");
                format!(
                    "CASE typeof({col}) WHEN 'blob' THEN substr({h}, 1, 8) || '-' || substr({h}, 9, 4) || '-' || substr({h}, 13, 4) || '-' || substr({h}, 17, 4) || '-' || substr({h}, 21) ELSE {col} END"
                )
            }
        }
    }

    pub async fn scalar(&self, sql: &str) -> Result<String> {
        self.rows(sql)
            .await?
            .into_iter()
            .next()
            .and_then(|r| r.into_iter().next())
            .with_context(|| format!("no row from: {sql}"))
    }
}

async fn sqlite3(path: &PathBuf, sql: &str) -> Result<String> {
    let out = tokio::process::Command::new("sqlite3")
        .arg("-batch")
        .arg("-separator")
        .arg("\u{1f}")
        .arg("-cmd")
        .arg(".timeout 10000")
        .arg(path)
        .arg(sql)
        .output()
        .await
        .context("run sqlite3 (is it installed?)")?;
    if !out.status.success() {
        bail!(
            "sqlite3 failed: {}\n{sql}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}
