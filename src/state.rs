//! What every handler and resolver can reach.

use std::sync::Arc;

use crate::auth::JwtKeys;
use crate::config::Settings;
use crate::db::Db;
use crate::graphql::AppSchema;

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub jwt: JwtKeys,
    pub rate_limits: crate::security::RateLimits,
    pub settings: Arc<Settings>,
    pub schema: AppSchema,
    /// The same schema for the REST shim's fixed operations (see [`crate::graphql::Schemas`]).
    pub persisted: AppSchema,
}

/// Facts about the HTTP request that the domain records (sessions, audit events).
#[derive(Clone, Debug, Default)]
pub struct RequestMeta {
    pub request_id: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

impl RequestMeta {
    pub fn from_parts(headers: &http::HeaderMap, peer: Option<std::net::SocketAddr>) -> Self {
        let text = |name: &str, max: usize| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(|s| s.chars().take(max).collect::<String>())
        };
        Self {
            request_id: text("x-request-id", 128),
            ip: peer.map(|p| p.ip().to_string()),
            user_agent: text("user-agent", 512),
        }
    }
}
