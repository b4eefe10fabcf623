//! The SQL ceiling: the statements a workload issued (captured from PostgreSQL's log) replayed
//! with a raw driver loop at the same concurrency, prepared once per connection like the server
//! does, with the logged parameter values sent as text so PostgreSQL parses them exactly as it
//! printed them.

use std::collections::HashMap;
use std::error::Error;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use bytes::BytesMut;
use tokio::time::Instant;
use tokio_postgres::types::{Format, IsNull, ToSql, Type, to_sql_checked};

use crate::pglog::Statement;
use crate::sql::{pg_bench_config, pg_connect};

/// A transaction (BEGIN … COMMIT) or a single autocommitted statement, as one backend ran it.
#[derive(Clone, Debug)]
pub struct Unit(pub Vec<Statement>);

fn is_begin(sql: &str) -> bool {
    let s = sql.trim_start().to_ascii_uppercase();
    s.starts_with("BEGIN") || s.starts_with("START TRANSACTION")
}

fn is_end(sql: &str) -> bool {
    let s = sql.trim_start().to_ascii_uppercase();
    s.starts_with("COMMIT") || s.starts_with("ROLLBACK") || s.starts_with("END")
}

pub fn units(by_pid: HashMap<u32, Vec<Statement>>) -> Vec<Unit> {
    let mut out = Vec::new();
    let mut pids: Vec<_> = by_pid.into_iter().collect();
    pids.sort_by_key(|(pid, _)| *pid);
    for (_, statements) in pids {
        let mut open: Option<Vec<Statement>> = None;
        for s in statements {
            match open.as_mut() {
                Some(tx) => {
                    let end = is_end(&s.sql);
                    tx.push(s);
                    if end {
                        out.push(Unit(open.take().unwrap_or_default()));
                    }
                }
                None if is_begin(&s.sql) => open = Some(vec![s]),
                None => out.push(Unit(vec![s])),
            }
        }
        if let Some(tx) = open {
            out.push(Unit(tx));
        }
    }
    out
}

/// Parameters of an INSERT that must be new on every replay: the `id` primary keys and the
/// idempotency `key` (the rows the server inserted during the capture are still there, and a
/// replay must insert, not collide). Indexes into the statement's parameters.
fn fresh_params(sql: &str) -> Vec<(usize, bool)> {
    let Some(rest) = sql.trim_start().strip_prefix("INSERT INTO ") else {
        return Vec::new();
    };
    let Some(cols) = rest
        .split_once('(')
        .and_then(|(_, r)| r.split_once(')'))
        .map(|(c, _)| c)
    else {
        return Vec::new();
    };
    cols.split(',')
        .enumerate()
        .filter_map(|(i, c)| match c.trim().trim_matches('"') {
            "id" => Some((i, true)),
            "key" => Some((i, false)),
            _ => None,
        })
        .collect()
}

/// Replacement values for one replay of a unit: every occurrence of an inserted key, in any
/// statement of the unit, gets the same new value, so later UPDATEs still find their row.
fn renew<'a>(unit: &'a Unit, nonce: &str, serial: &mut u64) -> HashMap<&'a str, String> {
    let mut map = HashMap::new();
    for s in &unit.0 {
        for (i, is_uuid) in fresh_params(&s.sql) {
            if let Some(Some(old)) = s.params.get(i) {
                *serial += 1;
                let new = if is_uuid {
                    uuid::Uuid::new_v4().to_string()
                } else {
                    format!("{old}-{nonce}-{serial}")
                };
                map.insert(old.as_str(), new);
            }
        }
    }
    map
}

/// A logged parameter value, sent in text format whatever the parameter's type.
#[derive(Debug)]
struct TextParam<'a>(Option<&'a str>);

impl ToSql for TextParam<'_> {
    fn to_sql(
        &self,
        _ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn Error + Sync + Send>> {
        match self.0 {
            None => Ok(IsNull::Yes),
            Some(s) => {
                out.extend_from_slice(s.as_bytes());
                Ok(IsNull::No)
            }
        }
    }

    fn accepts(_ty: &Type) -> bool {
        true
    }

    fn encode_format(&self, _ty: &Type) -> Format {
        Format::Text
    }

    to_sql_checked!();
}

pub struct Replay {
    pub statements: u64,
    pub seconds: f64,
    pub errors: u64,
    pub first_error: Option<String>,
}

/// Replays `units` on `concurrency` connections for `warmup + measure`. Worker `w` owns units
/// `w, w + C, …` so concurrent workers do not replay the same write. Inserted keys are renewed
/// on every replay (see [`renew`]), so transactions commit for real. With `rollback`, they end
/// in ROLLBACK instead (their commit cost is then missing, which makes the ceiling optimistic).
pub async fn replay(
    units: Arc<Vec<Unit>>,
    concurrency: usize,
    warmup: Duration,
    measure: Duration,
    rollback: bool,
) -> Result<Replay> {
    let start = Instant::now() + Duration::from_millis(200);
    let measure_from = start + warmup;
    let end = measure_from + measure;
    let mut tasks = Vec::new();
    for w in 0..concurrency {
        let units = units.clone();
        let client = pg_connect(&pg_bench_config()).await?;
        tasks.push(tokio::spawn(async move {
            let mine: Vec<&Unit> = if units.len() >= concurrency {
                units.iter().skip(w).step_by(concurrency).collect()
            } else {
                units.iter().cycle().skip(w).take(units.len()).collect()
            };
            let mut prepared: HashMap<&str, tokio_postgres::Statement> = HashMap::new();
            let mut counted = 0u64;
            let mut errors = 0u64;
            let mut first_error = None;
            // Keys must differ from the capture's and from every earlier replay's.
            let nonce = uuid::Uuid::new_v4().simple().to_string();
            let mut serial = 0u64;
            tokio::time::sleep_until(start).await;
            'outer: loop {
                for unit in &mine {
                    if Instant::now() >= end {
                        break 'outer;
                    }
                    let mut n = 0u64;
                    let mut failed = None;
                    let fresh = renew(unit, &nonce, &mut serial);
                    for s in &unit.0 {
                        let result = if is_begin(&s.sql) {
                            client.batch_execute(&s.sql).await
                        } else if is_end(&s.sql) {
                            let end_sql = if rollback || failed.is_some() {
                                "ROLLBACK"
                            } else {
                                "COMMIT"
                            };
                            client.batch_execute(end_sql).await
                        } else if failed.is_some() {
                            continue;
                        } else {
                            run_prepared(&client, &mut prepared, s, &fresh).await
                        };
                        match result {
                            Ok(()) => n += 1,
                            Err(e) => {
                                failed.get_or_insert_with(|| format!("{e}: {}", s.sql));
                            }
                        }
                    }
                    if Instant::now() >= measure_from {
                        counted += n;
                        if let Some(e) = failed {
                            errors += 1;
                            first_error.get_or_insert(e);
                        }
                    }
                }
                if mine.is_empty() {
                    break;
                }
            }
            (counted, errors, first_error)
        }));
    }
    let mut out = Replay {
        statements: 0,
        seconds: measure.as_secs_f64(),
        errors: 0,
        first_error: None,
    };
    for t in tasks {
        let (n, e, first) = t.await.context("replay worker panicked")?;
        out.statements += n;
        out.errors += e;
        if out.first_error.is_none() {
            out.first_error = first;
        }
    }
    Ok(out)
}

async fn run_prepared<'a>(
    client: &tokio_postgres::Client,
    prepared: &mut HashMap<&'a str, tokio_postgres::Statement>,
    s: &'a Statement,
    fresh: &HashMap<&str, String>,
) -> Result<(), tokio_postgres::Error> {
    let stmt = match prepared.get(s.sql.as_str()) {
        Some(stmt) => stmt.clone(),
        None => {
            let stmt = client.prepare(&s.sql).await?;
            prepared.insert(&s.sql, stmt.clone());
            stmt
        }
    };
    let params = s
        .params
        .iter()
        .map(|p| TextParam(p.as_deref().map(|v| fresh.get(v).map_or(v, String::as_str))));
    client.execute_raw(&stmt, params).await.map(|_| ())
}
