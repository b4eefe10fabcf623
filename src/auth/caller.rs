//! The caller is decided once per request, by [`identify`] in front of the rate limits and the
//! handlers: the bearer token is verified here and nowhere else, and the request's facts (client
//! address, request id, user agent) are read once. Handlers take the [`Caller`] and turn it into
//! the domain's [`RequestContext`].

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http::HeaderMap;
use http::request::Parts;
use uuid::Uuid;

use super::{JwtKeys, Principal};
use crate::domain::context::{RequestContext, RequestMeta, Services};
use crate::error::Error;
use crate::state::AppState;

/// Who is calling and the facts of their request.
#[derive(Clone, Debug)]
pub struct Caller {
    /// A present but invalid or expired token is kept as its public reason: the handler answers
    /// 401 in its own dialect (problem+json or a GraphQL error).
    principal: Result<Principal, String>,
    pub meta: RequestMeta,
}

impl Caller {
    pub fn from_parts(headers: &HeaderMap, peer: Option<SocketAddr>, jwt: &JwtKeys) -> Self {
        Self {
            principal: Principal::from_headers(headers, jwt).map_err(|e| e.public_message()),
            meta: RequestMeta::from_parts(headers, peer),
        }
    }

    /// The principal, or `Unauthenticated` when the request carried a bad token.
    pub fn principal(&self) -> Result<&Principal, Error> {
        self.principal
            .as_ref()
            .map_err(|reason| Error::Unauthenticated(reason.clone()))
    }

    /// Whose budget the request draws from: a bad token counts as anonymous.
    pub fn user_id(&self) -> Option<Uuid> {
        self.principal.as_ref().ok().and_then(Principal::user_id)
    }

    /// The domain's context for this request; `Unauthenticated` for a bad token.
    pub fn context(&self, services: &Arc<Services>) -> Result<RequestContext, Error> {
        let principal = self.principal()?.clone();
        Ok(RequestContext::new(
            services.clone(),
            principal,
            self.meta.clone(),
        ))
    }
}

fn peer(parts_extensions: &http::Extensions) -> Option<SocketAddr> {
    parts_extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0)
}

/// The layer: decides the caller and leaves it in the request's extensions.
pub async fn identify(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let peer = peer(req.extensions());
    let caller = Caller::from_parts(req.headers(), peer, &state.services.jwt);
    crate::telemetry::record_caller(caller.meta.ip.as_deref(), caller.user_id());
    req.extensions_mut().insert(caller);
    next.run(req).await
}

/// The caller [`identify`] decided (decided here only for a route outside that layer).
impl FromRequestParts<AppState> for Caller {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Infallible> {
        Ok(match parts.extensions.get::<Caller>() {
            Some(caller) => caller.clone(),
            None => {
                Caller::from_parts(&parts.headers, peer(&parts.extensions), &state.services.jwt)
            }
        })
    }
}
