//! Content Security Policy reporting: the report-only headers that point browsers at the report
//! endpoint (`http::csp`), and the reading of what they send there.
//!
//! The endpoint takes both formats browsers send: the legacy `application/csp-report`
//! (`{"csp-report": {...}}`, from `report-uri`) and the Reporting API's
//! `application/reports+json` (`[{"type": "csp-violation", "body": {...}}]`, from `report-to`).
//! A report is untrusted text from anyone: it is bounded, validated, counted under a label from
//! a fixed set and logged as a short sanitised summary.

use http::{HeaderName, HeaderValue};
use serde_json::Value;

pub const PATH: &str = "/api/v1/security/csp-report";
/// Largest report accepted; real reports are a few hundred bytes.
pub const MAX_BODY: usize = 64 * 1024;
/// Most reports one `reports+json` batch may carry.
const MAX_REPORTS: usize = 100;

/// The directives a violation is counted under; anything else is `other`.
const DIRECTIVES: &[&str] = &[
    "default-src",
    "script-src",
    "script-src-elem",
    "script-src-attr",
    "style-src",
    "style-src-elem",
    "style-src-attr",
    "img-src",
    "font-src",
    "connect-src",
    "media-src",
    "object-src",
    "frame-src",
    "child-src",
    "worker-src",
    "manifest-src",
    "form-action",
    "frame-ancestors",
    "base-uri",
    "navigate-to",
    "require-trusted-types-for",
    "trusted-types",
];

/// The policy the report-only header announces: what the API and its playground need.
const POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";
const GROUP: &str = "csp-endpoint";

/// The headers every response carries while CSP reporting is on: a report-only policy (so
/// nothing breaks while it is tuned) and both ways of naming the endpoint.
pub fn report_only_headers() -> [(HeaderName, HeaderValue); 3] {
    let csp = format!("{POLICY}; report-uri {PATH}; report-to {GROUP}");
    let endpoints = format!("{GROUP}=\"{PATH}\"");
    let legacy =
        format!(r#"{{"group":"{GROUP}","max_age":10886400,"endpoints":[{{"url":"{PATH}"}}]}}"#);
    let value = |s: String| HeaderValue::from_str(&s).unwrap_or(HeaderValue::from_static(""));
    [
        (
            HeaderName::from_static("content-security-policy-report-only"),
            value(csp),
        ),
        (
            HeaderName::from_static("reporting-endpoints"),
            value(endpoints),
        ),
        (HeaderName::from_static("report-to"), value(legacy)),
    ]
}

/// One violation, reduced to what is safe to count and log.
#[derive(Debug, PartialEq, Eq)]
pub struct Violation {
    pub directive: &'static str,
    pub blocked: String,
    pub document: String,
}

/// Text from a report: control characters dropped, at most `max` characters.
fn sanitise(value: Option<&Value>, max: usize) -> String {
    value
        .and_then(Value::as_str)
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_control())
        .take(max)
        .collect()
}

/// The directive's label: its name when known (`script-src-elem 'self'` → `script-src-elem`).
fn directive_label(raw: &str) -> &'static str {
    let name = raw.split_whitespace().next().unwrap_or_default();
    DIRECTIVES
        .iter()
        .find(|d| d.eq_ignore_ascii_case(name))
        .copied()
        .unwrap_or("other")
}

/// Reads one report body (either format's inner object).
fn violation(body: &Value, legacy: bool) -> Option<Violation> {
    let body = body.as_object()?;
    let field = |legacy_name: &str, name: &str| body.get(if legacy { legacy_name } else { name });
    let directive = field("effective-directive", "effectiveDirective")
        .or_else(|| field("violated-directive", "violatedDirective"))
        .and_then(Value::as_str)?;
    Some(Violation {
        directive: directive_label(directive),
        blocked: sanitise(field("blocked-uri", "blockedURL"), 200),
        document: sanitise(field("document-uri", "documentURL"), 200),
    })
}

/// The violations of a request body, or why it is not a report.
pub fn parse(media: &str, body: &[u8]) -> Result<Vec<Violation>, &'static str> {
    let value: Value = serde_json::from_slice(body).map_err(|_| "the report is not JSON")?;
    let reports = match media {
        "application/csp-report" => {
            let report = value.get("csp-report").ok_or("missing `csp-report`")?;
            vec![violation(report, true).ok_or("the report names no directive")?]
        }
        _ => {
            let list = value.as_array().ok_or("expected an array of reports")?;
            if list.is_empty() || list.len() > MAX_REPORTS {
                return Err("expected 1 to 100 reports");
            }
            // Other report types (deprecation, intervention) may share the endpoint: skipped.
            list.iter()
                .filter(|r| r.get("type").and_then(Value::as_str) == Some("csp-violation"))
                .map(|r| r.get("body").and_then(|b| violation(b, false)))
                .collect::<Option<Vec<_>>>()
                .ok_or("a csp-violation report names no directive")?
        }
    };
    Ok(reports)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_formats() {
        let legacy = br#"{"csp-report":{"document-uri":"https://app/x","violated-directive":"script-src-elem 'self'","blocked-uri":"https://evil/\u0007x.js"}}"#;
        let v = parse("application/csp-report", legacy).unwrap();
        assert_eq!(v[0].directive, "script-src-elem");
        assert_eq!(v[0].blocked, "https://evil/x.js");
        let modern = br#"[{"type":"csp-violation","body":{"effectiveDirective":"img-src","blockedURL":"data:"}},{"type":"deprecation","body":{}}]"#;
        let v = parse("application/reports+json", modern).unwrap();
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].directive, "img-src");
        let made_up = br#"{"csp-report":{"effective-directive":"x-evil-{random}"}}"#;
        assert_eq!(
            parse("application/csp-report", made_up).unwrap()[0].directive,
            "other"
        );
        for bad in [&b"nope"[..], b"{}", br#"{"csp-report":{}}"#, b"[]"] {
            assert!(parse("application/csp-report", bad).is_err());
        }
        assert!(parse("application/reports+json", b"[]").is_err());
        assert!(parse("application/reports+json", br#"[{"type":"csp-violation"}]"#).is_err());
    }
}
