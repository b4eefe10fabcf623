//! The database pool under a burst: one-statement reads keep their PostgreSQL connections
//! between statements (src/db/kept.rs), and must neither starve writes nor show up as busy.

use std::time::{Duration, Instant};

use futures::future::join_all;
use reqwest::Method;
use serde_json::json;

use crate::common::{metric, spawn_app_with};
use crate::rest::{Reply, call, create_project};

#[tokio::test]
async fn a_small_pool_serves_a_burst_of_reads_and_writes_and_reports_its_connections_idle() {
    let app = spawn_app_with(|s| s.db_max_connections = 2).await;
    let token = app.user("pool@example.com").await;
    let made = create_project(&app, &token, "pooled", "public").await;
    let id = made.json()["id"].as_str().expect("id").to_owned();

    // Many reads of one row and creates at once: two connections, at most one kept by reads.
    let reads = join_all((0..48).map(|_| {
        let path = format!("/projects/{id}");
        let app = &app;
        async move { call(app, Method::GET, &path).send().await }
    }));
    let writes = join_all((0..12).map(|i| {
        let token = token.clone();
        let app = &app;
        async move {
            call(app, Method::POST, "/projects")
                .token(&token)
                .json(json!({ "name": format!("burst-{i}"), "visibility": "private" }))
                .send()
                .await
        }
    }));
    let (reads, writes) = tokio::time::timeout(Duration::from_secs(30), async {
        tokio::join!(reads, writes)
    })
    .await
    .expect("the burst finished");
    let statuses = |replies: &[Reply]| replies.iter().map(|r| r.status).collect::<Vec<_>>();
    assert!(
        reads
            .iter()
            .all(|r| r.status == 200 && r.json()["name"] == "pooled"),
        "reads: {:?}",
        statuses(&reads)
    );
    assert!(
        writes.iter().all(|r| r.status == 201),
        "writes: {:?}",
        statuses(&writes)
    );

    // Every create landed once, and a read after the burst sees them.
    let list = call(&app, Method::GET, "/projects?page_size=50")
        .token(&token)
        .send()
        .await;
    assert_eq!(list.status, 200);
    let names: Vec<String> = list.json()["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|p| p["name"].as_str().map(str::to_owned))
        .collect();
    for i in 0..12 {
        let name = format!("burst-{i}");
        assert_eq!(names.iter().filter(|n| **n == name).count(), 1, "{names:?}");
    }

    // Connections kept for the next read are idle, not in use, to an operator. (Writes hand
    // theirs back in sqlx's release task, and the gauges are process-wide, set at each scrape
    // by the app scraped: read until they settle.)
    let settled = Instant::now();
    loop {
        let metrics = app.metrics().await;
        let in_use = metric(&metrics, r#"db_pool_connections{state="in_use"}"#);
        let idle = metric(&metrics, r#"db_pool_connections{state="idle"}"#);
        if in_use == 0.0 && idle >= 1.0 {
            break;
        }
        assert!(
            settled.elapsed() < Duration::from_secs(5),
            "in use {in_use}, idle {idle}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    app.stop().await.expect("clean stop");
}
