//! Projects over GraphQL: every operation, every authorization rule, pagination and versions.

use neoforge::entity::users::Role;
use serde_json::{Value, json};

use crate::common::{TestApp, error_code, spawn_app};

const CREATE: &str = "mutation($i: CreateProjectInput!) { createProject(input: $i) { project { id name description visibility version owner { id } } } }";
const UPDATE: &str = "mutation($i: UpdateProjectInput!, $v: Int) { updateProject(input: $i, expectedVersion: $v) { project { id name description visibility version } } }";
const DELETE: &str = "mutation($i: DeleteProjectInput!, $v: Int) { deleteProject(input: $i, expectedVersion: $v) { deletedId } }";
const GET: &str = "query($id: ID!) { project(id: $id) { id name version viewerCanEdit } }";
const LIST: &str = "query($first: Int, $after: String, $last: Int, $before: String, $offset: Int, $filter: ProjectFilter, $order: ProjectOrder) {
  projects(first: $first, after: $after, last: $last, before: $before, offset: $offset, filter: $filter, orderBy: $order) {
    totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { id name } } nodes { name } } }";

async fn create(app: &TestApp, token: &str, name: &str, visibility: &str) -> Value {
    let body = app
        .gql(
            CREATE,
            json!({ "i": { "name": name, "visibility": visibility } }),
            Some(token),
        )
        .await;
    let project = body["data"]["createProject"]["project"].clone();
    assert!(project.is_object(), "create failed: {body}");
    project
}

fn names(body: &Value) -> Vec<String> {
    body["data"]["projects"]["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("no nodes: {body}"))
        .iter()
        .map(|n| n["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn create_get_update_delete() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let p = create(&app, &ada, "  Forge  ", "PUBLIC").await;
    assert_eq!(p["name"], "Forge", "names are trimmed");
    assert_eq!(p["version"], 1);
    assert_eq!(p["description"], "");
    let id = p["id"].as_str().unwrap();

    let body = app.gql(GET, json!({ "id": id }), None).await;
    assert_eq!(body["data"]["project"]["name"], "Forge");
    assert_eq!(body["data"]["project"]["viewerCanEdit"], false);

    let body = app
        .gql(
            UPDATE,
            json!({ "i": { "id": id, "description": "An anvil" } }),
            Some(&ada),
        )
        .await;
    let updated = &body["data"]["updateProject"]["project"];
    assert_eq!(updated["description"], "An anvil", "{body}");
    assert_eq!(updated["name"], "Forge", "omitted fields are unchanged");
    assert_eq!(updated["version"], 2);

    let body = app
        .gql(DELETE, json!({ "i": { "id": id } }), Some(&ada))
        .await;
    assert_eq!(body["data"]["deleteProject"]["deletedId"], id);
    let body = app.gql(GET, json!({ "id": id }), Some(&ada)).await;
    assert!(body["data"]["project"].is_null());
}

#[tokio::test]
async fn visibility_and_ownership_rules() {
    let app = spawn_app().await;
    let owner = app.user("owner@example.com").await;
    let other = app.user("other@example.com").await;
    let staff = app.user_with_role("staff@example.com", Role::Staff).await;
    let admin = app.user_with_role("admin@example.com", Role::Admin).await;
    let private = create(&app, &owner, "Secret", "PRIVATE").await;
    let public = create(&app, &owner, "Open", "PUBLIC").await;
    let (private_id, public_id) = (
        private["id"].as_str().unwrap(),
        public["id"].as_str().unwrap(),
    );

    // Read: private is visible to the owner and admins only (staff is not admin).
    for (token, sees) in [
        (None, false),
        (Some(&other), false),
        (Some(&staff), false),
        (Some(&owner), true),
        (Some(&admin), true),
    ] {
        let body = app
            .gql(GET, json!({ "id": private_id }), token.map(String::as_str))
            .await;
        assert_eq!(
            body["data"]["project"].is_object(),
            sees,
            "{token:?}: {body}"
        );
        let list = app.gql(LIST, json!({}), token.map(String::as_str)).await;
        let expected: Vec<&str> = if sees {
            vec!["Open", "Secret"]
        } else {
            vec!["Open"]
        };
        assert_eq!(names(&list), expected, "list for {token:?}");
    }

    // Create needs a signed-in user.
    let body = app.gql(CREATE, json!({ "i": { "name": "x" } }), None).await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED");

    // Update/delete: owner and admin; others are FORBIDDEN on what they can see and NOT_FOUND on
    // what they cannot (no existence leak); anonymous is UNAUTHENTICATED.
    let rename = |id: &str| json!({ "i": { "id": id, "name": "Renamed" } });
    assert_eq!(
        error_code(&app.gql(UPDATE, rename(public_id), None).await),
        "UNAUTHENTICATED"
    );
    assert_eq!(
        error_code(&app.gql(UPDATE, rename(public_id), Some(&other)).await),
        "FORBIDDEN"
    );
    assert_eq!(
        error_code(&app.gql(UPDATE, rename(public_id), Some(&staff)).await),
        "FORBIDDEN"
    );
    assert_eq!(
        error_code(&app.gql(UPDATE, rename(private_id), Some(&other)).await),
        "NOT_FOUND"
    );
    assert_eq!(
        error_code(
            &app.gql(DELETE, json!({ "i": { "id": private_id } }), Some(&other))
                .await
        ),
        "NOT_FOUND"
    );
    let body = app.gql(UPDATE, rename(private_id), Some(&admin)).await;
    assert_eq!(
        body["data"]["updateProject"]["project"]["name"], "Renamed",
        "{body}"
    );
    let body = app
        .gql(DELETE, json!({ "i": { "id": public_id } }), Some(&admin))
        .await;
    assert_eq!(
        body["data"]["deleteProject"]["deletedId"], public_id,
        "{body}"
    );
}

#[tokio::test]
async fn validation_errors_name_their_fields() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let long = "x".repeat(121);
    let body = app
        .gql(
            CREATE,
            json!({ "i": { "name": long, "description": "d".repeat(5001) } }),
            Some(&ada),
        )
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    let paths: Vec<String> = body["errors"][0]["extensions"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].to_string())
        .collect();
    assert_eq!(paths, [r#"["input","name"]"#, r#"["input","description"]"#]);

    let p = create(&app, &ada, "Valid", "PUBLIC").await;
    let body = app
        .gql(
            UPDATE,
            json!({ "i": { "id": p["id"], "name": null } }),
            Some(&ada),
        )
        .await;
    assert_eq!(
        error_code(&body),
        "BAD_USER_INPUT",
        "null is not a name: {body}"
    );
    let body = app
        .gql(
            UPDATE,
            json!({ "i": { "id": "not-a-uuid", "name": "x" } }),
            Some(&ada),
        )
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
    let body = app
        .gql(
            CREATE,
            json!({ "i": { "name": "x", "visibility": "SECRET" } }),
            Some(&ada),
        )
        .await;
    assert!(
        body["errors"].is_array(),
        "unknown enum values are rejected: {body}"
    );
}

#[tokio::test]
async fn expected_version_guards_updates_and_deletes() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let p = create(&app, &ada, "Versioned", "PUBLIC").await;
    let id = p["id"].as_str().unwrap();
    let body = app
        .gql(
            UPDATE,
            json!({ "i": { "id": id, "name": "v2" }, "v": 1 }),
            Some(&ada),
        )
        .await;
    assert_eq!(
        body["data"]["updateProject"]["project"]["version"], 2,
        "{body}"
    );
    let body = app
        .gql(
            UPDATE,
            json!({ "i": { "id": id, "name": "stale" }, "v": 1 }),
            Some(&ada),
        )
        .await;
    assert_eq!(error_code(&body), "PRECONDITION_FAILED", "{body}");
    assert_eq!(body["errors"][0]["extensions"]["currentVersion"], 2);
    let body = app
        .gql(DELETE, json!({ "i": { "id": id }, "v": 1 }), Some(&ada))
        .await;
    assert_eq!(error_code(&body), "PRECONDITION_FAILED");
    let body = app.gql(GET, json!({ "id": id }), None).await;
    assert_eq!(
        body["data"]["project"]["name"], "v2",
        "the stale writes changed nothing"
    );
    let body = app
        .gql(DELETE, json!({ "i": { "id": id }, "v": 2 }), Some(&ada))
        .await;
    assert_eq!(body["data"]["deleteProject"]["deletedId"], id);
}

#[tokio::test]
async fn concurrent_updates_with_the_same_expected_version_have_one_winner() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let p = create(&app, &ada, "Race", "PUBLIC").await;
    let id = p["id"].as_str().unwrap().to_owned();
    let tasks: Vec<_> = (0..8)
        .map(|n| {
            let (app_url, client, token, id) = (
                app.url("/graphql"),
                app.client.clone(),
                ada.clone(),
                id.clone(),
            );
            tokio::spawn(async move {
                let vars = json!({ "i": { "id": id, "name": format!("writer {n}") }, "v": 1 });
                let res = client
                    .post(app_url)
                    .bearer_auth(token)
                    .json(&json!({ "query": UPDATE, "variables": vars }))
                    .send();
                res.await.unwrap().json::<Value>().await.unwrap()
            })
        })
        .collect();
    let mut winners = 0;
    for t in tasks {
        let body = t.await.unwrap();
        match error_code(&body) {
            "<none>" => winners += 1,
            code => assert_eq!(code, "PRECONDITION_FAILED", "{body}"),
        }
    }
    assert_eq!(winners, 1);
    let body = app.gql(GET, json!({ "id": id }), None).await;
    assert_eq!(body["data"]["project"]["version"], 2);
}

#[tokio::test]
async fn pagination_walks_forwards_and_backwards() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    // Empty list.
    let body = app.gql(LIST, json!({ "first": 2 }), None).await;
    assert_eq!(body["data"]["projects"]["totalCount"], 0, "{body}");
    assert_eq!(body["data"]["projects"]["pageInfo"]["hasNextPage"], false);
    assert!(names(&body).is_empty());

    for n in 1..=6 {
        create(&app, &ada, &format!("p{n}"), "PUBLIC").await;
    }
    // Newest first, pages of 2 (6 is an exact multiple).
    let mut seen = vec![];
    let mut after = Value::Null;
    loop {
        let body = app
            .gql(LIST, json!({ "first": 2, "after": after }), None)
            .await;
        if seen.is_empty() {
            assert_eq!(body["data"]["projects"]["totalCount"], 6);
        }
        seen.extend(names(&body));
        let info = &body["data"]["projects"]["pageInfo"];
        if info["hasNextPage"] == false {
            break;
        }
        after = info["endCursor"].clone();
        // Rows inserted between pages do not shift later pages (they are newer).
        if seen.len() == 2 {
            create(&app, &ada, "late", "PUBLIC").await;
        }
    }
    assert_eq!(seen, ["p6", "p5", "p4", "p3", "p2", "p1"]);

    // Backwards from the end: the last page, then the one before it.
    let body = app
        .gql(
            LIST,
            json!({ "last": 3, "order": { "field": "NAME", "direction": "ASC" } }),
            None,
        )
        .await;
    assert_eq!(names(&body), ["p4", "p5", "p6"]);
    assert_eq!(
        body["data"]["projects"]["pageInfo"]["hasPreviousPage"],
        true
    );
    let start = body["data"]["projects"]["pageInfo"]["startCursor"].clone();
    let body =
        app.gql(LIST, json!({ "last": 10, "before": start, "order": { "field": "NAME", "direction": "ASC" } }), None).await;
    assert_eq!(names(&body), ["late", "p1", "p2", "p3"]);
    assert_eq!(
        body["data"]["projects"]["pageInfo"]["hasPreviousPage"],
        false
    );

    // Offset pages for the REST shim.
    let body = app
        .gql(LIST, json!({ "first": 3, "offset": 6 }), None)
        .await;
    assert_eq!(names(&body), ["p1"]);
    let body = app
        .gql(LIST, json!({ "first": 3, "offset": 60 }), None)
        .await;
    assert!(names(&body).is_empty());
}

#[tokio::test]
async fn stale_and_invalid_cursors() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let mut ids = vec![];
    for n in 1..=4 {
        ids.push(
            create(&app, &ada, &format!("p{n}"), "PUBLIC").await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let body = app.gql(LIST, json!({ "first": 2 }), None).await;
    let cursor = body["data"]["projects"]["pageInfo"]["endCursor"].clone();
    // The row under the cursor is deleted: the cursor still marks a position.
    app.gql(DELETE, json!({ "i": { "id": ids[2] } }), Some(&ada))
        .await;
    let body = app
        .gql(LIST, json!({ "first": 2, "after": cursor }), None)
        .await;
    assert_eq!(names(&body), ["p2", "p1"]);

    for (vars, what) in [
        (json!({ "first": 2, "after": "garbage" }), "invalid cursor"),
        (
            json!({ "first": 2, "after": cursor, "order": { "field": "NAME" } }),
            "cursor of another ordering",
        ),
        (json!({ "first": 2, "last": 2 }), "first with last"),
        (json!({ "first": 1000 }), "huge first"),
        (json!({ "first": 0 }), "zero first"),
        (json!({ "last": -1 }), "negative last"),
        (json!({ "first": 2, "offset": -1 }), "negative offset"),
    ] {
        let body = app.gql(LIST, vars, None).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{what}: {body}");
    }
}

#[tokio::test]
async fn filters_and_search() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let bob = app.user("bob@example.com").await;
    create(&app, &ada, "Rust Forge", "PUBLIC").await;
    create(&app, &ada, "100% fun_time", "PUBLIC").await;
    create(&app, &bob, "Bob's rust", "PUBLIC").await;
    let bob_id =
        app.gql("{ viewer { id } }", json!({}), Some(&bob)).await["data"]["viewer"]["id"].clone();
    let search =
        |q: &str| json!({ "filter": { "q": q }, "order": { "field": "NAME", "direction": "ASC" } });
    assert_eq!(
        names(&app.gql(LIST, search("RUST"), None).await),
        ["Bob's rust", "Rust Forge"]
    );
    assert_eq!(
        names(&app.gql(LIST, search("%"), None).await),
        ["100% fun_time"],
        "% is literal"
    );
    assert_eq!(
        names(&app.gql(LIST, search("_"), None).await),
        ["100% fun_time"],
        "_ is literal"
    );
    let by_owner = json!({ "filter": { "ownerId": bob_id } });
    assert_eq!(names(&app.gql(LIST, by_owner, None).await), ["Bob's rust"]);
    let body = app
        .gql(LIST, json!({ "filter": { "ownerId": "nope" } }), None)
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
}

#[tokio::test]
async fn owners_and_open_ticket_counts_load_in_constant_statements() {
    let app = spawn_app().await;
    let query = "query($n: Int) { projects(first: $n) { nodes { name owner { displayName } openTicketCount latestPosts { title } postCount } } }";
    let mut tokens = vec![];
    for n in 0..5 {
        tokens.push(app.user(&format!("u{n}@example.com")).await);
    }
    let mut ids = vec![];
    for n in 0..100 {
        ids.push(create(&app, &tokens[n % 5], &format!("p{n}"), "PUBLIC").await["id"].clone());
    }
    // The newest project gets 4 posts and 2 open tickets; relations must still batch.
    let newest = ids.last().unwrap().clone();
    for t in 0..4 {
        let q = "mutation($i: CreateCommunityPostInput!) { createCommunityPost(input: $i) { communityPost { id } } }";
        let vars =
            json!({ "i": { "title": format!("post {t}"), "body": "b", "projectId": newest } });
        app.gql(q, vars, Some(&tokens[0])).await;
    }
    for t in 0..2 {
        let q = "mutation($i: CreateSupportTicketInput!) { createSupportTicket(input: $i) { ticket { id } } }";
        let vars =
            json!({ "i": { "subject": format!("t {t}"), "body": "b", "projectId": newest } });
        app.gql(q, vars, Some(&tokens[4])).await;
    }
    let mut counts = vec![];
    for n in [5, 100] {
        let before = app.statements();
        let body = app.gql(query, json!({ "n": n }), None).await;
        counts.push(app.statements() - before);
        let nodes = body["data"]["projects"]["nodes"].as_array().unwrap();
        assert_eq!(nodes.len(), n as usize, "{body}");
        assert!(nodes.iter().all(|p| p["owner"]["displayName"].is_string()));
        assert_eq!(nodes[0]["openTicketCount"], 2);
        assert_eq!(nodes[0]["postCount"], 4);
        let titles = json!([{ "title": "post 3" }, { "title": "post 2" }, { "title": "post 1" }]);
        assert_eq!(nodes[0]["latestPosts"], titles);
        assert!(
            nodes[1..]
                .iter()
                .all(|p| p["openTicketCount"] == 0 && p["latestPosts"] == json!([]))
        );
    }
    assert_eq!(
        counts[0], counts[1],
        "statements for 5 vs 100 projects: {counts:?}"
    );
    // Page, owners, open-ticket counts, post counts, latest posts.
    assert!(counts[1] <= 5, "at most 5 statements, got {counts:?}");
}

#[tokio::test]
async fn node_interface_resolves_projects_and_users() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let public = create(&app, &ada, "Pub", "PUBLIC").await;
    let private = create(&app, &ada, "Priv", "PRIVATE").await;
    let q = "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id ... on Project { name } } }";
    let owner =
        app.gql("{ viewer { id } }", json!({}), Some(&ada)).await["data"]["viewer"]["id"].clone();
    let ids = json!([public["id"], private["id"], owner, "bogus"]);
    let body = app.gql(q, json!({ "ids": ids }), None).await;
    let nodes = body["data"]["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"));
    assert_eq!(nodes[0]["name"], "Pub");
    assert!(nodes[1].is_null(), "private project hidden from anonymous");
    assert_eq!(nodes[2]["__typename"], "User");
    assert!(nodes[3].is_null());
    let body = app
        .gql(
            "query($id: ID!) { node(id: $id) { ... on Project { name } } }",
            json!({ "id": private["id"] }),
            Some(&ada),
        )
        .await;
    assert_eq!(body["data"]["node"]["name"], "Priv");
}

#[tokio::test]
async fn node_resolves_every_type_and_hides_unreadable_tickets() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let staff = app.user_with_role("ops@example.com", Role::Staff).await;
    let ticket = app
        .gql(
            "mutation { createSupportTicket(input: {subject: \"s\", body: \"b\"}) { ticket { id } } }",
            json!({}),
            Some(&ada),
        )
        .await["data"]["createSupportTicket"]["ticket"]["id"]
        .clone();
    let post = app
        .gql(
            "mutation { createCommunityPost(input: {title: \"t\", body: \"b\"}) { communityPost { id } } }",
            json!({}),
            Some(&ada),
        )
        .await["data"]["createCommunityPost"]["communityPost"]["id"]
        .clone();
    let event = app
        .gql(
            "mutation { createStatusEvent(input: {service: \"api\", status: DEGRADED}) { statusEvent { id } } }",
            json!({}),
            Some(&staff),
        )
        .await["data"]["createStatusEvent"]["statusEvent"]["id"]
        .clone();
    let q = "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }";
    let ids = json!([ticket, post, event]);
    let anon = app.gql(q, json!({ "ids": ids }), None).await;
    let nodes = anon["data"]["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("{anon}"));
    assert!(
        nodes[0].is_null(),
        "tickets are private to requester and staff"
    );
    assert_eq!(nodes[1]["__typename"], "CommunityPost");
    assert_eq!(nodes[2]["__typename"], "StatusEvent");
    let mine = app.gql(q, json!({ "ids": ids }), Some(&ada)).await;
    assert_eq!(mine["data"]["nodes"][0]["__typename"], "SupportTicket");
    assert_eq!(mine["data"]["nodes"][0]["id"], ticket);
}
