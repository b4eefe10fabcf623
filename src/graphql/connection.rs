//! Relay connections built from a domain [`Page`], with a lazily computed `totalCount`.

use async_graphql::connection::{Connection, CursorType, Edge};
use async_graphql::{Context, ID, Object, OutputType};
use futures::future::BoxFuture;

use crate::bounds::DEFAULT_PAGE_SIZE;
use crate::domain::listing::{self, Listed};
use crate::domain::pagination::{Cursor, Ordering, Page, PageArgs};
use crate::error::Result;

use super::context::{parse_id, request_context};
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

pub type Conn<N> = Connection<Cursor, N, ConnectionExtra>;

/// Edges carry the domain's [`Cursor`] and encode it when `cursor` or `pageInfo`'s cursors are
/// selected. Cursor arguments arrive as `String`s and are decoded by the domain (with its own
/// errors), so async-graphql never decodes one.
impl CursorType for Cursor {
    type Error = &'static str;

    fn decode_cursor(_: &str) -> std::result::Result<Self, Self::Error> {
        Err("cursors are decoded by the domain's pagination")
    }

    fn encode_cursor(&self) -> String {
        self.encode()
    }
}

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
    let request_context = request_context(ctx)?;
    let page = listing::list(request_context, &filter, ordering, &args)
        .await
        .gql()?;
    let request_context = request_context.clone();
    let count: CountFn = Box::new(move || {
        let (request_context, filter) = (request_context.clone(), filter.clone());
        Box::pin(async move { listing::count::<E>(&request_context, &filter).await })
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
    listing::get::<E>(request_context(ctx)?, id).await.found()
}

/// Cost of a connection field for the complexity limit: each item costs its selection.
pub fn page_cost(first: Option<i32>, last: Option<i32>, child: usize) -> usize {
    let n = first.or(last).unwrap_or(DEFAULT_PAGE_SIZE).clamp(1, 100);
    usize::try_from(n).unwrap_or(100) * child.max(1) + 1
}

/// A query object with one Relay connection field among its own fields (`{ ... }` before it, the
/// rest after). The page arguments every connection takes (`first`, `after`, `last`, `before`,
/// `offset`), their descriptions and the field's complexity are spelled here once, because
/// async-graphql cannot share an argument list between fields (upstream:
/// async-graphql/async-graphql#1514). The field's own arguments follow them; `$list` answers it
/// from the [`PageArgs`] and them.
macro_rules! paged_query {
    (
        $object:ident { $($before:tt)* }
        $(#[$doc:meta])*
        $field:ident($($(#[$attr:meta])* $arg:ident: $ty:ty),* $(,)?) -> $node:ty = $list:path;
        $($after:tt)*
    ) => {
        #[derive(Default)]
        pub struct $object;

        #[async_graphql::Object]
        impl $object {
            $($before)*

            $(#[$doc])*
            #[graphql(complexity = "crate::graphql::connection::page_cost(first, last, child_complexity)")]
            async fn $field(
                &self,
                ctx: &async_graphql::Context<'_>,
                #[graphql(desc = "Page size going forward, 1–100 (default 20).")] first: Option<i32>,
                #[graphql(desc = "Start after this cursor.")] after: Option<String>,
                #[graphql(desc = "Page size going backward, 1–100; not with `first`.")] last: Option<i32>,
                #[graphql(desc = "End before this cursor.")] before: Option<String>,
                #[graphql(desc = "Skip this many items (for page numbers); only with `first`.")] offset: Option<i32>,
                $($(#[$attr])* $arg: $ty),*
            ) -> async_graphql::Result<$crate::graphql::connection::Conn<$node>> {
                let page = $crate::domain::pagination::PageArgs { first, after, last, before, offset };
                $list(ctx, page, $($arg),*).await
            }

            $($after)*
        }
    };
}
pub(crate) use paged_query;
