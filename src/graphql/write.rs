//! The resolver side of a versioned resource's writes, written once: the `id` of an update's
//! or delete's input parsed, `expectedVersion` and `idempotencyKey` made [`WriteOptions`], the
//! domain call run under the request's context, a replay marked, the payload made. A mutation
//! resolver names its domain function; its payload names the field the written object goes in
//! ([`payload_of!`]).

use async_graphql::{Context, ID};
use uuid::Uuid;

use super::IntoGql;
use super::context::{parse_id, request_context};
use super::replay;
use crate::domain::context::{RequestContext, WriteOptions};
use crate::domain::versioned::{self, Guarded};
use crate::error::Result;
use crate::idempotency::Outcome;

/// The payload of a mutation that answers the object it wrote, in one field:
/// `payload_of!(projects::Model => CreateProjectPayload.project, ...)`.
macro_rules! payload_of {
    ($model:ty => $($payload:ident . $field:ident),+ $(,)?) => {
        $(
            impl From<$model> for $payload {
                fn from(written: $model) -> Self {
                    Self { $field: written.into() }
                }
            }
        )+
    };
}
pub(crate) use payload_of;

/// A create mutation: `write` is the domain's `create`, retry-safe by `idempotencyKey`.
pub async fn create<I, T, P: From<T>>(
    ctx: &Context<'_>,
    input: I,
    idempotency_key: Option<String>,
    write: impl AsyncFnOnce(&RequestContext, I, &WriteOptions) -> Result<(T, Outcome)>,
) -> async_graphql::Result<P> {
    let options = WriteOptions::keyed(idempotency_key);
    let written = replay::outcome(ctx, write(request_context(ctx)?, input, &options)).await?;
    Ok(written.into())
}

/// The input of an update mutation: the id of the object it changes and the domain's patch.
pub trait UpdateInput {
    type Patch;
    fn id(&self) -> &ID;
    /// The patch, its own ids parsed (checked after the object's `id`).
    fn into_patch(self) -> Result<Self::Patch>;
}

/// An update mutation: `write` is the domain's `update`, conditional on `expectedVersion`,
/// retry-safe by `idempotencyKey` (the resolver's arguments, made `options`).
pub async fn update<I: UpdateInput, T, P: From<T>>(
    ctx: &Context<'_>,
    input: I,
    options: WriteOptions,
    write: impl AsyncFnOnce(&RequestContext, Uuid, I::Patch, &WriteOptions) -> Result<(T, Outcome)>,
) -> async_graphql::Result<P> {
    let id = parse_id("id", input.id()).gql()?;
    let patch = input.into_patch().gql()?;
    let written = replay::outcome(ctx, write(request_context(ctx)?, id, patch, &options)).await?;
    Ok(written.into())
}

/// A delete mutation of an `E` row, conditional on `expectedVersion`: the deleted id.
pub async fn delete<E: Guarded>(
    ctx: &Context<'_>,
    id: &ID,
    expected_version: Option<i32>,
) -> async_graphql::Result<ID> {
    let id = parse_id("id", id).gql()?;
    let options = WriteOptions::new(expected_version, None);
    versioned::delete::<E>(request_context(ctx)?, id, &options)
        .await
        .gql()?;
    Ok(ID(id.to_string()))
}
