//! What resolvers take from the GraphQL context: the request's [`RequestContext`], put there
//! once per request by the HTTP handler, the REST shim or the WebSocket session.

use async_graphql::{Context, ID};
use uuid::Uuid;

use crate::auth::Principal;
use crate::domain::context::RequestContext;
use crate::error::Error;

/// The request's context. Every executor entry point provides one.
pub fn request_context<'a>(ctx: &'a Context<'_>) -> async_graphql::Result<&'a RequestContext> {
    ctx.data::<RequestContext>()
}

/// The caller, for fields that only describe (`viewerCanEdit`, `email`): anonymous if unknown.
pub fn principal<'a>(ctx: &'a Context<'_>) -> &'a Principal {
    ctx.data_opt::<RequestContext>()
        .map_or(&Principal::Anonymous, |request_context| {
            &request_context.principal
        })
}

/// Parses an `ID` argument (a UUID). `field` names it in the error.
pub fn parse_id(field: &str, id: &ID) -> Result<Uuid, Error> {
    Uuid::parse_str(id.as_str())
        .map_err(|_| Error::invalid(field, "value_error.id", "not a valid id"))
}
