//! The whole TOTP life cycle over REST and GraphQL, with codes computed by the test itself: enrol,
//! enable, sign in through the challenge, replay refused, recovery codes once each, disable; and
//! the audit trail it leaves.

use std::time::{SystemTime, UNIX_EPOCH};

use reqwest::StatusCode;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};
use totp_rs::{Algorithm, Builder, Secret};

use neoforge::security::RateQuota;

use crate::common::{TestApp, error_code, spawn_app_with};

const PASSWORD: &str = "a test password";

/// What an authenticator app computes from the enrolment's secret.
/// The current TOTP step (30 s). A test takes it once and derives every code from it, so a
/// step boundary passing mid-test cannot turn "the next step's code" into the one after.
fn current_step() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        / 30
}

/// The code of `secret` for TOTP step `step`.
fn code_at(secret: &str, step: u64) -> String {
    let totp = Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_step_duration(30)
        .with_secret(Secret::try_from_base32(secret).expect("base32 secret"))
        .build()
        .unwrap();
    totp.generate(step * 30).to_string()
}

async fn post(app: &TestApp, path: &str, token: Option<&str>, body: Value) -> (StatusCode, Value) {
    let mut req = app.client.post(app.url(path)).json(&body);
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    let body = res.json().await.unwrap_or(Value::Null);
    (status, body)
}

async fn login(app: &TestApp, email: &str, code: Option<&str>) -> (StatusCode, Value) {
    let mut body = json!({ "email": email, "password": PASSWORD });
    if let Some(code) = code {
        body["totp_code"] = json!(code);
    }
    post(app, "/api/v1/auth/login", None, body).await
}

#[tokio::test]
async fn two_factor_life_cycle() {
    // This test presents more wrong codes than the default budget allows in an hour; the
    // budget has its own test below.
    let app = spawn_app_with(|s| {
        s.rate_limit_account = RateQuota::per(100, std::time::Duration::from_secs(3600));
    })
    .await;
    let email = "otp@example.com";
    let token = app.user(email).await;

    // Anonymous callers cannot enrol.
    let (status, _) = post(&app, "/api/v1/auth/2fa/setup", None, json!({})).await;
    assert_eq!(status, 401);

    let (status, setup) = post(&app, "/api/v1/auth/2fa/setup", Some(&token), json!({})).await;
    assert_eq!(status, 200, "{setup}");
    let secret = setup["secret"].as_str().unwrap().to_owned();
    let step = current_step();
    let uri = setup["otpauth_uri"].as_str().unwrap();
    assert!(
        uri.starts_with("otpauth://totp/NeoForge:otp%40example.com?"),
        "{uri}"
    );
    assert!(uri.contains(&format!("secret={secret}")), "{uri}");
    assert!(
        setup["qr_code"]
            .as_str()
            .unwrap()
            .starts_with("data:image/svg+xml;base64,")
    );
    // The secret is stored encrypted, not as the base32 the app got.
    let stored = app
        .db_handle
        .conn()
        .query_one_raw(sea_orm::Statement::from_string(
            app.db_handle.backend(),
            "SELECT totp_secret FROM users WHERE email = 'otp@example.com'",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<String>("", "totp_secret")
        .unwrap();
    assert!(
        stored.starts_with("v1:") && !stored.contains(&secret),
        "{stored}"
    );

    // Until enabled, sign-in needs no code.
    assert_eq!(login(&app, email, None).await.0, 200);

    // A wrong code does not enable it.
    let (status, body) = post(
        &app,
        "/api/v1/auth/2fa/enable",
        Some(&token),
        json!({ "code": "000000" }),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    let now_code = code_at(&secret, step);
    let (status, body) = post(
        &app,
        "/api/v1/auth/2fa/enable",
        Some(&token),
        json!({ "code": now_code }),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let recovery: Vec<String> = body["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(recovery.len(), 10);

    // The password alone now earns a challenge, not tokens.
    let (status, problem) = login(&app, email, None).await;
    assert_eq!(status, 401, "{problem}");
    assert_eq!(problem["totp_required"], true);
    let challenge = problem["challenge"].as_str().unwrap().to_owned();
    assert!(problem.get("access_token").is_none());

    // The code that enabled 2FA was used: replaying it is refused.
    let (status, _) = post(
        &app,
        "/api/v1/auth/2fa/verify",
        None,
        json!({ "challenge": challenge, "code": now_code }),
    )
    .await;
    assert_eq!(status, 401, "a code is accepted once");

    // The next step's code (within the one-step skew) answers the challenge, once.
    let next = code_at(&secret, step + 1);
    let (status, tokens) = post(
        &app,
        "/api/v1/auth/2fa/verify",
        None,
        json!({ "challenge": challenge, "code": next, "device": "phone" }),
    )
    .await;
    assert_eq!(status, 200, "{tokens}");
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    assert!(tokens["refresh_token"].is_string());
    let (status, _) = post(
        &app,
        "/api/v1/auth/2fa/verify",
        None,
        json!({ "challenge": challenge, "code": code_at(&secret, step + 1) }),
    )
    .await;
    assert_eq!(status, 401, "a challenge works once");
    // ... and that code cannot sign in again either, even in one step with the password.
    assert_eq!(login(&app, email, Some(&next)).await.0, 401);

    // Recovery codes: each works once, in place of a TOTP code.
    let (status, body) = login(&app, email, Some(&recovery[0])).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(login(&app, email, Some(&recovery[0])).await.0, 401);
    let upper = recovery[1].to_uppercase();
    assert_eq!(
        login(&app, email, Some(&upper)).await.0,
        200,
        "case-insensitive"
    );

    // GraphQL says the same: UNAUTHENTICATED with the challenge in the extensions.
    let body = app
        .gql(
            "mutation($i: LoginInput!) { login(input: $i) { accessToken } }",
            json!({ "i": { "email": email, "password": PASSWORD } }),
            None,
        )
        .await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
    assert_eq!(body["errors"][0]["extensions"]["totpRequired"], true);
    let challenge = body["errors"][0]["extensions"]["challenge"]
        .as_str()
        .unwrap();
    // Five wrong codes void the challenge: the sixth try fails even with a good code.
    for _ in 0..5 {
        let body = app
            .gql(
                "mutation($i: CompleteLoginInput!) { completeLogin(input: $i) { accessToken } }",
                json!({ "i": { "challenge": challenge, "code": "123456" } }),
                None,
            )
            .await;
        assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
    }
    let body = app
        .gql(
            "mutation($i: CompleteLoginInput!) { completeLogin(input: $i) { accessToken } }",
            json!({ "i": { "challenge": challenge, "code": recovery[2] } }),
            None,
        )
        .await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("challenge"),
        "{body}"
    );

    // New recovery codes replace the old ones.
    let (status, body) = post(
        &app,
        "/api/v1/auth/2fa/recovery-codes",
        Some(&access),
        json!({ "code": code_at(&secret, step + 1) }),
    )
    .await;
    assert_eq!(
        status, 422,
        "the step of that code was already used: {body}"
    );
    let viewer = app
        .gql("{ viewer { twoFactorEnabled } }", json!({}), Some(&access))
        .await;
    assert_eq!(viewer["data"]["viewer"]["twoFactorEnabled"], true);

    // Disabling needs the password and a code.
    let (status, _) = post(
        &app,
        "/api/v1/auth/2fa/disable",
        Some(&access),
        json!({ "password": "not the password", "code": recovery[3] }),
    )
    .await;
    assert_eq!(status, 422);
    let (status, body) = post(
        &app,
        "/api/v1/auth/2fa/disable",
        Some(&access),
        json!({ "password": PASSWORD, "code": recovery[3] }),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["two_factor_enabled"], false);
    assert_eq!(login(&app, email, None).await.0, 200);

    // The audit log tells the story.
    let admin = app
        .user_with_role("auditor@example.com", neoforge::entity::users::Role::Admin)
        .await;
    let res = app
        .client
        .get(app.url("/api/v1/admin/audit-events?action=2fa.&page_size=100"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let page: Value = res.json().await.unwrap();
    let mut actions: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    actions.sort_unstable();
    actions.dedup();
    assert_eq!(
        actions,
        [
            "2fa.disabled",
            "2fa.enabled",
            "2fa.recovery_code_used",
            "2fa.setup"
        ],
        "{page}"
    );
    let failed = app
        .client
        .get(app.url("/api/v1/admin/audit-events?action=login.failed"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    let failed: Value = failed.json().await.unwrap();
    assert!(failed["total"].as_u64().unwrap() >= 7, "{failed}");
}

#[tokio::test]
async fn wrong_codes_spend_a_budget_of_their_own() {
    let app = spawn_app_with(|s| {
        s.rate_limit_account = RateQuota::per(3, std::time::Duration::from_secs(3600));
    })
    .await;
    let token = app.user("guess@example.com").await;
    let (_, setup) = post(&app, "/api/v1/auth/2fa/setup", Some(&token), json!({})).await;
    let secret = setup["secret"].as_str().unwrap().to_owned();
    let step = current_step();
    for _ in 0..3 {
        let (status, _) = post(
            &app,
            "/api/v1/auth/2fa/enable",
            Some(&token),
            json!({ "code": "000000" }),
        )
        .await;
        assert_eq!(status, 422);
    }
    // Spent: even the right code waits now, and says for how long.
    let res = app
        .client
        .post(app.url("/api/v1/auth/2fa/enable"))
        .bearer_auth(&token)
        .json(&json!({ "code": code_at(&secret, step) }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429);
    assert!(res.headers().contains_key("retry-after"));
    // The password's budget is untouched: the account still signs in.
    assert_eq!(login(&app, "guess@example.com", None).await.0, 200);
}

#[tokio::test]
async fn one_code_presented_concurrently_signs_in_once() {
    let app = spawn_app_with(|_| {}).await;
    let email = "race2fa@example.com";
    let token = app.user(email).await;
    let (_, setup) = post(&app, "/api/v1/auth/2fa/setup", Some(&token), json!({})).await;
    let secret = setup["secret"].as_str().unwrap().to_owned();
    let step = current_step();
    let (status, _) = post(
        &app,
        "/api/v1/auth/2fa/enable",
        Some(&token),
        json!({ "code": code_at(&secret, step) }),
    )
    .await;
    assert_eq!(status, 200);
    let code = code_at(&secret, step + 1);
    let attempts: Vec<_> = (0..6)
        .map(|_| {
            let (client, url) = (app.client.clone(), app.url("/api/v1/auth/login"));
            let body = json!({ "email": email, "password": PASSWORD, "totp_code": code });
            tokio::spawn(async move { client.post(url).json(&body).send().await.unwrap().status() })
        })
        .collect();
    let mut statuses = Vec::new();
    for attempt in attempts {
        statuses.push(attempt.await.unwrap());
    }
    let signed_in = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    assert_eq!(signed_in, 1, "{statuses:?}");
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::OK || *s == StatusCode::UNAUTHORIZED),
        "{statuses:?}"
    );
}
