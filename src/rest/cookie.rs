//! The browser's refresh-token cookie.
//!
//! A browser (a request with an `Origin` header, which browsers send on every `POST`) gets the
//! refresh token only as `neoforge_refresh=...; HttpOnly; Secure; SameSite=Strict;
//! Path=/api/v1/auth/refresh`: script cannot read it (XSS cannot steal it) and it travels to
//! the refresh route only. Other clients get it in the body and send it back in the body.
//!
//! CSRF: the cookie alone authorizes nothing but a refresh, and a forged refresh cannot hurt:
//! - `SameSite=Strict`: browsers do not attach it to requests started by another site;
//! - the refresh route only accepts `application/json` bodies (415 otherwise), a content type
//!   that a cross-origin page cannot send without a CORS preflight, which the allow-list refuses;
//! - a refresh that uses the cookie must come from an allowed origin (`NEOFORGE_CORS_ORIGINS`)
//!   or the API's own origin (403 otherwise);
//! - the new tokens are in the response body, which only allowed origins can read.

use http::{HeaderMap, HeaderValue, header};
use serde_json::Value;

use super::spec::CookieUse;
use crate::error::ErrorCode;
use crate::http::problem::Problem;

pub const NAME: &str = "neoforge_refresh";
/// The refresh route: the only path the browser sends the cookie to.
pub const PATH: &str = "/api/v1/auth/refresh";
/// The body member and GraphQL field that carry the refresh token.
const BODY_MEMBER: &str = "refresh_token";
const GQL_FIELD: &str = "refreshToken";

/// What to do with the cookie once the operation has run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Plan {
    /// Leave the token in the body; no cookie.
    Body,
    /// Move the token from the body to the cookie.
    Cookie,
    /// Clear the cookie.
    Clear,
}

fn browser(headers: &HeaderMap) -> bool {
    headers.contains_key(header::ORIGIN)
}

/// The refresh token the browser sent as the cookie.
fn read(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == NAME)
        .map(|(_, value)| value.trim().to_owned())
        .filter(|value| !value.is_empty())
}

/// Whether `Origin` (when present) is the API's own origin or an allowed one.
fn origin_allowed(headers: &HeaderMap, allowed: &[String]) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    if allowed.iter().any(|a| a == origin) {
        return true;
    }
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    let own = origin.split_once("://").map(|(_, authority)| authority);
    matches!((own, host), (Some(own), Some(host)) if own.eq_ignore_ascii_case(host))
}

/// Before the operation: for a refresh without a body token, the cookie's token goes into the
/// body (from an allowed origin only); then which [`Plan`] applies.
pub fn before(
    usage: CookieUse,
    headers: &HeaderMap,
    body: Option<&mut Value>,
    allowed_origins: &[String],
) -> Result<Plan, Problem> {
    match usage {
        CookieUse::Clear => Ok(Plan::Clear),
        CookieUse::Issue if browser(headers) => Ok(Plan::Cookie),
        CookieUse::Issue => Ok(Plan::Body),
        CookieUse::Rotate => {
            let Some(Value::Object(members)) = body else {
                return Ok(Plan::Body);
            };
            let in_body = members.get(BODY_MEMBER).is_some_and(|v| !v.is_null());
            if in_body {
                return Ok(if browser(headers) {
                    Plan::Cookie
                } else {
                    Plan::Body
                });
            }
            let Some(token) = read(headers) else {
                return Err(Problem::new(
                    ErrorCode::Unauthenticated,
                    "send refresh_token in the body, or the refresh cookie",
                ));
            };
            if !origin_allowed(headers, allowed_origins) {
                return Err(Problem::new(
                    ErrorCode::Forbidden,
                    "the refresh cookie is only accepted from the application's own origins",
                ));
            }
            members.insert(BODY_MEMBER.into(), Value::String(token));
            Ok(Plan::Cookie)
        }
    }
}

/// After a successful operation: the `Set-Cookie` value, taking the token out of `item` (the
/// output object) when it moves to the cookie.
pub fn after(plan: Plan, item: Option<&mut Value>, max_age: u64) -> Option<HeaderValue> {
    match plan {
        Plan::Body => None,
        Plan::Clear => HeaderValue::from_str(&format!(
            "{NAME}=; Path={PATH}; Max-Age=0; HttpOnly; Secure; SameSite=Strict"
        ))
        .ok(),
        Plan::Cookie => {
            let token = item?.get_mut(GQL_FIELD).map(Value::take)?;
            let token = token.as_str()?;
            HeaderValue::from_str(&format!(
                "{NAME}={token}; Path={PATH}; Max-Age={max_age}; HttpOnly; Secure; SameSite=Strict"
            ))
            .ok()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.append(*k, HeaderValue::from_static(v));
        }
        map
    }

    #[test]
    fn reads_the_cookie_among_others() {
        let h = headers(&[("cookie", "a=1; neoforge_refresh=tok; b=2")]);
        assert_eq!(read(&h).as_deref(), Some("tok"));
        assert_eq!(read(&headers(&[("cookie", "neoforge_refresh=")])), None);
    }

    #[test]
    fn cookie_refreshes_need_an_allowed_origin() {
        let allowed = vec!["https://app.example".to_owned()];
        let same = headers(&[
            ("origin", "http://api.local:8080"),
            ("host", "api.local:8080"),
        ]);
        assert!(origin_allowed(&same, &allowed));
        assert!(origin_allowed(
            &headers(&[("origin", "https://app.example")]),
            &allowed
        ));
        let evil = headers(&[("origin", "https://evil.example"), ("host", "api.local")]);
        assert!(!origin_allowed(&evil, &allowed));
        let mut body = serde_json::json!({});
        let mut evil = evil;
        evil.append("cookie", HeaderValue::from_static("neoforge_refresh=tok"));
        let refused = before(CookieUse::Rotate, &evil, Some(&mut body), &allowed);
        assert!(refused.is_err());
    }

    #[test]
    fn moves_the_token_into_the_cookie() {
        let mut item = serde_json::json!({ "refreshToken": "tok", "accessToken": "a" });
        let cookie = after(Plan::Cookie, Some(&mut item), 60).unwrap();
        let cookie = cookie.to_str().unwrap();
        assert!(cookie.starts_with("neoforge_refresh=tok; Path=/api/v1/auth/refresh; Max-Age=60"));
        assert!(cookie.contains("HttpOnly") && cookie.contains("Secure"));
        assert!(cookie.contains("SameSite=Strict"));
        assert!(item["refreshToken"].is_null(), "not in the body");
    }
}
