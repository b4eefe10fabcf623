//! A document sent again is answered exactly as the first time: parsed once and kept, and,
//! once it passed full validation with variables that cannot change the verdict, not validated
//! again. Each test sends the same text at least twice and checks what a client would see on
//! the repeat.

use std::time::Duration;

use neoforge::security::RateQuota;
use serde_json::{Value, json};

use crate::common::{TestApp, error_code, spawn_app, spawn_app_with};

async fn project(app: &TestApp, token: &str, name: &str) -> String {
    let created = crate::rest::create_project(app, token, name, "public").await;
    created.json()["id"].as_str().expect("id").to_owned()
}

#[tokio::test]
async fn a_repeated_query_gets_the_same_answer_in_the_same_statements() {
    let app = spawn_app().await;
    let token = app.user("docs@example.com").await;
    let id = project(&app, &token, "repeat").await;
    let post = "mutation($i: CreateCommunityPostInput!) { createCommunityPost(input: $i) { communityPost { id } } }";
    app.gql(
        post,
        json!({ "i": { "title": "t", "body": "b", "projectId": id } }),
        Some(&token),
    )
    .await;
    // One root field per document: two root fields would race each other to the loaders'
    // caches, and the statement count would depend on which finished first.
    let one = "query One($id: ID!) { project(id: $id) { id name owner { id displayName } \
               openTicketCount postCount latestPosts { title author { displayName } } } }";
    let list = "{ projects(first: 5) { totalCount nodes { id owner { displayName } \
                openTicketCount postCount latestPosts { title } } } }";
    let mut answers = vec![];
    for _ in 0..3 {
        let one = app.gql(one, json!({ "id": id }), None).await;
        let before = app.statements();
        let list = app.gql(list, json!({}), None).await;
        answers.push((one, list, app.statements() - before));
    }
    assert!(
        app.documents.measured(one).is_some(),
        "an ID-only document keeps its verdict"
    );
    assert!(app.documents.measured(list).is_some());
    let metrics = app.metrics().await;
    let hits = metrics
        .lines()
        .find(|l| l.starts_with(r#"graphql_document_cache_total{result="hit"}"#))
        .and_then(|l| l.rsplit(' ').next()?.parse::<f64>().ok());
    assert!(hits >= Some(4.0), "{metrics}");
    let (one, list, statements) = &answers[0];
    assert!(
        one["errors"].is_null() && list["errors"].is_null(),
        "{one} {list}"
    );
    assert_eq!(one["data"]["project"]["postCount"], 1);
    assert_eq!(
        one["data"]["project"]["latestPosts"][0]["author"]["displayName"],
        one["data"]["project"]["owner"]["displayName"]
    );
    assert_eq!(
        list["data"]["projects"]["nodes"][0]["latestPosts"][0]["title"],
        "t"
    );
    // The page, its count, owners, open-ticket counts, post counts, latest posts.
    assert_eq!(*statements, 6);
    for (again_one, again_list, n) in &answers[1..] {
        assert_eq!(again_one, one);
        assert_eq!(again_list, list);
        assert_eq!(
            n, statements,
            "the repeat batches its relations the same way"
        );
    }
}

#[tokio::test]
async fn an_owner_id_costs_no_statement() {
    let app = spawn_app().await;
    let token = app.user("owner@example.com").await;
    let id = project(&app, &token, "owned").await;
    let count = |query: &'static str| {
        let app = &app;
        let id = id.clone();
        async move {
            let before = app.statements();
            let body = app.gql(query, json!({ "id": id }), None).await;
            assert!(body["errors"].is_null(), "{body}");
            (body, app.statements() - before)
        }
    };
    let (by_id, n) = count("query($id: ID!) { project(id: $id) { owner { id } } }").await;
    let (named, m) =
        count("query($id: ID!) { project(id: $id) { owner { id displayName } } }").await;
    assert_eq!(
        by_id["data"]["project"]["owner"]["id"],
        named["data"]["project"]["owner"]["id"]
    );
    assert_eq!(named["data"]["project"]["owner"]["displayName"], "owner");
    assert_eq!(
        (n, m),
        (1, 2),
        "the owner's row is read only for its other fields"
    );
}

#[tokio::test]
async fn a_repeated_keyed_mutation_is_marked_as_a_replay() {
    let app = spawn_app().await;
    let token = app.user("keyed@example.com").await;
    // Inline values and no variables: the repeat is not validated again.
    let create = r#"mutation { createProject(input: { name: "once" }, idempotencyKey: "doc-key-1") { project { id name } } }"#;
    let first = app.graphql(create, json!({}), Some(&token)).await;
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first: Value = first.json().await.unwrap();
    assert!(app.documents.measured(create).is_some());
    let again = app.graphql(create, json!({}), Some(&token)).await;
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["data"], first["data"]);
    assert_eq!(again["extensions"]["idempotentReplayed"], true, "{again}");
    let list = app
        .gql(
            "{ projects(first: 10) { totalCount } }",
            json!({}),
            Some(&token),
        )
        .await;
    assert_eq!(
        list["data"]["projects"]["totalCount"], 1,
        "one row for two sends"
    );
}

#[tokio::test]
async fn a_document_whose_variables_the_rules_read_is_validated_every_time() {
    let app = spawn_app().await;
    let admin = app
        .user_with_role("admin@example.com", neoforge::entity::users::Role::Admin)
        .await;
    let query = "query($since: DateTime) { auditEvents(first: 1, filter: { since: $since }) { totalCount } }";
    let good = app
        .gql(
            query,
            json!({ "since": "2020-01-01T00:00:00Z" }),
            Some(&admin),
        )
        .await;
    assert!(good["errors"].is_null(), "{good}");
    assert_eq!(app.documents.measured(query), None);
    for _ in 0..2 {
        let bad = app
            .gql(query, json!({ "since": "not a date" }), Some(&admin))
            .await;
        assert_eq!(error_code(&bad), "BAD_USER_INPUT", "{bad}");
        assert!(bad.get("data").is_none_or(Value::is_null), "{bad}");
    }
}

#[tokio::test]
async fn a_repeated_document_pays_its_complexity_and_is_refused_at_the_budget() {
    let app = spawn_app_with(|s| {
        s.rate_limit_anonymous = RateQuota::per(40, Duration::from_secs(60));
    })
    .await;
    let heavy = "{ projects(first: 100) { nodes { id name description createdAt } } }";
    let mut statuses = vec![];
    for _ in 0..12 {
        statuses.push(app.graphql(heavy, json!({}), None).await.status().as_u16());
    }
    let complexity = app.documents.measured(heavy).expect("measured");
    // 40 units: each send pays one at the door and one per started 100 points after it; a
    // repeat that skipped the charge would be served all 12 times.
    let per_send = 1 + complexity.div_ceil(100);
    assert!(per_send >= 5, "complexity {complexity}");
    let served = statuses.iter().filter(|s| **s == 200).count();
    let expected = 40 / per_send;
    assert!(
        (expected - 1..=expected + 1).contains(&served),
        "{served} served at {per_send} units each: {statuses:?}"
    );
    assert!(statuses[served..].iter().all(|s| *s == 429), "{statuses:?}");
}
