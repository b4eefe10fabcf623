//! The GraphQL schema: the one API that GraphiQL, typed clients and the REST shim all execute.

mod accounts;
mod connection;
mod context;
mod error;
pub mod loaders;
mod node;
mod projects;
pub mod types;

use async_graphql::{EmptySubscription, MergedObject, Schema};

pub use error::IntoGql;

use crate::auth::JwtKeys;
use crate::config::Settings;
use crate::db::Db;

/// Every query field, one object per resource.
#[derive(MergedObject, Default)]
pub struct QueryRoot(node::NodeQuery, accounts::AccountQuery, projects::ProjectQuery);

/// Every mutation, one object per resource.
#[derive(MergedObject, Default)]
pub struct MutationRoot(accounts::AccountMutation, projects::ProjectMutation);

pub type AppSchema = Schema<QueryRoot, MutationRoot, EmptySubscription>;

/// Query depth and complexity caps: generous for real clients, fatal for abusive queries.
const MAX_DEPTH: usize = 12;
const MAX_COMPLEXITY: usize = 5_000;

pub fn build(db: Db, jwt: JwtKeys, settings: &Settings) -> AppSchema {
    let mut builder = Schema::build(QueryRoot::default(), MutationRoot::default(), EmptySubscription)
        .data(db.clone())
        .data(jwt)
        .limit_depth(MAX_DEPTH)
        .limit_complexity(MAX_COMPLEXITY)
        .limit_recursive_depth(32)
        .extension(async_graphql::extensions::Tracing);
    builder = loaders::register(builder, &db);
    if !settings.introspection_enabled() {
        builder = builder.disable_introspection();
    }
    builder.finish()
}

/// The SDL that `neoforge schema` prints and `schema.graphql` must equal.
pub fn sdl() -> String {
    Schema::build(QueryRoot::default(), MutationRoot::default(), EmptySubscription).finish().sdl()
}
