//! How long should a DataLoader batch wait for its siblings? Runs one nested query (tickets →
//! project → owner: the owners are a second-level relation that list prefetching does not
//! cover, so only the batch delay gathers them) against the real server for several delays,
//! and prints throughput, latency and SQL statements per request for each, in one run.
//!
//! `cargo bench --bench loader_delay` (release) — or `-- --quick` for a shorter run.

use std::time::{Duration, Instant};

use neoforge::Application;
use neoforge::config::Settings;
use serde_json::{Value, json};

const QUERY: &str =
    "{ supportTickets(first: 50) { nodes { id project { name owner { displayName } } } } }";

async fn gql(client: &reqwest::Client, url: &str, token: &str, query: &str, vars: Value) -> Value {
    let mut req = client
        .post(url)
        .json(&json!({ "query": query, "variables": vars }));
    if !token.is_empty() {
        req = req.bearer_auth(token);
    }
    req.send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json")
}

struct Row {
    delay_us: u64,
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    statements: f64,
}

async fn measure(delay_us: u64, seconds: u64, concurrency: usize) -> Row {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut settings = Settings::for_database(format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("b.db").display()
    ));
    settings.bind = "127.0.0.1:0".parse().expect("addr");
    settings.loader_delay_us = delay_us;
    let app = Application::build(settings).await.expect("app");
    let addr = app.local_addr().expect("addr");
    let db = app.state().db().clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until_stopped(async {
        let _ = stopped.await;
    }));
    let url = format!("http://{addr}/graphql");
    let client = reqwest::Client::new();

    // 10 owners × 5 projects, 100 tickets spread over them, all by one staff member.
    let mut tokens = vec![];
    for u in 0..10 {
        let email = format!("u{u}@example.com");
        let reg = "mutation($i: RegisterInput!) { register(input: $i) { user { id } } }";
        gql(&client, &url, "", reg, json!({ "i": { "email": email, "password": "bench password", "displayName": format!("U{u}") } })).await;
        let login = "mutation($i: LoginInput!) { login(input: $i) { accessToken } }";
        let body = gql(
            &client,
            &url,
            "",
            login,
            json!({ "i": { "email": email, "password": "bench password" } }),
        )
        .await;
        tokens.push(
            body["data"]["login"]["accessToken"]
                .as_str()
                .expect("token")
                .to_owned(),
        );
    }
    let mut projects = vec![];
    for p in 0..50 {
        let q = "mutation($i: CreateProjectInput!) { createProject(input: $i) { project { id } } }";
        let body = gql(
            &client,
            &url,
            &tokens[p % 10],
            q,
            json!({ "i": { "name": format!("p{p}"), "visibility": "PUBLIC" } }),
        )
        .await;
        projects.push(body["data"]["createProject"]["project"]["id"].clone());
    }
    for t in 0..100 {
        let q = "mutation($i: CreateSupportTicketInput!) { createSupportTicket(input: $i) { ticket { id } } }";
        let vars = json!({ "i": { "subject": format!("t{t}"), "body": "b", "projectId": projects[t % 50] } });
        gql(&client, &url, &tokens[0], q, vars).await;
    }

    // Warm up, then a closed loop of `concurrency` clients for `seconds`.
    for _ in 0..20 {
        gql(&client, &url, &tokens[0], QUERY, json!({})).await;
    }
    let before = db.statements_executed();
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let (client, url, token) = (client.clone(), url.clone(), tokens[0].clone());
            tokio::spawn(async move {
                let mut latencies = vec![];
                while Instant::now() < deadline {
                    let start = Instant::now();
                    let body = gql(&client, &url, &token, QUERY, json!({})).await;
                    assert!(body["errors"].is_null(), "{body}");
                    latencies.push(start.elapsed());
                }
                latencies
            })
        })
        .collect();
    let mut latencies = vec![];
    for w in workers {
        latencies.extend(w.await.expect("worker"));
    }
    let statements = db.statements_executed() - before;
    latencies.sort();
    let pct =
        |p: f64| latencies[((latencies.len() as f64 - 1.0) * p) as usize].as_secs_f64() * 1000.0;
    let row = Row {
        delay_us,
        rps: latencies.len() as f64 / seconds as f64,
        p50_ms: pct(0.5),
        p99_ms: pct(0.99),
        statements: statements as f64 / latencies.len() as f64,
    };
    let _ = stop.send(());
    let _ = server.await;
    row
}

#[tokio::main]
async fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let seconds = if quick { 2 } else { 5 };
    let concurrency = 8;
    let profile = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    println!("DataLoader batch delay: {QUERY}");
    println!("{concurrency} closed-loop clients, {seconds} s per row, SQLite, {profile} build\n");
    println!("| delay (µs) | req/s | p50 (ms) | p99 (ms) | SQL statements / request |");
    println!("|---:|---:|---:|---:|---:|");
    let mut rows = vec![];
    for delay in [0, 50, 200, 1_000] {
        let row = measure(delay, seconds, concurrency).await;
        println!(
            "| {} | {:.0} | {:.2} | {:.2} | {:.2} |",
            row.delay_us, row.rps, row.p50_ms, row.p99_ms, row.statements
        );
        rows.push(row);
    }
    let best = rows.iter().map(|r| r.rps).fold(0.0, f64::max);
    println!();
    for r in &rows {
        println!(
            "delay {:>5} µs: {:.2} × the best throughput",
            r.delay_us,
            r.rps / best
        );
    }
}
