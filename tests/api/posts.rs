//! Community posts over GraphQL: every operation, the authorization rules, tags, filters,
//! pagination, versions, and the loaders that keep statements per request constant.

use neoforge::domain::posts::{counts_for_projects, latest_for_projects};
use neoforge::entity::users::Role;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::common::{TestApp, error_code, spawn_app};

const CREATE: &str = "mutation($i: CreateCommunityPostInput!) { createCommunityPost(input: $i) {
  communityPost { id title body tags version createdAt updatedAt author { id } project { id name } } } }";
const UPDATE: &str = "mutation($i: UpdateCommunityPostInput!, $v: Int) { updateCommunityPost(input: $i, expectedVersion: $v) {
  communityPost { id title body tags version } } }";
const DELETE: &str = "mutation($i: DeleteCommunityPostInput!, $v: Int) { deleteCommunityPost(input: $i, expectedVersion: $v) { deletedId } }";
const GET: &str = "query($id: ID!) { communityPost(id: $id) { id title body tags version createdAt viewerCanEdit author { id displayName } project { id name } } }";
const LIST: &str = "query($first: Int, $after: String, $last: Int, $before: String, $offset: Int, $filter: CommunityPostFilter, $order: CommunityPostOrder) {
  communityPosts(first: $first, after: $after, last: $last, before: $before, offset: $offset, filter: $filter, orderBy: $order) {
    totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor node { id title } } nodes { title } } }";
const CREATE_PROJECT: &str =
    "mutation($i: CreateProjectInput!) { createProject(input: $i) { project { id } } }";

async fn post(app: &TestApp, token: &str, input: Value) -> Value {
    let body = app.gql(CREATE, json!({ "i": input }), Some(token)).await;
    let post = body["data"]["createCommunityPost"]["communityPost"].clone();
    assert!(post.is_object(), "create failed: {body}");
    post
}

async fn titled(app: &TestApp, token: &str, title: &str) -> Value {
    post(app, token, json!({ "title": title, "body": "text" })).await
}

async fn project(app: &TestApp, token: &str, name: &str, visibility: &str) -> String {
    let body = app
        .gql(
            CREATE_PROJECT,
            json!({ "i": { "name": name, "visibility": visibility } }),
            Some(token),
        )
        .await;
    body["data"]["createProject"]["project"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("project create failed: {body}"))
        .to_owned()
}

fn titles(body: &Value) -> Vec<String> {
    body["data"]["communityPosts"]["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("no nodes: {body}"))
        .iter()
        .map(|n| n["title"].as_str().unwrap().to_owned())
        .collect()
}

fn field_paths(body: &Value) -> Vec<String> {
    body["errors"][0]["extensions"]["fields"]
        .as_array()
        .unwrap_or_else(|| panic!("no field errors: {body}"))
        .iter()
        .map(|f| f["path"].to_string())
        .collect()
}

async fn audit_actions(app: &TestApp) -> Vec<String> {
    use neoforge::entity::audit_events;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
    audit_events::Entity::find()
        .filter(audit_events::Column::Action.starts_with("post."))
        .order_by_asc(audit_events::Column::At)
        .all(app.db_handle.conn())
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect()
}

#[tokio::test]
async fn create_read_update_delete() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let p = post(
        &app,
        &ada,
        json!({ "title": "  Hello forge  ", "body": "First post", "tags": [" Rust", "help", "rust"] }),
    )
    .await;
    assert_eq!(p["title"], "Hello forge", "titles are trimmed");
    assert_eq!(
        p["tags"],
        json!(["rust", "help"]),
        "normalised, deduplicated, in order"
    );
    assert_eq!(p["version"], 1);
    assert_eq!(p["createdAt"], p["updatedAt"]);
    assert!(p["project"].is_null());
    let id = p["id"].as_str().unwrap();

    // Anyone reads posts, signed in or not.
    let body = app.gql(GET, json!({ "id": id }), None).await;
    let read = &body["data"]["communityPost"];
    assert_eq!(read["title"], "Hello forge", "{body}");
    assert_eq!(read["author"]["displayName"], "ada");
    assert_eq!(read["tags"], json!(["rust", "help"]));
    assert_eq!(read["viewerCanEdit"], false);
    assert_eq!(
        read["createdAt"], p["createdAt"],
        "what create returned is what is stored"
    );
    let body = app.gql(GET, json!({ "id": id }), Some(&ada)).await;
    assert_eq!(body["data"]["communityPost"]["viewerCanEdit"], true);

    let body = app
        .gql(
            UPDATE,
            json!({ "i": { "id": id, "body": "Edited", "tags": ["announcements"] } }),
            Some(&ada),
        )
        .await;
    let updated = &body["data"]["updateCommunityPost"]["communityPost"];
    assert_eq!(updated["body"], "Edited", "{body}");
    assert_eq!(
        updated["title"], "Hello forge",
        "omitted fields are unchanged"
    );
    assert_eq!(updated["tags"], json!(["announcements"]));
    assert_eq!(updated["version"], 2);

    // The tag rows followed the update: the old tag no longer finds the post, the new one does.
    let by_tag = |tag: &str| json!({ "filter": { "tag": tag } });
    assert!(titles(&app.gql(LIST, by_tag("rust"), None).await).is_empty());
    assert_eq!(
        titles(&app.gql(LIST, by_tag("announcements"), None).await),
        ["Hello forge"]
    );

    let body = app
        .gql(DELETE, json!({ "i": { "id": id } }), Some(&ada))
        .await;
    assert_eq!(
        body["data"]["deleteCommunityPost"]["deletedId"], id,
        "{body}"
    );
    let body = app.gql(GET, json!({ "id": id }), None).await;
    assert!(body["data"]["communityPost"].is_null(), "{body}");
    assert!(titles(&app.gql(LIST, by_tag("announcements"), None).await).is_empty());
    let body = app
        .gql(DELETE, json!({ "i": { "id": id } }), Some(&ada))
        .await;
    assert_eq!(error_code(&body), "NOT_FOUND", "{body}");

    assert_eq!(
        audit_actions(&app).await,
        ["post.created", "post.updated", "post.deleted"]
    );
}

#[tokio::test]
async fn authors_staff_and_admins_may_change_posts_others_may_not() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let bob = app.user("bob@example.com").await;
    let staff = app.user_with_role("sam@example.com", Role::Staff).await;
    let admin = app.user_with_role("root@example.com", Role::Admin).await;

    // Anonymous callers cannot write at all.
    let body = app
        .gql(CREATE, json!({ "i": { "title": "t", "body": "b" } }), None)
        .await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");

    let p = titled(&app, &ada, "Ada's").await;
    let id = p["id"].as_str().unwrap();
    let edit = |title: &str| json!({ "i": { "id": id, "title": title } });

    let body = app.gql(UPDATE, edit("anon"), None).await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
    let body = app.gql(DELETE, json!({ "i": { "id": id } }), None).await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");

    // Another user: forbidden, and nothing changes.
    let body = app.gql(UPDATE, edit("bob"), Some(&bob)).await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    let body = app
        .gql(DELETE, json!({ "i": { "id": id } }), Some(&bob))
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    let body = app.gql(GET, json!({ "id": id }), Some(&bob)).await;
    assert_eq!(body["data"]["communityPost"]["title"], "Ada's");
    assert_eq!(body["data"]["communityPost"]["viewerCanEdit"], false);

    // Author, staff and admin may.
    for (token, title, version) in [
        (&ada, "by ada", 2),
        (&staff, "by staff", 3),
        (&admin, "by admin", 4),
    ] {
        let body = app.gql(GET, json!({ "id": id }), Some(token)).await;
        assert_eq!(
            body["data"]["communityPost"]["viewerCanEdit"], true,
            "{title}"
        );
        let body = app.gql(UPDATE, edit(title), Some(token)).await;
        let updated = &body["data"]["updateCommunityPost"]["communityPost"];
        assert_eq!(updated["title"], title, "{body}");
        assert_eq!(updated["version"], version);
    }
    let body = app
        .gql(DELETE, json!({ "i": { "id": id } }), Some(&staff))
        .await;
    assert_eq!(
        body["data"]["deleteCommunityPost"]["deletedId"], id,
        "{body}"
    );
    let other = titled(&app, &bob, "Bob's").await;
    let body = app
        .gql(DELETE, json!({ "i": { "id": other["id"] } }), Some(&admin))
        .await;
    assert_eq!(
        body["data"]["deleteCommunityPost"]["deletedId"], other["id"],
        "{body}"
    );
}

#[tokio::test]
async fn tags_are_validated_and_normalised() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let ten: Vec<String> = (0..10).map(|i| format!("tag-{i}")).collect();

    // Ten distinct tags, plus duplicates (which do not count), are fine.
    let mut with_dups = ten.clone();
    with_dups.extend(["TAG-0".to_owned(), "tag-9 ".to_owned()]);
    let p = post(
        &app,
        &ada,
        json!({ "title": "t", "body": "b", "tags": with_dups }),
    )
    .await;
    assert_eq!(p["tags"], json!(ten));
    // No tags at all: an empty list.
    let p = titled(&app, &ada, "untagged").await;
    assert_eq!(p["tags"], json!([]));
    let max = "a".repeat(32);
    let p = post(
        &app,
        &ada,
        json!({ "title": "t", "body": "b", "tags": [max] }),
    )
    .await;
    assert_eq!(p["tags"], json!([max]));

    let create = |tags: Value| json!({ "i": { "title": "t", "body": "b", "tags": tags } });
    let mut eleven = ten.clone();
    eleven.push("tag-10".into());
    let body = app.gql(CREATE, create(json!(eleven)), Some(&ada)).await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    assert_eq!(field_paths(&body), [r#"["input","tags"]"#]);

    // Each bad tag is reported at its position.
    let bad = json!(["ok", "not ok", "a".repeat(33), "-dash", "ünï", ""]);
    let body = app.gql(CREATE, create(bad), Some(&ada)).await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    assert_eq!(
        field_paths(&body),
        [
            r#"["input","tags","1"]"#,
            r#"["input","tags","2"]"#,
            r#"["input","tags","3"]"#,
            r#"["input","tags","4"]"#,
            r#"["input","tags","5"]"#
        ]
    );

    // Updates follow the same rules; null is not a tag list.
    let id = p["id"].as_str().unwrap();
    let body = app
        .gql(
            UPDATE,
            json!({ "i": { "id": id, "tags": ["Fine", "no way"] } }),
            Some(&ada),
        )
        .await;
    assert_eq!(field_paths(&body), [r#"["input","tags","1"]"#], "{body}");
    let body = app
        .gql(
            UPDATE,
            json!({ "i": { "id": id, "tags": null } }),
            Some(&ada),
        )
        .await;
    assert_eq!(field_paths(&body), [r#"["input","tags"]"#], "{body}");
    let body = app
        .gql(UPDATE, json!({ "i": { "id": id, "tags": [] } }), Some(&ada))
        .await;
    let updated = &body["data"]["updateCommunityPost"]["communityPost"];
    assert_eq!(updated["tags"], json!([]), "{body}");
    let body = app
        .gql(LIST, json!({ "filter": { "tag": max } }), None)
        .await;
    assert!(
        titles(&body).is_empty(),
        "cleared tags no longer match: {body}"
    );
}

#[tokio::test]
async fn validation_errors_name_their_fields() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let bob = app.user("bob@example.com").await;
    let admin = app.user_with_role("root@example.com", Role::Admin).await;

    let body = app
        .gql(
            CREATE,
            json!({ "i": { "title": "   ", "body": " \n ", "tags": ["Bad Tag"] } }),
            Some(&ada),
        )
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
    assert_eq!(
        field_paths(&body),
        [
            r#"["input","title"]"#,
            r#"["input","body"]"#,
            r#"["input","tags","0"]"#
        ]
    );
    for (input, path) in [
        (json!({ "title": "x".repeat(201), "body": "b" }), "title"),
        (json!({ "title": "two\nlines", "body": "b" }), "title"),
        (json!({ "title": "t", "body": "b".repeat(20_001) }), "body"),
        (
            json!({ "title": "t", "body": "b", "projectId": "nope" }),
            "projectId",
        ),
        (
            json!({ "title": "t", "body": "b", "projectId": Uuid::now_v7() }),
            "projectId",
        ),
    ] {
        let body = app.gql(CREATE, json!({ "i": input }), Some(&ada)).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{path}: {body}");
        assert_eq!(field_paths(&body), [format!(r#"["input","{path}"]"#)]);
    }
    // The longest allowed values pass.
    post(
        &app,
        &ada,
        json!({ "title": "é".repeat(200), "body": "b".repeat(20_000) }),
    )
    .await;

    // A project the author may not read is as good as missing; their own private one is fine,
    // and admins read every project.
    let bobs_private = project(&app, &bob, "Bob's secret", "PRIVATE").await;
    let body = app
        .gql(
            CREATE,
            json!({ "i": { "title": "t", "body": "b", "projectId": bobs_private } }),
            Some(&ada),
        )
        .await;
    assert_eq!(field_paths(&body), [r#"["input","projectId"]"#], "{body}");
    let p = post(
        &app,
        &bob,
        json!({ "title": "mine", "body": "b", "projectId": bobs_private }),
    )
    .await;
    assert_eq!(p["project"]["name"], "Bob's secret");
    let p = post(
        &app,
        &admin,
        json!({ "title": "admin's", "body": "b", "projectId": bobs_private }),
    )
    .await;
    assert_eq!(p["project"]["id"], bobs_private.as_str());

    let body = app
        .gql(
            UPDATE,
            json!({ "i": { "id": p["id"], "title": null, "body": "" } }),
            Some(&admin),
        )
        .await;
    assert_eq!(
        field_paths(&body),
        [r#"["input","title"]"#, r#"["input","body"]"#],
        "{body}"
    );
    let body = app
        .gql(
            UPDATE,
            json!({ "i": { "id": "not-a-uuid", "title": "x" } }),
            Some(&ada),
        )
        .await;
    assert_eq!(field_paths(&body), [r#"["input","id"]"#], "{body}");
    let body = app
        .gql(
            UPDATE,
            json!({ "i": { "id": Uuid::now_v7(), "title": "x" } }),
            Some(&ada),
        )
        .await;
    assert_eq!(error_code(&body), "NOT_FOUND", "{body}");
    let body = app.gql(GET, json!({ "id": "not-a-uuid" }), None).await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
}

#[tokio::test]
async fn filters_by_tag_project_and_author() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let bob = app.user("bob@example.com").await;
    let forge = project(&app, &ada, "Forge", "PUBLIC").await;
    let anvil = project(&app, &bob, "Anvil", "PUBLIC").await;
    let a1 = post(
        &app,
        &ada,
        json!({ "title": "a1", "body": "b", "tags": ["rust", "help"], "projectId": forge }),
    )
    .await;
    post(
        &app,
        &ada,
        json!({ "title": "a2", "body": "b", "tags": ["rust"] }),
    )
    .await;
    post(
        &app,
        &bob,
        json!({ "title": "b1", "body": "b", "tags": ["help"], "projectId": forge }),
    )
    .await;
    post(
        &app,
        &bob,
        json!({ "title": "b2", "body": "b", "tags": ["rusty"], "projectId": anvil }),
    )
    .await;

    let list = |filter: Value| json!({ "filter": filter });
    let body = app.gql(LIST, list(json!({ "tag": "rust" })), None).await;
    assert_eq!(titles(&body), ["a2", "a1"], "exact tags only, newest first");
    assert_eq!(body["data"]["communityPosts"]["totalCount"], 2);
    let body = app.gql(LIST, list(json!({ "tag": " HELP " })), None).await;
    assert_eq!(
        titles(&body),
        ["b1", "a1"],
        "the filter is normalised like input"
    );
    let body = app.gql(LIST, list(json!({ "tag": "nothing" })), None).await;
    assert!(titles(&body).is_empty());
    assert_eq!(body["data"]["communityPosts"]["totalCount"], 0);

    let body = app
        .gql(LIST, list(json!({ "projectId": forge })), None)
        .await;
    assert_eq!(titles(&body), ["b1", "a1"]);
    let body = app
        .gql(LIST, list(json!({ "authorId": a1["author"]["id"] })), None)
        .await;
    assert_eq!(titles(&body), ["a2", "a1"]);
    let all = json!({ "tag": "help", "projectId": forge, "authorId": a1["author"]["id"] });
    let body = app.gql(LIST, list(all), None).await;
    assert_eq!(titles(&body), ["a1"]);
    assert_eq!(body["data"]["communityPosts"]["totalCount"], 1);

    for bad in [
        json!({ "tag": "not a tag" }),
        json!({ "projectId": "x" }),
        json!({ "authorId": "x" }),
    ] {
        let body = app.gql(LIST, list(bad.clone()), None).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{bad}: {body}");
    }
}

#[tokio::test]
async fn project_link_follows_the_viewer_and_the_project() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let forge = project(&app, &ada, "Forge", "PUBLIC").await;
    let p = post(
        &app,
        &ada,
        json!({ "title": "about forge", "body": "b", "projectId": forge }),
    )
    .await;
    let id = p["id"].as_str().unwrap();
    assert_eq!(p["project"]["name"], "Forge");

    // The project turns private: the post stays public, its project link only for readers.
    let make_private =
        "mutation($i: UpdateProjectInput!) { updateProject(input: $i) { project { id } } }";
    let body = app
        .gql(
            make_private,
            json!({ "i": { "id": forge, "visibility": "PRIVATE" } }),
            Some(&ada),
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");
    let body = app.gql(GET, json!({ "id": id }), None).await;
    assert_eq!(
        body["data"]["communityPost"]["title"], "about forge",
        "{body}"
    );
    assert!(body["data"]["communityPost"]["project"].is_null(), "{body}");
    let body = app.gql(GET, json!({ "id": id }), Some(&ada)).await;
    assert_eq!(
        body["data"]["communityPost"]["project"]["name"], "Forge",
        "{body}"
    );

    // The project is deleted: the post stays, detached.
    let delete = "mutation($i: DeleteProjectInput!) { deleteProject(input: $i) { deletedId } }";
    let body = app
        .gql(delete, json!({ "i": { "id": forge } }), Some(&ada))
        .await;
    assert!(body["errors"].is_null(), "{body}");
    let body = app.gql(GET, json!({ "id": id }), Some(&ada)).await;
    assert_eq!(
        body["data"]["communityPost"]["title"], "about forge",
        "{body}"
    );
    assert!(body["data"]["communityPost"]["project"].is_null(), "{body}");
}

#[tokio::test]
async fn expected_version_guards_updates_and_deletes() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let p = titled(&app, &ada, "v1").await;
    let id = p["id"].as_str().unwrap();
    let edit =
        |title: &str, v: i32| json!({ "i": { "id": id, "title": title, "tags": [title] }, "v": v });
    let body = app.gql(UPDATE, edit("v2", 1), Some(&ada)).await;
    assert_eq!(
        body["data"]["updateCommunityPost"]["communityPost"]["version"], 2,
        "{body}"
    );
    let body = app.gql(UPDATE, edit("stale", 1), Some(&ada)).await;
    assert_eq!(error_code(&body), "PRECONDITION_FAILED", "{body}");
    assert_eq!(body["errors"][0]["extensions"]["currentVersion"], 2);
    let body = app
        .gql(DELETE, json!({ "i": { "id": id }, "v": 1 }), Some(&ada))
        .await;
    assert_eq!(error_code(&body), "PRECONDITION_FAILED", "{body}");

    // The stale writes changed nothing, tag rows included.
    let body = app.gql(GET, json!({ "id": id }), None).await;
    assert_eq!(body["data"]["communityPost"]["title"], "v2");
    assert_eq!(body["data"]["communityPost"]["tags"], json!(["v2"]));
    let body = app
        .gql(LIST, json!({ "filter": { "tag": "stale" } }), None)
        .await;
    assert!(titles(&body).is_empty(), "{body}");

    let body = app
        .gql(DELETE, json!({ "i": { "id": id }, "v": 2 }), Some(&ada))
        .await;
    assert_eq!(
        body["data"]["deleteCommunityPost"]["deletedId"], id,
        "{body}"
    );
}

#[tokio::test]
async fn concurrent_updates_with_the_same_expected_version_have_one_winner() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let p = titled(&app, &ada, "race").await;
    let id = p["id"].as_str().unwrap().to_owned();
    let tasks: Vec<_> = (0..8)
        .map(|n| {
            let (url, client, token, id) = (
                app.url("/graphql"),
                app.client.clone(),
                ada.clone(),
                id.clone(),
            );
            tokio::spawn(async move {
                let tag = format!("writer-{n}");
                let vars = json!({ "i": { "id": id, "title": tag, "tags": [tag] }, "v": 1 });
                let res = client
                    .post(url)
                    .bearer_auth(token)
                    .json(&json!({ "query": UPDATE, "variables": vars }))
                    .send();
                res.await.unwrap().json::<Value>().await.unwrap()
            })
        })
        .collect();
    let mut winners = vec![];
    for t in tasks {
        let body = t.await.unwrap();
        match error_code(&body) {
            "<none>" => {
                winners.push(body["data"]["updateCommunityPost"]["communityPost"]["title"].clone())
            }
            code => assert_eq!(code, "PRECONDITION_FAILED", "{body}"),
        }
    }
    assert_eq!(winners.len(), 1, "{winners:?}");
    let body = app.gql(GET, json!({ "id": id }), None).await;
    assert_eq!(body["data"]["communityPost"]["version"], 2);
    assert_eq!(body["data"]["communityPost"]["tags"], json!([winners[0]]));
    // Exactly the winner's tag rows exist.
    let body = app
        .gql(LIST, json!({ "filter": { "tag": winners[0] } }), None)
        .await;
    assert_eq!(titles(&body), [winners[0].as_str().unwrap()]);
}

#[tokio::test]
async fn pagination_edge_cases() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;

    // Empty.
    let body = app.gql(LIST, json!({ "first": 2 }), None).await;
    let conn = &body["data"]["communityPosts"];
    assert_eq!(conn["totalCount"], 0, "{body}");
    assert_eq!(conn["pageInfo"]["hasNextPage"], false);
    assert_eq!(conn["pageInfo"]["hasPreviousPage"], false);
    assert!(conn["pageInfo"]["endCursor"].is_null());
    assert!(titles(&body).is_empty());

    let mut ids = vec![];
    for n in 1..=6 {
        ids.push(titled(&app, &ada, &format!("p{n}")).await["id"].clone());
    }
    // Forwards in pages of 2: 6 is an exact multiple, so the third page is the last.
    let mut pages = vec![];
    let mut after = Value::Null;
    loop {
        let body = app
            .gql(LIST, json!({ "first": 2, "after": after }), None)
            .await;
        assert_eq!(body["data"]["communityPosts"]["totalCount"], 6);
        let info = body["data"]["communityPosts"]["pageInfo"].clone();
        assert_eq!(info["hasPreviousPage"], !after.is_null());
        pages.push(titles(&body));
        if info["hasNextPage"] == false {
            break;
        }
        after = info["endCursor"].clone();
    }
    assert_eq!(pages, [["p6", "p5"], ["p4", "p3"], ["p2", "p1"]]);

    // After the last item: an empty page with nothing further.
    let body = app
        .gql(LIST, json!({ "first": 2 , "offset": 4 }), None)
        .await;
    assert_eq!(titles(&body), ["p2", "p1"]);
    let last = body["data"]["communityPosts"]["pageInfo"]["endCursor"].clone();
    let body = app
        .gql(LIST, json!({ "first": 2, "after": last }), None)
        .await;
    assert!(titles(&body).is_empty(), "{body}");
    assert_eq!(
        body["data"]["communityPosts"]["pageInfo"]["hasNextPage"],
        false
    );

    // Backwards: the last page, then the one before it, in list order.
    let body = app.gql(LIST, json!({ "last": 4 }), None).await;
    assert_eq!(titles(&body), ["p4", "p3", "p2", "p1"]);
    assert_eq!(
        body["data"]["communityPosts"]["pageInfo"]["hasPreviousPage"],
        true
    );
    let start = body["data"]["communityPosts"]["pageInfo"]["startCursor"].clone();
    let body = app
        .gql(LIST, json!({ "last": 4, "before": start }), None)
        .await;
    assert_eq!(titles(&body), ["p6", "p5"]);
    assert_eq!(
        body["data"]["communityPosts"]["pageInfo"]["hasPreviousPage"],
        false
    );
    assert_eq!(
        body["data"]["communityPosts"]["pageInfo"]["hasNextPage"],
        true
    );

    // Oldest first, and by last change: editing p1 moves it to the front of UPDATED_AT DESC.
    let asc = json!({ "first": 3, "order": { "field": "CREATED_AT", "direction": "ASC" } });
    assert_eq!(titles(&app.gql(LIST, asc, None).await), ["p1", "p2", "p3"]);
    app.gql(
        UPDATE,
        json!({ "i": { "id": ids[0], "body": "bumped" } }),
        Some(&ada),
    )
    .await;
    let by_update = json!({ "first": 2, "order": { "field": "UPDATED_AT" } });
    let body = app.gql(LIST, by_update, None).await;
    assert_eq!(titles(&body), ["p1", "p6"]);
    let other_order = body["data"]["communityPosts"]["pageInfo"]["endCursor"].clone();

    for (vars, what) in [
        (json!({ "first": 2, "after": "garbage" }), "invalid cursor"),
        (
            json!({ "first": 2, "before": "e30" }),
            "cursor of valid base64, wrong shape",
        ),
        (
            json!({ "first": 2, "after": other_order }),
            "cursor of another ordering",
        ),
        (json!({ "first": 2, "last": 2 }), "first with last"),
        (json!({ "first": 101 }), "first above 100"),
        (json!({ "last": 0 }), "zero last"),
        (json!({ "first": 2, "offset": -1 }), "negative offset"),
    ] {
        let body = app.gql(LIST, vars, None).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{what}: {body}");
    }
}

#[tokio::test]
async fn authors_and_projects_load_in_constant_statements() {
    let app = spawn_app().await;
    let query = "query($n: Int) { communityPosts(first: $n) { nodes { title tags author { displayName } project { name } } } }";
    let mut tokens = vec![];
    let mut projects = vec![];
    for n in 0..5 {
        let token = app.user(&format!("u{n}@example.com")).await;
        projects.push(project(&app, &token, &format!("project {n}"), "PUBLIC").await);
        tokens.push(token);
    }
    for n in 0..50 {
        let project = (n % 3 != 0).then(|| projects[n % 5].clone());
        let input = json!({ "title": format!("post {n}"), "body": "b", "tags": ["t"], "projectId": project });
        post(&app, &tokens[n % 5], input).await;
    }
    let mut counts = vec![];
    for n in [5, 50] {
        let before = app.statements();
        let body = app.gql(query, json!({ "n": n }), None).await;
        counts.push(app.statements() - before);
        let nodes = body["data"]["communityPosts"]["nodes"]
            .as_array()
            .unwrap_or_else(|| panic!("{body}"));
        assert_eq!(nodes.len(), n, "{body}");
        assert!(
            nodes.iter().all(|p| p["author"]["displayName"].is_string()),
            "{body}"
        );
        assert!(
            nodes.iter().any(|p| p["project"]["name"].is_string()),
            "{body}"
        );
        assert!(nodes.iter().any(|p| p["project"].is_null()), "{body}");
    }
    assert_eq!(
        counts[0], counts[1],
        "statements for 5 vs 50 posts: {counts:?}"
    );
    assert!(counts[1] <= 3, "page + authors + projects, got {counts:?}");
}

#[tokio::test]
async fn latest_posts_loader_batches_three_newest_per_project_in_one_statement() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let bob = app.user("bob@example.com").await;
    let busy = project(&app, &ada, "busy", "PUBLIC").await;
    let quiet = project(&app, &bob, "quiet", "PRIVATE").await;
    let empty = project(&app, &ada, "empty", "PUBLIC").await;
    let mut busy_posts = vec![];
    for n in 0..5 {
        // Interleave projects and detached posts so the ranking has to partition.
        busy_posts.push(
            post(
                &app,
                &ada,
                json!({ "title": format!("busy {n}"), "body": "b", "projectId": busy }),
            )
            .await,
        );
        titled(&app, &bob, &format!("detached {n}")).await;
        if n < 2 {
            post(
                &app,
                &bob,
                json!({ "title": format!("quiet {n}"), "body": "b", "projectId": quiet }),
            )
            .await;
        }
    }
    let id = |s: &str| Uuid::parse_str(s).unwrap();
    let keys = [id(&busy), id(&quiet), id(&empty), Uuid::now_v7()];

    let before = app.statements();
    let latest = latest_for_projects(&app.anonymous(), &keys).await.unwrap();
    assert_eq!(
        app.statements() - before,
        1,
        "one statement for the whole batch"
    );
    let titles_of = |project: &str| -> Vec<String> {
        latest[&id(project)]
            .iter()
            .map(|p| p.title.clone())
            .collect()
    };
    assert_eq!(titles_of(&busy), ["busy 4", "busy 3", "busy 2"]);
    assert_eq!(titles_of(&quiet), ["quiet 1", "quiet 0"]);
    assert!(
        latest[&id(&empty)].is_empty(),
        "a project without posts has an empty list"
    );
    assert_eq!(
        latest.len(),
        keys.len(),
        "every key gets an answer, so the request cache is complete"
    );
    assert_eq!(
        latest[&id(&busy)][0].id.to_string(),
        busy_posts[4]["id"].as_str().unwrap()
    );

    let before = app.statements();
    let counts = counts_for_projects(&app.anonymous(), &keys).await.unwrap();
    assert_eq!(app.statements() - before, 1);
    assert_eq!(counts[&id(&busy)], 5);
    assert_eq!(counts[&id(&quiet)], 2);
    assert_eq!(counts[&id(&empty)], 0);

    // Deleting the newest post lets the fourth-newest in.
    let body = app
        .gql(
            DELETE,
            json!({ "i": { "id": busy_posts[4]["id"] } }),
            Some(&ada),
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");
    let latest = latest_for_projects(&app.anonymous(), &keys[..1])
        .await
        .unwrap();
    let titles: Vec<_> = latest[&id(&busy)]
        .iter()
        .map(|p| p.title.as_str())
        .collect();
    assert_eq!(titles, ["busy 3", "busy 2", "busy 1"]);
}

#[tokio::test]
async fn keyed_creates_and_updates_replay() {
    let app = spawn_app().await;
    let token = app.user("ada@example.com").await;
    let create = "mutation($i: CreateCommunityPostInput!) { createCommunityPost(input: $i, idempotencyKey: \"post-key\") { communityPost { id version } } }";
    let input = json!({ "i": { "title": "Hello", "body": "World", "tags": ["rust"] } });
    let first = app.gql(create, input.clone(), Some(&token)).await;
    let again = app.gql(create, input, Some(&token)).await;
    assert_eq!(first["data"], again["data"], "{first} {again}");
    assert_eq!(again["extensions"]["idempotentReplayed"], true);
    let id = &first["data"]["createCommunityPost"]["communityPost"]["id"];
    let update = "mutation($i: UpdateCommunityPostInput!) { updateCommunityPost(input: $i, idempotencyKey: \"upd\") { communityPost { version } } }";
    let vars = json!({ "i": { "id": id, "title": "Hello again" } });
    let first = app.gql(update, vars.clone(), Some(&token)).await;
    let again = app.gql(update, vars, Some(&token)).await;
    assert_eq!(
        first["data"]["updateCommunityPost"]["communityPost"]["version"], 2,
        "{first}"
    );
    assert_eq!(again["data"], first["data"]);
    let body = app
        .gql(
            create,
            json!({ "i": { "title": "Other", "body": "x" } }),
            Some(&token),
        )
        .await;
    assert_eq!(error_code(&body), "IDEMPOTENCY_KEY_MISMATCH");
}
