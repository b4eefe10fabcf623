//! DataLoaders: relations resolve in batches, so the SQL statements per request stay constant
//! in the page size. Each request gets fresh, caching loaders (nothing outlives the request).
//! List resolvers [`prefetch`] what their items will ask for in one statement; other loads
//! batch by waiting a configured delay for siblings to join (see [`PerRequest`]).

mod by_id;
mod posts;
mod projects;
mod users;

use std::sync::Arc;
use std::time::Duration;

use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextPrepareRequest,
};
use async_graphql::{Context, Request, ServerResult};
use uuid::Uuid;

pub use by_id::{PostLoader, StatusEventLoader, TicketLoader};
pub use posts::{LATEST_POSTS, LatestPostsLoader, PostCountLoader};
pub use projects::{OpenTicketCountLoader, ProjectLoader};
pub use users::UserLoader;

use crate::db::Db;
use crate::error::Error;

/// Loader errors must be `Clone`.
pub type LoadError = Arc<sea_orm::DbErr>;

/// A request's loader: batches keys and caches what it loaded for the rest of the request.
pub type Cached<T> = DataLoader<T, HashMapCache>;

pub fn loader_error(err: LoadError) -> async_graphql::Error {
    use async_graphql::ErrorExtensions;
    Error::internal(anyhow::anyhow!("batch load failed: {err}")).extend()
}

fn cached<T>(inner: T, delay: Duration) -> Cached<T>
where
    T: Send + Sync + 'static,
{
    DataLoader::with_cache(inner, tokio::spawn, HashMapCache::default()).delay(delay)
}

/// The loader for `T` in this request.
pub fn get<'a, T: Send + Sync + 'static>(
    ctx: &'a Context<'_>,
) -> async_graphql::Result<&'a Cached<T>> {
    ctx.data::<Cached<T>>()
}

/// Loads one key through the request's `T` loader.
pub async fn load_one<T>(ctx: &Context<'_>, key: Uuid) -> async_graphql::Result<Option<T::Value>>
where
    T: Loader<Uuid, Error = LoadError>,
{
    get::<T>(ctx)?.load_one(key).await.map_err(loader_error)
}

/// Whether the connection being resolved selects `field` on its items.
pub fn selects(ctx: &Context<'_>, field: &str) -> bool {
    let look = ctx.look_ahead();
    look.field("nodes").field(field).exists()
        || look.field("edges").field("node").field(field).exists()
}

/// Loads every key of a page into the request's cache in one statement, so the items'
/// resolvers then hit the cache: constant statements per page, independent of timing.
pub async fn prefetch<T, I>(ctx: &Context<'_>, keys: I) -> async_graphql::Result<()>
where
    T: Loader<Uuid, Error = LoadError>,
    I: IntoIterator<Item = Uuid>,
{
    get::<T>(ctx)?.load_many(keys).await.map_err(loader_error)?;
    Ok(())
}

/// Creates fresh loaders for every request (so nothing cached outlives the request). The
/// delay is how long a batch waits for sibling resolvers to join: long enough for the keys of
/// nested lists to gather (list roots [`prefetch`] and do not depend on it), short enough to
/// be invisible in latency (`NEOFORGE_LOADER_DELAY_US`, measured in docs/benchmarks.md).
pub struct PerRequest(pub Db, pub Duration);

impl ExtensionFactory for PerRequest {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(PerRequestExtension(self.0.clone(), self.1))
    }
}

struct PerRequestExtension(Db, Duration);

#[async_graphql::async_trait::async_trait]
impl Extension for PerRequestExtension {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        let (db, delay) = (&self.0, self.1);
        // Register every loader here.
        let request = request
            .data(cached(TicketLoader(db.clone()), delay))
            .data(cached(PostLoader(db.clone()), delay))
            .data(cached(StatusEventLoader(db.clone()), delay))
            .data(cached(UserLoader(db.clone()), delay))
            .data(cached(ProjectLoader(db.clone()), delay))
            .data(cached(OpenTicketCountLoader(db.clone()), delay))
            .data(cached(PostCountLoader(db.clone()), delay))
            .data(cached(LatestPostsLoader(db.clone()), delay));
        next.run(ctx, request).await
    }
}
