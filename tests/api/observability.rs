//! What an operator scrapes from `/metrics` (DESIGN §10), and where it is served.

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

    let text = app.metrics().await;
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
