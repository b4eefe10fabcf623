//! Marks idempotent replays: the HTTP header `Idempotent-Replayed: true` and the GraphQL
//! response extension `idempotentReplayed: true`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextPrepareRequest,
};
use async_graphql::{Context, Request, Response, ServerResult, Value};

use super::IntoGql;
use crate::error::Result;
use crate::idempotency::Outcome;

pub const HEADER: &str = "idempotent-replayed";

#[derive(Default)]
struct Replayed(AtomicBool);

/// A keyed mutation's result: marks a replay and keeps the error code of a failure.
pub async fn outcome<T>(
    ctx: &Context<'_>,
    write: impl Future<Output = Result<(T, Outcome)>>,
) -> async_graphql::Result<T> {
    let (value, outcome) = write.await.gql()?;
    note(ctx, outcome);
    Ok(value)
}

fn note(ctx: &Context<'_>, outcome: Outcome) {
    if outcome == Outcome::Replayed {
        ctx.insert_http_header(HEADER, "true");
        if let Some(flag) = ctx.data_opt::<Replayed>() {
            flag.0.store(true, Ordering::Relaxed);
        }
    }
}

pub struct ReplayMarker;

impl ExtensionFactory for ReplayMarker {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ReplayMarkerExtension)
    }
}

struct ReplayMarkerExtension;

#[async_graphql::async_trait::async_trait]
impl Extension for ReplayMarkerExtension {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        next.run(ctx, request.data(Replayed::default())).await
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let mut response = next.run(ctx, operation_name).await;
        if ctx
            .data_opt::<Replayed>()
            .is_some_and(|f| f.0.load(Ordering::Relaxed))
        {
            response
                .extensions
                .insert("idempotentReplayed".into(), Value::Boolean(true));
        }
        response
    }
}
