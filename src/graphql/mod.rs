//! The GraphQL schema: the one API that GraphiQL, typed clients and the REST shim all execute.

mod error;
mod mutation;
mod query;
pub mod types;

use async_graphql::{EmptySubscription, Schema};

pub use error::IntoGql;
pub use mutation::MutationRoot;
pub use query::QueryRoot;

use crate::auth::JwtKeys;
use crate::config::Settings;
use crate::db::Db;

pub type AppSchema = Schema<QueryRoot, MutationRoot, EmptySubscription>;

/// Query depth and complexity caps: generous for real clients, fatal for abusive queries.
const MAX_DEPTH: usize = 12;
const MAX_COMPLEXITY: usize = 5_000;

pub fn build(db: Db, jwt: JwtKeys, settings: &Settings) -> AppSchema {
    let mut builder = Schema::build(QueryRoot, MutationRoot, EmptySubscription)
        .data(db)
        .data(jwt)
        .limit_depth(MAX_DEPTH)
        .limit_complexity(MAX_COMPLEXITY)
        .limit_recursive_depth(32)
        .extension(async_graphql::extensions::Tracing);
    if !settings.introspection_enabled() {
        builder = builder.disable_introspection();
    }
    builder.finish()
}

/// The SDL that `neoforge schema` prints and `schema.graphql` must equal.
pub fn sdl() -> String {
    Schema::build(QueryRoot, MutationRoot, EmptySubscription)
        .finish()
        .sdl()
}
