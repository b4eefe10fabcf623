//! GraphQL-over-HTTP conformance of `/graphql`.

use serde_json::json;

use crate::common::spawn_app;

const GQL_RESPONSE: &str = "application/graphql-response+json";

#[tokio::test]
async fn accept_negotiation_picks_the_content_type() {
    let app = spawn_app().await;
    let post = |accept: Option<&'static str>| {
        let mut req = app
            .client
            .post(app.url("/graphql"))
            .json(&json!({ "query": "{ viewer { id } }" }));
        if let Some(a) = accept {
            req = req.header("accept", a);
        }
        req.send()
    };
    let res = post(None).await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let res = post(Some(GQL_RESPONSE)).await.unwrap();
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with(GQL_RESPONSE)
    );
    let res = post(Some("text/plain")).await.unwrap();
    assert_eq!(res.status(), 406);
}

#[tokio::test]
async fn request_errors_are_400_under_graphql_response_json_and_200_under_json() {
    let app = spawn_app().await;
    for (query, what) in [
        ("{ viewer { nope } }", "validation"),
        ("{ viewer {", "syntax"),
    ] {
        let send = |accept: &'static str| {
            app.client
                .post(app.url("/graphql"))
                .header("accept", accept)
                .json(&json!({ "query": query }))
                .send()
        };
        assert_eq!(send(GQL_RESPONSE).await.unwrap().status(), 400, "{what}");
        let res = send("application/json").await.unwrap();
        assert_eq!(res.status(), 200, "{what}");
        let body: serde_json::Value = res.json().await.unwrap();
        assert!(body["errors"].is_array(), "{what}: {body}");
        assert!(
            body.get("data").is_none(),
            "a request error has no data entry: {body}"
        );
    }
}

#[tokio::test]
async fn malformed_bodies_and_media_types_are_4xx_never_500() {
    let app = spawn_app().await;
    let raw = |ct: &'static str, body: &'static str| {
        app.client
            .post(app.url("/graphql"))
            .header("content-type", ct)
            .body(body)
            .send()
    };
    assert_eq!(
        raw("application/json", "{not json").await.unwrap().status(),
        400
    );
    assert_eq!(
        raw("application/json", "[1,2]").await.unwrap().status(),
        400
    );
    assert_eq!(
        raw("application/json", r#"{"query": 5}"#)
            .await
            .unwrap()
            .status(),
        400
    );
    assert_eq!(
        raw("text/plain", r#"{"query":"{ viewer { id } }"}"#)
            .await
            .unwrap()
            .status(),
        415
    );
    let huge = "x".repeat(2 * 1024 * 1024);
    let res = app
        .client
        .post(app.url("/graphql"))
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 413);
}

#[tokio::test]
async fn get_runs_queries_but_never_mutations() {
    let app = spawn_app().await;
    let res = app
        .client
        .get(app.url("/graphql"))
        .query(&[("query", "{ viewer { id } }")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["data"]["viewer"], serde_json::Value::Null);

    let mutation = r#"mutation { register(input: {email: "g@example.com", password: "long enough", displayName: "G"}) { user { id } } }"#;
    let res = app
        .client
        .get(app.url("/graphql"))
        .query(&[("query", mutation)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 405);
    assert_eq!(res.headers()["allow"], "POST");
    // Nothing was written: registering the same email over POST still works.
    let body = app.register("g@example.com", "long enough", "G").await;
    assert!(body["errors"].is_null(), "{body}");

    let res = app
        .client
        .get(app.url("/graphql"))
        .query(&[("query", "{ viewer { id } }"), ("variables", "[1]")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let res = app.client.get(app.url("/graphql")).send().await.unwrap();
    assert_eq!(res.status(), 400);
}

#[tokio::test]
async fn graphiql_is_served_to_browsers_in_development_only() {
    let app = spawn_app().await;
    let res = app
        .client
        .get(app.url("/graphql"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("graphiql"));

    let prod = crate::common::spawn_app_with(|s| {
        s.environment = neoforge::config::Environment::Production;
        s.jwt_secret = "a-production-secret-of-enough-length-0123456789".into();
    })
    .await;
    let res = prod
        .client
        .get(prod.url("/graphql"))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_ne!(res.status(), 200);
    let introspect = "{ __schema { queryType { name } } }";
    let body = app.gql(introspect, json!({}), None).await;
    assert_eq!(
        body["data"]["__schema"]["queryType"]["name"], "QueryRoot",
        "on in development: {body}"
    );
    let body = prod.gql(introspect, json!({}), None).await;
    assert!(
        body["data"]["__schema"].is_null(),
        "off in production: {body}"
    );
}
