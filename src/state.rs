//! What every handler can reach: the process's services (shared with each request's
//! [`RequestContext`](crate::domain::context::RequestContext)), the settings and the schema.

use std::sync::Arc;

use crate::config::Settings;
use crate::db::Db;
use crate::domain::context::Services;
use crate::graphql::AppSchema;

pub use crate::domain::context::RequestMeta;

#[derive(Clone)]
pub struct AppState {
    pub services: Arc<Services>,
    pub settings: Arc<Settings>,
    pub schema: AppSchema,
    /// The same schema for the REST shim's fixed operations (see [`crate::graphql::Schemas`]).
    pub persisted: AppSchema,
    /// Parsed `/graphql` documents by their text.
    pub documents: Arc<crate::graphql::documents::DocumentCache>,
    /// The schema without hooks, for documents validated before.
    pub direct: Arc<crate::graphql::direct::Direct>,
}

impl AppState {
    pub fn db(&self) -> &Db {
        &self.services.db
    }
}
