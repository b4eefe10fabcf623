//! The HTTP edge: everything that reads a request or writes a response. The caller is decided
//! here ([`caller`]), the API's admission runs here ([`admission`]), and errors are rendered
//! here, once ([`problem`]). The GraphQL-over-HTTP and WebSocket endpoints, the probes,
//! `/metrics`, the playground and the CSP report intake live here too; the REST shim
//! (`crate::rest`) builds on this module and `crate::server` assembles them into one app.

pub mod admission;
pub mod caller;
pub mod csp;
pub mod graphql;
pub mod health;
pub mod metrics;
pub mod playground;
pub mod problem;
pub mod ws;

use http::header;

/// A request body's media type, lowercased, and whether its charset (if any) is UTF-8, the
/// only one the API reads.
pub fn body_media_type(headers: &http::HeaderMap) -> (String, bool) {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let mut parts = content_type.split(';').map(str::trim);
    let media = parts.next().unwrap_or_default().to_ascii_lowercase();
    let utf8 = parts
        .filter_map(|p| p.split_once('='))
        .filter(|(k, _)| k.trim().eq_ignore_ascii_case("charset"))
        .all(|(_, v)| {
            let v = v.trim().trim_matches('"');
            v.eq_ignore_ascii_case("utf-8") || v.eq_ignore_ascii_case("utf8")
        });
    (media, utf8)
}
