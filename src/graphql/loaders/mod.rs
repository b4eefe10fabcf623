//! DataLoaders: relations resolve in batches, so the SQL statements per request stay constant
//! in the page size. Loaders live in the schema (shared by concurrent requests, no cache, so
//! nothing stale is ever served); each batch waits [`BATCH_DELAY`] for siblings to join.

mod projects;
mod users;

use std::sync::Arc;
use std::time::Duration;

use async_graphql::dataloader::DataLoader;
use async_graphql::{ObjectType, SchemaBuilder, SubscriptionType};

pub use projects::{OpenTicketCountLoader, ProjectLoader};
pub use users::UserLoader;

use crate::db::Db;
use crate::error::Error;

/// Long enough for every sibling resolver in a list to register its key before the batch runs
/// (the batch task is spawned and may start on another worker at once), short enough to be
/// invisible in latency. The async-graphql default is 1 ms. See docs/benchmarks.md.
pub const BATCH_DELAY: Duration = Duration::from_micros(200);

/// Loader errors must be `Clone`.
pub type LoadError = Arc<sea_orm::DbErr>;

pub fn loader_error(err: LoadError) -> async_graphql::Error {
    use async_graphql::ErrorExtensions;
    Error::internal(anyhow::anyhow!("batch load failed: {err}")).extend()
}

fn loader<T: async_graphql::dataloader::Loader<K>, K>(inner: T) -> DataLoader<T>
where
    K: Send + Sync + std::hash::Hash + Eq + Clone + 'static,
{
    DataLoader::new(inner, tokio::spawn).delay(BATCH_DELAY)
}

pub fn register<Q, M, S>(builder: SchemaBuilder<Q, M, S>, db: &Db) -> SchemaBuilder<Q, M, S>
where
    Q: ObjectType + 'static,
    M: ObjectType + 'static,
    S: SubscriptionType + 'static,
{
    builder
        .data(loader::<_, uuid::Uuid>(UserLoader(db.clone())))
        .data(loader::<_, uuid::Uuid>(ProjectLoader(db.clone())))
        .data(loader::<_, uuid::Uuid>(OpenTicketCountLoader(db.clone())))
}
