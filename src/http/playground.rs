//! GraphiQL, served from assets inside the binary: the playground works with no internet access (no
//! CDN).
//!
//! `build.rs` takes GraphiQL 4 and React 18's browser bundles from their npm packages at build
//! time; this module embeds them and serves
//! - the page at `GET /graphql` (for `Accept: text/html`, see [`super::graphql::get`]), never
//!   cached, since it names the current assets;
//! - the assets at `GET /graphql/assets/{name}`, each name carrying a hash of its content, so
//!   they are cached for a year (`immutable`).
//!
//! Both exist only while `settings.graphiql_enabled()`. The page talks to the endpoint it was
//! loaded from and to `<endpoint>/ws` for subscriptions (see `playground/init.js`).

use std::sync::LazyLock;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use sha2::{Digest, Sha256};

use crate::error::ErrorCode;
use crate::state::AppState;

macro_rules! bundle {
    ($name:literal) => {
        include_bytes!(concat!(env!("OUT_DIR"), "/graphiql/", $name))
    };
}

/// Why the bundles are absent from this build (empty when they are present).
const MISSING: &str = env!("NEOFORGE_GRAPHIQL_MISSING");

const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const TEXT: &str = "text/plain; charset=utf-8";
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

struct Asset {
    /// `graphiql.min.<hash>.js`: the name in URLs.
    name: String,
    etag: String,
    content_type: &'static str,
    body: &'static [u8],
}

impl Asset {
    fn new(file: &str, content_type: &'static str, body: &'static [u8]) -> Self {
        let hash = hex::encode(&Sha256::digest(body)[..8]);
        let name = match file.rsplit_once('.') {
            Some((stem, ext)) => format!("{stem}.{hash}.{ext}"),
            None => format!("{file}.{hash}"),
        };
        Self {
            name,
            etag: format!("\"{hash}\""),
            content_type,
            body,
        }
    }
}

/// Keys of [`ASSETS`], in the order the page uses them.
const GRAPHIQL_JS: usize = 0;
const GRAPHIQL_CSS: usize = 1;
const REACT_JS: usize = 2;
const REACT_DOM_JS: usize = 3;
const INIT_JS: usize = 4;
const LICENSES: usize = 5;

static LICENSE_TEXT: LazyLock<&'static [u8]> = LazyLock::new(|| {
    let text = [
        ("graphiql", &bundle!("LICENSE.graphiql")[..]),
        ("react", &bundle!("LICENSE.react")[..]),
        ("react-dom", &bundle!("LICENSE.react-dom")[..]),
    ]
    .iter()
    .map(|(package, license)| {
        format!(
            "== {package} (npm) ==\n\n{}\n",
            String::from_utf8_lossy(license).trim_end()
        )
    })
    .collect::<Vec<_>>()
    .join("\n");
    Box::leak(text.into_bytes().into_boxed_slice())
});

static ASSETS: LazyLock<Vec<Asset>> = LazyLock::new(|| {
    vec![
        Asset::new("graphiql.min.js", JS, bundle!("graphiql.min.js")),
        Asset::new("graphiql.min.css", CSS, bundle!("graphiql.min.css")),
        Asset::new(
            "react.production.min.js",
            JS,
            bundle!("react.production.min.js"),
        ),
        Asset::new(
            "react-dom.production.min.js",
            JS,
            bundle!("react-dom.production.min.js"),
        ),
        Asset::new("playground.js", JS, include_bytes!("playground/init.js")),
        Asset::new("licenses.txt", TEXT, &LICENSE_TEXT),
    ]
});

static PAGE: LazyLock<String> = LazyLock::new(|| {
    if !MISSING.is_empty() {
        return include_str!("playground/missing.html").replace("{{REASON}}", &escape(MISSING));
    }
    let assets = &*ASSETS;
    include_str!("playground/page.html")
        .replace("{{GRAPHIQL_JS}}", &assets[GRAPHIQL_JS].name)
        .replace("{{GRAPHIQL_CSS}}", &assets[GRAPHIQL_CSS].name)
        .replace("{{REACT_JS}}", &assets[REACT_JS].name)
        .replace("{{REACT_DOM_JS}}", &assets[REACT_DOM_JS].name)
        .replace("{{INIT_JS}}", &assets[INIT_JS].name)
        .replace("{{LICENSES}}", &assets[LICENSES].name)
});

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Are GraphiQL's bundles inside this binary?
pub fn bundled() -> bool {
    MISSING.is_empty()
}

/// The playground page (or, in a build without the bundles, a page saying how to get them).
pub fn page() -> Response {
    let mut response = (StatusCode::OK, PAGE.as_str()).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    // The page names the current asset hashes: always revalidate it.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    // `/graphql` answers JSON or this page depending on `Accept`.
    headers.insert(header::VARY, HeaderValue::from_static("accept"));
    response
}

/// `GET /graphql/assets/{name}`: an embedded bundle, by its content-hashed name.
#[tracing::instrument(skip_all, fields(asset = %name))]
pub async fn asset(
    State(state): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Response {
    let found = ASSETS.iter().find(|a| a.name == name);
    let Some(asset) = found.filter(|_| state.settings.graphiql_enabled() && bundled()) else {
        return crate::http::problem::problem(ErrorCode::NotFound, "no such asset");
    };
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|t| t.trim() == asset.etag || t.trim() == "*")
        });
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut response = Response::new(Body::from(asset.body));
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(asset.content_type),
        );
        response
    };
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(IMMUTABLE));
    if let Ok(etag) = HeaderValue::from_str(&asset.etag) {
        headers.insert(header::ETAG, etag);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asset_names_carry_a_content_hash() {
        let a = Asset::new("graphiql.min.js", JS, b"one");
        let b = Asset::new("graphiql.min.js", JS, b"two");
        assert!(a.name.starts_with("graphiql.min.") && a.name.ends_with(".js"));
        assert_ne!(a.name, b.name);
        assert_eq!(a.name.len(), "graphiql.min..js".len() + 16);
    }

    #[test]
    fn the_page_names_every_asset_it_loads() {
        if !bundled() {
            assert!(PAGE.contains("not built into this binary"));
            return;
        }
        for asset in ASSETS.iter() {
            assert!(PAGE.contains(&asset.name), "{} not on the page", asset.name);
        }
        assert!(!PAGE.contains("{{"), "unfilled placeholder");
        assert!(
            !PAGE.contains("https://"),
            "the page loads nothing from elsewhere"
        );
    }
}
