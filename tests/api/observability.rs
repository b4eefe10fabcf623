//! What an operator scrapes from `/metrics` (docs/observability.md), and where it is served.

use serde_json::json;

use crate::common::{spawn_app, spawn_app_with};

/// The value of the first sample whose line starts with `series` (name and labels).
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(series))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[tokio::test]
async fn graphql_operations_errors_statements_and_pool_are_measured() {
    let app = spawn_app().await;
    let token = app.user("metrics@example.com").await;
    let body = app
        .gql(
            "query ObsList { projects(first: 2) { nodes { id } } }",
            json!({}),
            Some(&token),
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");
    app.gql("{ projects(first: 1) { nodes { id } } }", json!({}), None)
        .await;
    let body = app
        .gql(
            "query ObsMissing { supportTicket(id: \"00000000-0000-0000-0000-000000000000\") { id } }",
            json!({}),
            None,
        )
        .await;
    assert!(!body["errors"].is_null(), "{body}");
    // REST reads run persisted operations through the same schema: counted too.
    for path in [
        "/api/v1/projects",
        "/api/v1/projects/00000000-0000-0000-0000-000000000000",
    ] {
        app.client
            .get(app.url(path))
            .send()
            .await
            .expect("REST read");
    }

    let text = app.metrics().await;
    for series in [
        r#"graphql_operations_total{operation="ListProjects",type="query",outcome="ok"}"#,
        r#"graphql_operations_total{operation="GetProject",type="query",outcome="ok"}"#,
    ] {
        assert!(sample(&text, series) >= Some(1.0), "{series} in {text}");
    }
    assert!(
        sample(
            &text,
            r#"graphql_operations_total{operation="ObsList",type="query",outcome="ok"}"#
        ) >= Some(1.0),
        "{text}"
    );
    assert!(
        sample(
            &text,
            r#"graphql_operations_total{operation="_anonymous",type="query",outcome="ok"}"#
        ) >= Some(1.0)
    );
    assert!(
        text.contains(r#"graphql_operations_total{operation="ObsMissing",type="query",outcome="#)
    );
    assert!(
        text.contains(r#"graphql_errors_total{code="UNAUTHENTICATED"}"#),
        "{text}"
    );
    assert!(
        text.contains(
            r#"graphql_operation_duration_seconds_bucket{operation="ObsList",type="query""#
        )
    );
    assert!(
        sample(
            &text,
            r#"db_statement_duration_seconds_count{operation="SELECT"}"#
        ) >= Some(1.0)
    );
    assert!(
        sample(&text, r#"db_pool_max_connections"#) == Some(5.0),
        "{text}"
    );
    assert!(sample(&text, r#"db_pool_size"#) >= Some(1.0));
    assert!(text.contains(r#"db_pool_connections{state="idle"}"#));
    assert!(text.contains(r#"db_pool_connections{state="in_use"}"#));
    assert!(text.contains(&format!(
        r#"neoforge_build_info{{version="{}"}} 1"#,
        env!("CARGO_PKG_VERSION")
    )));
}

#[tokio::test]
async fn subscriptions_and_websocket_connections_are_gauged() {
    use futures::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let app = spawn_app().await;
    let mut request = format!("ws://{}/graphql/ws", app.addr)
        .into_client_request()
        .expect("request");
    request.headers_mut().insert(
        "sec-websocket-protocol",
        http::HeaderValue::from_static("graphql-transport-ws"),
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("connect");
    ws.send(Message::text(r#"{"type":"connection_init"}"#))
        .await
        .expect("init");
    let _ack = ws.next().await;
    ws.send(Message::text(
        r#"{"type":"subscribe","id":"1","payload":{"query":"subscription { statusChanged { id } }"}}"#,
    ))
    .await
    .expect("subscribe");
    let mut active = None;
    for _ in 0..50 {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        active = sample(&app.metrics().await, "graphql_subscriptions_active ");
        if active >= Some(1.0) {
            break;
        }
    }
    assert!(active >= Some(1.0), "active subscriptions: {active:?}");
    let text = app.metrics().await;
    assert!(
        sample(&text, "graphql_websocket_connections ") >= Some(1.0),
        "{text}"
    );
    drop(ws);
}

#[tokio::test]
async fn metrics_can_require_a_token_or_listen_apart() {
    let app = spawn_app_with(|s| s.metrics_token = Some("scrape-secret".into())).await;
    let res = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), 401);
    let res = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth("wrong")
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), 401);
    let res = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth("scrape-secret")
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), 200);
    assert!(
        res.text()
            .await
            .expect("text")
            .contains("neoforge_build_info")
    );

    let port = crate::common::process::free_port();
    let app = spawn_app_with(|s| {
        s.metrics_bind = Some(format!("127.0.0.1:{port}").parse().expect("addr"))
    })
    .await;
    let res = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), 404, "not on the API listener");
    let res = app
        .client
        .get(format!("http://127.0.0.1:{port}/metrics"))
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), 200);
    assert!(res.text().await.expect("text").contains("db_pool_size"));
}

/// Prometheus's own parser accepts the exposition (when promtool is installed; CI installs it).
#[tokio::test]
async fn the_exposition_parses_with_promtool() {
    let Ok(promtool) = which_promtool() else {
        // `.ci/promtool-check` installs promtool and insists on it.
        assert!(
            std::env::var_os("NEOFORGE_REQUIRE_PROMTOOL").is_none(),
            "promtool is required (NEOFORGE_REQUIRE_PROMTOOL) but not installed"
        );
        eprintln!("promtool not installed: skipped");
        return;
    };
    let app = spawn_app().await;
    app.gql("{ projects(first: 1) { nodes { id } } }", json!({}), None)
        .await;
    let text = app.metrics().await;
    let mut child = std::process::Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("promtool");
    use std::io::Write;
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("promtool output");
    let report =
        String::from_utf8_lossy(&out.stderr).to_string() + &String::from_utf8_lossy(&out.stdout);
    // Lint notes (e.g. counter naming) are not parse errors; a parse error says "error".
    assert!(!report.contains("error while linting"), "{report}");
    assert!(
        out.status.success() || !report.contains("error"),
        "{report}"
    );
}

fn which_promtool() -> Result<String, ()> {
    ["/usr/bin/promtool", "/usr/local/bin/promtool"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .map(str::to_owned)
        .ok_or(())
}

/// The metric names a PromQL expression reads: identifiers outside label matchers, ranges,
/// strings and `by (...)` lists, that are not functions, keywords or recording rules (`a:b`).
fn metric_names(expr: &str) -> Vec<String> {
    const KEYWORDS: &[&str] = &[
        "by",
        "without",
        "on",
        "ignoring",
        "group_left",
        "group_right",
        "and",
        "or",
        "unless",
        "bool",
        "offset",
        // Aggregations, which may be followed by `by (...)` rather than their `(`.
        "sum",
        "min",
        "max",
        "avg",
        "group",
        "stddev",
        "stdvar",
        "count",
        "count_values",
        "bottomk",
        "topk",
        "quantile",
    ];
    let mut plain = String::new();
    let mut depth = (0, 0); // inside {...}, inside [...]
    let mut quoted = false;
    for c in expr.chars() {
        match c {
            '"' => quoted = !quoted,
            _ if quoted => {}
            '{' => depth.0 += 1,
            '}' => depth.0 -= 1,
            '[' => depth.1 += 1,
            ']' => depth.1 -= 1,
            _ if depth == (0, 0) => plain.push(c),
            _ => {}
        }
        if depth != (0, 0) || quoted || c == '"' || c == '}' || c == ']' {
            plain.push(' ');
        }
    }
    let chars: Vec<char> = plain.chars().collect();
    let word_char = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == ':';
    let mut names = Vec::new();
    let mut label_list = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_ascii_digit() || c == '.' {
            // A number (`0.99`, `1e-9`), not a name.
            while i < chars.len() && (word_char(chars[i]) || chars[i] == '.') {
                i += 1;
            }
            continue;
        }
        if c == '(' && label_list {
            // The label list after `by`/`without`/`on`/`ignoring`.
            while i < chars.len() && chars[i] != ')' {
                i += 1;
            }
            label_list = false;
            continue;
        }
        if !(word_char(c) || c == '$') {
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && (word_char(chars[i]) || chars[i] == '$') {
            i += 1;
        }
        let word: String = chars[start..i].iter().collect();
        let next = chars[i..].iter().find(|c| !c.is_whitespace());
        if KEYWORDS.contains(&word.as_str()) {
            label_list = matches!(word.as_str(), "by" | "without" | "on" | "ignoring");
        } else if next != Some(&'(') && !word.contains(':') && !word.starts_with('$') {
            names.push(word);
        }
    }
    names
}

#[test]
fn metric_names_are_read_from_promql() {
    assert_eq!(
        metric_names(
            r#"sum by (tier) (rate(rate_limit_exceeded_total{tier=~"a|b"}[5m])) / clamp_min(sum(rate(http_requests_total[$__rate_interval])), 1e-9) > 0.5 and neoforge:x:ratio > 1"#
        ),
        ["rate_limit_exceeded_total", "http_requests_total"]
    );
    assert_eq!(
        metric_names(
            "histogram_quantile(0.99, sum by (le, route) (rate(http_request_duration_seconds_bucket[5m])))"
        ),
        ["http_request_duration_seconds_bucket"]
    );
}

/// Every expression in the alert rules and the dashboard.
fn rule_and_dashboard_expressions() -> Vec<String> {
    let rules = include_str!("../../deploy/prometheus/alerts.yml");
    let mut exprs: Vec<String> = rules
        .lines()
        .filter_map(|l| l.trim().strip_prefix("expr:"))
        .map(|e| e.trim().to_owned())
        .collect();
    let dashboard: serde_json::Value = serde_json::from_str(include_str!(
        "../../deploy/grafana/dashboards/neoforge.json"
    ))
    .expect("dashboard JSON");
    fn walk(v: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(map) => {
                for (k, v) in map {
                    match (k.as_str(), v) {
                        ("expr" | "query", serde_json::Value::String(e)) => out.push(e.clone()),
                        _ => walk(v, out),
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|i| walk(i, out)),
            _ => {}
        }
    }
    walk(&dashboard, &mut exprs);
    exprs
}

/// Alert rules and dashboards name metrics by string; a renamed metric would leave an alert
/// that can never fire. Every name they read must be in a live scrape after ordinary traffic.
#[tokio::test]
async fn every_metric_a_rule_or_dashboard_reads_is_exported() {
    // Made by Prometheus (`up`) and the blackbox prober, not by the server.
    const SCRAPER_MADE: &[&str] = &["up", "probe_success"];
    let app = spawn_app().await;
    let token = app.user("names@example.com").await;
    app.gql(
        "query Names { projects(first: 1) { nodes { id } } }",
        json!({}),
        Some(&token),
    )
    .await;
    app.gql("{ nope }", json!({}), None).await;
    app.client
        .get(app.url("/api/v1/projects"))
        .send()
        .await
        .expect("rest");
    let exprs = rule_and_dashboard_expressions();
    assert!(exprs.len() > 10, "{exprs:?}");
    let mut wanted: Vec<String> = exprs
        .iter()
        .flat_map(|e| metric_names(e))
        .filter(|n| !SCRAPER_MADE.contains(&n.as_str()))
        .collect();
    wanted.sort();
    wanted.dedup();
    // The cleanup job's first run (at start) sets its timestamp; poll rather than sleep.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let text = app.metrics().await;
        let exported = |name: &str| {
            text.lines()
                .filter(|l| !l.starts_with('#'))
                .any(|l| l.starts_with(name) && l[name.len()..].starts_with(['{', ' ']))
        };
        let missing: Vec<&String> = wanted.iter().filter(|n| !exported(n)).collect();
        if missing.is_empty() {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "read by a rule or dashboard but not exported: {missing:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}
