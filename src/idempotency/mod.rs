//! Exactly-once writes under retries: the business write and the completed
//! idempotency record commit in one transaction; a retry with the same key and fingerprint
//! replays the stored result; a concurrent duplicate is told to retry (409) at once, decided
//! by the database (a transaction-scoped advisory lock on PostgreSQL) so it holds across
//! server processes, and no duplicate ever waits holding a pool connection.

mod cleanup;
mod key;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait};
use sea_orm::{
    ConnectionTrait, DatabaseTransaction, DbBackend, EntityTrait, QueryFilter, Set, Statement,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

pub use cleanup::{cleanup_expired, spawn_cleanup};
pub use key::IdempotencyKey;

use crate::auth::Principal;
use crate::db::Db;
use crate::entity::idempotency_keys::{self, IdempotencyState};
use crate::error::{Error, Result};
use futures::future::BoxFuture;

/// How long a duplicate that arrived mid-flight should wait before retrying.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// How many times a transaction that lost a race (serialization failure, deadlock) is run in
/// all before the caller is told 503.
const CONTENTION_ATTEMPTS: u32 = 4;

/// 10, 20, 40 ms plus up to as much again at random, so the racers do not meet again.
fn contention_backoff(attempt: u32) -> Duration {
    let base = Duration::from_millis(10u64 << attempt.saturating_sub(1).min(6));
    base + base.mul_f64(rand::random::<f64>())
}

/// Whether a result was produced now or replayed from the key's record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Stored,
    Replayed,
}

#[derive(Clone, Debug)]
pub struct IdempotencyConfig {
    pub ttl: Duration,
    pub required: bool,
}

/// The idempotency engine: configuration plus the keys in flight in this process.
#[derive(Clone, Debug)]
pub struct Idempotency {
    pub config: IdempotencyConfig,
    in_flight: Arc<Mutex<HashSet<(String, String)>>>,
}

/// A result the engine can store with its key and replay.
pub trait Stored: Serialize + DeserializeOwned {}
impl<T: Serialize + DeserializeOwned> Stored for T {}

/// The work of one write transaction: given the transaction and the caller's context.
/// `Clone`, so that a transaction that lost a race can be run again from the start.
pub trait TxWork<C: ?Sized, T>:
    for<'t> FnOnce(&'t DatabaseTransaction, &'t C) -> BoxFuture<'t, Result<T>> + Clone
{
}
impl<C: ?Sized, T, F> TxWork<C, T> for F where
    F: for<'t> FnOnce(&'t DatabaseTransaction, &'t C) -> BoxFuture<'t, Result<T>> + Clone
{
}

/// One keyed request: who, what, and the hash of its canonical input.
pub struct Keyed {
    scope: String,
    key: IdempotencyKey,
    fingerprint: String,
}

impl Idempotency {
    /// The engine `NEOFORGE_IDEMPOTENCY_*` configure.
    pub fn from_settings(settings: &crate::config::Settings) -> Self {
        Self::new(IdempotencyConfig {
            ttl: Duration::from_secs(settings.idempotency_ttl),
            required: settings.idempotency_required,
        })
    }

    pub fn new(config: IdempotencyConfig) -> Self {
        Self {
            config,
            in_flight: Arc::default(),
        }
    }

    /// Parses the key (if any) and derives the scope and fingerprint of this request: a
    /// signed-in caller's keys are theirs, an anonymous caller's belong to its client address.
    /// `input` is the operation's canonical input (`serde_json` maps sort their keys).
    pub fn prepare(
        &self,
        principal: &Principal,
        client_ip: Option<std::net::IpAddr>,
        operation: &str,
        key: Option<&str>,
        input: &impl Serialize,
    ) -> Result<Option<Keyed>> {
        let Some(raw) = key else {
            if self.config.required {
                return Err(Error::BadRequest(format!(
                    "`{operation}` requires an idempotency key (Idempotency-Key header or idempotencyKey argument)"
                )));
            }
            return Ok(None);
        };
        let key = IdempotencyKey::parse(raw)?;
        let who = match principal.user_id() {
            Some(id) => format!("user:{id}"),
            None => match client_ip {
                Some(ip) => format!("anon:{ip}"),
                None => "anon:unknown".to_owned(),
            },
        };
        let canonical = serde_json::to_vec(&(operation, input)).map_err(Error::internal)?;
        let fingerprint = hex::encode(Sha256::digest(&canonical));
        Ok(Some(Keyed {
            scope: format!("{who}:{operation}"),
            key,
            fingerprint,
        }))
    }

    /// Runs `work` in a write transaction, exactly once per key: a completed key with the same
    /// fingerprint replays its stored result without running `work`; a different fingerprint is
    /// `IDEMPOTENCY_KEY_MISMATCH`; a key still executing is `IDEMPOTENCY_KEY_IN_USE`. Errors
    /// (validation, authorization, preconditions) roll everything back and store nothing.
    /// `with` is handed to `work` beside the transaction (the caller's request context), so the
    /// work can borrow it rather than clone it.
    #[tracing::instrument(
        skip_all,
        fields(
            idempotency.outcome = tracing::field::Empty,
            db.transaction.attempts = tracing::field::Empty
        )
    )]
    pub async fn run<T: Stored, C: Sync + ?Sized>(
        &self,
        db: &Db,
        keyed: Option<Keyed>,
        with: &C,
        work: impl TxWork<C, T>,
    ) -> Result<(T, Outcome)> {
        let span = tracing::Span::current();
        let mut attempt = 1;
        // A serialization failure or deadlock rolled the whole transaction back, idempotency
        // record included: run all of it again, a bounded number of times, then answer 503.
        let result = loop {
            let result = match &keyed {
                None => Self::run_once(db, with, work.clone()).await,
                Some(keyed) => self.run_keyed(db, keyed, with, work.clone()).await,
            };
            match result {
                Err(err) if err.is_contention() && attempt < CONTENTION_ATTEMPTS => {
                    // INFO, so the retry is an event on the operation's span in a trace.
                    tracing::info!(attempt, error = %err, "transaction lost a race; retrying");
                    metrics::counter!("db_transaction_retries_total").increment(1);
                    span.record("db.transaction.attempts", attempt + 1);
                    tokio::time::sleep(contention_backoff(attempt)).await;
                    attempt += 1;
                }
                result => break result,
            }
        };
        if keyed.is_none() {
            return result;
        }
        let outcome = match &result {
            Ok((_, Outcome::Stored)) => "stored",
            Ok((_, Outcome::Replayed)) => "replayed",
            Err(Error::IdempotencyKeyInUse { .. }) => "conflict",
            Err(Error::IdempotencyKeyMismatch) => "mismatch",
            Err(_) => "failed",
        };
        span.record("idempotency.outcome", outcome);
        metrics::counter!("idempotency_requests_total", "outcome" => outcome).increment(1);
        result
    }

    async fn run_once<T, C: Sync + ?Sized>(
        db: &Db,
        with: &C,
        work: impl TxWork<C, T>,
    ) -> Result<(T, Outcome)> {
        let tx = db.begin_write().await?;
        let value = work(&tx, with).await?;
        tx.commit().await?;
        Ok((value, Outcome::Stored))
    }

    async fn run_keyed<T: Stored, C: Sync + ?Sized>(
        &self,
        db: &Db,
        keyed: &Keyed,
        with: &C,
        work: impl TxWork<C, T>,
    ) -> Result<(T, Outcome)> {
        // A completed key never changes until it expires: replay it without a transaction, a
        // lock or the in-flight check, so concurrent retries of a finished request all replay.
        if let Some(replay) = completed(db, keyed).await? {
            return Ok((replay, Outcome::Replayed));
        }
        // Same process: refuse a duplicate before it takes a connection.
        let _flight = InFlight::enter(&self.in_flight, keyed)?;
        let tx = db.begin_write().await?;
        if db.backend() == DbBackend::Postgres {
            // Other processes: the database decides. Never waits; released at commit/rollback.
            let lock = Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT pg_try_advisory_xact_lock($1) AS locked",
                [lock_id(keyed).into()],
            );
            let locked = tx
                .query_one_raw(lock)
                .await?
                .map(|row| row.try_get::<bool>("", "locked"))
                .transpose()?
                .unwrap_or(false);
            if !locked {
                return Err(Error::IdempotencyKeyInUse {
                    retry_after: RETRY_AFTER,
                });
            }
        }
        let now = Utc::now();
        // Again under the lock: the key may have completed since the first look.
        let existing = record(keyed).one(&tx.tx).await?;
        if let Some(record) = existing {
            if record.expires_at > now {
                return match replay(record, keyed)? {
                    Some(value) => Ok((value, Outcome::Replayed)),
                    None => Err(Error::IdempotencyKeyInUse {
                        retry_after: RETRY_AFTER,
                    }),
                };
            }
            // Expired: behaves as new.
            idempotency_keys::Entity::delete_many()
                .filter(idempotency_keys::Column::Scope.eq(record.scope))
                .filter(idempotency_keys::Column::Key.eq(record.key))
                .exec(&tx.tx)
                .await?;
        }
        let value = work(&tx.tx, with).await?;
        let response = serde_json::to_string(&value).map_err(Error::internal)?;
        let ttl = chrono::Duration::from_std(self.config.ttl).unwrap_or(chrono::Duration::days(1));
        idempotency_keys::ActiveModel {
            scope: Set(keyed.scope.clone()),
            key: Set(keyed.key.as_str().to_owned()),
            fingerprint: Set(keyed.fingerprint.clone()),
            state: Set(IdempotencyState::Completed),
            response: Set(Some(response)),
            created_at: Set(now),
            expires_at: Set(now + ttl),
        }
        .insert(&tx.tx)
        .await?;
        tx.commit().await?;
        Ok((value, Outcome::Stored))
    }
}

/// The record of a scope's key, if any.
fn record(keyed: &Keyed) -> sea_orm::Select<idempotency_keys::Entity> {
    idempotency_keys::Entity::find_by_id((keyed.scope.clone(), keyed.key.as_str().to_owned()))
}

/// The stored result of a live record: `None` while it is still executing.
fn replay<T: DeserializeOwned>(
    record: idempotency_keys::Model,
    keyed: &Keyed,
) -> Result<Option<T>> {
    if record.fingerprint != keyed.fingerprint {
        return Err(Error::IdempotencyKeyMismatch);
    }
    if record.state != IdempotencyState::Completed {
        return Ok(None);
    }
    let stored = record.response.unwrap_or_default();
    serde_json::from_str(&stored)
        .map(Some)
        .map_err(Error::internal)
}

/// The replayed result when `keyed` completed and has not expired (a mismatch is an error).
/// One statement outside any transaction: every retry of a finished request is this read alone.
async fn completed<T: DeserializeOwned>(db: &Db, keyed: &Keyed) -> Result<Option<T>> {
    match db.one(record(keyed)).await? {
        Some(r) if r.expires_at > Utc::now() && r.state == IdempotencyState::Completed => {
            replay(r, keyed)
        }
        _ => Ok(None),
    }
}

/// The advisory-lock id of a key: 64 bits of SHA-256 over scope and key.
fn lock_id(keyed: &Keyed) -> i64 {
    let digest = Sha256::new()
        .chain_update(keyed.scope.as_bytes())
        .chain_update([0u8])
        .chain_update(keyed.key.as_str().as_bytes())
        .finalize();
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(bytes)
}

/// Marks a key as executing in this process until dropped.
struct InFlight<'a> {
    set: &'a Mutex<HashSet<(String, String)>>,
    entry: (String, String),
}

impl<'a> InFlight<'a> {
    fn enter(set: &'a Mutex<HashSet<(String, String)>>, keyed: &Keyed) -> Result<Self> {
        let entry = (keyed.scope.clone(), keyed.key.as_str().to_owned());
        let mut guard = set.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if !guard.insert(entry.clone()) {
            return Err(Error::IdempotencyKeyInUse {
                retry_after: RETRY_AFTER,
            });
        }
        Ok(Self { set, entry })
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        let mut guard = self
            .set
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        guard.remove(&self.entry);
    }
}
