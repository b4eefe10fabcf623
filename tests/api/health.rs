use crate::common::spawn_app;

#[tokio::test]
async fn live_and_ready_answer_200_with_request_ids() {
    let app = spawn_app().await;
    let live = app
        .client
        .get(app.url("/health/live"))
        .send()
        .await
        .unwrap();
    assert_eq!(live.status(), 200);
    assert!(
        live.headers().contains_key("x-request-id"),
        "a request id is generated"
    );
    assert_eq!(live.headers()["x-content-type-options"], "nosniff");

    let ready = app
        .client
        .get(app.url("/health/ready"))
        .header("x-request-id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
    assert_eq!(
        ready.headers()["x-request-id"],
        "abc-123",
        "an incoming request id is echoed"
    );
    let body: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(body["migrations"], "current");
}

#[tokio::test]
async fn ready_is_503_while_a_migration_is_pending() {
    let app = spawn_app().await;
    let mut settings = app.settings.clone();
    settings.bind = "127.0.0.1:0".parse().unwrap();
    let db = neoforge::db::Db::connect(&settings).await.unwrap();
    db.migrate(&settings, neoforge::db::Migration::Down(1))
        .await
        .unwrap();

    let res = app
        .client
        .get(app.url("/health/ready"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 503);
    assert!(res.headers().contains_key("retry-after"));
    let body: serde_json::Value = res.json().await.unwrap();
    assert!(
        body["reason"].as_str().unwrap().contains("pending"),
        "{body}"
    );

    db.migrate_up(&settings).await.unwrap();
    let res = app
        .client
        .get(app.url("/health/ready"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    db.close().await;
}

#[tokio::test]
async fn unknown_routes_are_problem_json_404() {
    let app = spawn_app().await;
    let res = app.client.get(app.url("/nope")).send().await.unwrap();
    assert_eq!(res.status(), 404);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["code"], "NOT_FOUND");
    assert_eq!(body["status"], 404);
}

#[tokio::test]
async fn graceful_stop_drains_and_returns_ok() {
    let app = spawn_app().await;
    let addr = app.addr;
    // A request in flight when the stop arrives still completes.
    let client = app.client.clone();
    // Background work at start (the mail sender's and the cleanup's first look) runs
    // statements too: let it settle first, so that the next statement is the sign-in's.
    let mut before = app.statements();
    let settling = std::time::Instant::now();
    while settling.elapsed() < std::time::Duration::from_secs(10) {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        let now = app.statements();
        if now == before {
            break;
        }
        before = now;
    }
    // A sign-in reads the account, then spends tens of milliseconds verifying the password:
    // once its first statement has run, it is in flight for certain, however loaded the machine.
    let in_flight = tokio::spawn(async move {
        client
            .post(format!("http://{addr}/graphql"))
            .json(&serde_json::json!({ "query": "mutation { login(input: {email: \"slow@example.com\", password: \"a slow password\"}) { accessToken } }" }))
            .send()
            .await
    });
    let started = std::time::Instant::now();
    while app.statements() == before && started.elapsed() < std::time::Duration::from_secs(10) {
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
    app.stop().await.expect("clean stop");
    let res = in_flight
        .await
        .unwrap()
        .expect("in-flight request answered");
    assert_eq!(res.status(), 200);
    assert!(
        reqwest::get(format!("http://{addr}/health/live"))
            .await
            .is_err(),
        "no longer accepting"
    );
}
