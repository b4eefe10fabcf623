//! The authorization matrix (docs/api.md, "Who may read and change what"), table-driven: every REST
//! operation, as anonymous / another user / the owner / staff / admin, against the status each must
//! get. Destructive operations act on a resource created for that call alone.

use neoforge::entity::users::Role;
use reqwest::Method;
use serde_json::{Value, json};

use crate::common::{TestApp, spawn_app};

const PASSWORD: &str = "a test password";
const WHO: [&str; 5] = ["anonymous", "other user", "owner", "staff", "admin"];

/// What a row acts on.
#[derive(Clone, Copy)]
enum On {
    Nothing,
    PublicProject,
    PrivateProject,
    /// A public project of the owner's, created for this call.
    FreshProject,
    Ticket,
    /// An open ticket of the owner's, created for this call.
    FreshTicket,
    Post,
    /// Another session of the owner's, opened for this call.
    OwnerSession,
    /// A user that only admins act on.
    Victim,
    /// A user created for this call.
    FreshVictim,
}

struct Row {
    method: Method,
    /// `{}` is replaced by the target's id.
    path: &'static str,
    on: On,
    body: Option<fn() -> Value>,
    expect: [u16; 5],
}

const fn row(
    method: Method,
    path: &'static str,
    on: On,
    body: Option<fn() -> Value>,
    expect: [u16; 5],
) -> Row {
    Row {
        method,
        path,
        on,
        body,
        expect,
    }
}

fn matrix() -> Vec<Row> {
    use On::*;
    vec![
        // projects: public read by anyone; private by owner and admin; changes by owner and admin
        row(
            Method::GET,
            "/projects/{}",
            PublicProject,
            None,
            [200, 200, 200, 200, 200],
        ),
        row(
            Method::GET,
            "/projects/{}",
            PrivateProject,
            None,
            [404, 404, 200, 404, 200],
        ),
        row(
            Method::POST,
            "/projects",
            Nothing,
            Some(|| json!({ "name": "p" })),
            [401, 201, 201, 201, 201],
        ),
        row(
            Method::PATCH,
            "/projects/{}",
            FreshProject,
            Some(|| json!({ "name": "q" })),
            [401, 403, 200, 403, 200],
        ),
        row(
            Method::DELETE,
            "/projects/{}",
            FreshProject,
            None,
            [401, 403, 204, 403, 204],
        ),
        // tickets: requester, staff, admin; priority is staff's
        row(
            Method::GET,
            "/support/tickets/{}",
            Ticket,
            None,
            [401, 404, 200, 200, 200],
        ),
        row(
            Method::POST,
            "/support/tickets",
            Nothing,
            Some(|| json!({ "subject": "s", "body": "b" })),
            [401, 201, 201, 201, 201],
        ),
        row(
            Method::PATCH,
            "/support/tickets/{}",
            FreshTicket,
            Some(|| json!({ "subject": "t" })),
            [401, 404, 200, 200, 200],
        ),
        row(
            Method::PATCH,
            "/support/tickets/{}",
            FreshTicket,
            Some(|| json!({ "priority": "high" })),
            [401, 404, 403, 200, 200],
        ),
        // posts and status: public reads; status events by staff and admins
        row(
            Method::GET,
            "/community/posts/{}",
            Post,
            None,
            [200, 200, 200, 200, 200],
        ),
        row(
            Method::POST,
            "/community/posts",
            Nothing,
            Some(|| json!({ "title": "t", "body": "b" })),
            [401, 201, 201, 201, 201],
        ),
        row(
            Method::GET,
            "/status",
            Nothing,
            None,
            [200, 200, 200, 200, 200],
        ),
        row(
            Method::POST,
            "/status/events",
            Nothing,
            Some(|| json!({ "service": "api", "status": "operational" })),
            [401, 403, 403, 201, 201],
        ),
        // sessions: self only
        row(
            Method::GET,
            "/auth/me",
            Nothing,
            None,
            [401, 200, 200, 200, 200],
        ),
        row(
            Method::GET,
            "/auth/sessions",
            Nothing,
            None,
            [401, 200, 200, 200, 200],
        ),
        row(
            Method::DELETE,
            "/auth/sessions/{}",
            OwnerSession,
            None,
            [401, 404, 204, 404, 404],
        ),
        // 2FA: self only (wrong codes and missing enrolment answer after the authorization)
        row(
            Method::POST,
            "/auth/2fa/setup",
            Nothing,
            Some(|| json!({})),
            [401, 200, 200, 200, 200],
        ),
        row(
            Method::POST,
            "/auth/2fa/enable",
            Nothing,
            Some(|| json!({ "code": "000000" })),
            [401, 422, 422, 422, 422],
        ),
        row(
            Method::POST,
            "/auth/2fa/disable",
            Nothing,
            Some(|| json!({ "password": PASSWORD, "code": "000000" })),
            [401, 409, 409, 409, 409],
        ),
        row(
            Method::POST,
            "/auth/2fa/recovery-codes",
            Nothing,
            Some(|| json!({ "code": "000000" })),
            [401, 409, 409, 409, 409],
        ),
        row(
            Method::POST,
            "/auth/2fa/verify",
            Nothing,
            Some(|| json!({ "challenge": "forged", "code": "000000" })),
            [401, 401, 401, 401, 401],
        ),
        // password and email: change is self; reset and verification links are anyone's
        row(
            Method::POST,
            "/auth/password/change",
            Nothing,
            Some(
                || json!({ "current_password": "not it at all", "new_password": "whatever it is" }),
            ),
            [401, 422, 422, 422, 422],
        ),
        row(
            Method::POST,
            "/auth/password/reset-request",
            Nothing,
            Some(|| json!({ "email": "owner@example.com" })),
            [204, 204, 204, 204, 204],
        ),
        row(
            Method::POST,
            "/auth/password/reset",
            Nothing,
            Some(|| json!({ "token": "forged", "new_password": "whatever it is" })),
            [422, 422, 422, 422, 422],
        ),
        row(
            Method::POST,
            "/auth/email/verify-request",
            Nothing,
            Some(|| json!({})),
            [401, 204, 204, 204, 204],
        ),
        row(
            Method::POST,
            "/auth/email/verify",
            Nothing,
            Some(|| json!({ "token": "forged" })),
            [422, 422, 422, 422, 422],
        ),
        // administration and the audit log: admins only
        row(
            Method::GET,
            "/admin/audit-events",
            Nothing,
            None,
            [401, 403, 403, 403, 200],
        ),
        row(
            Method::POST,
            "/admin/users/{}/role",
            Victim,
            Some(|| json!({ "role": "user" })),
            [401, 403, 403, 403, 200],
        ),
        row(
            Method::POST,
            "/admin/users/{}/disable",
            Victim,
            None,
            [401, 403, 403, 403, 200],
        ),
        row(
            Method::POST,
            "/admin/users/{}/enable",
            Victim,
            None,
            [401, 403, 403, 403, 200],
        ),
        row(
            Method::DELETE,
            "/admin/users/{}/sessions",
            Victim,
            None,
            [401, 403, 403, 403, 204],
        ),
        row(
            Method::DELETE,
            "/admin/users/{}",
            FreshVictim,
            None,
            [401, 403, 403, 403, 204],
        ),
    ]
}

struct Fixture {
    /// Index 0 (anonymous) is `None`.
    tokens: [Option<String>; 5],
    public_project: String,
    private_project: String,
    ticket: String,
    post: String,
    victim: String,
}

async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = app
        .client
        .request(method, app.url(&format!("/api/v1{path}")));
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    if let Some(body) = body {
        req = req.json(&body);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn create(app: &TestApp, token: &str, path: &str, body: Value) -> String {
    let (status, created) = send(app, Method::POST, path, Some(token), Some(body)).await;
    assert_eq!(status, 201, "{path}: {created}");
    created["id"].as_str().unwrap().to_owned()
}

impl Fixture {
    async fn new(app: &TestApp) -> Self {
        let other = app.user("other@example.com").await;
        let owner = app.user("owner@example.com").await;
        let staff = app.user_with_role("staff@example.com", Role::Staff).await;
        let admin = app.user_with_role("admin@example.com", Role::Admin).await;
        let victim_token = app.user("victim@example.com").await;
        let (_, me) = send(app, Method::GET, "/auth/me", Some(&victim_token), None).await;
        let public = json!({ "name": "open", "visibility": "public" });
        let private = json!({ "name": "closed", "visibility": "private" });
        Self {
            public_project: create(app, &owner, "/projects", public).await,
            private_project: create(app, &owner, "/projects", private).await,
            ticket: create(
                app,
                &owner,
                "/support/tickets",
                json!({ "subject": "s", "body": "b" }),
            )
            .await,
            post: create(
                app,
                &owner,
                "/community/posts",
                json!({ "title": "t", "body": "b" }),
            )
            .await,
            victim: me["id"].as_str().unwrap().to_owned(),
            tokens: [None, Some(other), Some(owner), Some(staff), Some(admin)],
        }
    }

    fn owner(&self) -> &str {
        self.tokens[2].as_deref().unwrap()
    }

    async fn target(&self, app: &TestApp, on: On) -> Option<String> {
        Some(match on {
            On::Nothing => return None,
            On::PublicProject => self.public_project.clone(),
            On::PrivateProject => self.private_project.clone(),
            On::Ticket => self.ticket.clone(),
            On::Post => self.post.clone(),
            On::Victim => self.victim.clone(),
            On::FreshProject => {
                let body = json!({ "name": "fresh", "visibility": "public" });
                create(app, self.owner(), "/projects", body).await
            }
            On::FreshTicket => {
                let body = json!({ "subject": "fresh", "body": "b" });
                create(app, self.owner(), "/support/tickets", body).await
            }
            On::FreshVictim => {
                let email = format!("v{}@example.com", uuid::Uuid::now_v7().simple());
                let token = app.user(&email).await;
                let (_, me) = send(app, Method::GET, "/auth/me", Some(&token), None).await;
                me["id"].as_str().unwrap().to_owned()
            }
            On::OwnerSession => {
                let body = json!({ "email": "owner@example.com", "password": PASSWORD });
                let (status, tokens) =
                    send(app, Method::POST, "/auth/login", None, Some(body)).await;
                assert_eq!(status, 200);
                tokens["session_id"].as_str().unwrap().to_owned()
            }
        })
    }
}

#[tokio::test]
async fn every_role_gets_what_design_section_8_says() {
    let app = spawn_app().await;
    let fixture = Fixture::new(&app).await;
    let mut wrong = Vec::new();
    for row in matrix() {
        for (who, expected) in row.expect.iter().enumerate() {
            let target = fixture.target(&app, row.on).await;
            let path = match &target {
                Some(id) => row.path.replace("{}", id),
                None => row.path.to_owned(),
            };
            let token = fixture.tokens[who].as_deref();
            let body = row.body.map(|b| b());
            let (status, answer) = send(&app, row.method.clone(), &path, token, body).await;
            if status != *expected {
                wrong.push(format!(
                    "{} {} as {}: {status}, expected {expected} ({answer})",
                    row.method, row.path, WHO[who]
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} cells differ:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}
