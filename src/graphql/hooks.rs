//! The schema's own request hooks, in one async-graphql extension: what each does lives with
//! its concern ([`super::limits`], [`super::loaders`], [`super::replay`]); this runs them at
//! their points of a request. (Tracing is an extension of its own, [`super::traces`], inside
//! this one.)

use std::sync::Arc;
use std::time::Duration;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery, NextPrepareRequest,
    NextValidation,
};
use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{Request, Response, ServerError, ServerResult, ValidationResult, Variables};

use super::{limits, loaders, replay};

/// Stateless per request (the state it makes goes into the request's data), so the factory
/// hands out copies of itself.
#[derive(Clone, Copy)]
pub struct Hooks {
    /// `graphql_max_aliases`.
    pub max_aliases: usize,
    /// How long a DataLoader batch waits for siblings (`loader_delay_us`).
    pub loader_delay: Duration,
}

impl ExtensionFactory for Hooks {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(*self)
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for Hooks {
    /// Per-request state: fresh loaders and the replay flag.
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        let request = loaders::per_request(ctx, request, self.loader_delay);
        next.run(ctx, replay::per_request(request)).await
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let doc = next
            .run(ctx, query, variables)
            .await
            .map_err(limits::parse_error)?;
        limits::check_aliases(&doc, self.max_aliases)?;
        Ok(doc)
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        next.run(ctx).await.map_err(limits::validation_errors)
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let mut response = next.run(ctx, operation_name).await;
        replay::mark(ctx, &mut response);
        limits::code_errors(&mut response);
        response
    }
}
