//! Exactly-once writes under retries, concurrency and crashes (docs/api.md, "Idempotency").

use std::sync::Arc;
use std::time::Duration;

use neoforge::db::Db;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

use crate::common::pgbouncer::PgBouncer;
use crate::common::process::ServerProcess;
use crate::common::{TestApp, TestDatabase, error_code, spawn_app, spawn_app_with};

const CREATE: &str = "mutation($i: CreateProjectInput!, $k: String) { createProject(input: $i, idempotencyKey: $k) { project { id name version createdAt } } }";
const UPDATE: &str = "mutation($i: UpdateProjectInput!, $v: Int, $k: String) { updateProject(input: $i, expectedVersion: $v, idempotencyKey: $k) { project { id name version } } }";

async fn count_rows(db: &Db, table: &str) -> i64 {
    let sql = format!("SELECT COUNT(*) AS n FROM {table}");
    let row = db
        .conn()
        .query_one_raw(Statement::from_string(db.backend(), sql))
        .await
        .unwrap()
        .unwrap();
    row.try_get::<i64>("", "n").unwrap()
}

async fn post(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    query: &str,
    vars: Value,
) -> (u16, Option<String>, Value) {
    let res = client
        .post(url)
        .bearer_auth(token)
        .json(&json!({ "query": query, "variables": vars }))
        .send()
        .await;
    let res = res.expect("request");
    let status = res.status().as_u16();
    let replayed = res
        .headers()
        .get("idempotent-replayed")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    (status, replayed, res.json().await.unwrap_or(Value::Null))
}

fn create_vars(name: &str, key: &str) -> Value {
    json!({ "i": { "name": name, "visibility": "PUBLIC" }, "k": key })
}

#[tokio::test]
async fn a_retry_replays_the_first_result_without_writing() {
    let app = spawn_app().await;
    let token = app.user("ada@example.com").await;
    let url = app.url("/graphql");
    let (s1, r1, first) = post(
        &app.client,
        &url,
        &token,
        CREATE,
        create_vars("Once", "key-1"),
    )
    .await;
    assert_eq!((s1, r1), (200, None), "{first}");
    let (s2, r2, second) = post(
        &app.client,
        &url,
        &token,
        CREATE,
        create_vars("Once", "key-1"),
    )
    .await;
    assert_eq!(s2, 200);
    assert_eq!(r2.as_deref(), Some("true"), "Idempotent-Replayed header");
    assert_eq!(second["extensions"]["idempotentReplayed"], true, "{second}");
    assert_eq!(
        first["data"], second["data"],
        "the replay equals the original"
    );
    assert_eq!(count_rows(&app.db_handle, "projects").await, 1);

    // A different key is a different request.
    let (_, _, third) = post(
        &app.client,
        &url,
        &token,
        CREATE,
        create_vars("Once", "key-2"),
    )
    .await;
    assert_ne!(
        third["data"]["createProject"]["project"]["id"],
        first["data"]["createProject"]["project"]["id"]
    );
    assert_eq!(count_rows(&app.db_handle, "projects").await, 2);
}

#[tokio::test]
async fn same_key_with_different_input_is_a_mismatch() {
    let app = spawn_app().await;
    let token = app.user("ada@example.com").await;
    let body = app
        .gql(CREATE, create_vars("First", "k"), Some(&token))
        .await;
    assert!(body["errors"].is_null(), "{body}");
    let body = app
        .gql(CREATE, create_vars("Second", "k"), Some(&token))
        .await;
    assert_eq!(error_code(&body), "IDEMPOTENCY_KEY_MISMATCH", "{body}");
    assert_eq!(count_rows(&app.db_handle, "projects").await, 1);
}

#[tokio::test]
async fn keys_are_scoped_by_user_and_operation() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let bob = app.user("bob@example.com").await;
    let a = app
        .gql(CREATE, create_vars("Shared", "same-key"), Some(&ada))
        .await;
    let b = app
        .gql(CREATE, create_vars("Shared", "same-key"), Some(&bob))
        .await;
    assert!(a["errors"].is_null() && b["errors"].is_null(), "{a} {b}");
    assert_ne!(
        a["data"]["createProject"]["project"]["id"],
        b["data"]["createProject"]["project"]["id"]
    );
    // The same key on another operation is independent too.
    let id = &a["data"]["createProject"]["project"]["id"];
    let body = app
        .gql(
            UPDATE,
            json!({ "i": { "id": id, "name": "Renamed" }, "k": "same-key" }),
            Some(&ada),
        )
        .await;
    assert_eq!(
        body["data"]["updateProject"]["project"]["name"], "Renamed",
        "{body}"
    );
}

#[tokio::test]
async fn failures_are_not_stored_so_a_fixed_request_can_reuse_the_key() {
    let app = spawn_app().await;
    let token = app.user("ada@example.com").await;
    let body = app
        .gql(CREATE, create_vars("", "fix-me"), Some(&token))
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
    let body = app
        .gql(CREATE, create_vars("Fixed", "fix-me"), Some(&token))
        .await;
    assert_eq!(
        body["data"]["createProject"]["project"]["name"], "Fixed",
        "{body}"
    );

    // A precondition failure is not stored either.
    let id = body["data"]["createProject"]["project"]["id"].clone();
    let stale = json!({ "i": { "id": id, "name": "x" }, "v": 7, "k": "upd" });
    assert_eq!(
        error_code(&app.gql(UPDATE, stale, Some(&token)).await),
        "PRECONDITION_FAILED"
    );
    let fresh = json!({ "i": { "id": id, "name": "x" }, "v": 1, "k": "upd" });
    let body = app.gql(UPDATE, fresh.clone(), Some(&token)).await;
    assert_eq!(
        body["data"]["updateProject"]["project"]["version"], 2,
        "{body}"
    );
    // And the update itself replays: version stays 2, no second write.
    let body = app.gql(UPDATE, fresh, Some(&token)).await;
    assert_eq!(body["data"]["updateProject"]["project"]["version"], 2);
    assert_eq!(body["extensions"]["idempotentReplayed"], true);
}

#[tokio::test]
async fn invalid_and_required_keys() {
    let app = spawn_app_with(|s| s.idempotency_required = true).await;
    let token = app.user("ada@example.com").await;
    let body = app
        .gql(CREATE, json!({ "i": { "name": "No key" } }), Some(&token))
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    for bad in ["", "ümlaut", &"k".repeat(256)] {
        let body = app
            .gql(CREATE, create_vars("Bad key", bad), Some(&token))
            .await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{bad:?}: {body}");
    }
    assert_eq!(count_rows(&app.db_handle, "projects").await, 0);
    let body = app
        .gql(CREATE, create_vars("Keyed", "\"quoted key\""), Some(&token))
        .await;
    assert!(body["errors"].is_null(), "{body}");
}

/// Fires `n` identical keyed creates at once and checks: one row; every answer is either the
/// original result or IDEMPOTENCY_KEY_IN_USE; all completed answers are identical.
async fn burst(urls: &[String], token: &str, n: usize) -> (Vec<Value>, usize) {
    let client = reqwest::Client::new();
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let (client, url, token) = (
                client.clone(),
                urls[i % urls.len()].clone(),
                token.to_owned(),
            );
            tokio::spawn(async move {
                post(
                    &client,
                    &url,
                    &token,
                    CREATE,
                    create_vars("Burst", "burst-key"),
                )
                .await
            })
        })
        .collect();
    let (mut completed, mut in_use) = (vec![], 0);
    for t in tasks {
        let (status, _, body) = t.await.unwrap();
        assert!(status < 500, "no 5xx: {status} {body}");
        match error_code(&body) {
            "<none>" => completed.push(body["data"].clone()),
            "IDEMPOTENCY_KEY_IN_USE" => {
                assert!(
                    body["errors"][0]["extensions"]["retryAfter"].is_number(),
                    "{body}"
                );
                in_use += 1;
            }
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert!(!completed.is_empty());
    assert!(
        completed.iter().all(|c| *c == completed[0]),
        "all completed answers are identical"
    );
    (completed, in_use)
}

#[tokio::test]
async fn fifty_concurrent_duplicates_write_once() {
    let app = spawn_app().await;
    let token = app.user("ada@example.com").await;
    let (completed, in_use) = burst(&[app.url("/graphql")], &token, 50).await;
    assert_eq!(completed.len() + in_use, 50);
    assert_eq!(count_rows(&app.db_handle, "projects").await, 1);
    assert_eq!(count_rows(&app.db_handle, "idempotency_keys").await, 1);
}

#[tokio::test]
async fn concurrent_retries_of_a_completed_key_all_replay() {
    let app = spawn_app().await;
    let token = app.user("ada@example.com").await;
    let url = app.url("/graphql");
    let vars = create_vars("Done", "done-key");
    let (status, _, first) = post(&app.client, &url, &token, CREATE, vars.clone()).await;
    assert_eq!(status, 200, "{first}");
    // Retries of a finished request never conflict with each other: all replay the result.
    let tasks: Vec<_> = (0..40)
        .map(|_| {
            let (client, url, token, vars) =
                (app.client.clone(), url.clone(), token.clone(), vars.clone());
            tokio::spawn(async move { post(&client, &url, &token, CREATE, vars).await })
        })
        .collect();
    for t in tasks {
        let (status, replayed, body) = t.await.unwrap();
        assert_eq!(status, 200, "{body}");
        assert_eq!(replayed.as_deref(), Some("true"), "{body}");
        assert_eq!(body["data"], first["data"]);
    }
    assert_eq!(count_rows(&app.db_handle, "projects").await, 1);
}

#[tokio::test]
async fn three_server_processes_write_once() {
    let db = TestDatabase::create().await;
    let servers = [
        ServerProcess::start(&db.url).await,
        ServerProcess::start(&db.url).await,
        ServerProcess::start(&db.url).await,
    ];
    let app = crate::common::spawn_app_on(TestDatabase::shared(&db.url), |_| {}).await;
    let token = app.user("ada@example.com").await;
    let urls: Vec<String> = servers.iter().map(|s| s.url("/graphql")).collect();
    burst(&urls, &token, 60).await;
    assert_eq!(count_rows(&app.db_handle, "projects").await, 1);
}

/// The same burst through PgBouncer in transaction pooling mode, where consecutive
/// transactions of one client connection run on different server sessions.
#[tokio::test]
async fn two_server_processes_behind_pgbouncer_write_once() {
    let db = TestDatabase::create().await;
    let Some(bouncer) = PgBouncer::start(&db).await else {
        return;
    };
    let servers = [bouncer.server(&db).await, bouncer.server(&db).await];
    let app = crate::common::spawn_app_on(TestDatabase::shared(&db.url), |_| {}).await;
    let token = app.user("ada@example.com").await;
    let urls: Vec<String> = servers.iter().map(|s| s.url("/graphql")).collect();
    let (completed, in_use) = burst(&urls, &token, 60).await;
    assert_eq!(completed.len() + in_use, 60);
    assert_eq!(count_rows(&app.db_handle, "projects").await, 1);
    assert_eq!(count_rows(&app.db_handle, "idempotency_keys").await, 1);
    // A retry after the burst replays the stored answer through either server.
    for url in &urls {
        let vars = create_vars("Burst", "burst-key");
        let (status, replayed, body) = post(&app.client, url, &token, CREATE, vars).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(replayed.as_deref(), Some("true"));
        assert_eq!(body["data"], completed[0]);
    }
}

#[tokio::test]
async fn a_thousand_keys_with_five_duplicates_each() {
    let app = spawn_app().await;
    let token = app.user("ada@example.com").await;
    let url = app.url("/graphql");
    let sem = Arc::new(tokio::sync::Semaphore::new(40));
    let mut tasks = vec![];
    for k in 0..1000 {
        for _ in 0..5 {
            let (client, url, token, sem) =
                (app.client.clone(), url.clone(), token.clone(), sem.clone());
            tasks.push(tokio::spawn(async move {
                let _permit = sem.acquire().await.unwrap();
                post(
                    &client,
                    &url,
                    &token,
                    CREATE,
                    create_vars(&format!("p{k}"), &format!("key-{k}")),
                )
                .await
            }));
        }
    }
    for t in tasks {
        let (status, _, body) = t.await.unwrap();
        assert!(status < 500, "{body}");
        assert!(
            matches!(error_code(&body), "<none>" | "IDEMPOTENCY_KEY_IN_USE"),
            "{body}"
        );
    }
    assert_eq!(count_rows(&app.db_handle, "projects").await, 1000);
}

#[tokio::test]
async fn expired_keys_behave_as_new_and_cleanup_removes_only_them() {
    let app = spawn_app_with(|s| s.idempotency_ttl = 1).await;
    let token = app.user("ada@example.com").await;
    let first = app
        .gql(CREATE, create_vars("Old", "old-key"), Some(&token))
        .await;
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    app.gql(CREATE, create_vars("Fresh", "fresh-key"), Some(&token))
        .await;

    // The expired key is new again: a second write.
    let again = app
        .gql(CREATE, create_vars("Old", "old-key"), Some(&token))
        .await;
    assert!(
        again["extensions"]["idempotentReplayed"].is_null(),
        "{again}"
    );
    assert_ne!(
        again["data"]["createProject"]["project"]["id"],
        first["data"]["createProject"]["project"]["id"]
    );
    assert_eq!(count_rows(&app.db_handle, "projects").await, 3);

    tokio::time::sleep(Duration::from_millis(1_200)).await;
    let live = app
        .gql(CREATE, create_vars("Live", "live-key"), Some(&token))
        .await;
    let deleted = neoforge::idempotency::cleanup_expired(&app.db_handle)
        .await
        .unwrap();
    assert_eq!(
        deleted, 2,
        "old-key (rewritten) and fresh-key expired; live-key did not"
    );
    let replay = app
        .gql(CREATE, create_vars("Live", "live-key"), Some(&token))
        .await;
    assert_eq!(replay["data"], live["data"]);
    assert_eq!(replay["extensions"]["idempotentReplayed"], true);
}

#[tokio::test]
async fn cleanup_runs_from_the_cli() {
    let app = spawn_app_with(|s| s.idempotency_ttl = 1).await;
    let token = app.user("ada@example.com").await;
    app.gql(CREATE, create_vars("Old", "k"), Some(&token)).await;
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    let out = crate::common::process::neoforge()
        .args(["idempotency", "cleanup"])
        .env("DATABASE_URL", &app.settings.database_url)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("deleted 1"));
    assert_eq!(count_rows(&app.db_handle, "idempotency_keys").await, 0);
}

/// A server killed with SIGKILL in the middle of a burst of keyed writes: after a restart every
/// request answered 2xx is present exactly once, and every key can be retried to completion.
#[tokio::test]
async fn a_crash_mid_burst_loses_nothing_and_leaves_no_key_stuck() {
    let db = TestDatabase::create().await;
    let mut server = ServerProcess::start(&db.url).await;
    let app: TestApp = crate::common::spawn_app_on(TestDatabase::shared(&db.url), |_| {}).await;
    let token = app.user("ada@example.com").await;
    let client = reqwest::Client::new();
    let url = server.url("/graphql");
    let keys: Vec<String> = (0..300).map(|k| format!("crash-{k}")).collect();
    let done = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let sem = Arc::new(tokio::sync::Semaphore::new(16));
    let tasks: Vec<_> = keys
        .iter()
        .map(|key| {
            let (client, url, token, key) =
                (client.clone(), url.clone(), token.clone(), key.clone());
            let (done, sem) = (done.clone(), sem.clone());
            tokio::spawn(async move {
                let _permit = sem.acquire().await.ok()?;
                let vars = create_vars(&format!("p-{key}"), &key);
                let res = client
                    .post(url)
                    .bearer_auth(token)
                    .json(&json!({ "query": CREATE, "variables": vars }))
                    .send()
                    .await;
                let body = match res {
                    Ok(r) if r.status() == 200 => r
                        .json::<Value>()
                        .await
                        .ok()
                        .filter(|b| b["errors"].is_null()),
                    _ => None,
                };
                done.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                body
            })
        })
        .collect();
    // Kill once the burst is well under way, with requests still in flight.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while done.load(std::sync::atomic::Ordering::SeqCst) < 40
        && std::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    server.kill();
    let mut answered = std::collections::HashMap::new();
    for (key, task) in keys.iter().zip(tasks) {
        if let Some(body) = task.await.unwrap() {
            answered.insert(
                key.clone(),
                body["data"]["createProject"]["project"]["id"].clone(),
            );
        }
    }

    assert!(
        answered.len() >= 40 && answered.len() < keys.len(),
        "killed mid-burst: {} answered",
        answered.len()
    );
    let server = ServerProcess::start(&db.url).await;
    let url = server.url("/graphql");
    for key in &keys {
        let body = loop {
            let (status, _, body) = post(
                &client,
                &url,
                &token,
                CREATE,
                create_vars(&format!("p-{key}"), key),
            )
            .await;
            assert!(status < 500, "{body}");
            if error_code(&body) != "IDEMPOTENCY_KEY_IN_USE" {
                break body;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        assert!(
            body["errors"].is_null(),
            "key {key} completes after the restart: {body}"
        );
        if let Some(id) = answered.get(key) {
            assert_eq!(
                &body["data"]["createProject"]["project"]["id"], id,
                "answered {key} replays"
            );
        }
    }
    assert_eq!(
        count_rows(&app.db_handle, "projects").await,
        keys.len() as i64,
        "each key exactly once"
    );
}

#[tokio::test]
async fn outcomes_and_cleanup_runs_are_counted_in_metrics() {
    let app = spawn_app().await;
    let token = app.user("ada@example.com").await;
    app.gql(CREATE, create_vars("M", "metric-key"), Some(&token))
        .await;
    app.gql(CREATE, create_vars("M", "metric-key"), Some(&token))
        .await;
    neoforge::idempotency::cleanup_expired(&app.db_handle)
        .await
        .unwrap();
    let text = app.metrics().await;
    for needle in [
        r#"idempotency_requests_total{outcome="stored"}"#,
        r#"idempotency_requests_total{outcome="replayed"}"#,
        "idempotency_cleanup_runs_total",
        r#"http_requests_total{method="POST",route="/graphql",status="200"}"#,
    ] {
        assert!(text.contains(needle), "/metrics has {needle}");
    }
}
