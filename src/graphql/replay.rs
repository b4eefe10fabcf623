//! Marks idempotent replays: the HTTP header `Idempotent-Replayed: true` and the GraphQL
//! response extension `idempotentReplayed: true`.

use std::sync::atomic::{AtomicBool, Ordering};

use async_graphql::extensions::ExtensionContext;
use async_graphql::{Context, Request, Response, Value};

use super::IntoGql;
use crate::error::Result;
use crate::idempotency::Outcome;

pub const HEADER: &str = "idempotent-replayed";

#[derive(Default)]
struct Replayed(AtomicBool);

/// A keyed mutation's result: marks a replay and keeps the error code of a failure.
pub async fn outcome<T>(
    ctx: &Context<'_>,
    write: impl Future<Output = Result<(T, Outcome)>>,
) -> async_graphql::Result<T> {
    let (value, outcome) = write.await.gql()?;
    note(ctx, outcome);
    Ok(value)
}

fn note(ctx: &Context<'_>, outcome: Outcome) {
    if outcome == Outcome::Replayed {
        ctx.insert_http_header(HEADER, "true");
        if let Some(flag) = ctx.data_opt::<Replayed>() {
            flag.0.store(true, Ordering::Relaxed);
        }
    }
}

/// Gives `request` its replay flag, which [`outcome`] raises. Run for every request by
/// [`super::hooks::Hooks`].
pub fn per_request(request: Request) -> Request {
    request.data(Replayed::default())
}

/// Marks a response whose request replayed a write. Run by [`super::hooks::Hooks`].
pub fn mark(ctx: &ExtensionContext<'_>, response: &mut Response) {
    if ctx
        .data_opt::<Replayed>()
        .is_some_and(|f| f.0.load(Ordering::Relaxed))
    {
        marked(response);
    }
}

fn marked(response: &mut Response) {
    response
        .extensions
        .insert("idempotentReplayed".into(), Value::Boolean(true));
}
