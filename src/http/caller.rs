//! The caller is decided once per request, by [`identify`] in front of the rate limits and the
//! handlers: the bearer token is verified here and nowhere else, and the request's facts (client
//! address, request id, user agent) are read once. Handlers take the [`Caller`] and turn it into
//! the domain's [`RequestContext`].

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequestParts, Request};
use http::HeaderMap;
use http::request::Parts;
use uuid::Uuid;

use crate::auth::Principal;
use crate::domain::context::{RequestContext, RequestMeta, Services};
use crate::error::Error;
use crate::state::AppState;

/// Who is calling and the facts of their request.
#[derive(Clone, Debug)]
pub struct Caller {
    /// A present but invalid or expired token is kept as its public reason: the handler answers
    /// 401 in its own dialect (problem+json or a GraphQL error).
    principal: Result<Principal, Refusal>,
    /// The request's facts; `meta.ip` is the client's address as
    /// [`crate::security::client_address`] decided it.
    pub meta: RequestMeta,
}

/// Why a request's token gives no principal.
#[derive(Clone, Debug)]
enum Refusal {
    /// Invalid, expired, or its session has ended: 401 with this reason.
    Token(String),
    /// The session's state could not be read: 503, never a silent pass.
    Unavailable,
}

impl Caller {
    pub fn from_parts(headers: &HeaderMap, peer: Option<SocketAddr>, state: &AppState) -> Self {
        let client_ip = peer.map(|p| {
            crate::security::client_address::client_address(
                p.ip(),
                headers,
                &state.settings.trusted_proxies,
            )
        });
        let meta = request_meta(headers, client_ip);
        let principal = Principal::from_headers(headers, &state.services.jwt).map_err(|e| {
            crate::security::Threat::InvalidToken.record();
            Refusal::Token(e.public_message())
        });
        Self { principal, meta }
    }

    /// Decides the caller, including whether the token's session is still open (revoked
    /// sessions, disabled or deleted users) and the user's role now, which is what authorizes
    /// (a token minted before a role change carries the old role).
    pub async fn decide(headers: &HeaderMap, peer: Option<SocketAddr>, state: &AppState) -> Self {
        let mut caller = Self::from_parts(headers, peer, state);
        if let Ok(principal) = &caller.principal {
            caller.principal =
                state
                    .services
                    .principal_now(principal)
                    .await
                    .map_err(|err| match err {
                        Error::Unauthenticated(reason) => Refusal::Token(reason),
                        _ => Refusal::Unavailable,
                    });
        }
        caller
    }

    /// The principal, or `Unauthenticated` when the request carried a bad token.
    pub fn principal(&self) -> Result<&Principal, Error> {
        self.principal.as_ref().map_err(Self::refused)
    }

    fn refused(refusal: &Refusal) -> Error {
        match refusal {
            Refusal::Token(reason) => Error::Unauthenticated(reason.clone()),
            Refusal::Unavailable => Error::Unavailable(sea_orm::DbErr::Custom(
                "the session state cannot be read".into(),
            )),
        }
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

/// Facts about the request that the domain records and budgets by; `ip` is the client's
/// address as [`crate::security::client_address`] decided it.
fn request_meta(headers: &HeaderMap, ip: Option<std::net::IpAddr>) -> RequestMeta {
    let text = |name: &str, max: usize| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(|s| crate::domain::text::first_chars(s, max).to_owned())
    };
    RequestMeta {
        request_id: text("x-request-id", 128),
        ip,
        user_agent: text(http::header::USER_AGENT.as_str(), 512),
    }
}

/// Decides the caller and leaves it in the request's extensions (the API's admission layer,
/// [`super::admission`], runs this first).
pub async fn identify(state: &AppState, req: &mut Request) {
    let peer = peer(req.extensions());
    let caller = Caller::decide(req.headers(), peer, state).await;
    crate::telemetry::record_caller(caller.meta.ip, caller.user_id());
    req.extensions_mut().insert(caller);
}

/// The caller [`identify`] decided (decided here only for a route outside that layer).
impl FromRequestParts<AppState> for Caller {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Infallible> {
        Ok(match parts.extensions.get::<Caller>() {
            Some(caller) => caller.clone(),
            None => Caller::decide(&parts.headers, peer(&parts.extensions), state).await,
        })
    }
}
