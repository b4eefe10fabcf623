//! The request timeout, held on every GraphQL operation whatever its transport.

use std::time::Duration;

/// Every operation ends within the request timeout, over the WebSocket too (over HTTP the
/// `deadline` layer answers first; this is the same limit). Run by [`super::hooks::Hooks`] for
/// the documents clients send.
pub async fn within(
    deadline: Duration,
    operation: impl Future<Output = async_graphql::Response>,
) -> async_graphql::Response {
    match tokio::time::timeout(deadline, operation).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(timeout_s = deadline.as_secs(), "operation timed out");
            let mut err =
                async_graphql::ServerError::new("the operation took too long; retry shortly", None);
            let mut ext = async_graphql::ErrorExtensionValues::default();
            ext.set("code", crate::error::ErrorCode::ServiceUnavailable.as_str());
            err.extensions = Some(ext);
            async_graphql::Response::from_errors(vec![err])
        }
    }
}
