//! DataLoaders: relations resolve in batches, so the SQL statements per request stay constant
//! in the page size. Each loader is a thin adapter over a domain batch function
//! (`projects::by_ids`, `posts::latest_for_projects`, …), which runs the one statement and
//! states who may see what; nothing here touches the database. Each request gets fresh,
//! caching loaders bound to its [`RequestContext`] (nothing outlives the request). List
//! resolvers [`prefetch`] what their items will ask for in one statement; other loads batch by
//! waiting a configured delay for siblings to join (see [`per_request`]).

use std::any::TypeId;
use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use async_graphql::extensions::ExtensionContext;
use async_graphql::{Context, Request};
use futures::future::BoxFuture;
use uuid::Uuid;

use crate::domain::context::RequestContext;
use crate::domain::{accounts, posts, projects, status, tickets};
use crate::entity::{community_posts, projects as project, status_events, support_tickets, users};
use crate::error::{Error, Result};

pub use crate::domain::posts::LATEST_POSTS;

/// Loader errors must be `Clone`.
pub type LoadError = Arc<Error>;

/// A domain batch function: values for (some of) the keys, in one statement.
pub trait Source: Sized + Send + Sync + 'static {
    type Value: Clone + Send + Sync + 'static;
    fn load<'a>(
        request_context: &'a RequestContext,
        keys: &'a [Uuid],
    ) -> BoxFuture<'a, Result<HashMap<Uuid, Self::Value>>>;
    /// Its place among a request's [`Loaders`].
    fn slot(slots: &Slots) -> &Slot<Self>;
}

/// The DataLoader adapter of a [`Source`], bound to one request's context (shared by all of
/// the request's loaders).
pub struct Batch<S>(Arc<RequestContext>, PhantomData<S>);

impl<S: Source> Loader<Uuid> for Batch<S> {
    type Value = S::Value;
    type Error = LoadError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, S::Value>, LoadError> {
        S::load(&self.0, keys).await.map_err(Arc::new)
    }
}

/// The loaders of one request, each made on first use (most requests use one or none).
pub struct Loaders {
    request_context: Arc<RequestContext>,
    delay: Duration,
    slots: Slots,
}

/// What a loader type (`UserLoader`) batches from.
pub trait IsBatch {
    type Source: Source;
}

impl<S: Source> IsBatch for Batch<S> {
    type Source = S;
}

macro_rules! sources {
    ($($loader:ident = $source:ident($slot:ident): $value:ty => $load:path;)*) => {
        $(
            pub enum $source {}
            impl Source for $source {
                type Value = $value;
                fn load<'a>(
                    request_context: &'a RequestContext,
                    keys: &'a [Uuid],
                ) -> BoxFuture<'a, Result<HashMap<Uuid, $value>>> {
                    Box::pin($load(request_context, keys))
                }
                fn slot(slots: &Slots) -> &Slot<Self> {
                    &slots.$slot
                }
            }
            pub type $loader = Batch<$source>;
        )*
        #[derive(Default)]
        pub struct Slots {
            $($slot: Slot<$source>,)*
        }
    };
}

sources! {
    UserLoader = Users(users): users::Model => accounts::by_ids;
    ProjectLoader = Projects(projects): project::Model => projects::by_ids;
    TicketLoader = Tickets(tickets): support_tickets::Model => tickets::by_ids;
    PostLoader = Posts(posts): community_posts::Model => posts::by_ids;
    StatusEventLoader = StatusEvents(status_events): status_events::Model => status::by_ids;
    OpenTicketCountLoader = OpenTicketCounts(open_ticket_counts): i64 => tickets::open_counts_for_projects;
    PostCountLoader = PostCounts(post_counts): i64 => posts::counts_for_projects;
    LatestPostsLoader = LatestPosts(latest_posts): Vec<community_posts::Model> => posts::latest_for_projects;
}

/// A request's loader: batches keys and caches what it loaded for the rest of the request.
pub type Cached<T> = DataLoader<T, HashMapCache>;

/// One source's loader, made on first use, and what a list [`prefetch`]ed for its page's items:
/// each item takes its value from there, a map lookup instead of a trip through the loader's queue,
/// its delay and its cache.
pub struct Slot<S: Source> {
    loader: OnceLock<Cached<Batch<S>>>,
    /// Every prefetched key, with `None` for those the source has no value for.
    page: Mutex<HashMap<Uuid, Option<S::Value>>>,
}

impl<S: Source> Default for Slot<S> {
    fn default() -> Self {
        Self {
            loader: OnceLock::new(),
            page: Mutex::new(HashMap::new()),
        }
    }
}

pub fn loader_error(err: LoadError) -> async_graphql::Error {
    use async_graphql::ErrorExtensions;
    err.extend()
}

fn cached<T>(inner: T, delay: Duration) -> Cached<T>
where
    T: Send + Sync + 'static,
{
    // The batch runs on a task of its own: it carries the span of the resolver that started it,
    // so its statements are that resolver's children in a trace.
    DataLoader::with_cache(
        inner,
        |batch| tokio::spawn(tracing::Instrument::in_current_span(batch)),
        HashMapCache::default(),
    )
    .delay(delay)
}

/// The request's loader of `T`'s source, made on first use.
pub fn get<'a, T: IsBatch>(
    ctx: &'a Context<'_>,
) -> async_graphql::Result<&'a Cached<Batch<T::Source>>> {
    let loaders = ctx.data::<Loaders>()?;
    Ok(T::Source::slot(&loaders.slots).loader.get_or_init(|| {
        cached(
            Batch(loaders.request_context.clone(), PhantomData),
            loaders.delay,
        )
    }))
}

/// Loads one key: a prefetched key from the page, any other through the request's `T`
/// loader.
pub async fn load_one<T: IsBatch>(
    ctx: &Context<'_>,
    key: Uuid,
) -> async_graphql::Result<Option<<T::Source as Source>::Value>> {
    let loaders = ctx.data::<Loaders>()?;
    let page = T::Source::slot(&loaders.slots).page.lock();
    if let Some(value) = page.ok().and_then(|page| page.get(&key).cloned()) {
        return Ok(value);
    }
    get::<T>(ctx)?.load_one(key).await.map_err(loader_error)
}

/// Whether the connection being resolved selects `field` on its items.
pub fn selects(ctx: &Context<'_>, field: &str) -> bool {
    let look = ctx.look_ahead();
    look.field("nodes").field(field).exists()
        || look.field("edges").field("node").field(field).exists()
}

/// Loads every key of a page in one statement, so the items' resolvers then find their values
/// without a statement: constant statements per page, independent of timing. Straight from the
/// source, not through the loader: the loader would queue the keys, wait its delay on a task of
/// its own and copy every value into its cache.
pub async fn prefetch<T, I>(ctx: &Context<'_>, keys: I) -> async_graphql::Result<()>
where
    T: IsBatch,
    I: IntoIterator<Item = Uuid>,
{
    let loaders = ctx.data::<Loaders>()?;
    let slot = T::Source::slot(&loaders.slots);
    let mut keys: Vec<Uuid> = keys.into_iter().collect();
    keys.sort_unstable();
    keys.dedup();
    if let Ok(page) = slot.page.lock() {
        keys.retain(|key| !page.contains_key(key));
    }
    if keys.is_empty() {
        return Ok(());
    }
    let mut values = T::Source::load(&loaders.request_context, &keys)
        .await
        .map_err(|err| loader_error(Arc::new(err)))?;
    if let Ok(mut page) = slot.page.lock() {
        for key in keys {
            page.insert(key, values.remove(&key));
        }
    }
    Ok(())
}

/// Gives `request` fresh loaders (so nothing cached outlives the request), bound to the request's
/// context: from the request's data (HTTP, REST) or the WebSocket session's. The delay is how long
/// a batch waits for sibling resolvers to join: long enough for the keys of nested lists to gather
/// (list roots [`prefetch`] and do not depend on it), short enough to be invisible in latency
/// (`NEOFORGE_LOADER_DELAY_US`). Run for every request by [`super::hooks::Hooks`].
pub fn per_request(ctx: &ExtensionContext<'_>, request: Request, delay: Duration) -> Request {
    let request_context = request
        .data
        .get(&TypeId::of::<RequestContext>())
        .and_then(|d| d.downcast_ref::<RequestContext>())
        .or_else(|| ctx.data_opt::<RequestContext>())
        .cloned()
        .map(Arc::new);
    match request_context {
        Some(request_context) => request.data(Loaders::new(request_context, delay)),
        None => request,
    }
}

impl Loaders {
    /// `request_context`'s loaders, each made on first use.
    pub fn new(request_context: Arc<RequestContext>, delay: Duration) -> Self {
        Self {
            request_context,
            delay,
            slots: Slots::default(),
        }
    }
}
