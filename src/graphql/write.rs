//! The resolver side of a versioned resource's writes, written once: the `id` of an update's
//! or delete's input parsed, `expectedVersion` and `idempotencyKey` made [`WriteOptions`], the
//! domain call run under the request's context, a replay marked. A mutation resolver names
//! its domain function and builds its payload.

use async_graphql::{Context, ID};
use uuid::Uuid;

use super::IntoGql;
use super::context::{cx, parse_id};
use super::replay;
use crate::domain::context::{RequestContext, WriteOptions};
use crate::domain::versioned::{self, Guarded};
use crate::error::Result;
use crate::idempotency::Outcome;

/// A create mutation: `write` is the domain's `create`, retry-safe by `idempotencyKey`.
pub async fn create<I, T>(
    ctx: &Context<'_>,
    input: I,
    idempotency_key: Option<String>,
    write: impl AsyncFnOnce(&RequestContext, I, &WriteOptions) -> Result<(T, Outcome)>,
) -> async_graphql::Result<T> {
    let options = WriteOptions::keyed(idempotency_key);
    replay::outcome(ctx, write(cx(ctx)?, input, &options)).await
}

/// The input of an update mutation: the id of the object it changes and the domain's patch.
pub trait UpdateInput {
    type Patch;
    fn id(&self) -> &ID;
    /// The patch, its own ids parsed (checked after the object's `id`).
    fn into_patch(self) -> Result<Self::Patch>;
}

/// An update mutation: `write` is the domain's `update`, conditional on `expectedVersion`,
/// retry-safe by `idempotencyKey`.
pub async fn update<I: UpdateInput, T>(
    ctx: &Context<'_>,
    input: I,
    expected_version: Option<i32>,
    idempotency_key: Option<String>,
    write: impl AsyncFnOnce(&RequestContext, Uuid, I::Patch, &WriteOptions) -> Result<(T, Outcome)>,
) -> async_graphql::Result<T> {
    let id = parse_id("id", input.id()).gql()?;
    let patch = input.into_patch().gql()?;
    let options = WriteOptions::new(expected_version, idempotency_key);
    replay::outcome(ctx, write(cx(ctx)?, id, patch, &options)).await
}

/// A delete mutation of an `E` row, conditional on `expectedVersion`: the deleted id.
pub async fn delete<E: Guarded>(
    ctx: &Context<'_>,
    id: &ID,
    expected_version: Option<i32>,
) -> async_graphql::Result<ID> {
    let id = parse_id("id", id).gql()?;
    let options = WriteOptions::new(expected_version, None);
    versioned::delete::<E>(cx(ctx)?, id, &options).await.gql()?;
    Ok(ID(id.to_string()))
}
