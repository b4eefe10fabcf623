//! Prometheus metrics (the `metrics` facade with its Prometheus exporter: the maintained
//! standard for Rust services; the facade keeps call sites independent of the exporter).

use std::collections::HashMap;
use std::sync::{OnceLock, PoisonError, RwLock};

use metrics::{Counter, Histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// The process-wide recorder (installed once; several apps in one test process share it).
pub fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(
                Matcher::Suffix("duration_seconds".into()),
                &[
                    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                ],
            )
            .unwrap_or_else(|_| PrometheusBuilder::new());
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        // Fails only if another recorder is installed; then ours just renders nothing.
        let _ = metrics::set_global_recorder(recorder);
        build_info();
        describe();
        zeroes();
        handle
    })
}

/// One HTTP request answered: its rate and latency by method, route template and status.
pub fn http_request(method: &'static str, route: &str, status: u16, seconds: f64) {
    static SERIES: Series<(&str, u16), (Counter, Histogram)> = Series::new();
    let (requests, duration) = SERIES.get(route, (method, status), || {
        let labels = [
            ("method", method.to_owned()),
            ("route", route.to_owned()),
            ("status", status.to_string()),
        ];
        (
            metrics::counter!("http_requests_total", &labels),
            metrics::histogram!("http_request_duration_seconds", &labels),
        )
    });
    requests.increment(1);
    duration.record(seconds);
}

/// Metric handles by label set, looked up by one string label and a small key, so that a hot
/// path does not build, hash and register its labels on every call: the `metrics` registry
/// does all three for every `counter!`/`histogram!` with labels. Every label set cached here is bounded: route templates, operation names
/// ([`operation_label`]), fixed methods, statuses and outcomes.
struct Series<K, T> {
    by_name: RwLock<Option<ByName<K, T>>>,
}

/// Handles under one string label's value, then a linear scan over the few other labels.
type ByName<K, T> = HashMap<Box<str>, Vec<(K, T)>>;

impl<K: PartialEq + Copy, T: Clone> Series<K, T> {
    const fn new() -> Self {
        Self {
            by_name: RwLock::new(None),
        }
    }

    fn get(&self, name: &str, key: K, make: impl FnOnce() -> T) -> T {
        let found = |map: &Option<ByName<K, T>>| {
            map.as_ref()?
                .get(name)?
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, t)| t.clone())
        };
        if let Some(t) = found(&self.by_name.read().unwrap_or_else(PoisonError::into_inner)) {
            return t;
        }
        let mut map = self.by_name.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(t) = found(&map) {
            return t;
        }
        // A handle made before the recorder exists would count into nothing forever.
        handle();
        let made = make();
        map.get_or_insert_with(HashMap::new)
            .entry(name.into())
            .or_default()
            .push((key, made.clone()));
        made
    }
}

/// The method as a label from a fixed set: the standard methods, and `_OTHER` for any other
/// token (HTTP lets a client invent one per request; each must not become a series).
pub fn method_label(method: &http::Method) -> &'static str {
    use http::Method as M;
    match *method {
        M::GET => "GET",
        M::HEAD => "HEAD",
        M::POST => "POST",
        M::PUT => "PUT",
        M::PATCH => "PATCH",
        M::DELETE => "DELETE",
        M::OPTIONS => "OPTIONS",
        M::TRACE => "TRACE",
        M::CONNECT => "CONNECT",
        _ => "_OTHER",
    }
}

/// DB pool saturation: open, idle, in use and maximum connections.
pub fn pool_gauges(size: u32, idle: u32, max: u32) {
    metrics::gauge!("db_pool_connections", "state" => "idle").set(f64::from(idle));
    metrics::gauge!("db_pool_connections", "state" => "in_use")
        .set(f64::from(size.saturating_sub(idle)));
    metrics::gauge!("db_pool_size").set(f64::from(size));
    metrics::gauge!("db_pool_max_connections").set(f64::from(max));
}

/// The version running, as a constant 1 (`neoforge_build_info{version="…"}`).
fn build_info() {
    metrics::gauge!("neoforge_build_info", "version" => env!("CARGO_PKG_VERSION")).set(1.0);
}

/// A statement counted, and its latency by kind (`select`, `insert`, …: a closed set, see
/// [`crate::telemetry::sql_operation`]).
pub fn statement(stmt: &crate::telemetry::Statement<'_>) {
    static TOTAL: Series<(), Counter> = Series::new();
    static DURATIONS: Series<(), Histogram> = Series::new();
    TOTAL
        .get("", (), || metrics::counter!("db_statements_total"))
        .increment(1);
    let operation = crate::telemetry::sql_operation(stmt.sql);
    DURATIONS
        .get(
            operation,
            (),
            || metrics::histogram!("db_statement_duration_seconds", "operation" => operation),
        )
        .record(stmt.elapsed.as_secs_f64());
    if stmt.failed {
        metrics::counter!("db_statement_errors_total", "operation" => operation).increment(1);
    }
}

/// Distinct operation names a label may take; later names share `_other`, so a client
/// inventing names cannot grow the series without bound.
const MAX_OPERATION_NAMES: usize = 200;

/// The `operation` label: the operation's name (persisted and named operations), `_anonymous`
/// for unnamed documents, `_other` beyond [`MAX_OPERATION_NAMES`].
pub fn operation_label(name: Option<&str>) -> String {
    use std::collections::HashSet;
    use std::sync::Mutex;
    static SEEN: OnceLock<Mutex<HashSet<String>>> = OnceLock::new();
    let Some(name) = name.filter(|n| !n.is_empty()) else {
        return "_anonymous".into();
    };
    let Ok(mut seen) = SEEN.get_or_init(Default::default).lock() else {
        return "_other".into();
    };
    if seen.contains(name) {
        return name.to_owned();
    }
    if seen.len() >= MAX_OPERATION_NAMES {
        return "_other".into();
    }
    seen.insert(name.to_owned());
    name.to_owned()
}

/// One GraphQL operation executed: count by name, type and outcome, and its latency.
pub fn graphql_operation(operation: &str, kind: &'static str, outcome: &'static str, seconds: f64) {
    static TOTALS: Series<(&str, &str), Counter> = Series::new();
    static DURATIONS: Series<&str, Histogram> = Series::new();
    let total = TOTALS.get(operation, (kind, outcome), || {
        metrics::counter!(
            "graphql_operations_total",
            "operation" => operation.to_owned(),
            "type" => kind,
            "outcome" => outcome
        )
    });
    total.increment(1);
    let duration = DURATIONS.get(operation, kind, || {
        metrics::histogram!(
            "graphql_operation_duration_seconds",
            "operation" => operation.to_owned(),
            "type" => kind
        )
    });
    duration.record(seconds);
}

/// A GraphQL error in a response, by its `extensions.code` (a closed set: `ErrorCode`).
pub fn graphql_error(code: String) {
    metrics::counter!("graphql_errors_total", "code" => code).increment(1);
}

/// A `/graphql` document found in (or added to) the parsed-document cache.
pub fn document_cache(hit: bool) {
    let result = if hit { "hit" } else { "miss" };
    metrics::counter!("graphql_document_cache_total", "result" => result).increment(1);
}

/// Open GraphQL WebSocket connections; the guard decrements when the connection ends.
pub fn websocket_connected() -> GaugeGuard {
    GaugeGuard::new("graphql_websocket_connections")
}

/// Subscriptions being served; the guard decrements when the subscription ends.
pub fn subscription_started() -> GaugeGuard {
    GaugeGuard::new("graphql_subscriptions_active")
}

/// Holds one unit of a gauge for as long as it lives.
pub struct GaugeGuard(metrics::Gauge);

impl GaugeGuard {
    fn new(name: &'static str) -> Self {
        let gauge = metrics::gauge!(name);
        gauge.increment(1.0);
        Self(gauge)
    }
}

impl Drop for GaugeGuard {
    fn drop(&mut self) {
        self.0.decrement(1.0);
    }
}

/// The series alert rules and dashboards read, at zero from the start: `rate()` and
/// `increase()` over a series that does not exist yet are empty, so an alert could not fire on
/// the first occurrence and a panel would say "no data" rather than 0.
fn zeroes() {
    for tier in ["anonymous", "api", "auth", "csp", "account"] {
        metrics::counter!("rate_limit_exceeded_total", "tier" => tier).increment(0);
    }
    for outcome in ["stored", "replayed", "conflict", "mismatch", "failed"] {
        metrics::counter!("idempotency_requests_total", "outcome" => outcome).increment(0);
    }
    for name in [
        "idempotency_cleanup_failures_total",
        "db_transaction_retries_total",
        "db_statements_total",
    ] {
        metrics::counter!(name).increment(0);
    }
    for result in ["hit", "miss"] {
        metrics::counter!("graphql_document_cache_total", "result" => result).increment(0);
    }
    for phase in ["idle", "head", "body"] {
        metrics::counter!("http_connections_timed_out_total", "phase" => phase).increment(0);
    }
    for name in [
        "graphql_websocket_connections",
        "graphql_subscriptions_active",
    ] {
        metrics::gauge!(name).increment(0.0);
    }
}

/// HELP lines (Prometheus's linter wants one per metric; Grafana shows them).
fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram};
    describe_counter!(
        "http_requests_total",
        "HTTP requests by method, route template and status."
    );
    describe_histogram!(
        "http_request_duration_seconds",
        metrics::Unit::Seconds,
        "HTTP request latency by method, route template and status."
    );
    describe_counter!(
        "graphql_operations_total",
        "GraphQL operations by name, type and outcome (ok, partial, error)."
    );
    describe_histogram!(
        "graphql_operation_duration_seconds",
        metrics::Unit::Seconds,
        "GraphQL operation latency by name and type."
    );
    describe_counter!(
        "graphql_errors_total",
        "GraphQL errors in responses by extensions.code."
    );
    describe_counter!(
        "graphql_document_cache_total",
        "/graphql documents by parsed-document cache result (hit, miss; longer than 8 KiB: not counted)."
    );
    describe_gauge!(
        "graphql_websocket_connections",
        "Open GraphQL WebSocket connections."
    );
    describe_gauge!(
        "graphql_subscriptions_active",
        "GraphQL subscriptions being served."
    );
    describe_counter!("db_statements_total", "SQL statements executed.");
    describe_histogram!(
        "db_statement_duration_seconds",
        metrics::Unit::Seconds,
        "SQL statement latency by operation (SELECT, INSERT, ...)."
    );
    describe_counter!(
        "db_statement_errors_total",
        "SQL statements that failed, by operation."
    );
    describe_gauge!(
        "db_pool_connections",
        "Pool connections by state (idle, in_use)."
    );
    describe_gauge!("db_pool_size", "Open pool connections.");
    describe_gauge!(
        "db_pool_max_connections",
        "Configured maximum pool connections."
    );
    describe_counter!(
        "idempotency_requests_total",
        "Keyed writes by outcome (stored, replayed, conflict, mismatch, failed)."
    );
    describe_counter!(
        "idempotency_cleanup_runs_total",
        "Successful idempotency-key cleanup runs."
    );
    describe_counter!(
        "idempotency_cleanup_failures_total",
        "Failed idempotency-key cleanup runs."
    );
    describe_gauge!(
        "idempotency_cleanup_last_success_timestamp_seconds",
        "Unix time of the last successful idempotency-key cleanup."
    );
    describe_counter!(
        "idempotency_keys_deleted_total",
        "Expired idempotency keys deleted."
    );
    describe_counter!(
        "rate_limit_exceeded_total",
        "Requests refused by a rate limit, by tier."
    );
    describe_gauge!("neoforge_build_info", "The running version (always 1).");
    describe_counter!(
        "threats_detected_total",
        "Requests rejected as hostile, by kind (oversize body, malformed JSON, ...)."
    );
    describe_counter!("csp_reports_total", "CSP violation reports, by directive.");
    describe_counter!(
        "db_transaction_retries_total",
        "Transactions run again after a serialization failure or deadlock."
    );
    describe_gauge!("http_connections_open", "Client connections open.");
    describe_counter!(
        "http_connections_timed_out_total",
        "Connections closed with 408 (head, body) or for idleness, by phase."
    );
    describe_counter!(
        "http_connections_rejected_total",
        "Connections refused (503) by reason, e.g. the per-address cap."
    );
    describe_counter!(
        "http_connection_cap_reached_total",
        "Times the server stopped accepting at NEOFORGE_MAX_CONNECTIONS."
    );
    describe_counter!("http_accept_errors_total", "Failed accept() calls.");
}
