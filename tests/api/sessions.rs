//! Refresh-token rotation, reuse detection, logout, the browser cookie and fast revocation across
//! server processes.

use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use reqwest::StatusCode;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::common::{TestApp, spawn_app, spawn_app_sharing};

const PASSWORD: &str = "a test password";

async fn rest_login(app: &TestApp, email: &str) -> Value {
    let res = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({ "email": email, "password": PASSWORD, "device": "test laptop" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

async fn refresh(app: &TestApp, token: &str) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/auth/refresh"))
        .json(&json!({ "refresh_token": token }))
        .send()
        .await
        .unwrap()
}

async fn me(app: &TestApp, access: &str) -> StatusCode {
    let res = app
        .client
        .get(app.url("/api/v1/auth/me"))
        .bearer_auth(access);
    res.send().await.unwrap().status()
}

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap_or_else(|| panic!("{key} in {v}"))
}

#[tokio::test]
async fn refresh_rotates_and_reuse_ends_the_session() {
    let app = spawn_app().await;
    app.user("rot@example.com").await;
    let first = rest_login(&app, "rot@example.com").await;
    assert_eq!(first["token_type"], "bearer");
    let r1 = text(&first, "refresh_token").to_owned();
    assert_eq!(r1.len(), 43, "256 bits, base64url");

    let res = refresh(&app, &r1).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let second: Value = res.json().await.unwrap();
    let r2 = text(&second, "refresh_token").to_owned();
    assert_ne!(r1, r2, "rotated");
    assert_eq!(second["session_id"], first["session_id"], "same session");
    assert_eq!(second["user"]["email"], "rot@example.com");
    assert_eq!(me(&app, text(&second, "access_token")).await, 200);

    // The rotated token again: reuse. The whole family ends, the newest token included.
    let res = refresh(&app, &r1).await;
    assert_eq!(res.status(), 401);
    let problem: Value = res.json().await.unwrap();
    assert!(
        problem["detail"].as_str().unwrap().contains("already used"),
        "{problem}"
    );
    assert_eq!(refresh(&app, &r2).await.status(), 401);
    assert_eq!(me(&app, text(&second, "access_token")).await, 401);
    assert_eq!(me(&app, text(&first, "access_token")).await, 401);

    let metrics = app.metrics().await;
    assert!(
        metrics.contains(r#"threats_detected_total{kind="refresh_token_reuse"}"#),
        "{metrics}"
    );
    let rows = app
        .db_handle
        .conn()
        .query_all_raw(sea_orm::Statement::from_string(
            app.db_handle.backend(),
            "SELECT action FROM audit_events WHERE action = 'refresh_token.reused'",
        ))
        .await
        .unwrap();
    assert_eq!(rows.len(), 1, "one audit event");
    // A new sign-in is unaffected.
    let again = rest_login(&app, "rot@example.com").await;
    assert_eq!(
        refresh(&app, text(&again, "refresh_token")).await.status(),
        200
    );
}

#[tokio::test]
async fn concurrent_refreshes_with_one_token_let_at_most_one_through() {
    let app = spawn_app().await;
    app.user("race@example.com").await;
    let login = rest_login(&app, "race@example.com").await;
    let token = text(&login, "refresh_token").to_owned();
    let tasks: Vec<_> = (0..6)
        .map(|_| {
            let (client, url, token) = (
                app.client.clone(),
                app.url("/api/v1/auth/refresh"),
                token.clone(),
            );
            tokio::spawn(async move {
                let res = client.post(url).json(&json!({ "refresh_token": token }));
                res.send().await.unwrap().status()
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    let ok = statuses.iter().filter(|s| **s == 200).count();
    assert!(ok <= 1, "{statuses:?}");
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 401),
        "{statuses:?}"
    );
    // Six presentations of one token are reuse: the session is over.
    assert_eq!(me(&app, text(&login, "access_token")).await, 401);
}

#[tokio::test]
async fn logout_ends_the_session_and_graphql_offers_the_same() {
    let app = spawn_app().await;
    app.user("out@example.com").await;
    let login = rest_login(&app, "out@example.com").await;
    let access = text(&login, "access_token");
    let res = app
        .client
        .post(app.url("/api/v1/auth/logout"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let cleared = res.headers()["set-cookie"].to_str().unwrap();
    assert!(cleared.starts_with("neoforge_refresh=;") && cleared.contains("Max-Age=0"));
    assert_eq!(
        me(&app, access).await,
        401,
        "refused at once on this server"
    );
    assert_eq!(
        refresh(&app, text(&login, "refresh_token")).await.status(),
        401
    );
    let anonymous = app.client.post(app.url("/api/v1/auth/logout")).send().await;
    assert_eq!(anonymous.unwrap().status(), 401);

    // GraphQL: login → refreshToken → logout.
    let body = app
        .gql(
            "mutation($i: LoginInput!) { login(input: $i) { accessToken refreshToken sessionId } }",
            json!({ "i": { "email": "out@example.com", "password": PASSWORD } }),
            None,
        )
        .await;
    let refresh_token = body["data"]["login"]["refreshToken"].as_str().unwrap();
    let body = app
        .gql(
            "mutation($i: RefreshTokenInput!) { refreshToken(input: $i) { accessToken refreshToken user { email } } }",
            json!({ "i": { "refreshToken": refresh_token } }),
            None,
        )
        .await;
    let access = body["data"]["refreshToken"]["accessToken"]
        .as_str()
        .unwrap();
    assert_eq!(
        body["data"]["refreshToken"]["user"]["email"],
        "out@example.com"
    );
    let body = app
        .gql("mutation { logout { revoked } }", json!({}), Some(access))
        .await;
    assert_eq!(body["data"]["logout"]["revoked"], true, "{body}");
    let res = app
        .graphql("{ viewer { id } }", json!({}), Some(access))
        .await;
    assert_eq!(res.status(), 401);
}

#[tokio::test]
async fn browsers_keep_the_refresh_token_in_an_http_only_cookie() {
    let app = spawn_app().await;
    app.user("web@example.com").await;
    let origin = format!("http://{}", app.addr);
    let res = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .header("origin", &origin)
        .json(&json!({ "email": "web@example.com", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_owned();
    for attribute in [
        "HttpOnly",
        "Secure",
        "SameSite=Strict",
        "Path=/api/v1/auth/refresh",
    ] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    let body: Value = res.json().await.unwrap();
    assert!(
        body["refresh_token"].is_null(),
        "not readable by script: {body}"
    );
    let pair = cookie.split(';').next().unwrap().to_owned();

    let cookie_refresh = |origin: String, pair: String| {
        app.client
            .post(app.url("/api/v1/auth/refresh"))
            .header("origin", origin)
            .header("cookie", pair)
            .json(&json!({}))
            .send()
    };
    // Another site cannot use it, even if a browser sent it.
    let res = cookie_refresh("https://evil.example".into(), pair.clone())
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    // A form post (not JSON) is refused before anything happens.
    let res = app
        .client
        .post(app.url("/api/v1/auth/refresh"))
        .header("cookie", pair.clone())
        .header("content-type", "application/x-www-form-urlencoded")
        .body("a=b")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 415);

    let res = cookie_refresh(origin.clone(), pair.clone()).await.unwrap();
    assert_eq!(res.status(), 200);
    let next = res.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert_ne!(next.split(';').next().unwrap(), pair, "rotated");
    let body: Value = res.json().await.unwrap();
    assert!(body["refresh_token"].is_null());
    assert_eq!(me(&app, text(&body, "access_token")).await, 200);

    // No token anywhere: 401.
    let res = app
        .client
        .post(app.url("/api/v1/auth/refresh"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
}

/// Polls `check` until it is true; returns how long it took (panics after `limit`).
async fn within(limit: Duration, mut check: impl AsyncFnMut() -> bool) -> Duration {
    let start = Instant::now();
    while !check().await {
        assert!(start.elapsed() < limit, "not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    start.elapsed()
}

#[tokio::test]
async fn revocation_reaches_another_server_process_within_five_seconds() {
    let a = spawn_app().await;
    let b = spawn_app_sharing(&a).await;
    a.user("two@example.com").await;
    let login = rest_login(&a, "two@example.com").await;
    let access = text(&login, "access_token").to_owned();
    assert_eq!(me(&b, &access).await, 200, "B caches the open session");
    let res = a
        .client
        .post(a.url("/api/v1/auth/logout"))
        .bearer_auth(&access);
    assert_eq!(res.send().await.unwrap().status(), 204);
    let took = within(Duration::from_secs(5), async || {
        me(&b, &access).await == 401
    })
    .await;
    eprintln!("revocation seen by the second process after {took:?}");
    if a.db.is_postgres() {
        assert!(
            took < Duration::from_secs(2),
            "notified, not waited out: {took:?}"
        );
    }

    // A deleted user (no notification at all): the TTL bounds it.
    let other = rest_login(&a, "two@example.com").await;
    let access = text(&other, "access_token").to_owned();
    assert_eq!(me(&b, &access).await, 200);
    a.db_handle
        .conn()
        .execute_unprepared("DELETE FROM users WHERE email = 'two@example.com'")
        .await
        .unwrap();
    within(Duration::from_secs(6), async || {
        me(&b, &access).await == 401
    })
    .await;
    b.stop().await.unwrap();
}

#[tokio::test]
async fn a_revoked_session_closes_its_websocket() {
    let app = spawn_app().await;
    app.user("ws@example.com").await;
    let login = rest_login(&app, "ws@example.com").await;
    let access = text(&login, "access_token").to_owned();
    let mut request = format!("ws://{}/graphql/ws", app.addr)
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let init = json!({ "type": "connection_init", "payload": { "Authorization": format!("Bearer {access}") } });
    socket.send(Message::text(init.to_string())).await.unwrap();
    let ack = socket.next().await.unwrap().unwrap();
    assert!(ack.to_text().unwrap().contains("connection_ack"), "{ack:?}");

    let res = app
        .client
        .post(app.url("/api/v1/auth/logout"))
        .bearer_auth(&access);
    assert_eq!(res.send().await.unwrap().status(), 204);
    let start = Instant::now();
    let code = loop {
        let frame = tokio::time::timeout(Duration::from_secs(5), socket.next())
            .await
            .expect("the socket closes within 5 s");
        match frame {
            Some(Ok(Message::Close(frame))) => break frame.map(|f| u16::from(f.code)),
            Some(Ok(_)) => {}
            _ => break None,
        }
    };
    assert_eq!(code, Some(4401));
    assert!(start.elapsed() < Duration::from_secs(5));

    // And a revoked token cannot open a new one.
    let mut request = format!("ws://{}/graphql/ws", app.addr)
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    socket.send(Message::text(init.to_string())).await.unwrap();
    let reply = tokio::time::timeout(Duration::from_secs(5), socket.next())
        .await
        .unwrap();
    assert!(
        !matches!(&reply, Some(Ok(Message::Text(t))) if t.contains("connection_ack")),
        "{reply:?}"
    );
}

#[tokio::test]
async fn users_list_and_revoke_their_own_sessions_only() {
    let app = spawn_app().await;
    app.user("dev@example.com").await;
    let intruder = app.user("other@example.com").await;
    let laptop = rest_login(&app, "dev@example.com").await;
    let phone = rest_login(&app, "dev@example.com").await;
    let access = text(&laptop, "access_token").to_owned();

    let res = app
        .client
        .get(app.url("/api/v1/auth/sessions"))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let page: Value = res.json().await.unwrap();
    // `user()` signed in once too: three sessions, newest first.
    assert_eq!(page["total"], 3, "{page}");
    let items = page["items"].as_array().unwrap();
    assert_eq!(items[0]["id"], phone["session_id"]);
    assert_eq!(items[0]["current"], false);
    assert_eq!(items[1]["id"], laptop["session_id"]);
    assert_eq!(items[1]["current"], true);
    assert_eq!(items[1]["device_label"], "test laptop");
    assert_eq!(items[1]["ip"], "127.0.0.1");

    // Anonymous: 401. Another user: the session does not exist for them.
    let url = app.url(&format!(
        "/api/v1/auth/sessions/{}",
        text(&phone, "session_id")
    ));
    assert_eq!(app.client.delete(&url).send().await.unwrap().status(), 401);
    let res = app.client.delete(&url).bearer_auth(&intruder).send().await;
    assert_eq!(res.unwrap().status(), 404);
    assert_eq!(me(&app, text(&phone, "access_token")).await, 200);

    // The owner ends the phone's session.
    let res = app.client.delete(&url).bearer_auth(&access).send().await;
    assert_eq!(res.unwrap().status(), 204);
    assert_eq!(me(&app, text(&phone, "access_token")).await, 401);
    let again = app.client.delete(&url).bearer_auth(&access).send().await;
    assert_eq!(again.unwrap().status(), 404, "already ended");

    // Everywhere else: only the current session survives.
    let tablet = rest_login(&app, "dev@example.com").await;
    let res = app
        .client
        .delete(app.url("/api/v1/auth/sessions"))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert_eq!(me(&app, text(&tablet, "access_token")).await, 401);
    assert_eq!(me(&app, &access).await, 200);
    let body = app
        .gql(
            "{ sessions { totalCount nodes { id current } } }",
            json!({}),
            Some(&access),
        )
        .await;
    assert_eq!(body["data"]["sessions"]["totalCount"], 1, "{body}");
    assert_eq!(body["data"]["sessions"]["nodes"][0]["current"], true);
    let body = app
        .gql("{ sessions { totalCount } }", json!({}), None)
        .await;
    assert_eq!(
        crate::common::error_code(&body),
        "UNAUTHENTICATED",
        "{body}"
    );
}
