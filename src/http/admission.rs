//! The API's admission, in front of every GraphQL and REST route: the caller decided once,
//! then the request budget that uses it, then whether the database is up. Refusals are answered
//! in the dialect of the router the request came through. One layer rather than three because
//! axum's `from_fn` clones the whole service stack below it for every request.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;

use super::caller::{self, Caller};
use super::problem::Dialect;
use crate::error::{Error, RATE_LIMIT_POLICY};
use crate::security::rate_limit::{self, Allowed};
use crate::state::AppState;

/// The admission layer's state: the app, and how its router answers errors.
pub type Admission = (AppState, Dialect);

pub async fn admit(
    State((state, dialect)): State<Admission>,
    mut req: Request,
    next: Next,
) -> Response {
    caller::identify(&state, &mut req).await;
    let allowed = match draw(&state, req.extensions().get::<Caller>()).await {
        Ok(allowed) => allowed,
        Err(limited) => return dialect.render(&limited, req.uri().path()),
    };
    let response = match database_down(&state) {
        Some(down) => dialect.render(&down, req.uri().path()),
        None => next.run(req).await,
    };
    report(allowed, response)
}

/// Draws one unit from the caller's request budget: a bad token counts as anonymous here (the
/// handler answers it with 401). `Ok(Some(_))` is the budget to report on the response.
async fn draw(state: &AppState, caller: Option<&Caller>) -> Result<Option<Allowed>, Error> {
    let limits = &state.services.rate_limits;
    if limits.is_off() {
        return Ok(None);
    }
    let user = caller.and_then(Caller::user_id);
    let ip = caller.and_then(|c| c.meta.ip);
    let Some((tier, client)) = rate_limit::request_budget(user, ip) else {
        return Ok(None);
    };
    tracing::Span::current().record("ratelimit.tier", tier.as_str());
    limits.check(tier, &client).await.map_err(|limited| {
        tracing::info!(tier = limited.tier.as_str(), "rate limit exceeded");
        Error::from(limited)
    })
}

/// Until the database is connected and migrated nothing runs against it: a database that is
/// missing or has no schema yet is a 503, not a 500.
fn database_down(state: &AppState) -> Option<Error> {
    let reason = state.db().unavailable()?;
    Some(Error::Unavailable(sea_orm::DbErr::Custom(reason)))
}

/// The request tier's remaining budget on the response, unless a budget drawn inside (sign-in,
/// account) refused the request: that one describes the 429, and the request tier's remaining
/// units would contradict it.
fn report(allowed: Option<Allowed>, mut response: Response) -> Response {
    if let Some(allowed) = allowed
        && !response.headers().contains_key(RATE_LIMIT_POLICY)
    {
        allowed.write_headers(response.headers_mut());
    }
    response
}
