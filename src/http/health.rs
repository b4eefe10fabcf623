//! Liveness and readiness probes.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{StatusCode, header};
use serde_json::json;

use crate::state::AppState;

/// The process is up and serving HTTP.
pub async fn live() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

/// Ready to serve traffic: the database answers and no migration is pending. A failure names
/// the dependency (`failing`) and a fixed reason; the driver's own text, which can carry host
/// names, users or SQL, goes to the log only.
#[tracing::instrument(skip_all)]
pub async fn ready(State(state): State<AppState>) -> Response {
    // `reason` is our own fixed text: driver errors go to the log only.
    let unavailable = |failing: &str, reason: String| {
        let body =
            Json(json!({ "status": "unavailable", "dependency": failing, "reason": reason }));
        (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::RETRY_AFTER, "5")],
            body,
        )
            .into_response()
    };
    if let Some(reason) = state.db().unavailable() {
        tracing::warn!(%reason, "not ready");
        return unavailable("database", format!("database not ready: {reason}"));
    }
    if let Err(err) = state.db().ping().await {
        tracing::warn!(error = %err, "not ready: database unreachable");
        return unavailable("database", "database unreachable".into());
    }
    match state.db().pending_migrations().await {
        Ok(pending) if pending.is_empty() => {
            Json(json!({ "status": "ready", "database": "ok", "migrations": "current" }))
                .into_response()
        }
        Ok(pending) => {
            tracing::warn!(pending = ?pending, "not ready: migrations pending");
            unavailable(
                "migrations",
                format!(
                    "{} migration(s) pending: {}",
                    pending.len(),
                    pending.join(", ")
                ),
            )
        }
        Err(err) => {
            tracing::warn!(error = %err, "not ready: cannot read migration status");
            unavailable("database", "cannot read migration status".into())
        }
    }
}
