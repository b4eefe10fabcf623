//! What every handler can reach: the process's services (shared with each request's
//! [`RequestContext`](crate::domain::context::RequestContext)), the settings and the schema.

use std::sync::Arc;

use crate::config::Settings;
use crate::db::Db;
use crate::domain::context::Services;
use crate::graphql::AppSchema;

/// One `Arc`: axum clones the state into every middleware and extractor of every request, and
/// a clone (and its drop) of separate `Arc`s would be one contended atomic operation each.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl AppState {
    pub fn new(shared: Shared) -> Self {
        Self(Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

pub struct Shared {
    pub services: Arc<Services>,
    pub settings: Arc<Settings>,
    pub schema: AppSchema,
    /// The same schema for the REST shim's fixed operations (see [`crate::graphql::Schemas`]).
    pub persisted: AppSchema,
    /// Parsed `/graphql` documents by their text.
    pub documents: Arc<crate::graphql::documents::DocumentCache>,
}

impl Shared {
    pub fn db(&self) -> &Db {
        &self.services.db
    }
}
