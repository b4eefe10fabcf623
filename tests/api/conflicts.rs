//! Lost conditional writes say what won: REST 412 carries `current` and its `ETag`, GraphQL
//! `PRECONDITION_FAILED` carries `currentVersion` and `current` — only for a caller who may read
//! the resource; to anyone else it does not exist.

use reqwest::Method;
use serde_json::{Value, json};

use crate::common::{TestApp, error_code, spawn_app};
use crate::rest::{Reply, call, create_project};

const UPDATE: &str = "mutation($i: UpdateProjectInput!, $v: Int) { updateProject(input: $i, expectedVersion: $v) { project { id version } } }";
const DELETE: &str = "mutation($i: DeleteProjectInput!, $v: Int) { deleteProject(input: $i, expectedVersion: $v) { deletedId } }";
const GET: &str = "query($id: ID!) { project(id: $id) { __typename id ownerId name description visibility createdAt updatedAt version } }";

async fn patch(app: &TestApp, token: &str, path: &str, if_match: &str, name: &str) -> Reply {
    call(app, Method::PATCH, path)
        .token(token)
        .header("if-match", if_match)
        .json(json!({ "name": name }))
        .send()
        .await
}

#[tokio::test]
async fn a_stale_rest_write_answers_412_with_the_current_representation_and_etag() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let created = create_project(&app, &ada, "Forge", "private").await;
    let id = created.json()["id"].as_str().unwrap().to_owned();
    let path = format!("/projects/{id}");
    let v1 = created.header("etag").unwrap().to_owned();
    assert_eq!(patch(&app, &ada, &path, &v1, "Anvil").await.status, 200);
    let get = call(&app, Method::GET, &path).token(&ada).send().await;

    let stale = patch(&app, &ada, &path, &v1, "offline edit").await;
    let body = stale.problem(412);
    assert_eq!(body["code"], "PRECONDITION_FAILED");
    assert_eq!(
        body["current"],
        get.json(),
        "current is the resource as GET returns it"
    );
    assert_eq!(stale.header("etag"), get.header("etag"));
    assert_eq!(stale.header("etag"), Some(&*format!("\"project-{id}-v2\"")));
    assert!(body["detail"].is_string(), "old clients keep their detail");

    // A delete loses the same way, and so does a tag that can never match (weak, garbage).
    let delete = call(&app, Method::DELETE, &path)
        .token(&ada)
        .header("if-match", &v1)
        .send()
        .await;
    assert_eq!(delete.problem(412)["current"], get.json());
    assert_eq!(delete.header("etag"), get.header("etag"));
    for never in [
        format!("W/{}", get.header("etag").unwrap()),
        "garbage".into(),
    ] {
        let r = patch(&app, &ada, &path, &never, "x").await;
        assert_eq!(r.problem(412)["current"]["version"], 2);
    }

    // The client merges and retries with the ETag the 412 gave it: no extra round trip.
    let merged = patch(&app, &ada, &path, stale.header("etag").unwrap(), "merged").await;
    assert_eq!(merged.status, 200);
    assert_eq!(merged.json()["version"], 3);
}

#[tokio::test]
async fn tickets_carry_their_current_state_too() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let created = call(&app, Method::POST, "/support/tickets")
        .token(&ada)
        .json(json!({ "subject": "Broken", "body": "It broke." }))
        .send()
        .await;
    assert_eq!(created.status, 201);
    let id = created.json()["id"].as_str().unwrap().to_owned();
    let path = format!("/support/tickets/{id}");
    let v1 = created.header("etag").unwrap().to_owned();
    let first = call(&app, Method::PATCH, &path)
        .token(&ada)
        .header("if-match", &v1)
        .json(json!({ "subject": "Still broken" }))
        .send()
        .await;
    assert_eq!(first.status, 200);
    let stale = call(&app, Method::PATCH, &path)
        .token(&ada)
        .header("if-match", &v1)
        .json(json!({ "body": "More detail." }))
        .send()
        .await;
    let body = stale.problem(412);
    assert_eq!(body["current"], first.json());
    assert_eq!(body["current"]["status"], "open");
    assert_eq!(stale.header("etag"), first.header("etag"));
}

#[tokio::test]
async fn graphql_precondition_failed_carries_current_version_and_current() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let created = create_project(&app, &ada, "Forge", "public").await;
    let id = created.json()["id"].as_str().unwrap().to_owned();
    let ok = app
        .gql(
            UPDATE,
            json!({ "i": { "id": id, "name": "v2" }, "v": 1 }),
            Some(&ada),
        )
        .await;
    assert_eq!(ok["data"]["updateProject"]["project"]["version"], 2, "{ok}");
    let now = app.gql(GET, json!({ "id": id }), Some(&ada)).await;

    for (query, vars) in [
        (
            UPDATE,
            json!({ "i": { "id": id, "name": "stale" }, "v": 1 }),
        ),
        (DELETE, json!({ "i": { "id": id }, "v": 1 })),
    ] {
        let body = app.gql(query, vars, Some(&ada)).await;
        assert_eq!(error_code(&body), "PRECONDITION_FAILED", "{body}");
        let ext = &body["errors"][0]["extensions"];
        assert_eq!(ext["currentVersion"], 2);
        assert_eq!(
            ext["current"], now["data"]["project"],
            "current is what a query of the same fields returns"
        );
    }
}

#[tokio::test]
async fn a_stranger_never_learns_that_a_private_project_exists() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let eve = app.user("eve@example.com").await;
    let created = create_project(&app, &ada, "Secret", "private").await;
    let id = created.json()["id"].as_str().unwrap().to_owned();
    let path = format!("/projects/{id}");
    let tag = created.header("etag").unwrap().to_owned();
    let missing = format!("/projects/{}", uuid::Uuid::now_v7());

    // Whatever If-Match says (right, stale, garbage, `*`, none), the answer is the one for a
    // project that does not exist.
    let stale = format!("\"project-{id}-v9\"");
    for target in [&path, &missing] {
        for if_match in [
            Some(tag.as_str()),
            Some(&stale),
            Some("garbage"),
            Some("*"),
            None,
        ] {
            let mut req = call(&app, Method::PATCH, target)
                .token(&eve)
                .json(json!({ "name": "mine now" }));
            if let Some(v) = if_match {
                req = req.header("if-match", v);
            }
            let r = req.send().await;
            let body = r.problem(404);
            assert!(body.get("current").is_none(), "{body}");
            assert_eq!(r.header("etag"), None);
            let mut req = call(&app, Method::DELETE, target).token(&eve);
            if let Some(v) = if_match {
                req = req.header("if-match", v);
            }
            req.send().await.problem(404);
        }
    }
    for v in [1, 9] {
        let body = app
            .gql(
                UPDATE,
                json!({ "i": { "id": id, "name": "x" }, "v": v }),
                Some(&eve),
            )
            .await;
        assert_eq!(error_code(&body), "NOT_FOUND", "{body}");
        assert!(body["errors"][0]["extensions"].get("current").is_none());
    }
    let get = call(&app, Method::GET, &path)
        .token(&ada)
        .send()
        .await
        .json();
    assert_eq!(
        (get["name"].as_str(), get["version"].as_i64()),
        (Some("Secret"), Some(1))
    );
}

#[tokio::test]
async fn concurrent_writers_each_learn_the_one_winner() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let created = create_project(&app, &ada, "Race", "private").await;
    let id = created.json()["id"].as_str().unwrap().to_owned();
    let path = format!("/projects/{id}");
    let tag = created.header("etag").unwrap().to_owned();
    let names: Vec<String> = (0..8).map(|n| format!("writer {n}")).collect();
    let replies =
        futures::future::join_all(names.iter().map(|n| patch(&app, &ada, &path, &tag, n))).await;

    let winners: Vec<&Reply> = replies.iter().filter(|r| r.status == 200).collect();
    assert_eq!(winners.len(), 1, "exactly one conditional write wins");
    let winner = winners[0].json();
    let get = call(&app, Method::GET, &path).token(&ada).send().await;
    assert_eq!(get.json(), winner, "the winner is what is stored");
    for loser in replies.iter().filter(|r| r.status != 200) {
        let body: Value = loser.problem(412);
        assert_eq!(body["current"], winner, "every loser is told what won");
        assert_eq!(loser.header("etag"), get.header("etag"));
    }
}
