//! `POST /api/v1/security/csp-report`: browsers' Content Security Policy violation reports
//! (read by [`crate::security::csp`]).

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, StatusCode};

use super::caller::Caller;
use super::problem::Problem;
use crate::error::{Error, ErrorCode};
use crate::security::csp::{PATH, parse};
use crate::security::{Client, Threat, Tier};
use crate::state::AppState;

fn problem(code: ErrorCode, detail: &str) -> Response {
    Problem::new(code, detail).render(PATH)
}

/// `POST /api/v1/security/csp-report`: 204 for a valid report, 4xx otherwise. Draws from its
/// own per-address budget (`NEOFORGE_RATE_LIMIT_CSP`), so a flood of reports spends neither
/// the API's budgets nor the log's patience.
pub async fn report(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    if let Some(ip) = caller.meta.ip
        && let Err(limited) = state
            .services
            .rate_limits
            .check(Tier::Csp, &Client::ip(ip))
            .await
    {
        return Problem::from(&Error::from(limited)).render(PATH);
    }
    let (media, _) = super::body_media_type(&headers);
    if media != "application/csp-report" && media != "application/reports+json" {
        return problem(
            ErrorCode::UnsupportedMediaType,
            "send application/csp-report or application/reports+json",
        );
    }
    let body = match body {
        Ok(body) => body,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            Threat::OversizeBody.record();
            return problem(ErrorCode::PayloadTooLarge, "a report is at most 64 KiB");
        }
        Err(rejection) => return problem(ErrorCode::BadUserInput, &rejection.body_text()),
    };
    let violations = match parse(&media, &body) {
        Ok(v) => v,
        Err(why) => {
            Threat::MalformedJson.record();
            return problem(ErrorCode::BadUserInput, why);
        }
    };
    for v in &violations {
        Threat::CspViolation.record();
        metrics::counter!("csp_reports_total", "directive" => v.directive).increment(1);
        tracing::warn!(
            directive = v.directive,
            blocked = %v.blocked,
            document = %v.document,
            "CSP violation reported"
        );
    }
    StatusCode::NO_CONTENT.into_response()
}
