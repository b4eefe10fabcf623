//! Logging: human-readable in development, JSON in production, every line inside the request
//! span (which carries the request id).

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::FmtSpan;

const DEFAULT_FILTER: &str = "info,sqlx=warn,sea_orm=warn,sea_orm_migration=warn";

/// Installs the global subscriber. Safe to call more than once (later calls are no-ops).
pub fn init(json: bool) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_span_events(FmtSpan::NONE);
    let result = if json {
        builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .try_init()
    } else {
        builder.try_init()
    };
    // Already installed (tests start many apps in one process): keep the first.
    drop(result);
}
