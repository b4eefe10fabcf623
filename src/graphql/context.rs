//! Small accessors for what every resolver needs from the request context.

use std::sync::LazyLock;

use async_graphql::{Context, ID};
use uuid::Uuid;

use crate::auth::Principal;
use crate::db::Db;
use crate::error::Error;
use crate::state::RequestMeta;

pub fn principal<'a>(ctx: &'a Context<'_>) -> &'a Principal {
    ctx.data_opt::<Principal>().unwrap_or(&Principal::Anonymous)
}

pub fn meta<'a>(ctx: &'a Context<'_>) -> &'a RequestMeta {
    static NONE: LazyLock<RequestMeta> = LazyLock::new(RequestMeta::default);
    ctx.data_opt::<RequestMeta>().unwrap_or(&NONE)
}

pub fn db<'a>(ctx: &'a Context<'_>) -> async_graphql::Result<&'a Db> {
    ctx.data::<Db>()
}

/// Parses an `ID` argument (a UUID). `field` names it in the error.
pub fn parse_id(field: &str, id: &ID) -> Result<Uuid, Error> {
    Uuid::parse_str(id.as_str())
        .map_err(|_| Error::invalid(field, "value_error.id", "not a valid id"))
}

pub fn idempotency<'a>(
    ctx: &'a Context<'_>,
) -> async_graphql::Result<&'a crate::idempotency::Idempotency> {
    ctx.data::<crate::idempotency::Idempotency>()
}

/// Sign-in and registration attempts draw from the client IP's `auth` budget (DESIGN §9), on
/// top of the per-request tier, so password guessing is slow over REST and GraphQL alike.
pub fn limit_auth_attempt(ctx: &Context<'_>) -> Result<(), Error> {
    let ip = meta(ctx).ip.as_deref().and_then(|ip| ip.parse().ok());
    match (ip, ctx.data_opt::<crate::security::RateLimits>()) {
        (Some(ip), Some(limits)) => limits
            .check(
                crate::security::Tier::Auth,
                &crate::security::Client::Ip(ip),
            )
            .map(|_| ())
            .map_err(Error::from),
        _ => Ok(()),
    }
}
