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
        s.totp_key = "a-production-totp-key-of-at-least-32-bytes".into();
        s.smtp_url = Some("smtp://127.0.0.1:2525".into());
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

/// POST with `Accept: application/graphql-response+json`; returns (status, body).
async fn post_gql(
    app: &crate::common::TestApp,
    accept: &str,
    body: serde_json::Value,
) -> (u16, serde_json::Value) {
    let res = app
        .client
        .post(app.url("/graphql"))
        .header("accept", accept)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap())
}

fn assert_request_error(body: &serde_json::Value, needle: &str, what: &str) {
    assert!(
        body.get("data").is_none(),
        "{what}: a request error has no data entry: {body}"
    );
    let errors = body["errors"].as_array().expect("errors");
    assert!(
        errors
            .iter()
            .all(|e| e["extensions"]["code"] == "BAD_USER_INPUT" && e.get("path").is_none()),
        "{what}: {body}"
    );
    assert!(
        errors
            .iter()
            .any(|e| e["message"].as_str().unwrap_or_default().contains(needle)),
        "{what}: expected a message containing {needle:?}: {body}"
    );
}

#[tokio::test]
async fn variable_coercion_failures_are_request_errors() {
    let app = spawn_app().await;
    let login = "mutation($i: LoginInput!) { login(input: $i) { accessToken } }";
    let register = "mutation($i: RegisterInput!) { register(input: $i) { user { id } } }";
    let cases = [
        (
            login,
            json!({}),
            "was not provided",
            "missing required variable",
        ),
        (
            login,
            json!({ "i": null }),
            "must not be null",
            "null for non-null",
        ),
        (
            login,
            json!({ "i": 5 }),
            "found an integer",
            "scalar for an input object",
        ),
        (
            login,
            json!({ "i": { "email": 5, "password": "correct horse" } }),
            "\"i.email\"",
            "wrong scalar type",
        ),
        (
            login,
            json!({ "i": { "email": "a@example.com" } }),
            "password",
            "missing required input field",
        ),
        (
            register,
            json!({ "i": { "email": "v@example.com", "password": "long enough", "displayName": "V", "admin": true } }),
            "Field \"admin\" is not defined",
            "unknown input field",
        ),
        (
            "query($v: Visibility) { projects(filter: { visibility: $v }) { totalCount } }",
            json!({ "v": "SECRET" }),
            "does not exist in \"Visibility\" enum",
            "unknown enum value",
        ),
        (
            "query($n: Int) { projects(first: $n) { totalCount } }",
            json!({ "n": "20" }),
            "found a string",
            "string for Int",
        ),
        (
            "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
            json!({ "ids": ["a", null] }),
            "\"ids[1]\"",
            "null inside a list of non-null",
        ),
    ];
    for (query, variables, needle, what) in cases {
        let request = json!({ "query": query, "variables": variables });
        let (status, body) = post_gql(&app, GQL_RESPONSE, request.clone()).await;
        assert_eq!(status, 400, "{what}: {body}");
        assert_request_error(&body, needle, what);
        // Legacy `application/json`: the same body, with 200.
        let (status, body) = post_gql(&app, "application/json", request).await;
        assert_eq!(status, 200, "{what}: {body}");
        assert_request_error(&body, needle, what);
    }

    // Nothing ran: the rejected registration did not create the account.
    let body = app.register("v@example.com", "long enough", "V").await;
    assert!(body["errors"].is_null(), "{body}");

    // Valid variables still run; a single value coerces to a one-item list.
    let (status, body) = post_gql(
        &app,
        GQL_RESPONSE,
        json!({ "query": "query($ids: [ID!]!) { nodes(ids: $ids) { id } }", "variables": { "ids": "nope" } }),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["nodes"], json!([null]), "{body}");
}

#[tokio::test]
async fn malformed_parameters_are_400_and_null_parameters_are_absent() {
    let app = spawn_app().await;
    for accept in [GQL_RESPONSE, "application/json"] {
        for (body, what) in [
            (json!({ "qeury": "{ __typename }" }), "missing query"),
            (json!({ "query": { "obj": "ect" } }), "object query"),
            (json!({ "query": false }), "boolean query"),
            (
                json!({ "query": "{ __typename }", "operationName": 5 }),
                "number operationName",
            ),
            (
                json!({ "query": "{ __typename }", "variables": [7] }),
                "array variables",
            ),
            (
                json!({ "query": "{ __typename }", "variables": "{}" }),
                "string variables",
            ),
            (
                json!({ "query": "{ __typename }", "extensions": "x" }),
                "string extensions",
            ),
            (json!([{ "query": "{ __typename }" }]), "a batch"),
        ] {
            let (status, res) = post_gql(&app, accept, body).await;
            assert_eq!(status, 400, "{accept}, {what}: {res}");
            assert!(res.get("data").is_none(), "{what}: {res}");
            assert_eq!(res["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
        }
        for param in ["variables", "operationName", "extensions"] {
            let (status, res) = post_gql(
                &app,
                accept,
                json!({ "query": "{ __typename }", param: null }),
            )
            .await;
            assert_eq!(status, 200, "{accept}, null {param}: {res}");
            assert!(res.get("errors").is_none(), "{res}");
            assert_eq!(res["data"]["__typename"], "QueryRoot");
        }
    }
    // A map of extensions is accepted (and ignored where no extension reads it).
    let (status, res) = post_gql(
        &app,
        GQL_RESPONSE,
        json!({ "query": "{ __typename }", "extensions": { "vendor": { "x": 1 } } }),
    )
    .await;
    assert_eq!(status, 200, "{res}");
    assert_eq!(res["data"]["__typename"], "QueryRoot");
}

#[tokio::test]
async fn request_bodies_in_utf8_json_with_a_charset_are_accepted() {
    let app = spawn_app().await;
    let send = |content_type: &'static str| {
        app.client
            .post(app.url("/graphql"))
            .header("content-type", content_type)
            .header("accept", GQL_RESPONSE)
            .body(r#"{"query":"{ __type(name: \"Run🏃Swim\") { name } }"}"#)
            .send()
    };
    for ct in [
        "application/json; charset=utf-8",
        "application/json;charset=UTF-8",
        "Application/JSON",
    ] {
        let res = send(ct).await.unwrap();
        assert_eq!(res.status(), 200, "{ct}");
        let body: serde_json::Value = res.json().await.unwrap();
        assert!(body["data"].is_object(), "{ct}: {body}");
    }
    assert_eq!(
        send("application/json; charset=utf-16")
            .await
            .unwrap()
            .status(),
        415
    );
    let res = app
        .client
        .post(app.url("/graphql"))
        .header("accept", GQL_RESPONSE)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 415, "no content type");
}

#[tokio::test]
async fn operation_name_selects_the_operation_to_run() {
    let app = spawn_app().await;
    let doc = r#"query A { __typename } query B { viewer { id } }
        mutation C { login(input: {email: "c@example.com", password: "whatever"}) { accessToken } }"#;
    let (status, body) = post_gql(
        &app,
        GQL_RESPONSE,
        json!({ "query": doc, "operationName": "A" }),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"], json!({ "__typename": "QueryRoot" }));
    let (status, body) = post_gql(
        &app,
        GQL_RESPONSE,
        json!({ "query": doc, "operationName": "B" }),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"], json!({ "viewer": null }));

    // Several operations and no name, or an unknown name: a request error.
    for body in [
        json!({ "query": doc }),
        json!({ "query": doc, "operationName": "Z" }),
    ] {
        let (status, res) = post_gql(&app, GQL_RESPONSE, body.clone()).await;
        assert_eq!(status, 400, "{body}: {res}");
        assert!(res.get("data").is_none(), "{res}");
        let (status, res) = post_gql(&app, "application/json", body).await;
        assert_eq!(status, 200);
        assert!(
            res.get("data").is_none() && res["errors"].is_array(),
            "{res}"
        );
    }

    // Over GET, the name decides whether it is a mutation (405) or a query.
    let get = |op: &'static str| {
        app.client
            .get(app.url("/graphql"))
            .header("accept", GQL_RESPONSE)
            .query(&[("query", doc), ("operationName", op)])
            .send()
    };
    let res = get("C").await.unwrap();
    assert_eq!(res.status(), 405);
    assert_eq!(res.headers()["allow"], "POST");
    let res = get("A").await.unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn get_speaks_graphql_response_json_too() {
    let app = spawn_app().await;
    let get = |params: Vec<(&'static str, &'static str)>| {
        app.client
            .get(app.url("/graphql"))
            .header("accept", GQL_RESPONSE)
            .query(&params)
            .send()
    };
    let res = get(vec![("query", "{ __typename }")]).await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with(GQL_RESPONSE)
    );
    assert!(
        res.headers()["vary"]
            .to_str()
            .unwrap()
            .to_ascii_lowercase()
            .contains("accept"),
        "the URL also serves the playground"
    );
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["data"]["__typename"], "QueryRoot");

    // Document errors are 400 under graphql-response+json.
    let res = get(vec![("query", "{ __typename")]).await.unwrap();
    assert_eq!(res.status(), 400);
    let res = get(vec![("query", "{ nope }")]).await.unwrap();
    assert_eq!(res.status(), 400);

    // `null` and empty parameters are absent; JSON-encoded variables and extensions work.
    let res = get(vec![
        (
            "query",
            "query($n: Int) { projects(first: $n) { totalCount } }",
        ),
        ("variables", r#"{"n": 5}"#),
        ("extensions", r#"{"vendor": {}}"#),
        ("operationName", ""),
    ])
    .await
    .unwrap();
    assert_eq!(res.status(), 200);
    let res = get(vec![
        ("query", "{ __typename }"),
        ("variables", "null"),
        ("extensions", "null"),
    ])
    .await
    .unwrap();
    assert_eq!(res.status(), 200);

    // Coercion failures and malformed parameters over GET.
    let res = get(vec![
        (
            "query",
            "query($n: Int!) { projects(first: $n) { totalCount } }",
        ),
        ("variables", "{}"),
    ])
    .await
    .unwrap();
    assert_eq!(res.status(), 400);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_request_error(&body, "was not provided", "GET missing variable");
    for bad in [("variables", "{not json"), ("extensions", "[1]")] {
        let res = get(vec![("query", "{ __typename }"), bad]).await.unwrap();
        assert_eq!(res.status(), 400, "{bad:?}");
    }
}

#[tokio::test]
async fn depth_complexity_and_alias_limits_answer_with_codes() {
    let app = spawn_app().await;
    // 40 aliases > 30.
    let aliases: String = (0..40).map(|i| format!("a{i}: viewer {{ id }} ")).collect();
    let body = app.gql(&format!("{{ {aliases} }}"), json!({}), None).await;
    assert_eq!(crate::common::error_code(&body), "BAD_USER_INPUT", "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("aliases")
    );

    // Deeper than 16 levels.
    let nested = "latestPosts { project { ".repeat(9);
    let closing = "} } ".repeat(9);
    let q = format!("{{ projects(first: 1) {{ nodes {{ {nested} id {closing} }} }} }}");
    let body = app.gql(&q, json!({}), None).await;
    assert_eq!(
        crate::common::error_code(&body),
        "BAD_USER_INPUT",
        "deep: {body}"
    );

    // Complexity: 100 projects × 100 tickets each.
    let fields = "nodes { id name description visibility createdAt updatedAt version viewerCanEdit openTicketCount postCount owner { id displayName role createdAt } latestPosts { id title body tags } }";
    let q = format!(
        "{{ a: projects(first: 100) {{ {fields} }} b: projects(first: 100) {{ {fields} }} c: projects(first: 100) {{ {fields} }} }}"
    );
    let q = q.as_str();
    let body = app.gql(q, json!({}), None).await;
    assert_eq!(
        crate::common::error_code(&body),
        "BAD_USER_INPUT",
        "complex: {body}"
    );
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("complex"),
        "{body}"
    );

    // A syntax error carries a code too.
    let body = app.gql("{ viewer {", json!({}), None).await;
    assert_eq!(crate::common::error_code(&body), "BAD_USER_INPUT", "{body}");
}
