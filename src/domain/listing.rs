//! Reading a resource the way every connection does: one page, its total, one row.
//! A resource states which of its rows a caller may see ([`Listed::visible`]); the reading is
//! the same for all of them.

use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Select};
use uuid::Uuid;

use super::context::RequestContext;
use super::pagination::{self, Ordering, Page, PageArgs};
use crate::db::Positional;
use crate::error::{Error, Result};

/// A resource the caller lists, counts and reads one by one.
pub trait Listed: EntityTrait<Model: Send + Sync + Positional> {
    type Filter: Clone + Default + Send + Sync + 'static;
    /// How errors name it (`project not found`).
    const NOUN: &'static str;
    const ID: Self::Column;
    /// The rows `ctx` may read that match `filter`. Authorization lives here: a caller who may
    /// read none of them is refused (`Unauthenticated`), a row they may not read is absent.
    fn visible(ctx: &RequestContext, filter: &Self::Filter) -> Result<Select<Self>>;
}

/// One page of what the caller may read.
#[tracing::instrument(skip_all, fields(resource = E::NOUN))]
pub async fn list<E: Listed>(
    ctx: &RequestContext,
    filter: &E::Filter,
    order: &Ordering<E>,
    args: &PageArgs,
) -> Result<Page<E::Model>> {
    pagination::paginate(ctx.db(), E::visible(ctx, filter)?, order, args).await
}

/// How many rows match, across all pages.
#[tracing::instrument(skip_all, fields(resource = E::NOUN))]
pub async fn count<E: Listed>(ctx: &RequestContext, filter: &E::Filter) -> Result<u64> {
    Ok(E::visible(ctx, filter)?.count(ctx.db().conn()).await?)
}

/// One row; `NotFound` also when it exists but is not readable (no existence leak).
#[tracing::instrument(skip(ctx), fields(resource = E::NOUN))]
pub async fn get<E: Listed>(ctx: &RequestContext, id: Uuid) -> Result<E::Model> {
    let select = E::visible(ctx, &E::Filter::default())?.filter(E::ID.eq(id));
    ctx.db()
        .one(select)
        .await?
        .ok_or_else(|| Error::NotFound(E::NOUN.into()))
}
