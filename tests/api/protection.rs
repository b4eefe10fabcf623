//! Rate limits (429 + Retry-After + RateLimit headers) and database outages (503 + Retry-After),
//! over REST and GraphQL.

use std::time::Duration;

use neoforge::security::RateQuota;
use reqwest::{Method, StatusCode};
use sea_orm::TransactionTrait;
use serde_json::{Value, json};

use crate::common::{error_code, spawn_app_with};
use crate::rest::call;

fn per_minute(n: u32) -> RateQuota {
    RateQuota::per(n, Duration::from_secs(60))
}

#[tokio::test]
async fn anonymous_clients_are_limited_per_ip_with_retry_after() {
    let app = spawn_app_with(|s| s.rate_limit_anonymous = per_minute(3)).await;

    for remaining in [2, 1, 0] {
        let ok = call(&app, Method::GET, "/projects").send().await;
        assert_eq!(ok.status, 200);
        assert_eq!(
            ok.header("ratelimit-policy"),
            Some(r#""anonymous";q=3;w=60"#)
        );
        let limit = ok.header("ratelimit").expect("RateLimit header");
        assert!(
            limit.starts_with(&format!(r#""anonymous";r={remaining};t="#)),
            "{limit}"
        );
    }

    let limited = call(&app, Method::GET, "/projects").send().await;
    let body = limited.problem(429);
    assert_eq!(body["code"], "RATE_LIMITED");
    assert_eq!(body["instance"], "/api/v1/projects");
    let retry: u64 = limited
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .expect("seconds");
    // 3 per minute: one request comes back every 20 s.
    assert!((1..=20).contains(&retry), "Retry-After {retry}");
    assert!(limited.header("ratelimit").unwrap().contains("r=0"));

    // GraphQL draws from the same budget and answers in its own shape.
    let res = app
        .client
        .post(app.url("/graphql"))
        .json(&json!({ "query": "{ projects(first: 1) { totalCount } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(res.headers().contains_key("retry-after"));
    let body: Value = res.json().await.unwrap();
    assert_eq!(error_code(&body), "RATE_LIMITED");
    assert!(body.get("data").is_none());

    // Probes and metrics are never limited; the counter names the tier.
    let ready = app
        .client
        .get(app.url("/health/ready"))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
    let metrics = app.metrics().await;
    assert!(
        metrics.contains(r#"rate_limit_exceeded_total{tier="anonymous"}"#),
        "{metrics}"
    );
}

#[tokio::test]
async fn signed_in_users_have_their_own_budget() {
    let app = spawn_app_with(|s| {
        s.rate_limit_api = per_minute(2);
        s.rate_limit_anonymous = per_minute(100);
    })
    .await;
    let alice = app.user("alice@example.com").await;
    let bob = app.user("bob@example.com").await;

    for _ in 0..2 {
        let me = call(&app, Method::GET, "/auth/me")
            .token(&alice)
            .send()
            .await;
        assert_eq!(me.status, 200);
        assert_eq!(me.header("ratelimit-policy"), Some(r#""api";q=2;w=60"#));
    }
    let limited = call(&app, Method::GET, "/auth/me")
        .token(&alice)
        .send()
        .await;
    limited.problem(429);
    assert!(limited.header("retry-after").is_some());

    // Another user, and anonymous traffic from the same address, are unaffected.
    let other = call(&app, Method::GET, "/auth/me").token(&bob).send().await;
    assert_eq!(other.status, 200);
    let anonymous = call(&app, Method::GET, "/projects").send().await;
    assert_eq!(anonymous.status, 200);

    // A limited request writes nothing.
    let create = call(&app, Method::POST, "/projects")
        .token(&alice)
        .json(json!({ "name": "Never" }))
        .send()
        .await;
    create.problem(429);
    let list = call(&app, Method::GET, "/projects")
        .token(&bob)
        .send()
        .await;
    assert_eq!(list.json()["total"], 0);
}

#[tokio::test]
async fn sign_in_attempts_are_limited_over_rest_and_graphql_alike() {
    let app = spawn_app_with(|s| s.rate_limit_auth = per_minute(3)).await;
    app.register("carol@example.com", "correct horse battery", "Carol")
        .await;

    // Registration used one attempt; two wrong passwords use the rest.
    for _ in 0..2 {
        let wrong = call(&app, Method::POST, "/auth/login")
            .json(json!({ "email": "carol@example.com", "password": "wrong password!" }))
            .send()
            .await;
        wrong.problem(401);
    }
    // Even the right password is refused now, over REST and over GraphQL.
    let limited = call(&app, Method::POST, "/auth/login")
        .json(json!({ "email": "carol@example.com", "password": "correct horse battery" }))
        .send()
        .await;
    assert_eq!(limited.problem(429)["code"], "RATE_LIMITED");
    let retry: u64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=20).contains(&retry), "Retry-After {retry}");

    let body = app
        .gql(
            r#"mutation { login(input: {email: "carol@example.com", password: "correct horse battery"}) { accessToken } }"#,
            json!({}),
            None,
        )
        .await;
    assert_eq!(error_code(&body), "RATE_LIMITED");
    assert!(body["errors"][0]["extensions"]["retryAfter"].as_u64() >= Some(1));
}

#[tokio::test]
async fn a_database_outage_is_503_with_retry_after() {
    let app = spawn_app_with(|s| {
        s.db_max_connections = 1;
        s.db_connect_timeout = 1;
    })
    .await;
    let token = app.user("dave@example.com").await;

    // Hold the pool's only connection: every request now waits for the database and gives up.
    let held = app
        .db_handle
        .conn()
        .begin()
        .await
        .expect("hold the connection");
    let list = call(&app, Method::GET, "/projects").send().await;
    let body = list.problem(503);
    assert_eq!(body["code"], "SERVICE_UNAVAILABLE");
    assert!(
        !body["detail"].as_str().unwrap().contains("pool"),
        "internals leak: {body}"
    );
    assert!(list.header("retry-after").is_some());

    let create = call(&app, Method::POST, "/projects")
        .token(&token)
        .header("idempotency-key", "outage-1")
        .json(json!({ "name": "During the outage" }))
        .send()
        .await;
    create.problem(503);
    assert!(create.header("retry-after").is_some());
    held.rollback().await.expect("release");

    // Back to normal, and the failed create left no trace: the same key now creates it.
    let retry = call(&app, Method::POST, "/projects")
        .token(&token)
        .header("idempotency-key", "outage-1")
        .json(json!({ "name": "During the outage" }))
        .send()
        .await;
    assert_eq!(retry.status, 201);
    assert!(retry.header("idempotent-replayed").is_none());
}

#[tokio::test]
async fn a_request_past_the_timeout_is_503_and_changes_nothing() {
    let app = spawn_app_with(|s| s.request_timeout = 1).await;
    let token = app.user("erin@example.com").await;
    let created = crate::rest::create_project(&app, &token, "Slow", "public").await;
    let id = created.json()["id"].as_str().unwrap().to_owned();

    let held = app.hold_project(&id).await;
    let patch = call(&app, Method::PATCH, &format!("/projects/{id}"))
        .token(&token)
        .json(json!({ "name": "Renamed while locked" }))
        .send()
        .await;
    assert_eq!(patch.problem(503)["code"], "SERVICE_UNAVAILABLE");
    assert!(patch.header("retry-after").is_some());
    held.rollback().await.expect("release");

    // The abandoned update never happened; the next one applies once.
    let get = call(&app, Method::GET, &format!("/projects/{id}"))
        .send()
        .await;
    assert_eq!(get.json()["name"], "Slow");
    assert_eq!(get.json()["version"], 1);
    let patch = call(&app, Method::PATCH, &format!("/projects/{id}"))
        .token(&token)
        .json(json!({ "name": "Renamed" }))
        .send()
        .await;
    assert_eq!(patch.status, 200);
    assert_eq!(patch.json()["version"], 2);
}
