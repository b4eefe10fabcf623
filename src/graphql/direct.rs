//! Runs a `/graphql` request of a document that already passed full validation, without the
//! schema's extension ([`super::hooks::Hooks`]): async-graphql calls an extension's `resolve`
//! hook through a boxed future, with a registry lookup and type-name strings, for every field
//! and list item of every response, which was a seventh of a 50-project overview's CPU
//! (docs/benchmarks.md, "Session 7"). What the hooks would have done happens here instead:
//!
//! - validation: the document's verdict and complexity are known ([`Document::measured`]); the
//!   schema still checks depth and complexity in its fast mode;
//! - the budget is charged by that complexity ([`super::cost`]);
//! - per-request loaders and the replay flag; replays marked, errors coded;
//! - the operation's metrics. Field spans are the one thing this path cannot give, so it runs
//!   only while nothing records them ([`traces::field_spans_recorded`]).
//!
//! The REST shim's persisted operations run here too ([`Direct::persisted`]): for them the
//! hooks skip validation, which this schema cannot, so what they save is the per-field hook
//! less the fast validation's walk (2 % of a W1 read: docs/benchmarks.md, "Session 11").
//!
//! Over HTTP only: the WebSocket's operations keep the hooks (their deadline lives there).

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{Request, Response};

use super::documents::{Document, select_operation};
use super::loaders::Loaders;
use super::{AppSchema, cost, limits, replay, traces};
use crate::domain::context::RequestContext;

/// The schema without extensions, and what the hooks would have given each request.
pub struct Direct {
    pub(super) schema: AppSchema,
    pub(super) loader_delay: Duration,
}

impl Direct {
    /// Runs `request` (its parsed document set from `doc`) here when `doc` allows it;
    /// otherwise gives it back for the schema with hooks.
    pub async fn execute(
        &self,
        doc: Option<&Document>,
        request: Request,
        cx: &RequestContext,
    ) -> Result<Response, Request> {
        if traces::field_spans_recorded() {
            return Err(request);
        }
        let Some((doc, complexity)) = doc.and_then(|doc| Some((doc, doc.measured()?))) else {
            return Err(request);
        };
        let start = Instant::now();
        let ran = operation(doc.parsed(), request.operation_name.as_deref());
        let response = match cost::draw(cx, cost::units(complexity)).await {
            Err(errors) => Response::from_errors(errors),
            Ok(()) => self.run(request.data(cx.clone()), cx).await,
        };
        traces::counted(&tracing::Span::none(), &response, ran, start);
        Ok(response)
    }

    /// Runs one of the REST shim's persisted operations (`request` holds its parsed document
    /// `doc`, and its caller's context) here, as [`super::hooks::Documents::Persisted`] would,
    /// when nothing records field spans; otherwise gives it back for the schema with hooks.
    pub async fn persisted(
        &self,
        doc: &ExecutableDocument,
        request: Request,
        cx: &RequestContext,
    ) -> Result<Response, Request> {
        if traces::field_spans_recorded() {
            return Err(request);
        }
        let start = Instant::now();
        let ran = operation(doc, request.operation_name.as_deref());
        let response = self.run(request, cx).await;
        traces::counted(&tracing::Span::none(), &response, ran, start);
        Ok(response)
    }

    /// What the hooks give every request and response: fresh loaders and the replay flag,
    /// replays marked, errors coded.
    async fn run(&self, request: Request, cx: &RequestContext) -> Response {
        let loaders = Loaders::new(Arc::new(cx.clone()), self.loader_delay);
        let request = replay::per_request(request.data(loaders));
        let mut response = self.schema.execute(request).await;
        replay::mark_from_header(&mut response);
        limits::code_errors(&mut response);
        response
    }
}

/// The (metrics label, type) of the operation `asked` selects, as the hooks would name it;
/// `None` when it selects none (execution then reports that).
fn operation(doc: &ExecutableDocument, asked: Option<&str>) -> Option<(String, &'static str)> {
    let (name, op) = select_operation(doc, asked)?;
    Some((crate::metrics::operation_label(name), traces::kind(op.ty)))
}
