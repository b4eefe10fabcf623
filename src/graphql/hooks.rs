//! The schema's own request hooks, in one async-graphql extension: what each does lives with
//! its concern ([`super::limits`], [`super::loaders`], [`super::replay`], [`super::traces`],
//! [`super::cost`], [`super::deadline`]); this runs them at their points of a request. One
//! extension, because async-graphql runs every extension's `resolve` hook (a boxed future) for
//! every field, whether it has one or not.

use std::sync::Arc;
use std::time::Duration;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery, NextPrepareRequest,
    NextRequest, NextResolve, NextSubscribe, NextValidation, ResolveInfo,
};
use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{
    Request, Response, ServerError, ServerResult, ValidationResult, Value, Variables,
};
use futures::future::BoxFuture;
use futures::stream::BoxStream;

use super::documents::Document;
use super::traces::Trace;
use super::{cost, deadline, limits, loaders, replay};

/// The hooks' settings; each request gets them with a fresh [`Trace`].
#[derive(Clone, Copy)]
pub struct Hooks {
    /// `graphql_max_aliases`.
    pub max_aliases: usize,
    /// How long a DataLoader batch waits for siblings (`loader_delay_us`).
    pub loader_delay: Duration,
    /// Whose documents the schema runs.
    pub documents: Documents,
}

/// Whose documents a schema runs, which decides what a request pays for.
#[derive(Clone, Copy)]
pub enum Documents {
    /// Any client's (`POST /graphql`, the WebSocket): validated, charged to the rate-limit
    /// budget by complexity ([`super::cost`]), ended at `deadline` ([`super::deadline::within`]).
    FromClients { deadline: Duration },
    /// Only the REST shim's fixed operations, which `rest`'s tests validate in full within the
    /// depth and complexity limits at their largest page: not validated again per request;
    /// each request paid one unit at the door; the HTTP deadline layer bounds them.
    Persisted,
}

impl ExtensionFactory for Hooks {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(RequestHooks {
            settings: *self,
            trace: Trace::default(),
        })
    }
}

struct RequestHooks {
    settings: Hooks,
    trace: Trace,
}

#[async_graphql::async_trait::async_trait]
impl Extension for RequestHooks {
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        self.trace.request(ctx, next).await
    }

    fn subscribe<'s>(
        &self,
        ctx: &ExtensionContext<'_>,
        stream: BoxStream<'s, Response>,
        next: NextSubscribe<'_>,
    ) -> BoxStream<'s, Response> {
        self.trace.subscribe(ctx, stream, next)
    }

    /// Per-request state: fresh loaders and the replay flag.
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        self.trace.prepared(&request);
        let request = loaders::per_request(ctx, request, self.settings.loader_delay);
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
        self.trace.parsed(query, &doc);
        limits::check_aliases(&doc, self.settings.max_aliases)?;
        Ok(doc)
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        match self.settings.documents {
            Documents::Persisted => Ok(ValidationResult {
                cache_control: Default::default(),
                complexity: 0,
                depth: 0,
            }),
            Documents::FromClients { .. } => {
                let doc = ctx.data_opt::<Arc<Document>>();
                // Validated in full before, with variables that cannot change the verdict.
                if let Some(complexity) = doc.and_then(|doc| doc.measured()) {
                    let known = ValidationResult {
                        cache_control: Default::default(),
                        complexity,
                        depth: 0,
                    };
                    return cost::charge(ctx, Ok(known))
                        .await
                        .map_err(limits::validation_errors);
                }
                let result = cost::charge(ctx, next.run(ctx).await)
                    .await
                    .map_err(limits::validation_errors);
                if let (Ok(valid), Some(doc)) = (&result, doc) {
                    doc.passed(valid.complexity);
                }
                result
            }
        }
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        self.trace.executing(operation_name);
        let operation = next.run(ctx, operation_name);
        let mut response = match self.settings.documents {
            Documents::FromClients { deadline } => deadline::within(deadline, operation).await,
            Documents::Persisted => operation.await,
        };
        replay::mark(ctx, &mut response);
        limits::code_errors(&mut response);
        response
    }

    /// Written out rather than `async`: async-graphql boxes this hook's future for every field
    /// and list item of every response, and a field without a span of its own (every field
    /// unless traces are exported) boxes only the resolver's own call.
    fn resolve<'life0, 'life1, 'life2, 'life3, 'life4, 'async_trait>(
        &'life0 self,
        ctx: &'life1 ExtensionContext<'life2>,
        info: ResolveInfo<'life3>,
        next: NextResolve<'life4>,
    ) -> BoxFuture<'async_trait, ServerResult<Option<Value>>>
    where
        'life0: 'async_trait,
        'life1: 'async_trait,
        'life2: 'async_trait,
        'life3: 'async_trait,
        'life4: 'async_trait,
        Self: 'async_trait,
    {
        if self.trace.spans_fields() {
            Box::pin(self.trace.resolve(ctx, info, next))
        } else {
            Box::pin(next.run(ctx, info))
        }
    }
}
