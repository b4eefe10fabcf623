//! GraphQL operations draw from the rate-limit budget by their computed complexity, not one unit
//! per request: a 5,000-point query costs fifty times `{ viewer { id } }`.
//!
//! The unit: one budget unit per started [`POINTS_PER_UNIT`] complexity points (async-graphql's
//! complexity: 1 per field, connections weighted by page size × selection), at least one; a
//! document refused by validation (depth, complexity, syntax) costs one.
//! Over HTTP the request has already paid one unit at the door (`http::admission::admit`); over the
//! WebSocket, where there is no door per operation, this is the whole charge.

use async_graphql::extensions::ExtensionContext;
use async_graphql::{ErrorExtensions, ServerError, ValidationResult};

use crate::domain::context::RequestContext;

/// Complexity points per budget unit.
pub const POINTS_PER_UNIT: usize = 100;

/// The budget units an operation of this complexity costs.
pub fn units(complexity: usize) -> u32 {
    u32::try_from(complexity.div_ceil(POINTS_PER_UNIT).max(1)).unwrap_or(u32::MAX)
}

/// Charges the request's budget for a validated operation (run by [`super::hooks::Hooks`]
/// on the metered schema): a budget error replaces the result.
pub async fn charge(
    ctx: &ExtensionContext<'_>,
    result: Result<ValidationResult, Vec<ServerError>>,
) -> Result<ValidationResult, Vec<ServerError>> {
    // A document that fails validation still costs a unit: refusing it was work too.
    let cost = result.as_ref().map_or(1, |r| units(r.complexity));
    if let Some(request_context) = ctx.data_opt::<RequestContext>() {
        draw(request_context, cost).await?;
    }
    result
}

/// Draws `cost` units from the caller's budget; over it, the request error that replaces the
/// operation's result.
pub async fn draw(request_context: &RequestContext, cost: u32) -> Result<(), Vec<ServerError>> {
    request_context.draw_budget(cost).await.map_err(|err| {
        let extended = err.extend();
        vec![ServerError {
            message: extended.message,
            source: None,
            locations: vec![],
            path: vec![],
            extensions: extended.extensions,
        }]
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn costs_one_unit_per_started_hundred_points() {
        assert_eq!(super::units(0), 1);
        assert_eq!(super::units(2), 1);
        assert_eq!(super::units(100), 1);
        assert_eq!(super::units(101), 2);
        assert_eq!(super::units(5_000), 50);
    }
}
