//! Traces end to end: the app exports to a real OTLP/HTTP receiver on loopback (a small server
//! here decoding the protobuf with the `opentelemetry-proto` types), and the tests read the span
//! trees it received. The subscriber is process-wide, so this is a binary of its own; every test
//! sends its own `traceparent` and reads only its trace.

#[path = "../common/mod.rs"]
mod common;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::process::Stdio;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use neoforge::telemetry::{self, Export, Telemetry, Transport};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use prost::Message;
use serde_json::json;

/// A received span, flattened.
#[derive(Clone, Debug)]
struct Span {
    trace_id: String,
    span_id: String,
    parent: String,
    name: String,
    kind: i32,
    status: i32,
    attributes: HashMap<String, String>,
    /// `service.name` etc. of the process that sent it.
    resource: HashMap<String, String>,
}

impl Span {
    fn attr(&self, key: &str) -> Option<&str> {
        self.attributes.get(key).map(String::as_str)
    }
}

/// The loopback collector: one per test process, on a runtime of its own so it outlives each
/// test's runtime.
struct Receiver {
    addr: SocketAddr,
    spans: Arc<Mutex<Vec<Span>>>,
}

fn any(value: Option<&opentelemetry_proto::tonic::common::v1::AnyValue>) -> String {
    match value.and_then(|v| v.value.as_ref()) {
        Some(AnyValue::StringValue(s)) => s.clone(),
        Some(AnyValue::IntValue(i)) => i.to_string(),
        Some(AnyValue::BoolValue(b)) => b.to_string(),
        Some(AnyValue::DoubleValue(d)) => d.to_string(),
        Some(other) => format!("{other:?}"),
        None => String::new(),
    }
}

fn receiver() -> &'static Receiver {
    static RECEIVER: OnceLock<Receiver> = OnceLock::new();
    RECEIVER.get_or_init(|| {
        let spans: Arc<Mutex<Vec<Span>>> = Arc::default();
        let store = spans.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .expect("receiver runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("bind receiver");
                tx.send(listener.local_addr().expect("addr"))
                    .expect("send addr");
                let app = axum::Router::new().route(
                    "/v1/traces",
                    axum::routing::post(move |body: Bytes| {
                        let store = store.clone();
                        async move {
                            let Ok(request) = ExportTraceServiceRequest::decode(body) else {
                                return (http::StatusCode::BAD_REQUEST, Vec::new());
                            };
                            let mut out = store.lock().expect("store");
                            for rs in request.resource_spans {
                                let resource: HashMap<String, String> = rs
                                    .resource
                                    .map(|r| {
                                        r.attributes
                                            .iter()
                                            .map(|kv| (kv.key.clone(), any(kv.value.as_ref())))
                                            .collect()
                                    })
                                    .unwrap_or_default();
                                for ss in rs.scope_spans {
                                    for s in ss.spans {
                                        out.push(Span {
                                            trace_id: hex::encode(&s.trace_id),
                                            span_id: hex::encode(&s.span_id),
                                            parent: hex::encode(&s.parent_span_id),
                                            name: s.name,
                                            kind: s.kind,
                                            status: s.status.map_or(0, |st| st.code),
                                            attributes: s
                                                .attributes
                                                .iter()
                                                .map(|kv| (kv.key.clone(), any(kv.value.as_ref())))
                                                .collect(),
                                            resource: resource.clone(),
                                        });
                                    }
                                }
                            }
                            (http::StatusCode::OK, Vec::new())
                        }
                    }),
                );
                // A shutdown flush sends everything queued in batches of up to 512 spans (with
                // the migrations' DDL, more than axum's default 2 MB body limit); collectors
                // accept far larger requests.
                let app = app.layer(axum::extract::DefaultBodyLimit::max(64 << 20));
                axum::serve(listener, app).await.expect("receiver");
            });
        });
        Receiver {
            addr: rx.recv().expect("receiver address"),
            spans,
        }
    })
}

/// Installs the exporting subscriber once for this process.
fn telemetry() -> &'static Telemetry {
    static TELEMETRY: OnceLock<Telemetry> = OnceLock::new();
    TELEMETRY.get_or_init(|| {
        let endpoint = format!("http://{}/v1/traces", receiver().addr);
        telemetry::init_with(
            false,
            Some(Export {
                endpoint: Some(endpoint),
                transport: Transport::HttpProtobuf,
            }),
        )
    })
}

/// A fresh W3C `traceparent` and its trace and span ids.
fn traceparent() -> (String, String, String) {
    let trace = uuid::Uuid::new_v4().simple().to_string();
    let span = uuid::Uuid::new_v4().simple().to_string()[..16].to_owned();
    (format!("00-{trace}-{span}-01"), trace, span)
}

/// The spans of `trace`, once `want` (a predicate on them) holds or 10 s passed.
async fn spans_of(trace: &str, want: impl Fn(&[Span]) -> bool) -> Vec<Span> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let _ = tokio::task::spawn_blocking(|| telemetry().flush()).await;
        let spans: Vec<Span> = receiver()
            .spans
            .lock()
            .expect("spans")
            .iter()
            .filter(|s| s.trace_id == trace)
            .cloned()
            .collect();
        if want(&spans) || Instant::now() > deadline {
            return spans;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn by_id(spans: &[Span]) -> HashMap<&str, &Span> {
    spans.iter().map(|s| (s.span_id.as_str(), s)).collect()
}

/// The names from `span` up to the root of what this process exported.
fn ancestry(spans: &[Span], span: &Span) -> Vec<String> {
    let index = by_id(spans);
    let mut names = vec![span.name.clone()];
    let mut parent = span.parent.as_str();
    while let Some(p) = index.get(parent) {
        names.push(p.name.clone());
        parent = p.parent.as_str();
    }
    names
}

/// `want` appear in `chain` in this order (other spans may sit between them).
fn assert_in_order(chain: &[String], want: &[&str]) {
    let mut rest = chain.iter();
    for name in want {
        assert!(
            rest.any(|n| n == name),
            "{name} missing or out of order in {chain:?}"
        );
    }
}

fn server_span(spans: &[Span]) -> &Span {
    spans
        .iter()
        .find(|s| s.attr("http.request.method").is_some())
        .unwrap_or_else(|| panic!("no HTTP server span in {spans:#?}"))
}

fn is_sql(s: &Span) -> bool {
    s.attr("db.system").is_some()
}

const PASSWORD: &str = "correct horse battery staple 42";

#[tokio::test]
async fn rest_graphql_and_sql_spans_nest_in_the_callers_trace() {
    telemetry();
    let app = common::spawn_app().await;
    let postgres = app.db.is_postgres();

    // Register and sign in, traced: neither the password nor the token may appear anywhere.
    let (register_tp, register_trace, _) = traceparent();
    let res = app
        .client
        .post(app.url("/graphql"))
        .header("traceparent", &register_tp)
        .json(&json!({
            "query": "mutation($i: RegisterInput!) { register(input: $i) { user { id } } }",
            "variables": { "i": { "email": "otel@example.com", "password": PASSWORD, "displayName": "Otel" } }
        }))
        .send()
        .await
        .expect("register");
    assert_eq!(res.status(), 200);
    let user_id = res.json::<serde_json::Value>().await.expect("json")["data"]["register"]["user"]
        ["id"]
        .as_str()
        .expect("user id")
        .to_owned();
    let (login_tp, login_trace, _) = traceparent();
    let res = app
        .client
        .post(app.url("/graphql"))
        .header("traceparent", &login_tp)
        .json(&json!({
            "query": format!("mutation {{ login(input: {{ email: \"otel@example.com\", password: \"{PASSWORD}\" }}) {{ accessToken }} }}"),
        }))
        .send()
        .await
        .expect("login");
    let token =
        res.json::<serde_json::Value>().await.expect("json")["data"]["login"]["accessToken"]
            .as_str()
            .expect("token")
            .to_owned();

    // A keyed mutation.
    let (create_tp, create_trace, create_parent) = traceparent();
    let res = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(&token)
        .header("traceparent", &create_tp)
        .json(&json!({
            "query": "mutation Create($i: CreateProjectInput!, $k: String) { createProject(input: $i, idempotencyKey: $k) { project { id } } }",
            "variables": { "i": { "name": "Traced", "visibility": "PUBLIC" }, "k": "otel-1" },
            "operationName": "Create"
        }))
        .send()
        .await
        .expect("create");
    assert_eq!(res.status(), 200);
    let returned = res
        .headers()
        .get("traceparent")
        .and_then(|v| v.to_str().ok())
        .expect("traceparent on the response")
        .to_owned();
    assert!(returned.contains(&create_trace), "{returned}");
    let project = res.json::<serde_json::Value>().await.expect("json")["data"]["createProject"]["project"]["id"]
        .as_str()
        .expect("project id")
        .to_owned();

    // A REST read.
    let (rest_tp, rest_trace, rest_parent) = traceparent();
    let res = app
        .client
        .get(app.url(&format!("/api/v1/projects/{project}")))
        .header("traceparent", &rest_tp)
        .header("user-agent", "otel-test/1")
        .send()
        .await
        .expect("rest get");
    assert_eq!(res.status(), 200);

    // A GraphQL query whose relation goes through a DataLoader.
    let (query_tp, query_trace, _) = traceparent();
    let body = app
        .client
        .post(app.url("/graphql"))
        .header("traceparent", &query_tp)
        .json(&json!({ "query": "query Dashboard { projects(first: 5) { nodes { id owner { id } } } }", "operationName": "Dashboard" }))
        .send()
        .await
        .expect("query")
        .json::<serde_json::Value>()
        .await
        .expect("json");
    assert_eq!(
        body["data"]["projects"]["nodes"][0]["owner"]["id"],
        user_id.as_str()
    );

    // REST: HTTP server span → REST route → GraphQL operation → resolver → SQL.
    let spans = spans_of(&rest_trace, |s| s.iter().any(is_sql)).await;
    let http = server_span(&spans);
    assert_eq!(
        http.parent, rest_parent,
        "the server joined the caller's trace"
    );
    assert_eq!(http.kind, 2, "SERVER");
    assert_ne!(http.status, 2, "a 200 is not an error");
    assert_eq!(http.name, "GET /api/v1/projects/{id}");
    assert_eq!(http.attr("http.route"), Some("/api/v1/projects/{id}"));
    assert_eq!(http.attr("http.request.method"), Some("GET"));
    assert_eq!(
        http.attr("url.path"),
        Some(format!("/api/v1/projects/{project}").as_str())
    );
    assert_eq!(http.attr("http.response.status_code"), Some("200"));
    assert_eq!(http.attr("client.address"), Some("127.0.0.1"));
    assert_eq!(http.attr("user_agent.original"), Some("otel-test/1"));
    assert!(http.attr("request_id").is_some_and(|r| !r.is_empty()));
    let sql = spans
        .iter()
        .find(|s| is_sql(s) && s.attr("db.collection.name") == Some("projects"))
        .unwrap_or_else(|| panic!("no SQL span on projects: {spans:#?}"));
    // Domain functions may add spans of their own between the resolver and the statement.
    let chain = ancestry(&spans, sql);
    assert_in_order(
        &chain,
        &[
            "SELECT projects",
            "QueryRoot.project",
            "query GetProject",
            "REST GET /api/v1/projects/{id}",
            "GET /api/v1/projects/{id}",
        ],
    );
    assert_eq!(
        chain.last().map(String::as_str),
        Some("GET /api/v1/projects/{id}")
    );
    let route = spans
        .iter()
        .find(|s| s.name == "REST GET /api/v1/projects/{id}")
        .expect("REST route span");
    assert_eq!(route.attr("rest.route"), Some("GET /api/v1/projects/{id}"));
    assert_eq!(route.attr("rest.operation"), Some("GetProject"));
    let op = spans
        .iter()
        .find(|s| s.name == "query GetProject")
        .expect("operation span");
    assert_eq!(op.attr("graphql.operation.type"), Some("query"));
    assert!(op.attr("graphql.operation.name").is_some());
    assert_eq!(
        sql.attr("db.system"),
        Some(if postgres { "postgresql" } else { "sqlite" })
    );
    assert_eq!(sql.attr("db.operation.name"), Some("SELECT"));
    let text = sql.attr("db.query.text").expect("statement text");
    assert!(text.contains("FROM \"projects\""), "{text}");
    assert!(!text.contains(&project), "parameters are elided: {text}");

    // GraphQL: the DataLoader's statement is a child of the resolver that caused it.
    let spans = spans_of(&query_trace, |s| {
        s.iter()
            .any(|s| is_sql(s) && s.attr("db.collection.name") == Some("users"))
    })
    .await;
    let op = spans
        .iter()
        .find(|s| s.name == "query Dashboard")
        .unwrap_or_else(|| panic!("no operation span: {spans:#?}"));
    assert_eq!(op.attr("graphql.operation.name"), Some("Dashboard"));
    assert_eq!(op.attr("graphql.operation.type"), Some("query"));
    assert!(
        op.attr("graphql.document")
            .is_some_and(|d| d.contains("owner { id }"))
    );
    let users = spans
        .iter()
        .find(|s| is_sql(s) && s.attr("db.collection.name") == Some("users"))
        .unwrap_or_else(|| panic!("no SQL span on users: {spans:#?}"));
    let chain = ancestry(&spans, users);
    // The list resolver prefetches its items' owners in one batch (or `Project.owner` loads
    // them): either way the statement sits under the resolver that caused it.
    let resolver = chain
        .iter()
        .position(|n| n == "QueryRoot.projects" || n == "Project.owner")
        .unwrap_or_else(|| panic!("no resolver above the statement: {chain:?}"));
    assert!(
        chain[1..resolver].iter().all(|n| !n.contains('.')),
        "no other resolver between: {chain:?}"
    );
    assert_in_order(
        &chain,
        &["SELECT users", "query Dashboard", "POST /graphql"],
    );
    assert_eq!(
        chain.last().map(String::as_str),
        Some("POST /graphql"),
        "{chain:?}"
    );
    assert!(
        spans.iter().all(|s| !s.name.ends_with(".id")),
        "no spans for scalar fields"
    );

    // The keyed mutation: idempotency outcome, principal id, statements inside the transaction.
    let spans = spans_of(&create_trace, |s| {
        s.iter()
            .any(|s| s.attr("db.operation.name") == Some("INSERT"))
    })
    .await;
    let http = server_span(&spans);
    assert_eq!(http.parent, create_parent);
    assert_eq!(http.attr("http.route"), Some("/graphql"));
    assert_eq!(http.attr("enduser.id"), Some(user_id.as_str()));
    assert!(
        spans
            .iter()
            .any(|s| s.attr("idempotency.outcome") == Some("stored")),
        "{spans:#?}"
    );
    let insert = spans
        .iter()
        .find(|s| {
            s.attr("db.operation.name") == Some("INSERT")
                && s.attr("db.collection.name") == Some("projects")
        })
        .unwrap_or_else(|| panic!("no INSERT span: {spans:#?}"));
    let chain = ancestry(&spans, insert);
    assert_in_order(
        &chain,
        &[
            "MutationRoot.createProject",
            "mutation Create",
            "POST /graphql",
        ],
    );

    // Nothing secret in any exported span.
    let mut all = spans_of(&register_trace, |s| s.iter().any(is_sql)).await;
    all.extend(spans_of(&login_trace, |s| s.iter().any(is_sql)).await);
    all.extend(receiver().spans.lock().expect("spans").iter().cloned());
    let dump = format!("{all:?}");
    assert!(!dump.contains(PASSWORD), "a password was exported");
    assert!(!dump.contains(&token), "a token was exported");
    assert!(
        !dump.contains("otel@example.com"),
        "an e-mail address was exported"
    );
    app.stop().await.expect("stop");
}

/// A collector that accepts connections and never answers.
fn hanging_collector() -> (u16, std::thread::JoinHandle<()>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let handle = std::thread::spawn(move || {
        let mut held = Vec::new();
        listener.set_nonblocking(true).expect("nonblocking");
        let until = Instant::now() + Duration::from_secs(30);
        while Instant::now() < until {
            if let Ok((conn, _)) = listener.accept() {
                held.push(conn);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    });
    (port, handle)
}

/// Starts `neoforge serve` exporting to `endpoint` with extra `OTEL_*` variables.
async fn server_exporting_to(
    db: &str,
    endpoint: &str,
    env: &[(&str, &str)],
) -> common::process::ServerProcess {
    let port = common::process::free_port();
    let mut cmd = common::process::neoforge();
    cmd.arg("serve")
        .env("DATABASE_URL", db)
        .env("NEOFORGE_BIND", format!("127.0.0.1:{port}"))
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let child = cmd.spawn().expect("spawn neoforge");
    let server = common::process::ServerProcess { child, port };
    assert!(common::process::wait_ready(port).await, "server ready");
    server
}

/// Latencies of `n` GraphQL requests, 8 at a time.
async fn latencies(server: &common::process::ServerProcess, n: usize) -> Vec<Duration> {
    let client = reqwest::Client::new();
    let url = server.url("/graphql");
    let mut all = Vec::new();
    for _ in 0..n / 8 {
        let batch = (0..8).map(|_| {
            let (client, url) = (client.clone(), url.clone());
            async move {
                let start = Instant::now();
                let res = client
                    .post(&url)
                    .json(&json!({ "query": "{ projects(first: 3) { nodes { id } } }" }))
                    .send()
                    .await
                    .expect("request");
                assert_eq!(res.status(), 200);
                start.elapsed()
            }
        });
        all.extend(futures::future::join_all(batch).await);
    }
    all.sort();
    all
}

#[tokio::test]
async fn a_down_or_hanging_collector_never_slows_requests() {
    let db = common::TestDatabase::create().await;
    let (hang, _keep) = hanging_collector();
    let down = common::process::free_port();
    let mut baseline = common::process::ServerProcess::start(&db.url).await;
    let lat = latencies(&baseline, 160).await;
    println!(
        "exporter off: p50 {:?} max {:?}",
        lat[lat.len() / 2],
        lat[lat.len() - 1]
    );
    baseline.kill();
    for endpoint in [
        format!("http://127.0.0.1:{hang}"),
        format!("http://127.0.0.1:{down}"),
    ] {
        // Export often, with a 10 s export timeout: an exporter on the request path would hold
        // requests for that long.
        let mut server = server_exporting_to(
            &db.url,
            &endpoint,
            &[
                ("OTEL_BSP_SCHEDULE_DELAY", "50"),
                ("OTEL_EXPORTER_OTLP_TIMEOUT", "10000"),
            ],
        )
        .await;
        let lat = latencies(&server, 160).await;
        let (p50, max) = (lat[lat.len() / 2], lat[lat.len() - 1]);
        println!("{endpoint}: p50 {p50:?} max {max:?}");
        assert!(
            max < Duration::from_secs(4),
            "{endpoint}: slowest request {max:?}"
        );
        server.kill();
    }
}

#[tokio::test]
async fn the_standard_variables_are_honoured_and_shutdown_flushes() {
    let db = common::TestDatabase::create().await;
    let endpoint = format!("http://{}", receiver().addr);
    // A schedule longer than the test: only the shutdown flush can deliver the spans.
    let mut server = server_exporting_to(
        &db.url,
        &endpoint,
        &[
            ("OTEL_BSP_SCHEDULE_DELAY", "600000"),
            ("OTEL_SERVICE_NAME", "neoforge-otel-test"),
            (
                "OTEL_RESOURCE_ATTRIBUTES",
                "deployment.environment.name=test",
            ),
        ],
    )
    .await;
    let (tp, trace, _) = traceparent();
    let res = reqwest::Client::new()
        .get(server.url("/api/v1/projects"))
        .header("traceparent", tp)
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 200);
    let status = std::process::Command::new("kill")
        .args(["-TERM", &server.child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(15);
    while server.child.try_wait().expect("wait").is_none() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let spans: Vec<Span> = receiver()
        .spans
        .lock()
        .expect("spans")
        .iter()
        .filter(|s| s.trace_id == trace)
        .cloned()
        .collect();
    let http = server_span(&spans);
    assert_eq!(
        http.resource.get("service.name").map(String::as_str),
        Some("neoforge-otel-test")
    );
    assert_eq!(
        http.resource
            .get("deployment.environment.name")
            .map(String::as_str),
        Some("test")
    );
    assert!(spans.iter().any(is_sql), "{spans:#?}");
    server.kill();
}

/// Spans from anywhere in this process's receiver that satisfy `want`, polled for up to 10 s.
async fn spans_where(want: impl Fn(&Span) -> bool) -> Vec<Span> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let _ = tokio::task::spawn_blocking(|| telemetry().flush()).await;
        let found: Vec<Span> = receiver()
            .spans
            .lock()
            .expect("spans")
            .iter()
            .filter(|s| want(s))
            .cloned()
            .collect();
        if !found.is_empty() || Instant::now() > deadline {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Reads the socket until `done` says so of a text message (panics after 10 s or at its end).
async fn next_message<S>(ws: &mut S, mut done: impl FnMut(&str) -> bool)
where
    S: futures::Stream<
            Item = Result<
                tokio_tungstenite::tungstenite::Message,
                tokio_tungstenite::tungstenite::Error,
            >,
        > + Unpin,
{
    use futures::StreamExt;
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("a message within 10 s")
            .expect("the socket is open")
            .expect("a message");
        if msg.to_text().is_ok_and(&mut done) {
            return;
        }
    }
}

#[tokio::test]
async fn websocket_operations_get_operation_spans_with_their_statements() {
    use futures::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    telemetry();
    let app = common::spawn_app().await;
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
        r#"{"type":"subscribe","id":"q","payload":{"query":"query WsProbe { projects(first: 1) { nodes { id } } }","operationName":"WsProbe"}}"#,
    ))
    .await
    .expect("query");
    ws.send(Message::text(
        r#"{"type":"subscribe","id":"s","payload":{"query":"subscription WsWatch { statusChanged { id } }"}}"#,
    ))
    .await
    .expect("subscribe");
    // A subscription refused at its start (an invalid argument) never reaches `execute`.
    ws.send(Message::text(
        r#"{"type":"subscribe","id":"b","payload":{"query":"subscription WsBad { statusChanged(service: \"Not A Slug\") { id } }"}}"#,
    ))
    .await
    .expect("subscribe");
    // The refusal, and the query's result and completion, in whichever order they come.
    let (mut refused, mut answered) = (false, false);
    next_message(&mut ws, |t| {
        refused |= t.contains(r#""b""#) && t.contains("errors");
        answered |= t.contains(r#""complete""#) && t.contains(r#""q""#);
        refused && answered
    })
    .await;
    // A subscription runs once the server polls it; an event delivered proves it did (the
    // server may read the socket's close before it ever starts a subscription that nothing
    // has fed).
    let staff = app
        .user_with_role("staff@example.com", neoforge::entity::users::Role::Staff)
        .await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let body = app
            .gql(
                "mutation($i: CreateStatusEventInput!) { createStatusEvent(input: $i) { statusEvent { id } } }",
                serde_json::json!({ "i": { "service": "api", "status": "DEGRADED", "message": "probe" } }),
                Some(&staff),
            )
            .await;
        assert!(body["errors"].is_null(), "{body}");
        let got = tokio::time::timeout(Duration::from_millis(500), async {
            next_message(&mut ws, |t| t.contains(r#""next""#) && t.contains(r#""s""#)).await
        })
        .await;
        if got.is_ok() || Instant::now() > deadline {
            assert!(got.is_ok(), "the subscription delivered no event");
            break;
        }
    }
    // Ending the socket ends the subscription and its span.
    let _ = ws.close(None).await;
    drop(ws);

    let query = spans_where(|s| s.name == "query WsProbe").await;
    let query = query
        .first()
        .expect("an operation span for the WebSocket query");
    assert_eq!(query.attr("graphql.operation.type"), Some("query"));
    let trace = spans_of(&query.trace_id, |s| {
        s.iter()
            .any(|s| is_sql(s) && s.attr("db.collection.name") == Some("projects"))
    })
    .await;
    let sql = trace
        .iter()
        .find(|s| is_sql(s) && s.attr("db.collection.name") == Some("projects"))
        .unwrap_or_else(|| panic!("no SQL under the WebSocket query: {trace:#?}"));
    assert_in_order(
        &ancestry(&trace, sql),
        &["SELECT projects", "query WsProbe"],
    );

    // The only subscription in this process: named after its operation, with its document, and
    // the delivered event inside it. Its span ends with the socket.
    let subscription = spans_where(|s| s.name == "subscription WsWatch").await;
    let subscription = subscription
        .first()
        .expect("an operation span named for the subscription");
    assert_eq!(
        subscription.attr("graphql.operation.type"),
        Some("subscription")
    );
    assert_eq!(subscription.attr("graphql.operation.name"), Some("WsWatch"));
    assert_eq!(
        subscription.attr("graphql.document"),
        Some("subscription WsWatch { statusChanged { id } }")
    );
    let events = spans_of(&subscription.trace_id, |s| {
        s.iter().any(|s| s.name == "graphql.subscription.event")
    })
    .await;
    let event = events
        .iter()
        .find(|s| s.name == "graphql.subscription.event")
        .unwrap_or_else(|| panic!("no event span in the subscription's trace: {events:#?}"));
    assert_eq!(event.parent, subscription.span_id);
    let refused = spans_where(|s| s.name == "subscription WsBad").await;
    let refused = refused
        .first()
        .expect("an operation span named for the refused subscription");
    assert_eq!(
        refused.attr("graphql.document"),
        Some(r#"subscription WsBad { statusChanged(service: "?") { id } }"#)
    );
    app.stop().await.expect("stop");
}

/// A traced REST call through the session routes: its trace id and the JSON answer.
async fn traced_post(
    app: &common::TestApp,
    path: &str,
    body: serde_json::Value,
    token: Option<&str>,
) -> (String, u16, serde_json::Value) {
    let (tp, trace, _) = traceparent();
    let mut req = app
        .client
        .post(app.url(path))
        .header("traceparent", &tp)
        .json(&body);
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    let res = req.send().await.expect("session route");
    let status = res.status().as_u16();
    let json = res.json().await.unwrap_or(serde_json::Value::Null);
    (trace, status, json)
}

#[tokio::test]
async fn session_routes_are_traced_without_their_secrets() {
    telemetry();
    let app = common::spawn_app().await;
    const SECRET: &str = "session trace password 77";
    const EMAIL: &str = "otel-sessions@example.com";
    let (register, status, _) = traced_post(
        &app,
        "/api/v1/auth/register",
        json!({ "email": EMAIL, "password": SECRET, "display_name": "Sessions" }),
        None,
    )
    .await;
    assert_eq!(status, 201);
    let (login, status, signed_in) = traced_post(
        &app,
        "/api/v1/auth/login",
        json!({ "email": EMAIL, "password": SECRET, "device": "otel laptop" }),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let access = signed_in["access_token"].as_str().expect("access token");
    let first_refresh = signed_in["refresh_token"].as_str().expect("refresh token");
    let (refresh, status, rotated) = traced_post(
        &app,
        "/api/v1/auth/refresh",
        json!({ "refresh_token": first_refresh }),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let second_access = rotated["access_token"].as_str().expect("access token");
    let second_refresh = rotated["refresh_token"].as_str().expect("refresh token");
    let (logout, status, _) =
        traced_post(&app, "/api/v1/auth/logout", json!({}), Some(second_access)).await;
    assert_eq!(status, 204);

    // Each call is one trace: the HTTP span, the route-table entry, its operation, its SQL.
    let mut exported = Vec::new();
    for (trace, route) in [
        (&register, "/api/v1/auth/register"),
        (&login, "/api/v1/auth/login"),
        (&refresh, "/api/v1/auth/refresh"),
        (&logout, "/api/v1/auth/logout"),
    ] {
        let (rest, server) = (format!("REST POST {route}"), format!("POST {route}"));
        // SQL the route's operation ran (a signed-in call's session check runs before the
        // route, under the HTTP span alone).
        let under_route = |spans: &[Span]| {
            spans
                .iter()
                .filter(|s| is_sql(s))
                .map(|s| ancestry(spans, s))
                .find(|chain| chain.contains(&rest))
        };
        let spans = spans_of(trace, |s| under_route(s).is_some()).await;
        let http = server_span(&spans);
        assert_eq!(http.attr("http.route"), Some(route));
        let chain = under_route(&spans)
            .unwrap_or_else(|| panic!("no SQL under the route {route}: {spans:#?}"));
        assert_in_order(&chain, &[&rest, &server]);
        assert!(
            spans
                .iter()
                .any(|s| s.attr("graphql.operation.type") == Some("mutation")),
            "no operation span under {route}: {spans:#?}"
        );
        exported.extend(spans);
    }
    // Neither the password, the e-mail address nor any token, in any attribute.
    let dump = format!("{exported:?}");
    for (what, secret) in [
        ("the password", SECRET),
        ("the e-mail address", EMAIL),
        ("an access token", access),
        ("an access token", second_access),
        ("a refresh token", first_refresh),
        ("a refresh token", second_refresh),
    ] {
        assert!(!dump.contains(secret), "{what} was exported");
    }
    app.stop().await.expect("stop");
}
