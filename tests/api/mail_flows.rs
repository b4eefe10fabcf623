//! Password change, reset and email verification, with the mail received by a real SMTP server on
//! loopback (`common::smtp`): the link's token works once.

use std::time::Duration;

use reqwest::StatusCode;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

use crate::common::smtp::SmtpPeer;
use crate::common::{TestApp, spawn_app_with};

const PASSWORD: &str = "a test password";
const MAIL_WITHIN: Duration = Duration::from_secs(15);

async fn app_with_mail() -> (TestApp, SmtpPeer) {
    let smtp = SmtpPeer::start().await;
    let url = smtp.url();
    let app = spawn_app_with(|s| s.smtp_url = Some(url)).await;
    (app, smtp)
}

async fn post(app: &TestApp, path: &str, token: Option<&str>, body: Value) -> (StatusCode, Value) {
    let mut req = app.client.post(app.url(path)).json(&body);
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn sign_in(app: &TestApp, email: &str, password: &str) -> (StatusCode, Value) {
    let body = json!({ "email": email, "password": password });
    post(app, "/api/v1/auth/login", None, body).await
}

async fn me(app: &TestApp, access: &str) -> StatusCode {
    let res = app
        .client
        .get(app.url("/api/v1/auth/me"))
        .bearer_auth(access);
    res.send().await.unwrap().status()
}

async fn outbox_count(app: &TestApp) -> usize {
    let rows = app
        .db_handle
        .conn()
        .query_all_raw(sea_orm::Statement::from_string(
            app.db_handle.backend(),
            "SELECT id FROM outbox_emails",
        ))
        .await
        .unwrap();
    rows.len()
}

#[tokio::test]
async fn registration_mails_a_verification_link_that_works_once() {
    let (app, smtp) = app_with_mail().await;
    let (status, user) = post(
        &app,
        "/api/v1/auth/register",
        None,
        json!({ "email": "Verify@Example.com", "password": PASSWORD, "display_name": "Vera" }),
    )
    .await;
    assert_eq!(status, 201, "{user}");
    let mail = smtp.mail_to("verify@example.com", MAIL_WITHIN).await;
    assert!(
        mail.data
            .contains("Subject: Confirm your NeoForge email address"),
        "{}",
        mail.data
    );
    assert!(mail.data.contains("/verify-email?token="), "{}", mail.data);
    assert_eq!(mail.from, "no-reply@neoforge.localhost");
    let token = mail.token();
    assert_eq!(token.len(), 43, "{token}");

    let (_, tokens) = sign_in(&app, "verify@example.com", PASSWORD).await;
    let access = tokens["access_token"].as_str().unwrap();
    let viewer = "{ viewer { emailVerified } }";
    let body = app.gql(viewer, json!({}), Some(access)).await;
    assert_eq!(body["data"]["viewer"]["emailVerified"], false);

    let (status, body) = post(
        &app,
        "/api/v1/auth/email/verify",
        None,
        json!({ "token": token }),
    )
    .await;
    assert_eq!(status, 204, "{body}");
    let body = app.gql(viewer, json!({}), Some(access)).await;
    assert_eq!(body["data"]["viewer"]["emailVerified"], true);
    // The second use of the link is refused.
    let (status, problem) = post(
        &app,
        "/api/v1/auth/email/verify",
        None,
        json!({ "token": token }),
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["errors"][0]["loc"], json!(["body", "token"]));
    // Verified: asking for another link is a conflict.
    let (status, _) = post(
        &app,
        "/api/v1/auth/email/verify-request",
        Some(access),
        json!({}),
    )
    .await;
    assert_eq!(status, 409);
    // The body of a sent message is not kept (it held a single-use link).
    let rows = app
        .db_handle
        .conn()
        .query_all_raw(sea_orm::Statement::from_string(
            app.db_handle.backend(),
            "SELECT body FROM outbox_emails WHERE sent_at IS NOT NULL",
        ))
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].try_get::<String>("", "body").unwrap(), "");
}

#[tokio::test]
async fn password_reset_by_mail_works_once_and_ends_every_session() {
    let (app, smtp) = app_with_mail().await;
    let email = "reset@example.com";
    app.user(email).await;
    let (_, before) = sign_in(&app, email, PASSWORD).await;
    let old_access = before["access_token"].as_str().unwrap().to_owned();
    let old_refresh = before["refresh_token"].as_str().unwrap().to_owned();

    // Unknown and known addresses get the same answer; only the known one gets mail.
    let (status, body) = post(
        &app,
        "/api/v1/auth/password/reset-request",
        None,
        json!({ "email": "nobody@example.com" }),
    )
    .await;
    assert_eq!((status, body), (StatusCode::NO_CONTENT, Value::Null));
    let (status, body) = post(
        &app,
        "/api/v1/auth/password/reset-request",
        None,
        json!({ "email": "RESET@example.com" }),
    )
    .await;
    assert_eq!((status, body), (StatusCode::NO_CONTENT, Value::Null));
    let mail = smtp.mail_to(email, MAIL_WITHIN).await;
    assert!(
        mail.data.contains("/reset-password?token="),
        "{}",
        mail.data
    );
    assert!(
        smtp.received()
            .iter()
            .all(|m| m.to != ["nobody@example.com"])
    );
    assert_eq!(
        outbox_count(&app).await,
        1,
        "nothing queued for the unknown address"
    );

    let new_password = "a brand new password";
    let (status, problem) = post(
        &app,
        "/api/v1/auth/password/reset",
        None,
        json!({ "token": mail.token(), "new_password": "short" }),
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(problem["errors"][0]["loc"], json!(["body", "new_password"]));
    let (status, body) = post(
        &app,
        "/api/v1/auth/password/reset",
        None,
        json!({ "token": mail.token(), "new_password": new_password }),
    )
    .await;
    assert_eq!(status, 204, "{body}");
    // The link's second use is refused.
    let (status, _) = post(
        &app,
        "/api/v1/auth/password/reset",
        None,
        json!({ "token": mail.token(), "new_password": "yet another password" }),
    )
    .await;
    assert_eq!(status, 422);

    // Every earlier session is over; the old password no longer works, the new one does.
    assert_eq!(me(&app, &old_access).await, 401);
    let res = post(
        &app,
        "/api/v1/auth/refresh",
        None,
        json!({ "refresh_token": old_refresh }),
    )
    .await;
    assert_eq!(res.0, 401);
    assert_eq!(sign_in(&app, email, PASSWORD).await.0, 401);
    assert_eq!(sign_in(&app, email, new_password).await.0, 200);
}

#[tokio::test]
async fn changing_the_password_ends_the_other_sessions_only() {
    let (app, _smtp) = app_with_mail().await;
    let email = "change@example.com";
    app.user(email).await;
    let (_, laptop) = sign_in(&app, email, PASSWORD).await;
    let (_, phone) = sign_in(&app, email, PASSWORD).await;
    let laptop = laptop["access_token"].as_str().unwrap().to_owned();
    let phone = phone["access_token"].as_str().unwrap().to_owned();

    let (status, problem) = post(
        &app,
        "/api/v1/auth/password/change",
        Some(&laptop),
        json!({ "current_password": "wrong password", "new_password": "a new password" }),
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(
        problem["errors"][0]["loc"],
        json!(["body", "current_password"])
    );
    let (status, _) = post(
        &app,
        "/api/v1/auth/password/change",
        None,
        json!({ "current_password": PASSWORD, "new_password": "a new password" }),
    )
    .await;
    assert_eq!(status, 401);

    let (status, body) = post(
        &app,
        "/api/v1/auth/password/change",
        Some(&laptop),
        json!({ "current_password": PASSWORD, "new_password": "a new password" }),
    )
    .await;
    assert_eq!(status, 204, "{body}");
    assert_eq!(me(&app, &laptop).await, 200, "this session stays");
    assert_eq!(me(&app, &phone).await, 401, "the other one ended");
    assert_eq!(sign_in(&app, email, "a new password").await.0, 200);
}

#[tokio::test]
async fn mail_is_retried_until_the_server_takes_it() {
    let (app, smtp) = app_with_mail().await;
    app.user("retry@example.com").await;
    smtp.refuse(true);
    let body = json!({ "email": "retry@example.com" });
    let (status, _) = post(&app, "/api/v1/auth/password/reset-request", None, body).await;
    assert_eq!(status, 204, "the request does not wait for the mail server");
    // The first attempt fails and is recorded...
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let rows = app
            .db_handle
            .conn()
            .query_all_raw(sea_orm::Statement::from_string(
                app.db_handle.backend(),
                "SELECT attempts FROM outbox_emails WHERE attempts > 0 AND sent_at IS NULL",
            ))
            .await
            .unwrap();
        if !rows.is_empty() {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no failed attempt recorded"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // ... and once the server is back, the backoff's retry (10 s) delivers it.
    smtp.refuse(false);
    let mail = smtp
        .mail_to("retry@example.com", Duration::from_secs(30))
        .await;
    assert!(mail.data.contains("/reset-password?token="));
}

#[tokio::test]
async fn a_reset_link_used_concurrently_works_once() {
    let (app, smtp) = app_with_mail().await;
    let email = "twice@example.com";
    app.user(email).await;
    let body = json!({ "email": email });
    let (status, _) = post(&app, "/api/v1/auth/password/reset-request", None, body).await;
    assert_eq!(status, 204);
    let token = smtp.mail_to(email, MAIL_WITHIN).await.token();
    let uses: Vec<_> = (0..4)
        .map(|i| {
            let (client, url) = (app.client.clone(), app.url("/api/v1/auth/password/reset"));
            let body = json!({ "token": token, "new_password": format!("new password {i}") });
            tokio::spawn(async move { client.post(url).json(&body).send().await.unwrap().status() })
        })
        .collect();
    let mut statuses = Vec::new();
    for one in uses {
        statuses.push(one.await.unwrap());
    }
    let done = statuses
        .iter()
        .filter(|s| **s == StatusCode::NO_CONTENT)
        .count();
    assert_eq!(done, 1, "{statuses:?}");
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::NO_CONTENT || *s == StatusCode::UNPROCESSABLE_ENTITY),
        "{statuses:?}"
    );
}
