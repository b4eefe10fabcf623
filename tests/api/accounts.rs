use serde_json::json;

use crate::common::{error_code, spawn_app};

const VIEWER: &str = "{ viewer { id email displayName role createdAt } }";

#[tokio::test]
async fn register_login_viewer_round_trip() {
    let app = spawn_app().await;
    let body = app
        .register("Ada@Example.com", "correct horse battery", "Ada")
        .await;
    let user = &body["data"]["register"]["user"];
    assert_eq!(user["email"], "ada@example.com", "{body}");
    assert_eq!(user["role"], "USER");

    // Emails compare case-insensitively at login too.
    let token = app.login("ADA@example.COM", "correct horse battery").await;
    let body = app.gql(VIEWER, json!({}), Some(&token)).await;
    assert_eq!(body["data"]["viewer"]["id"], user["id"], "{body}");
    assert_eq!(body["data"]["viewer"]["displayName"], "Ada");

    // Anonymous: no viewer, no error.
    let body = app.gql(VIEWER, json!({}), None).await;
    assert_eq!(body["data"]["viewer"], serde_json::Value::Null);
    assert!(body["errors"].is_null(), "{body}");
}

#[tokio::test]
async fn duplicate_emails_conflict_whatever_their_case() {
    let app = spawn_app().await;
    app.register("grace@example.com", "password-one", "Grace")
        .await;
    let body = app
        .register("GRACE@example.com", "password-two", "Grace 2")
        .await;
    assert_eq!(error_code(&body), "CONFLICT", "{body}");
}

#[tokio::test]
async fn invalid_registration_reports_every_field() {
    let app = spawn_app().await;
    let body = app.register("not-an-email", "short", "  ").await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    let fields = body["errors"][0]["extensions"]["fields"]
        .as_array()
        .expect("fields");
    let paths: Vec<String> = fields.iter().map(|f| f["path"].to_string()).collect();
    assert_eq!(
        paths,
        [
            r#"["input","email"]"#,
            r#"["input","password"]"#,
            r#"["input","displayName"]"#
        ],
        "{body}"
    );
}

#[tokio::test]
async fn wrong_password_and_unknown_email_look_the_same() {
    let app = spawn_app().await;
    app.register("lin@example.com", "the right password", "Lin")
        .await;
    let login = "mutation($i: LoginInput!) { login(input: $i) { accessToken } }";
    let wrong = app
        .gql(
            login,
            json!({"i": {"email": "lin@example.com", "password": "the wrong password"}}),
            None,
        )
        .await;
    let unknown = app
        .gql(
            login,
            json!({"i": {"email": "nobody@example.com", "password": "whatever123"}}),
            None,
        )
        .await;
    assert_eq!(error_code(&wrong), "UNAUTHENTICATED", "{wrong}");
    assert_eq!(
        wrong["errors"][0]["message"],
        unknown["errors"][0]["message"]
    );
    assert_eq!(wrong["data"], serde_json::Value::Null);
}

#[tokio::test]
async fn tampered_malformed_and_expired_tokens_get_401() {
    let app = spawn_app().await;
    app.register("kim@example.com", "kims password", "Kim")
        .await;
    let token = app.login("kim@example.com", "kims password").await;

    // Flip a character in the signature.
    let mut tampered = token.clone().into_bytes();
    let last = tampered.len() - 2;
    tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();

    // Correctly signed with the server's secret, but expired an hour ago.
    let now = chrono::Utc::now().timestamp();
    let claims = json!({ "sub": uuid::Uuid::now_v7(), "role": "admin", "sid": uuid::Uuid::now_v7(),
                         "iat": now - 7200, "exp": now - 3600, "iss": "neoforge" });
    let expired = jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(app.settings.jwt_secret.as_bytes()),
    )
    .unwrap();

    for bad in [tampered.as_str(), "not-a-jwt", expired.as_str()] {
        let res = app.graphql(VIEWER, json!({}), Some(bad)).await;
        assert_eq!(res.status(), 401, "token {bad}");
        assert!(
            res.headers()["www-authenticate"]
                .to_str()
                .unwrap()
                .starts_with("Bearer")
        );
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(error_code(&body), "UNAUTHENTICATED");
    }
    let res = app
        .client
        .post(app.url("/graphql"))
        .header("authorization", "Basic abc")
        .json(&json!({"query": VIEWER}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
}

#[tokio::test]
async fn email_is_private_to_the_user() {
    let app = spawn_app().await;
    app.register("owner@example.com", "owner password", "Owner")
        .await;
    let token = app.login("owner@example.com", "owner password").await;
    let body = app.gql(VIEWER, json!({}), Some(&token)).await;
    assert_eq!(body["data"]["viewer"]["email"], "owner@example.com");
}
