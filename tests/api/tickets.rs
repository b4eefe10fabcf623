//! Support tickets over GraphQL: every operation, every authorization rule, the status life
//! cycle, validation, versions, filters, pagination and batched relations.

use neoforge::entity::{audit_events, users::Role};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

use crate::common::{TestApp, error_code, spawn_app};

const CREATE: &str = "mutation($i: CreateSupportTicketInput!, $k: String) {
  createSupportTicket(input: $i, idempotencyKey: $k) { ticket {
    id subject body status priority version createdAt updatedAt
    requester { id } assignee { id } project { id name } } } }";
const UPDATE: &str = "mutation($i: UpdateSupportTicketInput!, $v: Int) {
  updateSupportTicket(input: $i, expectedVersion: $v) { ticket {
    id subject body status priority version updatedAt assignee { id } } } }";
const GET: &str = "query($id: ID!) { supportTicket(id: $id) {
  id subject status version requester { id } project { name } } }";
const LIST: &str = "query($first: Int, $after: String, $last: Int, $before: String, $offset: Int,
    $filter: SupportTicketFilter, $order: SupportTicketOrder) {
  supportTickets(first: $first, after: $after, last: $last, before: $before, offset: $offset,
      filter: $filter, orderBy: $order) {
    totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id } } nodes { subject } } }";
const CREATE_PROJECT: &str =
    "mutation($i: CreateProjectInput!) { createProject(input: $i) { project { id } } }";
const UPDATE_PROJECT: &str =
    "mutation($i: UpdateProjectInput!) { updateProject(input: $i) { project { id } } }";

async fn open(app: &TestApp, token: &str, input: Value) -> Value {
    let body = app.gql(CREATE, json!({ "i": input }), Some(token)).await;
    let ticket = body["data"]["createSupportTicket"]["ticket"].clone();
    assert!(ticket.is_object(), "create failed: {body}");
    ticket
}

/// A ticket with just a subject (the body is filled in).
async fn open_simple(app: &TestApp, token: &str, subject: &str) -> String {
    let t = open(
        app,
        token,
        json!({ "subject": subject, "body": "Please help." }),
    )
    .await;
    t["id"].as_str().unwrap().to_owned()
}

async fn update(app: &TestApp, token: Option<&str>, input: Value) -> Value {
    app.gql(UPDATE, json!({ "i": input }), token).await
}

fn updated(body: &Value) -> &Value {
    let t = &body["data"]["updateSupportTicket"]["ticket"];
    assert!(t.is_object(), "update failed: {body}");
    t
}

async fn project(app: &TestApp, token: &str, name: &str, visibility: &str) -> String {
    let vars = json!({ "i": { "name": name, "visibility": visibility } });
    let body = app.gql(CREATE_PROJECT, vars, Some(token)).await;
    body["data"]["createProject"]["project"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("project create failed: {body}"))
        .to_owned()
}

async fn user_id(app: &TestApp, token: &str) -> String {
    let body = app.gql("{ viewer { id } }", json!({}), Some(token)).await;
    body["data"]["viewer"]["id"].as_str().unwrap().to_owned()
}

fn subjects(body: &Value) -> Vec<String> {
    body["data"]["supportTickets"]["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("no nodes: {body}"))
        .iter()
        .map(|n| n["subject"].as_str().unwrap().to_owned())
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

async fn audit_count(app: &TestApp, action: &str, ticket_id: &str) -> u64 {
    audit_events::Entity::find()
        .filter(audit_events::Column::Action.eq(action))
        .filter(audit_events::Column::Target.eq(format!("support_ticket:{ticket_id}")))
        .count(app.db_handle.conn())
        .await
        .unwrap()
}

#[tokio::test]
async fn create_get_list_and_update() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let staff = app.user_with_role("staff@example.com", Role::Staff).await;
    let ada_id = user_id(&app, &ada).await;
    let staff_id = user_id(&app, &staff).await;

    let t = open(
        &app,
        &ada,
        json!({ "subject": "  Build fails  ", "body": "Since Tuesday.\n\nLogs attached." }),
    )
    .await;
    assert_eq!(t["subject"], "Build fails", "subjects are trimmed");
    assert_eq!(t["body"], "Since Tuesday.\n\nLogs attached.");
    assert_eq!(t["status"], "OPEN");
    assert_eq!(t["priority"], "NORMAL", "default priority");
    assert_eq!(t["version"], 1);
    assert_eq!(t["requester"]["id"], ada_id.as_str());
    assert!(t["assignee"].is_null() && t["project"].is_null());
    assert_eq!(t["createdAt"], t["updatedAt"]);
    let id = t["id"].as_str().unwrap();
    assert_eq!(audit_count(&app, "ticket.created", id).await, 1);

    let body = app.gql(GET, json!({ "id": id }), Some(&ada)).await;
    assert_eq!(
        body["data"]["supportTicket"]["subject"], "Build fails",
        "{body}"
    );
    let body = app.gql(LIST, json!({}), Some(&ada)).await;
    assert_eq!(subjects(&body), ["Build fails"]);
    assert_eq!(body["data"]["supportTickets"]["totalCount"], 1);

    let body = update(
        &app,
        Some(&staff),
        json!({ "id": id, "status": "IN_PROGRESS", "priority": "URGENT", "assigneeId": staff_id }),
    )
    .await;
    let t = updated(&body);
    assert_eq!(t["status"], "IN_PROGRESS");
    assert_eq!(t["priority"], "URGENT");
    assert_eq!(t["assignee"]["id"], staff_id.as_str());
    assert_eq!(t["subject"], "Build fails", "omitted fields are unchanged");
    assert_eq!(t["version"], 2);
    assert_eq!(audit_count(&app, "ticket.updated", id).await, 1);

    let body = app.gql(GET, json!({ "id": id }), Some(&ada)).await;
    assert_eq!(body["data"]["supportTicket"]["version"], 2);
    assert_eq!(body["data"]["supportTicket"]["status"], "IN_PROGRESS");

    // No such ticket, or no id at all.
    let missing = "01900000-0000-7000-8000-000000000000";
    let body = app.gql(GET, json!({ "id": missing }), Some(&staff)).await;
    assert!(body["data"]["supportTicket"].is_null(), "{body}");
    assert!(body["errors"].is_null(), "{body}");
    let body = app.gql(GET, json!({ "id": "nope" }), Some(&staff)).await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
    let body = update(
        &app,
        Some(&staff),
        json!({ "id": missing, "status": "CLOSED" }),
    )
    .await;
    assert_eq!(error_code(&body), "NOT_FOUND");

    // There is no delete.
    let body = app
        .gql(
            "mutation { deleteSupportTicket(input: {id: \"x\"}) { deletedId } }",
            json!({}),
            Some(&staff),
        )
        .await;
    assert!(body["errors"].is_array(), "{body}");
}

#[tokio::test]
async fn create_with_priority_and_a_readable_project() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let bob = app.user("bob@example.com").await;
    let admin = app.user_with_role("admin@example.com", Role::Admin).await;
    let public = project(&app, &bob, "Bob public", "PUBLIC").await;
    let private = project(&app, &bob, "Bob private", "PRIVATE").await;
    let own_private = project(&app, &ada, "Ada private", "PRIVATE").await;

    let t = open(
        &app,
        &ada,
        json!({ "subject": "s", "body": "b", "priority": "HIGH", "projectId": public }),
    )
    .await;
    assert_eq!(t["priority"], "HIGH");
    assert_eq!(t["project"]["name"], "Bob public");
    let t = open(
        &app,
        &ada,
        json!({ "subject": "s", "body": "b", "projectId": own_private }),
    )
    .await;
    assert_eq!(t["project"]["name"], "Ada private");
    let t = open(
        &app,
        &admin,
        json!({ "subject": "s", "body": "b", "projectId": private }),
    )
    .await;
    assert_eq!(
        t["project"]["name"], "Bob private",
        "admins read every project"
    );

    // A project the requester cannot read is, to them, no project at all.
    let missing = "01900000-0000-7000-8000-000000000000";
    for project_id in [private.as_str(), missing] {
        let vars = json!({ "i": { "subject": "s", "body": "b", "projectId": project_id } });
        let body = app.gql(CREATE, vars, Some(&ada)).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
        assert_eq!(field_paths(&body), [r#"["input","projectId"]"#]);
    }
    let vars = json!({ "i": { "subject": "s", "body": "b", "projectId": "not-an-id" } });
    let body = app.gql(CREATE, vars, Some(&ada)).await;
    assert_eq!(field_paths(&body), [r#"["input","projectId"]"#]);

    // A ticket's project disappears from view when the project stops being readable.
    let t = open(
        &app,
        &ada,
        json!({ "subject": "later hidden", "body": "b", "projectId": public }),
    )
    .await;
    let body = app
        .gql(
            UPDATE_PROJECT,
            json!({ "i": { "id": public, "visibility": "PRIVATE" } }),
            Some(&bob),
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");
    let body = app.gql(GET, json!({ "id": t["id"] }), Some(&ada)).await;
    assert!(body["data"]["supportTicket"].is_object(), "{body}");
    assert!(body["data"]["supportTicket"]["project"].is_null(), "{body}");
    let body = app.gql(GET, json!({ "id": t["id"] }), Some(&admin)).await;
    assert_eq!(
        body["data"]["supportTicket"]["project"]["name"],
        "Bob public"
    );
}

#[tokio::test]
async fn validation_errors_name_their_fields() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let staff = app.user_with_role("staff@example.com", Role::Staff).await;

    let body = app
        .gql(
            CREATE,
            json!({ "i": { "subject": "s", "body": "b" } }),
            None,
        )
        .await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED");

    for (input, paths) in [
        (
            json!({ "subject": "", "body": "b" }),
            vec![r#"["input","subject"]"#],
        ),
        (
            json!({ "subject": "   ", "body": "b" }),
            vec![r#"["input","subject"]"#],
        ),
        (
            json!({ "subject": "x".repeat(201), "body": "b" }),
            vec![r#"["input","subject"]"#],
        ),
        (
            json!({ "subject": "two\nlines", "body": "b" }),
            vec![r#"["input","subject"]"#],
        ),
        (
            json!({ "subject": "s", "body": "" }),
            vec![r#"["input","body"]"#],
        ),
        (
            json!({ "subject": "s", "body": " \n\t " }),
            vec![r#"["input","body"]"#],
        ),
        (
            json!({ "subject": "s", "body": "b".repeat(20_001) }),
            vec![r#"["input","body"]"#],
        ),
        (
            json!({ "subject": "", "body": "" }),
            vec![r#"["input","subject"]"#, r#"["input","body"]"#],
        ),
    ] {
        let body = app.gql(CREATE, json!({ "i": input }), Some(&ada)).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{input}: {body}");
        assert_eq!(field_paths(&body), paths, "{input}");
    }
    // The bounds themselves are fine.
    let t = open(
        &app,
        &ada,
        json!({ "subject": "é".repeat(200), "body": "b".repeat(20_000) }),
    )
    .await;
    let id = t["id"].as_str().unwrap();

    let body = app
        .gql(
            CREATE,
            json!({ "i": { "subject": "s", "body": "b", "priority": "ASAP" } }),
            Some(&ada),
        )
        .await;
    assert!(
        body["errors"].is_array(),
        "unknown enum values are rejected: {body}"
    );

    for (input, path) in [
        (
            json!({ "id": id, "subject": null }),
            r#"["input","subject"]"#,
        ),
        (json!({ "id": id, "body": null }), r#"["input","body"]"#),
        (json!({ "id": id, "status": null }), r#"["input","status"]"#),
        (
            json!({ "id": id, "priority": null }),
            r#"["input","priority"]"#,
        ),
        (
            json!({ "id": id, "subject": "x".repeat(201) }),
            r#"["input","subject"]"#,
        ),
        (json!({ "id": id, "body": "" }), r#"["input","body"]"#),
        (
            json!({ "id": id, "assigneeId": "not-an-id" }),
            r#"["input","assigneeId"]"#,
        ),
        (
            json!({ "id": "not-an-id", "status": "CLOSED" }),
            r#"["input","id"]"#,
        ),
    ] {
        let body = update(&app, Some(&staff), input.clone()).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{input}: {body}");
        assert_eq!(field_paths(&body), [path], "{input}");
    }
    let body = app.gql(GET, json!({ "id": id }), Some(&ada)).await;
    assert_eq!(
        body["data"]["supportTicket"]["version"], 1,
        "rejected updates changed nothing"
    );
}

#[tokio::test]
async fn who_can_read_tickets() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let bob = app.user("bob@example.com").await;
    let staff = app.user_with_role("staff@example.com", Role::Staff).await;
    let admin = app.user_with_role("admin@example.com", Role::Admin).await;
    let adas = open_simple(&app, &ada, "Ada's").await;
    open_simple(&app, &bob, "Bob's").await;

    let body = app.gql(GET, json!({ "id": adas }), None).await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");
    let body = app.gql(LIST, json!({}), None).await;
    assert_eq!(error_code(&body), "UNAUTHENTICATED", "{body}");

    for (token, sees, list) in [
        (&ada, true, vec!["Ada's"]),
        (&bob, false, vec!["Bob's"]),
        (&staff, true, vec!["Bob's", "Ada's"]),
        (&admin, true, vec!["Bob's", "Ada's"]),
    ] {
        let body = app.gql(GET, json!({ "id": adas }), Some(token)).await;
        assert!(body["errors"].is_null(), "{body}");
        assert_eq!(body["data"]["supportTicket"].is_object(), sees, "{body}");
        let body = app.gql(LIST, json!({}), Some(token)).await;
        assert_eq!(subjects(&body), list);
        assert_eq!(body["data"]["supportTickets"]["totalCount"], list.len());
    }
    // A requester filter cannot widen what a user sees.
    let ada_id = user_id(&app, &ada).await;
    let body = app
        .gql(
            LIST,
            json!({ "filter": { "requesterId": ada_id } }),
            Some(&bob),
        )
        .await;
    assert!(subjects(&body).is_empty());
    assert_eq!(body["data"]["supportTickets"]["totalCount"], 0);
}

#[tokio::test]
async fn requester_edits_text_while_open_and_may_close() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let staff = app.user_with_role("staff@example.com", Role::Staff).await;
    let staff_id = user_id(&app, &staff).await;
    let id = open_simple(&app, &ada, "Original").await;

    // While OPEN: subject and body.
    let body = update(
        &app,
        Some(&ada),
        json!({ "id": id, "subject": "Edited", "body": "More detail" }),
    )
    .await;
    let t = updated(&body);
    assert_eq!(
        (t["subject"].as_str(), t["body"].as_str()),
        (Some("Edited"), Some("More detail"))
    );
    assert_eq!(t["version"], 2);

    // Never priority, assignee or other statuses.
    for input in [
        json!({ "id": id, "priority": "URGENT" }),
        json!({ "id": id, "assigneeId": staff_id }),
        json!({ "id": id, "status": "IN_PROGRESS" }),
        json!({ "id": id, "status": "RESOLVED" }),
        json!({ "id": id, "subject": "Also", "priority": "LOW" }),
    ] {
        let body = update(&app, Some(&ada), input.clone()).await;
        assert_eq!(error_code(&body), "FORBIDDEN", "{input}: {body}");
    }
    // Echoing current values is not a change.
    let body = update(
        &app,
        Some(&ada),
        json!({ "id": id, "priority": "NORMAL", "assigneeId": null, "status": "OPEN", "subject": "Edited again" }),
    )
    .await;
    assert_eq!(updated(&body)["subject"], "Edited again");

    // Once staff pick it up, the text is frozen for the requester.
    let body = update(
        &app,
        Some(&staff),
        json!({ "id": id, "status": "IN_PROGRESS" }),
    )
    .await;
    updated(&body);
    for input in [
        json!({ "id": id, "subject": "Late edit" }),
        json!({ "id": id, "body": "Late" }),
    ] {
        let body = update(&app, Some(&ada), input.clone()).await;
        assert_eq!(error_code(&body), "FORBIDDEN", "{input}: {body}");
    }
    let body = update(&app, Some(&ada), json!({ "id": id, "status": "OPEN" })).await;
    assert_eq!(
        error_code(&body),
        "FORBIDDEN",
        "requesters cannot move it back: {body}"
    );

    // Closing is allowed; reopening is not (only staff reopen).
    let body = update(&app, Some(&ada), json!({ "id": id, "status": "CLOSED" })).await;
    assert_eq!(updated(&body)["status"], "CLOSED");
    let body = update(&app, Some(&ada), json!({ "id": id, "status": "OPEN" })).await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    let body = update(
        &app,
        Some(&ada),
        json!({ "id": id, "subject": "After close" }),
    )
    .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    let body = update(&app, Some(&ada), json!({ "id": id, "status": "CLOSED" })).await;
    assert_eq!(
        updated(&body)["status"],
        "CLOSED",
        "closing a closed ticket is a no-op"
    );

    // The requester may close from every non-closed status.
    for from in ["OPEN", "IN_PROGRESS", "RESOLVED"] {
        let id = open_simple(&app, &ada, from).await;
        if from != "OPEN" {
            updated(&update(&app, Some(&staff), json!({ "id": id, "status": from })).await);
        }
        let body = update(&app, Some(&ada), json!({ "id": id, "status": "CLOSED" })).await;
        assert_eq!(updated(&body)["status"], "CLOSED", "close from {from}");
    }
}

#[tokio::test]
async fn others_cannot_update_and_do_not_learn_the_ticket_exists() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let bob = app.user("bob@example.com").await;
    let id = open_simple(&app, &ada, "Private matter").await;
    for input in [
        json!({ "id": id, "subject": "Hijacked" }),
        json!({ "id": id, "status": "CLOSED" }),
        json!({ "id": id, "priority": "LOW" }),
    ] {
        let body = update(&app, Some(&bob), input.clone()).await;
        assert_eq!(error_code(&body), "NOT_FOUND", "{input}: {body}");
        let body = update(&app, None, input.clone()).await;
        assert_eq!(error_code(&body), "UNAUTHENTICATED", "{input}: {body}");
    }
    let body = app.gql(GET, json!({ "id": id }), Some(&ada)).await;
    assert_eq!(body["data"]["supportTicket"]["subject"], "Private matter");
    assert_eq!(body["data"]["supportTicket"]["version"], 1);
}

#[tokio::test]
async fn staff_and_admins_change_every_field() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let bob = app.user("bob@example.com").await;
    let staff = app.user_with_role("staff@example.com", Role::Staff).await;
    let admin = app.user_with_role("admin@example.com", Role::Admin).await;
    let (staff_id, admin_id, bob_id) = (
        user_id(&app, &staff).await,
        user_id(&app, &admin).await,
        user_id(&app, &bob).await,
    );

    for (token, assignee) in [(&staff, &admin_id), (&admin, &staff_id)] {
        let id = open_simple(&app, &ada, "Needs triage").await;
        let body = update(
            &app,
            Some(token),
            json!({ "id": id, "subject": "Triaged", "body": "Rewritten by staff", "priority": "LOW",
                    "assigneeId": assignee, "status": "RESOLVED" }),
        )
        .await;
        let t = updated(&body);
        assert_eq!(t["subject"], "Triaged");
        assert_eq!(t["body"], "Rewritten by staff");
        assert_eq!(t["priority"], "LOW");
        assert_eq!(t["status"], "RESOLVED");
        assert_eq!(t["assignee"]["id"], assignee.as_str());
        // Staff edit text in any status, and unassign with null.
        let body = update(
            &app,
            Some(token),
            json!({ "id": id, "subject": "Still editable", "assigneeId": null }),
        )
        .await;
        let t = updated(&body);
        assert_eq!(t["subject"], "Still editable");
        assert!(t["assignee"].is_null(), "{body}");
        assert_eq!(t["version"], 3);
    }

    // Assignees must be existing staff or admins.
    let id = open_simple(&app, &ada, "Assign me").await;
    let missing = "01900000-0000-7000-8000-000000000000";
    for assignee in [bob_id.as_str(), missing] {
        let body = update(
            &app,
            Some(&staff),
            json!({ "id": id, "assigneeId": assignee }),
        )
        .await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body}");
        assert_eq!(field_paths(&body), [r#"["input","assigneeId"]"#]);
    }
    // Bad status and bad assignee are reported together.
    updated(&update(&app, Some(&staff), json!({ "id": id, "status": "CLOSED" })).await);
    let body = update(
        &app,
        Some(&staff),
        json!({ "id": id, "status": "RESOLVED", "assigneeId": bob_id }),
    )
    .await;
    assert_eq!(
        field_paths(&body),
        [r#"["input","status"]"#, r#"["input","assigneeId"]"#]
    );
}

#[tokio::test]
async fn status_transitions_follow_the_life_cycle() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let staff = app.user_with_role("staff@example.com", Role::Staff).await;
    let statuses = ["OPEN", "IN_PROGRESS", "RESOLVED", "CLOSED"];
    let allowed = [
        ("OPEN", "IN_PROGRESS"),
        ("OPEN", "RESOLVED"),
        ("OPEN", "CLOSED"),
        ("IN_PROGRESS", "OPEN"),
        ("IN_PROGRESS", "RESOLVED"),
        ("IN_PROGRESS", "CLOSED"),
        ("RESOLVED", "CLOSED"),
        ("RESOLVED", "OPEN"),
        ("CLOSED", "OPEN"),
    ];
    for from in statuses {
        for to in statuses {
            let id = open_simple(&app, &ada, &format!("{from} to {to}")).await;
            if from != "OPEN" {
                updated(&update(&app, Some(&staff), json!({ "id": id, "status": from })).await);
            }
            let body = update(&app, Some(&staff), json!({ "id": id, "status": to })).await;
            if from == to || allowed.contains(&(from, to)) {
                assert_eq!(updated(&body)["status"], to, "{from} -> {to}");
            } else {
                assert_eq!(
                    error_code(&body),
                    "BAD_USER_INPUT",
                    "{from} -> {to}: {body}"
                );
                assert_eq!(
                    field_paths(&body),
                    [r#"["input","status"]"#],
                    "{from} -> {to}"
                );
                let body = app.gql(GET, json!({ "id": id }), Some(&staff)).await;
                assert_eq!(body["data"]["supportTicket"]["status"], from, "unchanged");
            }
        }
    }
}

#[tokio::test]
async fn expected_version_guards_updates() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let staff = app.user_with_role("staff@example.com", Role::Staff).await;
    let id = open_simple(&app, &ada, "v1").await;

    let vars = json!({ "i": { "id": id, "subject": "v2" }, "v": 1 });
    let body = app.gql(UPDATE, vars, Some(&ada)).await;
    assert_eq!(updated(&body)["version"], 2);

    for token in [&ada, &staff] {
        let vars = json!({ "i": { "id": id, "subject": "stale" }, "v": 1 });
        let body = app.gql(UPDATE, vars, Some(token)).await;
        assert_eq!(error_code(&body), "PRECONDITION_FAILED", "{body}");
        assert_eq!(body["errors"][0]["extensions"]["currentVersion"], 2);
    }
    let body = app.gql(GET, json!({ "id": id }), Some(&ada)).await;
    assert_eq!(
        body["data"]["supportTicket"]["subject"], "v2",
        "stale writes changed nothing"
    );

    let vars = json!({ "i": { "id": id, "status": "RESOLVED" }, "v": 2 });
    let body = app.gql(UPDATE, vars, Some(&staff)).await;
    let t = updated(&body);
    assert_eq!(t["version"], 3);
    assert_eq!(t["status"], "RESOLVED");
    // Without expectedVersion the last writer wins, and still bumps the version.
    let body = update(&app, Some(&staff), json!({ "id": id, "priority": "HIGH" })).await;
    assert_eq!(updated(&body)["version"], 4);
}

#[tokio::test]
async fn concurrent_updates_with_the_same_expected_version_have_one_winner() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let staff = app.user_with_role("staff@example.com", Role::Staff).await;
    let id = open_simple(&app, &ada, "Race").await;
    let tasks: Vec<_> = (0..8)
        .map(|n| {
            let (url, client, token, id) = (
                app.url("/graphql"),
                app.client.clone(),
                staff.clone(),
                id.clone(),
            );
            tokio::spawn(async move {
                let vars = json!({ "i": { "id": id, "subject": format!("writer {n}") }, "v": 1 });
                let res = client
                    .post(url)
                    .bearer_auth(token)
                    .json(&json!({ "query": UPDATE, "variables": vars }));
                res.send().await.unwrap().json::<Value>().await.unwrap()
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
    let body = app.gql(GET, json!({ "id": id }), Some(&ada)).await;
    assert_eq!(body["data"]["supportTicket"]["version"], 2);
}

#[tokio::test]
async fn list_filters_and_ordering() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let bob = app.user("bob@example.com").await;
    let staff = app.user_with_role("staff@example.com", Role::Staff).await;
    let (ada_id, bob_id, staff_id) = (
        user_id(&app, &ada).await,
        user_id(&app, &bob).await,
        user_id(&app, &staff).await,
    );
    let forge = project(&app, &ada, "Forge", "PUBLIC").await;

    let a1 = open(
        &app,
        &ada,
        json!({ "subject": "a1", "body": "b", "projectId": forge, "priority": "HIGH" }),
    )
    .await;
    let a2 = open_simple(&app, &ada, "a2").await;
    let b1 = open(
        &app,
        &bob,
        json!({ "subject": "b1", "body": "b", "projectId": forge }),
    )
    .await;
    open(
        &app,
        &bob,
        json!({ "subject": "b2", "body": "b", "priority": "HIGH" }),
    )
    .await;
    updated(
        &update(
            &app,
            Some(&staff),
            json!({ "id": a2, "status": "IN_PROGRESS", "assigneeId": staff_id }),
        )
        .await,
    );
    updated(
        &update(
            &app,
            Some(&staff),
            json!({ "id": b1["id"], "status": "RESOLVED" }),
        )
        .await,
    );

    let list = |filter: Value| app.gql(LIST, json!({ "filter": filter }), Some(&staff));
    assert_eq!(
        subjects(&list(json!({ "status": "OPEN" })).await),
        ["b2", "a1"]
    );
    assert_eq!(
        subjects(&list(json!({ "status": "IN_PROGRESS" })).await),
        ["a2"]
    );
    assert_eq!(
        subjects(&list(json!({ "status": "CLOSED" })).await),
        Vec::<String>::new()
    );
    assert_eq!(
        subjects(&list(json!({ "priority": "HIGH" })).await),
        ["b2", "a1"]
    );
    assert_eq!(
        subjects(&list(json!({ "priority": "NORMAL" })).await),
        ["b1", "a2"]
    );
    assert_eq!(
        subjects(&list(json!({ "projectId": forge })).await),
        ["b1", "a1"]
    );
    assert_eq!(
        subjects(&list(json!({ "requesterId": ada_id })).await),
        ["a2", "a1"]
    );
    assert_eq!(
        subjects(&list(json!({ "requesterId": bob_id })).await),
        ["b2", "b1"]
    );
    assert_eq!(
        subjects(&list(json!({ "assigneeId": staff_id })).await),
        ["a2"]
    );
    let body = list(json!({ "projectId": forge, "status": "OPEN", "priority": "HIGH" })).await;
    assert_eq!(subjects(&body), ["a1"]);
    assert_eq!(
        body["data"]["supportTickets"]["totalCount"], 1,
        "totalCount honours filters"
    );
    // The requester's own view filters the same way.
    let body = app
        .gql(
            LIST,
            json!({ "filter": { "projectId": forge } }),
            Some(&ada),
        )
        .await;
    assert_eq!(subjects(&body), ["a1"]);

    for filter in [
        json!({ "projectId": "x" }),
        json!({ "requesterId": "x" }),
        json!({ "assigneeId": "x" }),
    ] {
        let body = list(filter.clone()).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{filter}: {body}");
    }

    // Ordering: oldest first, and by last change.
    let order = |field: &str, direction: &str| {
        app.gql(
            LIST,
            json!({ "order": { "field": field, "direction": direction } }),
            Some(&staff),
        )
    };
    assert_eq!(
        subjects(&order("CREATED_AT", "ASC").await),
        ["a1", "a2", "b1", "b2"]
    );
    updated(
        &update(
            &app,
            Some(&staff),
            json!({ "id": a1["id"], "priority": "LOW" }),
        )
        .await,
    );
    assert_eq!(
        subjects(&order("UPDATED_AT", "DESC").await),
        ["a1", "b1", "a2", "b2"]
    );
    let body = app
        .gql(
            LIST,
            json!({ "order": { "field": "PRIORITY" } }),
            Some(&staff),
        )
        .await;
    assert!(
        body["errors"].is_array(),
        "unknown sort keys are rejected: {body}"
    );
}

#[tokio::test]
async fn pagination_edge_cases() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let staff = app.user_with_role("staff@example.com", Role::Staff).await;

    // Empty list.
    let body = app.gql(LIST, json!({ "first": 2 }), Some(&staff)).await;
    let conn = &body["data"]["supportTickets"];
    assert_eq!(conn["totalCount"], 0, "{body}");
    assert_eq!(conn["pageInfo"]["hasNextPage"], false);
    assert_eq!(conn["pageInfo"]["hasPreviousPage"], false);
    assert!(conn["pageInfo"]["endCursor"].is_null());
    assert!(subjects(&body).is_empty());

    for n in 1..=6 {
        open_simple(&app, &ada, &format!("t{n}")).await;
    }
    // Pages of 2 over 6 tickets: the last full page says there is nothing after it.
    let mut seen = vec![];
    let mut after = Value::Null;
    for page in 0.. {
        let body = app
            .gql(LIST, json!({ "first": 2, "after": after }), Some(&ada))
            .await;
        let conn = &body["data"]["supportTickets"];
        assert_eq!(conn["totalCount"], 6);
        assert_eq!(subjects(&body).len(), 2, "page {page} is full: {body}");
        assert_eq!(conn["pageInfo"]["hasPreviousPage"], page > 0);
        seen.extend(subjects(&body));
        if conn["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = conn["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(seen, ["t6", "t5", "t4", "t3", "t2", "t1"]);

    // A short last page.
    let body = app.gql(LIST, json!({ "first": 4 }), Some(&ada)).await;
    let end = body["data"]["supportTickets"]["pageInfo"]["endCursor"].clone();
    let body = app
        .gql(LIST, json!({ "first": 4, "after": end }), Some(&ada))
        .await;
    assert_eq!(subjects(&body), ["t2", "t1"]);
    assert_eq!(
        body["data"]["supportTickets"]["pageInfo"]["hasNextPage"],
        false
    );
    // After the last item: nothing.
    let end = body["data"]["supportTickets"]["pageInfo"]["endCursor"].clone();
    let body = app
        .gql(LIST, json!({ "first": 4, "after": end }), Some(&ada))
        .await;
    assert!(subjects(&body).is_empty());

    // Backwards: the last page, then the one before it.
    let body = app.gql(LIST, json!({ "last": 4 }), Some(&ada)).await;
    assert_eq!(subjects(&body), ["t4", "t3", "t2", "t1"]);
    assert_eq!(
        body["data"]["supportTickets"]["pageInfo"]["hasPreviousPage"],
        true
    );
    let start = body["data"]["supportTickets"]["pageInfo"]["startCursor"].clone();
    let body = app
        .gql(LIST, json!({ "last": 4, "before": start }), Some(&ada))
        .await;
    assert_eq!(subjects(&body), ["t6", "t5"]);
    assert_eq!(
        body["data"]["supportTickets"]["pageInfo"]["hasPreviousPage"],
        false
    );
    assert_eq!(
        body["data"]["supportTickets"]["pageInfo"]["hasNextPage"],
        true
    );
    // Edge cursors point at the items they belong to.
    let body = app.gql(LIST, json!({ "first": 3 }), Some(&ada)).await;
    let second = body["data"]["supportTickets"]["edges"][1]["cursor"].clone();
    let body = app
        .gql(LIST, json!({ "first": 1, "after": second }), Some(&ada))
        .await;
    assert_eq!(subjects(&body), ["t4"]);

    // Offset pages for the REST shim.
    let body = app
        .gql(LIST, json!({ "first": 4, "offset": 4 }), Some(&ada))
        .await;
    assert_eq!(subjects(&body), ["t2", "t1"]);
    assert_eq!(
        body["data"]["supportTickets"]["pageInfo"]["hasPreviousPage"],
        true
    );

    let ordered = json!({ "field": "UPDATED_AT" });
    for (vars, what) in [
        (json!({ "first": 2, "after": "garbage" }), "invalid cursor"),
        (
            json!({ "last": 2, "before": "e30" }),
            "cursor of empty JSON",
        ),
        (
            json!({ "first": 2, "after": end, "order": ordered }),
            "cursor of another ordering",
        ),
        (json!({ "first": 2, "last": 2 }), "first with last"),
        (json!({ "first": 1000 }), "huge first"),
        (json!({ "last": 101 }), "huge last"),
        (json!({ "first": 0 }), "zero first"),
        (json!({ "first": 2, "offset": -1 }), "negative offset"),
    ] {
        let body = app.gql(LIST, vars, Some(&ada)).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{what}: {body}");
    }
}

#[tokio::test]
async fn relations_load_in_constant_statements() {
    let app = spawn_app().await;
    let query = "query($n: Int) { supportTickets(first: $n) { nodes {
        subject requester { displayName } assignee { displayName } project { name } } } }";
    let staff = app.user_with_role("staff@example.com", Role::Staff).await;
    let admin = app.user_with_role("admin@example.com", Role::Admin).await;
    let assignees = [user_id(&app, &staff).await, user_id(&app, &admin).await];
    let mut requesters = vec![];
    let mut projects = vec![];
    for n in 0..5 {
        let token = app.user(&format!("u{n}@example.com")).await;
        projects.push(project(&app, &token, &format!("p{n}"), "PUBLIC").await);
        requesters.push(token);
    }
    for n in 0..50 {
        let t = open(
            &app,
            &requesters[n % 5],
            json!({ "subject": format!("t{n}"), "body": "b", "projectId": projects[n % 5] }),
        )
        .await;
        let body = update(
            &app,
            Some(&staff),
            json!({ "id": t["id"], "assigneeId": assignees[n % 2] }),
        )
        .await;
        updated(&body);
    }
    let mut counts = vec![];
    for n in [5, 50] {
        let before = app.statements();
        let body = app.gql(query, json!({ "n": n }), Some(&staff)).await;
        counts.push(app.statements() - before);
        let nodes = body["data"]["supportTickets"]["nodes"]
            .as_array()
            .unwrap_or_else(|| panic!("{body}"));
        assert_eq!(nodes.len(), n as usize, "{body}");
        assert!(
            nodes
                .iter()
                .all(|t| t["requester"]["displayName"].is_string()
                    && t["assignee"]["displayName"].is_string()
                    && t["project"]["name"].is_string()),
            "{body}"
        );
    }
    assert_eq!(
        counts[0], counts[1],
        "statements for 5 vs 50 tickets: {counts:?}"
    );
    assert!(
        counts[1] <= 3,
        "a page, its users and its projects: {counts:?}"
    );
}

#[tokio::test]
async fn keyed_creates_and_updates_replay() {
    let app = spawn_app().await;
    let token = app.user("ada@example.com").await;
    let create = "mutation($i: CreateSupportTicketInput!) { createSupportTicket(input: $i, idempotencyKey: \"t-key\") { ticket { id version } } }";
    let input = serde_json::json!({ "i": { "subject": "Help", "body": "It broke" } });
    let first = app.gql(create, input.clone(), Some(&token)).await;
    let again = app.gql(create, input, Some(&token)).await;
    assert!(first["errors"].is_null(), "{first}");
    assert_eq!(first["data"], again["data"]);
    assert_eq!(again["extensions"]["idempotentReplayed"], true);
    let id = &first["data"]["createSupportTicket"]["ticket"]["id"];
    let update = "mutation($i: UpdateSupportTicketInput!) { updateSupportTicket(input: $i, idempotencyKey: \"u\") { ticket { version } } }";
    let vars = serde_json::json!({ "i": { "id": id, "body": "It broke badly" } });
    let first = app.gql(update, vars.clone(), Some(&token)).await;
    let again = app.gql(update, vars, Some(&token)).await;
    assert_eq!(
        first["data"]["updateSupportTicket"]["ticket"]["version"], 2,
        "{first}"
    );
    assert_eq!(again["data"], first["data"]);
    assert_eq!(again["extensions"]["idempotentReplayed"], true);
}
