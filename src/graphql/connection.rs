//! Relay connections built from a domain [`Page`], with a lazily computed `totalCount`.

use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, ID, Object, OutputType};
use futures::future::BoxFuture;

use crate::domain::listing::{self, Listed};
use crate::domain::pagination::{Ordering, Page, PageArgs};
use crate::error::Result;

use super::context::{cx, parse_id};
use super::{Found, IntoGql};

type CountFn = Box<dyn Fn() -> BoxFuture<'static, Result<u64>> + Send + Sync>;

/// Extra connection fields. `totalCount` runs its COUNT query only when selected.
pub struct ConnectionExtra {
    count: CountFn,
}

#[Object]
impl ConnectionExtra {
    /// Number of items matching the filter, across all pages.
    async fn total_count(&self) -> async_graphql::Result<u64> {
        (self.count)().await.gql()
    }
}

pub type Conn<N> = Connection<String, N, ConnectionExtra>;

pub fn connection<M, N: OutputType>(
    page: Page<M>,
    wrap: impl Fn(M) -> N,
    count: CountFn,
) -> Conn<N> {
    let mut conn = Connection::with_additional_fields(
        page.has_previous_page,
        page.has_next_page,
        ConnectionExtra { count },
    );
    conn.edges.extend(
        page.items
            .into_iter()
            .zip(page.cursors)
            .map(|(item, cursor)| Edge::new(cursor, wrap(item))),
    );
    conn
}

/// One page of `E` for the caller, and its `totalCount`, counted only when selected.
pub async fn page<E: Listed>(
    ctx: &Context<'_>,
    filter: E::Filter,
    ordering: &Ordering<E>,
    args: PageArgs,
) -> async_graphql::Result<(Page<E::Model>, CountFn)> {
    let cx = cx(ctx)?;
    let page = listing::list(cx, &filter, ordering, &args).await.gql()?;
    let cx = cx.clone();
    let count: CountFn = Box::new(move || {
        let (cx, filter) = (cx.clone(), filter.clone());
        Box::pin(async move { listing::count::<E>(&cx, &filter).await })
    });
    Ok((page, count))
}

/// The field beside a connection that answers one object by its `id`: null when it does not
/// exist or the caller may not read it.
pub async fn one<E: Listed, N: From<E::Model>>(
    ctx: &Context<'_>,
    id: &ID,
) -> async_graphql::Result<Option<N>> {
    let id = parse_id("id", id).gql()?;
    listing::get::<E>(cx(ctx)?, id).await.found()
}

/// The Relay arguments of a connection field, for the domain.
pub fn page_args(
    first: Option<i32>,
    after: Option<String>,
    last: Option<i32>,
    before: Option<String>,
    offset: Option<i32>,
) -> PageArgs {
    PageArgs {
        first,
        after,
        last,
        before,
        offset,
    }
}
