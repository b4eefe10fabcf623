//! The one way the domain writes: a write transaction handed to the work together with the request
//! it serves, so the business rows, the idempotency record and the audit event commit together (one
//! transaction per write, docs/architecture.md), and no resource module repeats the plumbing.

use futures::future::BoxFuture;
use sea_orm::DatabaseTransaction;
use serde::Serialize;

use super::audit;
use super::context::{RequestContext, WriteOptions};
use crate::error::Result;
use crate::idempotency::{Outcome, Stored};

/// A write transaction and the request it serves.
#[derive(Clone, Copy)]
pub struct Tx<'t> {
    pub conn: &'t DatabaseTransaction,
    pub ctx: &'t RequestContext,
}

impl Tx<'_> {
    /// Records an audit event by the caller, in this transaction.
    pub async fn audit(&self, action: &str, target: String) -> Result<()> {
        let actor = self.ctx.principal.user_id();
        audit::record(self.conn, &self.ctx.meta, actor, action, Some(target), None).await
    }
}

/// What a write does inside its transaction. `Clone`, so that a transaction that lost a race
/// can be run again from the start.
pub trait Work<T>: for<'t> FnOnce(Tx<'t>) -> BoxFuture<'t, Result<T>> + Clone {}
impl<T, F: for<'t> FnOnce(Tx<'t>) -> BoxFuture<'t, Result<T>> + Clone> Work<T> for F {}

/// Runs `work` in one write transaction, exactly once per idempotency key: `operation` and
/// `input` (the canonical input, without the key) scope and fingerprint the key. Without a key it
/// simply runs; with `NEOFORGE_IDEMPOTENCY_REQUIRED` a missing key is refused first.
pub async fn keyed<T: Stored>(
    ctx: &RequestContext,
    operation: &str,
    options: &WriteOptions,
    input: &impl Serialize,
    work: impl Work<T>,
) -> Result<(T, Outcome)> {
    let engine = ctx.idempotency();
    let key = options.idempotency_key.as_deref();
    let keyed = engine.prepare(&ctx.principal, ctx.meta.ip, operation, key, input)?;
    engine
        .run(ctx.db(), keyed, ctx, |conn, ctx| work(Tx { conn, ctx }))
        .await
}

/// Runs `work` in one write transaction, for writes that take no idempotency key (deletes).
pub async fn transaction<T: Stored>(ctx: &RequestContext, work: impl Work<T>) -> Result<T> {
    let (value, _) = ctx
        .idempotency()
        .run(ctx.db(), None, ctx, |conn, ctx| work(Tx { conn, ctx }))
        .await?;
    Ok(value)
}
