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

/// Ready to serve traffic: the database answers and no migration is pending.
#[tracing::instrument(skip_all)]
pub async fn ready(State(state): State<AppState>) -> Response {
    let unavailable = |reason: String| {
        tracing::warn!(%reason, "not ready");
        let body =
            Json(json!({ "status": "unavailable", "dependency": "database", "reason": reason }));
        (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::RETRY_AFTER, "5")],
            body,
        )
            .into_response()
    };
    if let Some(reason) = state.db().unavailable() {
        return unavailable(format!("database not ready: {reason}"));
    }
    if let Err(err) = state.db().ping().await {
        return unavailable(format!(
            "database unreachable: {}",
            err.to_string().lines().next().unwrap_or("")
        ));
    }
    match state.db().pending_migrations().await {
        Ok(pending) if pending.is_empty() => {
            Json(json!({ "status": "ready", "database": "ok", "migrations": "current" }))
                .into_response()
        }
        Ok(pending) => unavailable(format!(
            "{} migration(s) pending: {}",
            pending.len(),
            pending.join(", ")
        )),
        Err(err) => unavailable(format!("cannot read migration status: {err}")),
    }
}
