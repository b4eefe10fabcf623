//! Spans and metrics of GraphQL operations, run by [`super::hooks::Hooks`] at each point of a
//! request. async-graphql's own `Tracing` extension records the document with the variables'
//! values substituted (passwords and tokens included) and a span for every field; this one
//! records the document with its string literals elided, the operation's name and type, a span
//! only for the fields that can do I/O (root fields and fields returning objects: relations,
//! connections, DataLoader loads) and only while traces are exported, and counts operations
//! and errors for `/metrics`.

use std::sync::OnceLock;
use std::time::Instant;

use async_graphql::extensions::{
    ExtensionContext, NextRequest, NextResolve, NextSubscribe, ResolveInfo,
};
use async_graphql::parser::types::{ExecutableDocument, OperationType};
use async_graphql::registry::{MetaType, MetaTypeName};
use async_graphql::{Request, Response, ServerError, ServerResult, Value};
use futures::StreamExt;
use futures::stream::BoxStream;
use tracing::Instrument;
use tracing::field::Empty;

use super::documents::select_operation;

/// Longest document recorded on a span; longer ones are cut (collectors cap attributes too).
const MAX_DOCUMENT: usize = 4096;

/// One request's trace: its operation span and what the request learns about its operation.
/// Each piece is learnt once, at its own point of the request.
pub struct Trace {
    /// Whether fields that can do I/O get spans of their own. Only an exported trace shows
    /// them: a log line is already placed by its request and operation spans, and a span per
    /// field is most of what tracing would cost a large response.
    fields: bool,
    /// The operation span, made by `request` or, for a WebSocket's operations, `subscribe`.
    span: OnceLock<tracing::Span>,
    /// The operation the request asked for (`operationName`).
    asked: OnceLock<Option<String>>,
    /// The type of the operation the parsed document selects for `asked`.
    kind: OnceLock<&'static str>,
    /// (label, type) of the operation that ran, for the metrics.
    ran: OnceLock<(String, &'static str)>,
}

impl Default for Trace {
    fn default() -> Self {
        Self {
            fields: crate::telemetry::exporting(),
            span: OnceLock::new(),
            asked: OnceLock::new(),
            kind: OnceLock::new(),
            ran: OnceLock::new(),
        }
    }
}

fn kind(ty: OperationType) -> &'static str {
    match ty {
        OperationType::Query => "query",
        OperationType::Mutation => "mutation",
        OperationType::Subscription => "subscription",
    }
}

fn operation_span() -> tracing::Span {
    tracing::info_span!(
        "graphql.operation",
        otel.name = "graphql",
        otel.status_code = Empty,
        graphql.operation.name = Empty,
        graphql.operation.type = Empty,
        graphql.document = Empty,
        graphql.errors = Empty,
        error.type = Empty,
    )
}

impl Trace {
    /// The operation span, when something records it.
    fn recorded_span(&self) -> Option<&tracing::Span> {
        self.span.get().filter(|span| !span.is_disabled())
    }

    /// Records which operation runs on the span and names the span after it.
    fn name_span(&self, ty: &'static str, operation_name: Option<&str>) {
        let Some(span) = self.recorded_span() else {
            return;
        };
        span.record("graphql.operation.type", ty);
        if let Some(name) = operation_name {
            span.record("graphql.operation.name", name);
        }
        // Only the exported span's name changes; logs show the fields above.
        if crate::telemetry::exporting() {
            match operation_name {
                Some(name) => crate::telemetry::rename(span, format!("{ty} {name}")),
                None => crate::telemetry::rename(span, ty),
            }
        }
    }
}

/// The operation's metrics, and its errors on `span`: `ran` is the (label, type) of the
/// operation that ran, `None` when none did.
fn counted(
    span: &tracing::Span,
    response: &Response,
    ran: Option<&(String, &'static str)>,
    start: Instant,
) {
    record_errors(span, &response.errors);
    let (label, kind) = ran.map_or(("_invalid", "unknown"), |(label, kind)| (label, *kind));
    let outcome = if response.errors.is_empty() {
        "ok"
    } else if response.data == Value::Null {
        "error"
    } else {
        "partial"
    };
    crate::metrics::graphql_operation(label, kind, outcome, start.elapsed().as_secs_f64());
}

/// Records the errors of a response on `span` and counts them by code.
fn record_errors(span: &tracing::Span, errors: &[ServerError]) {
    if errors.is_empty() {
        return;
    }
    span.record("otel.status_code", "ERROR");
    span.record("graphql.errors", errors.len());
    let mut first = None;
    for err in errors {
        let code = error_code(err);
        first.get_or_insert_with(|| code.clone());
        crate::metrics::graphql_error(code);
    }
    if let Some(code) = first {
        span.record("error.type", code.as_str());
    }
}

fn error_code(err: &ServerError) -> String {
    match err.extensions.as_ref().and_then(|e| e.get("code")) {
        Some(Value::String(code)) => code.clone(),
        Some(Value::Enum(code)) => code.to_string(),
        _ => "UNKNOWN".into(),
    }
}

impl Trace {
    /// The whole request inside the operation span; the operation's metrics.
    pub async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        let span = self.span.get_or_init(operation_span);
        let start = Instant::now();
        let response = next.run(ctx).instrument(span.clone()).await;
        counted(span, &response, self.ran.get(), start);
        response
    }

    /// A subscription's span, and one span per delivered event inside it.
    pub fn subscribe<'s>(
        &self,
        ctx: &ExtensionContext<'_>,
        stream: BoxStream<'s, Response>,
        next: NextSubscribe<'_>,
    ) -> BoxStream<'s, Response> {
        let span = self.span.get_or_init(operation_span).clone();
        span.record("graphql.operation.type", "subscription");
        let active = crate::metrics::subscription_started();
        let parent = span.clone();
        let mut events = next.run(ctx, stream).map(move |response| {
            // One span per delivered event, inside the subscription's span.
            let _keep = &active;
            let event = tracing::info_span!(
                parent: &parent,
                "graphql.subscription.event",
                otel.status_code = Empty,
                graphql.errors = Empty,
                error.type = Empty,
            );
            record_errors(&event, &response.errors);
            response
        });
        // Resolvers of every event run inside the subscription's span.
        Box::pin(futures::stream::poll_fn(move |cx| {
            let _entered = span.enter();
            events.poll_next_unpin(cx)
        }))
    }

    /// Notes which operation the request asks for.
    pub fn prepared(&self, request: &Request) {
        let _ = self.asked.set(request.operation_name.clone());
    }

    /// Records the parsed document (literals elided) and the type of the operation it selects;
    /// a subscription's span is named here, as it never reaches `execute`.
    pub fn parsed(&self, query: &str, doc: &ExecutableDocument) {
        if let Some(span) = self.recorded_span() {
            span.record("graphql.document", elide_literals(query).as_str());
        }
        let asked = self.asked.get().and_then(Option::as_deref);
        let Some((name, operation)) = select_operation(doc, asked) else {
            return;
        };
        let ty = kind(operation.ty);
        let _ = self.kind.set(ty);
        if operation.ty == OperationType::Subscription {
            self.name_span(ty, name);
        }
    }

    /// Names the span after the operation about to run and notes it for the metrics.
    pub fn executing(&self, operation_name: Option<&str>) {
        let ty = self.kind.get().copied().unwrap_or("query");
        self.name_span(ty, operation_name);
        let _ = self
            .ran
            .set((crate::metrics::operation_label(operation_name), ty));
    }

    /// Whether fields run through [`Trace::resolve`].
    pub fn spans_fields(&self) -> bool {
        self.fields
    }

    /// A span for a field that can do I/O.
    pub async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        if !does_io(ctx, &info) {
            return next.run(ctx, info).await;
        }
        let span = tracing::info_span!(
            "graphql.resolve",
            otel.name = format_args!("{}.{}", info.parent_type, info.name),
            otel.status_code = Empty,
            error.type = Empty,
            graphql.field.name = info.name,
            graphql.field.path = %info.path_node,
            graphql.parent.type = info.parent_type,
        );
        let result = next.run(ctx, info).instrument(span.clone()).await;
        if let Err(err) = &result {
            span.record("otel.status_code", "ERROR");
            span.record("error.type", error_code(err).as_str());
        }
        result
    }
}

/// Root fields run the domain; fields returning objects load relations. Scalars and enums
/// read what their parent already holds (a count that loads is a child of its parent's span).
fn does_io(ctx: &ExtensionContext<'_>, info: &ResolveInfo<'_>) -> bool {
    if info.is_for_introspection {
        return false;
    }
    let registry = &ctx.schema_env.registry;
    if info.parent_type == registry.query_type
        || registry.mutation_type.as_deref() == Some(info.parent_type)
        || registry.subscription_type.as_deref() == Some(info.parent_type)
    {
        return true;
    }
    let ty = MetaTypeName::concrete_typename(info.return_type);
    !matches!(
        registry.types.get(ty),
        Some(MetaType::Scalar { .. } | MetaType::Enum { .. }) | None
    )
}

/// The document as sent, with every string literal (and comment) replaced: values belong in
/// variables, but a client may inline a password, a token or a code.
pub fn elide_literals(query: &str) -> String {
    let mut out = String::with_capacity(query.len().min(MAX_DOCUMENT));
    let mut chars = query.chars().peekable();
    while let Some(c) = chars.next() {
        if out.len() >= MAX_DOCUMENT {
            out.push('…');
            break;
        }
        match c {
            '"' => {
                let block = chars.peek() == Some(&'"') && {
                    chars.next();
                    if chars.peek() == Some(&'"') {
                        chars.next();
                        true
                    } else {
                        // `""`: an empty string.
                        out.push_str("\"\"");
                        continue;
                    }
                };
                skip_string(&mut chars, block);
                out.push_str("\"?\"");
            }
            '#' => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            c => out.push(c),
        }
    }
    out
}

fn skip_string(chars: &mut std::iter::Peekable<std::str::Chars<'_>>, block: bool) {
    let mut quotes = 0;
    while let Some(c) = chars.next() {
        if block {
            if c == '"' {
                quotes += 1;
                if quotes == 3 {
                    return;
                }
                continue;
            }
            quotes = 0;
            if c == '\\' {
                chars.next();
            }
        } else {
            match c {
                '\\' => {
                    chars.next();
                }
                '"' | '\n' => return,
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::elide_literals;

    #[test]
    fn string_literals_and_comments_are_elided() {
        let q = "mutation { login(email: \"a@b.c\", password: \"s3cr\\\"et\") { token } } # pw";
        let out = elide_literals(q);
        assert!(!out.contains("s3cr") && !out.contains("a@b.c") && !out.contains("pw"));
        assert!(out.contains("login(email: \"?\", password: \"?\")"));
        let block = elide_literals("{ f(x: \"\"\"sec\"ret\"\"\") g(y: \"\") }");
        assert_eq!(block, "{ f(x: \"?\") g(y: \"\") }");
        assert_eq!(
            elide_literals("query Q($p: String!) { me { id } }"),
            "query Q($p: String!) { me { id } }"
        );
    }
}
