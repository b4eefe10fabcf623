//! Admins change roles, disable and re-enable accounts and end their sessions; each takes effect on
//! open sessions within seconds, on this process and on a second one sharing the database; the
//! audit log records it and only admins read it.

use std::time::{Duration, Instant};

use neoforge::entity::users::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{TestApp, spawn_app, spawn_app_sharing};

const PASSWORD: &str = "a test password";

async fn call(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = app.client.request(method, app.url(path)).bearer_auth(token);
    if let Some(body) = body {
        req = req.json(&body);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn user_id(app: &TestApp, token: &str) -> String {
    let (_, me) = call(app, reqwest::Method::GET, "/api/v1/auth/me", token, None).await;
    me["id"].as_str().unwrap().to_owned()
}

/// Polls `check` until it holds. PostgreSQL notifies the other process (well under 2 s); on
/// SQLite only the cache's 5 s TTL bounds it, plus one polling round trip on a loaded machine.
async fn within_5s(app: &TestApp, what: &str, mut check: impl AsyncFnMut() -> bool) -> Duration {
    let limit = if app.db.is_postgres() { 2 } else { 6 };
    let start = Instant::now();
    while !check().await {
        assert!(
            start.elapsed() < Duration::from_secs(limit),
            "{what} took over {limit} s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    start.elapsed()
}

async fn record_status(app: &TestApp, token: &str) -> StatusCode {
    let body = json!({ "service": "api", "status": "degraded" });
    call(
        app,
        reqwest::Method::POST,
        "/api/v1/status/events",
        token,
        Some(body),
    )
    .await
    .0
}

#[tokio::test]
async fn role_changes_and_disabling_reach_open_sessions_on_every_process() {
    let a = spawn_app().await;
    let b = spawn_app_sharing(&a).await;
    let admin = a.user_with_role("boss@example.com", Role::Admin).await;
    let token = a.user("member@example.com").await;
    let id = user_id(&a, &token).await;
    // Both processes have the session cached as a plain user.
    assert_eq!(record_status(&a, &token).await, 403);
    assert_eq!(record_status(&b, &token).await, 403);

    let (status, body) = call(
        &a,
        reqwest::Method::POST,
        &format!("/api/v1/admin/users/{id}/role"),
        &admin,
        Some(json!({ "role": "staff" })),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["role"], "staff");
    assert_eq!(body["disabled"], false);
    assert_eq!(body["email"], "member@example.com");
    // The same access token carries the new role: at once here, within 5 s there.
    assert_eq!(record_status(&a, &token).await, 201);
    let took = within_5s(&a, "the role change on the second process", async || {
        record_status(&b, &token).await == StatusCode::CREATED
    })
    .await;
    eprintln!("role change reached the second process in {took:?}");

    let (status, body) = call(
        &a,
        reqwest::Method::POST,
        &format!("/api/v1/admin/users/{id}/disable"),
        &admin,
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["disabled"], true);
    let (status, _) = call(&a, reqwest::Method::GET, "/api/v1/auth/me", &token, None).await;
    assert_eq!(status, 401, "disabled at once on this process");
    within_5s(&a, "disabling on the second process", async || {
        call(&b, reqwest::Method::GET, "/api/v1/auth/me", &token, None)
            .await
            .0
            == StatusCode::UNAUTHORIZED
    })
    .await;
    let login = json!({ "email": "member@example.com", "password": PASSWORD });
    let res = a
        .client
        .post(a.url("/api/v1/auth/login"))
        .json(&login)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401, "a disabled account cannot sign in");

    let (status, body) = call(
        &a,
        reqwest::Method::POST,
        &format!("/api/v1/admin/users/{id}/enable"),
        &admin,
        None,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let res = a
        .client
        .post(a.url("/api/v1/auth/login"))
        .json(&login)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "enabled again");
    let fresh: Value = res.json().await.unwrap();
    let fresh = fresh["access_token"].as_str().unwrap().to_owned();
    let (status, _) = call(&a, reqwest::Method::GET, "/api/v1/auth/me", &token, None).await;
    assert_eq!(status, 401, "the sessions ended by disabling stay ended");

    // Ending all of a user's sessions.
    let (status, _) = call(
        &a,
        reqwest::Method::DELETE,
        &format!("/api/v1/admin/users/{id}/sessions"),
        &admin,
        None,
    )
    .await;
    assert_eq!(status, 204);
    let (status, _) = call(&a, reqwest::Method::GET, "/api/v1/auth/me", &fresh, None).await;
    assert_eq!(status, 401);

    // Deleting the account: its token is refused, its email is free again.
    let (status, _) = call(
        &a,
        reqwest::Method::DELETE,
        &format!("/api/v1/admin/users/{id}"),
        &admin,
        None,
    )
    .await;
    assert_eq!(status, 204);
    let (status, _) = call(
        &a,
        reqwest::Method::DELETE,
        &format!("/api/v1/admin/users/{id}"),
        &admin,
        None,
    )
    .await;
    assert_eq!(status, 404);
    let res = a
        .client
        .post(a.url("/api/v1/auth/login"))
        .json(&login)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401, "a deleted account cannot sign in");

    // An admin cannot lock themselves out.
    let own = user_id(&a, &admin).await;
    let (status, _) = call(
        &a,
        reqwest::Method::POST,
        &format!("/api/v1/admin/users/{own}/disable"),
        &admin,
        None,
    )
    .await;
    assert_eq!(status, 409);
    let (status, _) = call(
        &a,
        reqwest::Method::POST,
        "/api/v1/admin/users/not-an-id/role",
        &admin,
        Some(json!({ "role": "admin" })),
    )
    .await;
    assert_eq!(status, 404, "no such account");
    let (status, _) = call(
        &a,
        reqwest::Method::POST,
        &format!("/api/v1/admin/users/{}/disable", uuid::Uuid::now_v7()),
        &admin,
        None,
    )
    .await;
    assert_eq!(status, 404);

    // The audit log has it all, newest first, filterable.
    let (status, page) = call(
        &a,
        reqwest::Method::GET,
        &format!("/api/v1/admin/audit-events?target=user:{id}&action=user."),
        &admin,
        None,
    )
    .await;
    assert_eq!(status, 200, "{page}");
    let actions: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "user.deleted",
            "user.enabled",
            "user.disabled",
            "user.role_changed",
            "user.created"
        ],
        "{page}"
    );
    let changed = &page["items"][3];
    assert_eq!(changed["actor_id"].as_str(), Some(own.as_str()));
    let details: Value = serde_json::from_str(changed["details"].as_str().unwrap()).unwrap();
    assert_eq!(details, json!({ "from": "user", "to": "staff" }));
    b.stop().await.unwrap();
}

#[tokio::test]
async fn the_audit_log_pages_like_a_connection_and_filters_by_time() {
    let app = spawn_app().await;
    let admin = app.user_with_role("reader@example.com", Role::Admin).await;
    for i in 0..3 {
        let body =
            json!({ "email": format!("nobody{i}@example.com"), "password": "wrong password" });
        app.client
            .post(app.url("/api/v1/auth/login"))
            .json(&body)
            .send()
            .await
            .unwrap();
    }
    let query = "query($f: AuditEventFilter, $after: String) { auditEvents(first: 2, after: $after, filter: $f) { totalCount edges { cursor node { action target at } } pageInfo { hasNextPage endCursor } } }";
    let filter = json!({ "action": "login.failed" });
    let first = app.gql(query, json!({ "f": filter }), Some(&admin)).await;
    let conn = &first["data"]["auditEvents"];
    assert_eq!(conn["totalCount"], 3, "{first}");
    assert_eq!(conn["pageInfo"]["hasNextPage"], true);
    assert_eq!(
        conn["edges"][0]["node"]["target"],
        "email:nobody2@example.com"
    );
    let after = conn["pageInfo"]["endCursor"].clone();
    let second = app
        .gql(query, json!({ "f": filter, "after": after }), Some(&admin))
        .await;
    let edges = second["data"]["auditEvents"]["edges"].as_array().unwrap();
    assert_eq!(edges.len(), 1);
    assert_eq!(edges[0]["node"]["target"], "email:nobody0@example.com");

    // A time range that ends before the first event finds nothing.
    let at = conn["edges"][1]["node"]["at"].as_str().unwrap().to_owned();
    let before = json!({ "action": "login.failed", "until": "2000-01-01T00:00:00Z" });
    let none = app.gql(query, json!({ "f": before }), Some(&admin)).await;
    assert_eq!(none["data"]["auditEvents"]["totalCount"], 0, "{none}");
    let since = json!({ "action": "login.failed", "since": at });
    let some = app.gql(query, json!({ "f": since }), Some(&admin)).await;
    assert_eq!(some["data"]["auditEvents"]["totalCount"], 2, "{some}");
    let res = app
        .client
        .get(app.url("/api/v1/admin/audit-events?since=yesterday"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert!(res.status().is_client_error(), "{}", res.status());
}

#[tokio::test]
async fn staff_ticket_status_changes_and_project_deletions_are_audited() {
    let app = spawn_app().await;
    let admin = app.user_with_role("auditor@example.com", Role::Admin).await;
    let staff = app.user_with_role("helper@example.com", Role::Staff).await;
    let user = app.user("customer@example.com").await;
    let (status, ticket) = call(
        &app,
        reqwest::Method::POST,
        "/api/v1/support/tickets",
        &user,
        Some(json!({ "subject": "help", "body": "please" })),
    )
    .await;
    assert_eq!(status, 201);
    let ticket = ticket["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/support/tickets/{ticket}");
    // The requester editing the subject is not a staff status change.
    let (status, _) = call(
        &app,
        reqwest::Method::PATCH,
        &path,
        &user,
        Some(json!({ "subject": "help!" })),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = call(
        &app,
        reqwest::Method::PATCH,
        &path,
        &staff,
        Some(json!({ "status": "in_progress" })),
    )
    .await;
    assert_eq!(status, 200);
    let (status, project) = call(
        &app,
        reqwest::Method::POST,
        "/api/v1/projects",
        &user,
        Some(json!({ "name": "gone soon" })),
    )
    .await;
    assert_eq!(status, 201);
    let project = project["id"].as_str().unwrap().to_owned();
    let (status, _) = call(
        &app,
        reqwest::Method::DELETE,
        &format!("/api/v1/projects/{project}"),
        &user,
        None,
    )
    .await;
    assert_eq!(status, 204);

    let (_, page) = call(
        &app,
        reqwest::Method::GET,
        &format!("/api/v1/admin/audit-events?target=ticket:{ticket}&action=ticket.status_changed"),
        &admin,
        None,
    )
    .await;
    assert_eq!(page["total"], 1, "{page}");
    let details: Value =
        serde_json::from_str(page["items"][0]["details"].as_str().unwrap()).unwrap();
    assert_eq!(details, json!({ "from": "open", "to": "in_progress" }));
    assert_eq!(
        page["items"][0]["actor_id"].as_str().unwrap(),
        user_id(&app, &staff).await
    );
    let (_, page) = call(
        &app,
        reqwest::Method::GET,
        &format!("/api/v1/admin/audit-events?target=project:{project}"),
        &admin,
        None,
    )
    .await;
    let actions: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["project.deleted", "project.created"], "{page}");
}
