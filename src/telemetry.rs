//! Logs and traces. Logs: human-readable in development, JSON in production, every line inside
//! the request span (which carries the request id) and, when traces are exported, stamped with
//! the trace and span ids so an operator can jump from a log line to its trace.
//!
//! Traces: `tracing` spans become OpenTelemetry spans through `tracing-opentelemetry` and leave
//! over OTLP (HTTP/protobuf or gRPC) only when `OTEL_EXPORTER_OTLP_ENDPOINT` or
//! `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` is set. The SDK reads the other standard variables itself
//! (`OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_TRACES_SAMPLER[_ARG]`, `OTEL_BSP_*`,
//! `OTEL_EXPORTER_OTLP_TIMEOUT`, headers). Spans are exported by the SDK's batch processor on its
//! own thread: a request only pushes onto a bounded queue, so a collector that is down or hangs
//! costs dropped spans, never a slow request.

use std::fmt;
use std::io::IsTerminal;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

use opentelemetry::KeyValue;
use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::{
    Span as _, SpanKind, TraceContextExt, Tracer as _, TracerProvider as _,
};
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};
use tracing::Subscriber;
use tracing_opentelemetry::{OpenTelemetrySpanExt, OtelData};
use tracing_subscriber::filter::FilterExt;
use tracing_subscriber::fmt::FmtContext;
use tracing_subscriber::fmt::format::{self, FormatEvent, FormatFields, Writer};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, filter::LevelFilter, filter::Targets};

const DEFAULT_FILTER: &str = "info,sqlx=warn,sea_orm=warn,sea_orm_migration=warn";
const SERVICE_NAME: &str = "neoforge";

/// Set once traces are exported: the per-statement and propagation paths skip all work otherwise.
static EXPORTING: AtomicBool = AtomicBool::new(false);
static TRACER: OnceLock<SdkTracer> = OnceLock::new();

/// Whether spans leave the process (an OTLP endpoint was configured at start).
pub fn exporting() -> bool {
    EXPORTING.load(Ordering::Relaxed)
}

/// The OTLP transport (`OTEL_EXPORTER_OTLP_[TRACES_]PROTOCOL`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    HttpProtobuf,
    Grpc,
}

/// Where spans go.
#[derive(Clone, Debug)]
pub struct Export {
    /// The full traces URL (`…/v1/traces` for HTTP). `None`: the SDK reads the `OTEL_*`
    /// endpoint variables itself (and appends `/v1/traces` to the generic one, as specified).
    pub endpoint: Option<String>,
    pub transport: Transport,
}

impl Export {
    /// From the standard variables; `None` when no endpoint is set (nothing is exported).
    pub fn from_env() -> Option<Self> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        var("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").or_else(|| var("OTEL_EXPORTER_OTLP_ENDPOINT"))?;
        let protocol = var("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
            .or_else(|| var("OTEL_EXPORTER_OTLP_PROTOCOL"))
            .unwrap_or_else(|| "http/protobuf".into());
        let transport = match protocol.trim() {
            "grpc" => Transport::Grpc,
            "http/protobuf" => Transport::HttpProtobuf,
            other => {
                eprintln!(
                    "OTEL_EXPORTER_OTLP_PROTOCOL={other} is not supported (grpc | http/protobuf); \
                     using http/protobuf"
                );
                Transport::HttpProtobuf
            }
        };
        Some(Self {
            endpoint: None,
            transport,
        })
    }
}

/// Owns the exporter; [`Telemetry::shutdown`] flushes what is still queued.
#[must_use = "shut it down at exit so pending spans are flushed"]
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Telemetry {
    /// Exports the spans queued so far now rather than at the next batch (blocking).
    pub fn flush(&self) {
        if let Some(provider) = &self.provider {
            let _ = provider.force_flush();
        }
    }

    /// Exports the spans still queued (bounded by the export timeout) and stops the exporter.
    /// Blocking: runs on a blocking thread when called from async code.
    pub async fn shutdown(self) {
        if let Some(provider) = self.provider {
            EXPORTING.store(false, Ordering::Relaxed);
            let _ = tokio::task::spawn_blocking(move || {
                if let Err(err) = provider.shutdown() {
                    eprintln!("cannot flush traces: {err}");
                }
            })
            .await;
        }
    }
}

/// Installs the global subscriber, exporting traces as the `OTEL_*` variables say.
pub fn init(json: bool) -> Telemetry {
    init_with(json, Export::from_env())
}

/// Installs the global subscriber. Only the first call in a process installs anything (tests
/// start many apps in one process): later calls return a handle that owns nothing.
pub fn init_with(json: bool, export: Option<Export>) -> Telemetry {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    if INSTALLED.set(()).is_err() {
        return Telemetry { provider: None };
    }
    let provider = export.and_then(|export| match provider(&export) {
        Ok(provider) => Some(provider),
        Err(err) => {
            // Traces are an aid, not a dependency: start without them.
            eprintln!("traces will not be exported: {err}");
            None
        }
    });
    let otel = provider.as_ref().map(|provider| {
        let tracer = provider.tracer(SERVICE_NAME);
        let _ = TRACER.set(tracer.clone());
        EXPORTING.store(true, Ordering::Relaxed);
        tracing_opentelemetry::layer()
            .with_tracer(tracer)
            .with_location(false)
            .with_threads(false)
            .with_target(false)
            .with_filter(UncachedFilter(otel_filter()))
    });
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    // Colours only for a terminal: escape codes in a file or pipe are noise to read, and
    // styling every field name of every span was a large share of what logging cost.
    let fmt = tracing_subscriber::fmt::layer().with_ansi(std::io::stdout().is_terminal());
    let fmt = if json {
        fmt.json()
            .event_format(Correlated(
                format::format()
                    .json()
                    .with_current_span(true)
                    .with_span_list(false),
            ))
            .with_filter(log_filter(filter))
            .boxed()
    } else {
        fmt.event_format(Correlated(format::format()))
            .with_filter(log_filter(filter))
            .boxed()
    };
    let result = tracing_subscriber::registry()
        .with(fmt)
        .with(otel)
        .try_init();
    drop(result);
    Telemetry { provider }
}

/// What the log records: events as `RUST_LOG` says, and of spans only a line's outermost one
/// (a request's, a background job's), which carries what a line needs (request id, route,
/// client address). The log formats every span it records as the span starts, whether or not
/// a line is ever written inside it; the nested spans (REST route, GraphQL operation, domain
/// functions) are for traces, which still get them all.
fn log_filter<S>(filter: EnvFilter) -> UncachedFilter<impl tracing_subscriber::layer::Filter<S>>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let outermost = tracing_subscriber::filter::dynamic_filter_fn(
        |meta: &tracing::Metadata<'_>, cx: &tracing_subscriber::layer::Context<'_, S>| {
            !meta.is_span() || cx.lookup_current().is_none()
        },
    )
    // No say on levels: `RUST_LOG`'s most verbose level stays the hint.
    .with_max_level_hint(LevelFilter::TRACE);
    UncachedFilter(filter.and(outermost))
}

/// A per-layer filter whose callsites are never cached as "always enabled".
///
/// Per-layer filters hand their verdict from `enabled` to `on_new_span` through a thread-local
/// map. A callsite cached as `always` skips `enabled`, so its span reads whatever the previous
/// `enabled` call on that thread left there; `log_enabled!` checks that reach `tracing` through
/// the log bridge (sqlx runs one after every query) leave "disabled" behind, and the next
/// request span would silently vanish from both logs and traces, so the request would start a
/// fresh trace instead of joining the caller's (upstream bug: tokio-rs/tracing#2519). Capping the
/// interest at `sometimes` costs one cheap, static lookup per span.
struct UncachedFilter<F>(F);

impl<S, F: tracing_subscriber::layer::Filter<S>> tracing_subscriber::layer::Filter<S>
    for UncachedFilter<F>
{
    fn enabled(
        &self,
        meta: &tracing::Metadata<'_>,
        cx: &tracing_subscriber::layer::Context<'_, S>,
    ) -> bool {
        self.0.enabled(meta, cx)
    }

    fn callsite_enabled(
        &self,
        meta: &'static tracing::Metadata<'static>,
    ) -> tracing::subscriber::Interest {
        let interest = self.0.callsite_enabled(meta);
        if interest.is_always() {
            tracing::subscriber::Interest::sometimes()
        } else {
            interest
        }
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        self.0.max_level_hint()
    }

    fn event_enabled(
        &self,
        event: &tracing::Event<'_>,
        cx: &tracing_subscriber::layer::Context<'_, S>,
    ) -> bool {
        self.0.event_enabled(event, cx)
    }

    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        id: &tracing::span::Id,
        cx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        self.0.on_new_span(attrs, id, cx);
    }

    fn on_record(
        &self,
        id: &tracing::span::Id,
        values: &tracing::span::Record<'_>,
        cx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        self.0.on_record(id, values, cx);
    }

    fn on_enter(&self, id: &tracing::span::Id, cx: tracing_subscriber::layer::Context<'_, S>) {
        self.0.on_enter(id, cx);
    }

    fn on_exit(&self, id: &tracing::span::Id, cx: tracing_subscriber::layer::Context<'_, S>) {
        self.0.on_exit(id, cx);
    }

    fn on_close(&self, id: tracing::span::Id, cx: tracing_subscriber::layer::Context<'_, S>) {
        self.0.on_close(id, cx);
    }
}

/// What becomes a span in a trace: the server's own spans at INFO and above, never the HTTP
/// and gRPC clients' internals (the exporter's own requests would otherwise trace themselves).
fn otel_filter() -> Targets {
    Targets::new()
        .with_default(LevelFilter::INFO)
        .with_target("sqlx", LevelFilter::OFF)
        .with_target("sea_orm", LevelFilter::OFF)
        .with_target("hyper", LevelFilter::OFF)
        .with_target("hyper_util", LevelFilter::OFF)
        .with_target("h2", LevelFilter::OFF)
        .with_target("tonic", LevelFilter::OFF)
        .with_target("tower", LevelFilter::OFF)
        .with_target("reqwest", LevelFilter::OFF)
        .with_target("opentelemetry", LevelFilter::OFF)
        .with_target("opentelemetry_sdk", LevelFilter::OFF)
        .with_target("opentelemetry_otlp", LevelFilter::OFF)
}

fn provider(export: &Export) -> Result<SdkTracerProvider, opentelemetry_otlp::ExporterBuildError> {
    let exporter = match export.transport {
        Transport::HttpProtobuf => {
            let builder = opentelemetry_otlp::SpanExporter::builder()
                .with_http()
                .with_protocol(Protocol::HttpBinary);
            match &export.endpoint {
                Some(url) => builder.with_endpoint(url.clone()).build()?,
                None => builder.build()?,
            }
        }
        Transport::Grpc => {
            let builder = opentelemetry_otlp::SpanExporter::builder().with_tonic();
            match &export.endpoint {
                Some(url) => builder.with_endpoint(url.clone()).build()?,
                None => builder.build()?,
            }
        }
    };
    // The builder's default detectors read OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES;
    // without either, the service is "neoforge" rather than "unknown_service".
    let named = std::env::var("OTEL_SERVICE_NAME").is_ok_and(|v| !v.is_empty())
        || std::env::var("OTEL_RESOURCE_ATTRIBUTES").is_ok_and(|v| v.contains("service.name="));
    let mut resource = Resource::builder()
        .with_attribute(KeyValue::new("service.version", env!("CARGO_PKG_VERSION")));
    if !named {
        resource = resource.with_service_name(SERVICE_NAME);
    }
    Ok(SdkTracerProvider::builder()
        // The batch processor reads OTEL_BSP_*; the sampler OTEL_TRACES_SAMPLER[_ARG].
        .with_batch_exporter(exporter)
        .with_resource(resource.build())
        .build())
}

/// Joins the caller's trace: W3C `traceparent`/`tracestate` on the request become the span's
/// parent. A no-op when nothing is exported.
pub fn accept_parent(span: &tracing::Span, headers: &http::HeaderMap) {
    if !exporting() || !headers.contains_key("traceparent") {
        return;
    }
    let parent = TraceContextPropagator::new().extract(&Headers(headers));
    let _ = span.set_parent(parent);
}

/// Puts the current span's `traceparent` on a response, so a caller can find its trace.
pub fn return_parent(headers: &mut http::HeaderMap) {
    if !exporting() {
        return;
    }
    let cx = tracing::Span::current().context();
    if cx.span().span_context().is_valid() {
        TraceContextPropagator::new().inject_context(&cx, &mut HeadersMut(headers));
    }
}

/// The caller as the request span shows it: its address and, when signed in, its user id
/// (never the e-mail address).
pub fn record_caller(ip: Option<std::net::IpAddr>, user: Option<uuid::Uuid>) {
    let span = tracing::Span::current();
    if let Some(ip) = ip {
        span.record("client.address", tracing::field::display(ip));
    }
    if let Some(user) = user {
        span.record("enduser.id", tracing::field::display(user));
    }
}

/// Renames a span once more is known (the REST route, the GraphQL operation). OpenTelemetry
/// spans start when first entered, after which `otel.name` is no longer read.
pub fn rename(span: &tracing::Span, name: impl Into<std::borrow::Cow<'static, str>>) {
    if exporting() {
        span.context().span().update_name(name.into());
    }
}

struct Headers<'a>(&'a http::HeaderMap);

impl Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }
    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(http::HeaderName::as_str).collect()
    }
}

struct HeadersMut<'a>(&'a mut http::HeaderMap);

impl Injector for HeadersMut<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(key.as_bytes()),
            http::HeaderValue::from_str(&value),
        ) {
            self.0.insert(name, value);
        }
    }
}

/// One SQL statement that has run, as SeaORM's metric callback reports it.
pub struct Statement<'a> {
    pub sql: &'a str,
    pub system: &'static str,
    pub elapsed: Duration,
    pub failed: bool,
}

/// A span for a statement that has just finished, as a child of the span that issued it (a
/// resolver, a DataLoader batch, a transaction). SeaORM reports a statement after it ran, so
/// the span is built with its measured start and end. The text is the prepared statement:
/// parameters are placeholders, their values are never recorded.
pub fn statement_span(stmt: &Statement<'_>) {
    if !exporting() {
        return;
    }
    let Some(tracer) = TRACER.get() else { return };
    // The innermost span the OpenTelemetry layer knows (it activates each span's context on
    // entry): spans only the log filter enables are skipped over.
    let parent = opentelemetry::Context::current();
    if !parent.span().span_context().is_sampled() {
        // An unsampled request (or a statement outside any request) leaves no trace.
        return;
    }
    let end = SystemTime::now();
    let start = end.checked_sub(stmt.elapsed).unwrap_or(end);
    let operation = sql_operation(stmt.sql);
    let collection = sql_collection(stmt.sql);
    let name = match collection {
        Some(table) => format!("{operation} {table}"),
        None => operation.to_owned(),
    };
    let mut attributes = vec![
        KeyValue::new("db.system", stmt.system),
        KeyValue::new("db.system.name", stmt.system),
        KeyValue::new("db.query.text", stmt.sql.to_owned()),
        KeyValue::new("db.statement", stmt.sql.to_owned()),
        KeyValue::new("db.operation.name", operation),
    ];
    if let Some(table) = collection {
        attributes.push(KeyValue::new("db.collection.name", table.to_owned()));
    }
    let mut span = tracer
        .span_builder(name)
        .with_kind(SpanKind::Client)
        .with_start_time(start)
        .with_attributes(attributes)
        .start_with_context(tracer, &parent);
    if stmt.failed {
        span.set_status(opentelemetry::trace::Status::error("statement failed"));
    }
    span.end_with_timestamp(end);
}

/// The statement's verb, upper case (`SELECT`, `INSERT`, …); `OTHER` for anything unexpected.
pub fn sql_operation(sql: &str) -> &'static str {
    let word = sql.split_whitespace().next().unwrap_or_default();
    for verb in [
        "SELECT",
        "INSERT",
        "UPDATE",
        "DELETE",
        "WITH",
        "BEGIN",
        "COMMIT",
        "ROLLBACK",
        "SAVEPOINT",
        "RELEASE",
        "PRAGMA",
        "CREATE",
        "ALTER",
        "DROP",
        "LISTEN",
        "NOTIFY",
    ] {
        if word.eq_ignore_ascii_case(verb) {
            return verb;
        }
    }
    "OTHER"
}

/// The first table a statement names (`FROM`, `INTO` or `UPDATE` target), unquoted.
pub fn sql_collection(sql: &str) -> Option<&str> {
    let mut words = sql.split_whitespace();
    let first = words.next()?;
    if first.eq_ignore_ascii_case("UPDATE") {
        return words.next().map(unquote);
    }
    let mut words = sql.split_whitespace().peekable();
    while let Some(word) = words.next() {
        if word.eq_ignore_ascii_case("FROM") || word.eq_ignore_ascii_case("INTO") {
            let table = words.peek().copied()?;
            if table.starts_with('(') {
                return None;
            }
            return Some(unquote(table));
        }
    }
    None
}

fn unquote(word: &str) -> &str {
    let word = word.trim_end_matches([',', ';', '(', ')']);
    word.rsplit('.')
        .next()
        .unwrap_or(word)
        .trim_matches(['"', '`'])
}

/// Log-line correlation: prefixes (text) or adds (JSON) the trace and span ids of the span the
/// event happened in. Without exported traces there are no ids and lines are unchanged.
struct Correlated<F>(F);

impl<S, N, F> FormatEvent<S, N> for Correlated<F>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
    F: FormatEvent<S, N>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &tracing::Event<'_>,
    ) -> fmt::Result {
        let ids = if exporting() {
            ctx.lookup_current().and_then(|span| {
                let ext = span.extensions();
                let data = ext.get::<OtelData>()?;
                Some((data.trace_id()?, data.span_id()?))
            })
        } else {
            None
        };
        let Some((trace_id, span_id)) = ids else {
            return self.0.format_event(ctx, writer, event);
        };
        let mut line = String::new();
        self.0.format_event(ctx, Writer::new(&mut line), event)?;
        match line.strip_prefix('{') {
            Some(rest) => write!(
                writer,
                "{{\"trace_id\":\"{trace_id}\",\"span_id\":\"{span_id}\",{rest}"
            ),
            None => write!(writer, "trace_id={trace_id} span_id={span_id} {line}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Records the names of the spans it is told about.
    #[derive(Clone, Default)]
    struct Seen(std::sync::Arc<std::sync::Mutex<Vec<String>>>);

    impl<S: Subscriber> Layer<S> for Seen {
        fn on_new_span(
            &self,
            attrs: &tracing::span::Attributes<'_>,
            _: &tracing::span::Id,
            _: tracing_subscriber::layer::Context<'_, S>,
        ) {
            if let Ok(mut seen) = self.0.lock() {
                seen.push(attrs.metadata().name().to_owned());
            }
        }
    }

    #[test]
    fn a_rejected_log_check_does_not_hide_the_next_span() {
        let (logs, traces) = (Seen::default(), Seen::default());
        let subscriber = tracing_subscriber::registry()
            .with(
                logs.clone()
                    .with_filter(UncachedFilter(EnvFilter::new(DEFAULT_FILTER))),
            )
            .with(traces.clone().with_filter(UncachedFilter(otel_filter())));
        tracing::subscriber::with_default(subscriber, || {
            for _ in 0..2 {
                // What the log bridge does for `log_enabled!(target: "sqlx::query", Info)`:
                // both filters reject it and no event follows to consume their verdicts.
                let rejected = tracing::Metadata::new(
                    "log record",
                    "sqlx::query",
                    tracing::Level::INFO,
                    None,
                    None,
                    None,
                    tracing::field::FieldSet::new(&[], tracing::callsite::Identifier(&CALLSITE)),
                    tracing::metadata::Kind::EVENT,
                );
                // (The dispatcher answers "enabled": per-layer filters only record their verdicts.)
                tracing::dispatcher::get_default(|d| d.enabled(&rejected));
                let _span = tracing::info_span!("request").entered();
            }
        });
        for seen in [logs, traces] {
            let names = seen.0.lock().map(|n| n.clone()).unwrap_or_default();
            assert_eq!(names, ["request", "request"]);
        }
    }

    struct Callsite;
    static CALLSITE: Callsite = Callsite;
    impl tracing::callsite::Callsite for Callsite {
        fn set_interest(&self, _: tracing::subscriber::Interest) {}
        fn metadata(&self) -> &tracing::Metadata<'_> {
            unreachable!("never registered")
        }
    }

    #[test]
    fn statements_are_named_by_verb_and_table() {
        let sql = r#"SELECT "projects"."id" FROM "projects" WHERE "projects"."id" IN ($1, $2)"#;
        assert_eq!(sql_operation(sql), "SELECT");
        assert_eq!(sql_collection(sql), Some("projects"));
        let sql = r#"INSERT INTO "support_tickets" ("id") VALUES (?) RETURNING "id""#;
        assert_eq!(sql_operation(sql), "INSERT");
        assert_eq!(sql_collection(sql), Some("support_tickets"));
        assert_eq!(
            sql_collection(r#"UPDATE "users" SET "a" = $1"#),
            Some("users")
        );
        assert_eq!(sql_operation("vacuum"), "OTHER");
        assert_eq!(sql_collection("SELECT 1"), None);
    }
}
