//! The REST shim `/api/v1` over real HTTP: shapes field by field, pagination, ETags and
//! conditional requests, idempotent replays, and every error status it answers.

use neoforge::entity::users::Role;
use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::{TestApp, spawn_app, spawn_app_with};

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub bytes: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.bytes)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.bytes)))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts a problem+json response with this status and returns its body.
    pub fn problem(&self, status: u16) -> Value {
        assert_eq!(
            self.status.as_u16(),
            status,
            "{}",
            String::from_utf8_lossy(&self.bytes)
        );
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json")
        );
        let body = self.json();
        assert_eq!(body["status"], status);
        for key in ["type", "title", "detail", "instance", "code"] {
            assert!(body.get(key).is_some(), "problem without {key}: {body}");
        }
        body
    }
}

pub struct Call<'a> {
    app: &'a TestApp,
    method: Method,
    path: String,
    headers: Vec<(&'static str, String)>,
    body: Option<Vec<u8>>,
}

pub fn call<'a>(app: &'a TestApp, method: Method, path: &str) -> Call<'a> {
    Call {
        app,
        method,
        path: path.to_owned(),
        headers: Vec::new(),
        body: None,
    }
}

impl Call<'_> {
    pub fn token(mut self, token: &str) -> Self {
        self.headers
            .push(("authorization", format!("Bearer {token}")));
        self
    }

    pub fn header(mut self, name: &'static str, value: &str) -> Self {
        self.headers.push((name, value.to_owned()));
        self
    }

    pub fn json(mut self, body: Value) -> Self {
        self.headers
            .push(("content-type", "application/json".into()));
        self.body = Some(serde_json::to_vec(&body).unwrap());
        self
    }

    pub fn raw(mut self, content_type: &str, body: &[u8]) -> Self {
        self.headers.push(("content-type", content_type.into()));
        self.body = Some(body.to_vec());
        self
    }

    pub async fn send(self) -> Reply {
        let mut req = self
            .app
            .client
            .request(self.method, self.app.url(&format!("/api/v1{}", self.path)));
        for (k, v) in self.headers {
            req = req.header(k, HeaderValue::from_str(&v).unwrap());
        }
        if let Some(body) = self.body {
            req = req.body(body);
        }
        let res = req.send().await.expect("request");
        Reply {
            status: res.status(),
            headers: res.headers().clone(),
            bytes: res.bytes().await.expect("body").to_vec(),
        }
    }
}

pub async fn create_project(app: &TestApp, token: &str, name: &str, visibility: &str) -> Reply {
    let reply = call(app, Method::POST, "/projects")
        .token(token)
        .json(json!({ "name": name, "visibility": visibility }))
        .send()
        .await;
    assert_eq!(
        reply.status,
        201,
        "{}",
        String::from_utf8_lossy(&reply.bytes)
    );
    reply
}

fn keys(v: &Value) -> Vec<&str> {
    let mut k: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    k.sort_unstable();
    k
}

async fn user_id(app: &TestApp, token: &str) -> String {
    let me = call(app, Method::GET, "/auth/me").token(token).send().await;
    assert_eq!(me.status, 200);
    me.json()["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn projects_end_to_end_with_exact_shapes() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let ada_id = user_id(&app, &ada).await;

    let created = call(&app, Method::POST, "/projects")
        .token(&ada)
        .json(json!({ "name": "  Forge ", "description": "An anvil" }))
        .send()
        .await;
    assert_eq!(created.status, 201);
    assert_eq!(created.header("content-type"), Some("application/json"));
    let p = created.json();
    assert_eq!(
        keys(&p),
        [
            "created_at",
            "description",
            "id",
            "name",
            "owner_id",
            "updated_at",
            "version",
            "visibility"
        ]
    );
    let id = p["id"].as_str().unwrap().to_owned();
    assert_eq!(p["name"], "Forge");
    assert_eq!(p["description"], "An anvil");
    assert_eq!(p["visibility"], "private", "default visibility");
    assert_eq!(p["owner_id"], ada_id);
    assert_eq!(p["version"], 1);
    assert!(chrono::DateTime::parse_from_rfc3339(p["created_at"].as_str().unwrap()).is_ok());
    assert_eq!(p["created_at"], p["updated_at"]);
    assert_eq!(
        created.header("location"),
        Some(format!("/api/v1/projects/{id}").as_str())
    );
    let tag = format!("\"project-{id}-v1\"");
    assert_eq!(created.header("etag"), Some(tag.as_str()));

    let got = call(&app, Method::GET, &format!("/projects/{id}"))
        .token(&ada)
        .send()
        .await;
    assert_eq!(got.status, 200);
    assert_eq!(got.json(), p);
    assert_eq!(got.header("etag"), Some(tag.as_str()));
    assert_eq!(got.header("cache-control"), Some("private, no-cache"));
    assert_eq!(got.header("vary"), Some("authorization"));

    // Private: nobody else sees it.
    let anon = call(&app, Method::GET, &format!("/projects/{id}"))
        .send()
        .await;
    assert_eq!(anon.problem(404)["code"], "NOT_FOUND");

    let patched = call(&app, Method::PATCH, &format!("/projects/{id}"))
        .token(&ada)
        .json(json!({ "visibility": "public", "name": "Forge 2" }))
        .send()
        .await;
    assert_eq!(patched.status, 200);
    let q = patched.json();
    assert_eq!(q["visibility"], "public");
    assert_eq!(q["name"], "Forge 2");
    assert_eq!(q["description"], "An anvil", "omitted fields stay");
    assert_eq!(q["version"], 2);
    assert_eq!(
        patched.header("etag"),
        Some(format!("\"project-{id}-v2\"").as_str())
    );

    // Trailing slash and HEAD.
    let slash = call(&app, Method::GET, &format!("/projects/{id}/"))
        .send()
        .await;
    assert_eq!(slash.status, 200, "public now, trailing slash tolerated");
    assert_eq!(slash.json()["name"], "Forge 2");
    let head = call(&app, Method::HEAD, &format!("/projects/{id}"))
        .send()
        .await;
    assert_eq!(head.status, 200);
    assert!(head.bytes.is_empty());
    assert_eq!(head.header("etag"), slash.header("etag"));
    assert_eq!(
        head.header("content-length"),
        Some(slash.bytes.len().to_string().as_str())
    );

    let list = call(&app, Method::GET, "/projects/").send().await;
    assert_eq!(list.status, 200);
    let page = list.json();
    assert_eq!(
        keys(&page),
        ["items", "page", "page_size", "pages", "total"]
    );
    assert_eq!(page["items"][0], slash.json());
    assert_eq!(
        (
            &page["total"],
            &page["page"],
            &page["page_size"],
            &page["pages"]
        ),
        (&json!(1), &json!(1), &json!(20), &json!(1))
    );

    let deleted = call(&app, Method::DELETE, &format!("/projects/{id}"))
        .token(&ada)
        .send()
        .await;
    assert_eq!(deleted.status, 204);
    assert!(deleted.bytes.is_empty());
    let gone = call(&app, Method::GET, &format!("/projects/{id}"))
        .token(&ada)
        .send()
        .await;
    gone.problem(404);
}

#[tokio::test]
async fn pagination_counts_pages_and_validates_parameters() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let bob = app.user("bob@example.com").await;
    let bob_id = user_id(&app, &bob).await;
    for i in 0..5 {
        create_project(&app, &ada, &format!("p{i}"), "public").await;
    }
    create_project(&app, &bob, "bobs", "public").await;
    create_project(&app, &ada, "secret", "private").await;

    let page = |q: &'static str| {
        let app = &app;
        async move {
            call(app, Method::GET, &format!("/projects?{q}"))
                .send()
                .await
        }
    };
    // Anonymous: 6 public projects. Remainder, exact multiple, newest first.
    let r = page("page_size=4").await.json();
    assert_eq!(
        (r["total"].as_u64(), r["pages"].as_u64()),
        (Some(6), Some(2))
    );
    assert_eq!(r["items"].as_array().unwrap().len(), 4);
    assert_eq!(r["items"][0]["name"], "bobs", "newest first");
    let r = page("page_size=4&page=2").await.json();
    assert_eq!(r["items"].as_array().unwrap().len(), 2);
    assert_eq!(r["items"][1]["name"], "p0");
    let r = page("page_size=3").await.json();
    assert_eq!(r["pages"], 2, "exact multiple");
    let r = page("page=99&page_size=3").await.json();
    assert_eq!(
        r,
        json!({ "items": [], "total": 6, "page": 99, "page_size": 3, "pages": 2 }),
        "out of range: empty items, right totals"
    );
    let r = page("q=nothing-matches").await.json();
    assert_eq!(
        (r["total"].as_u64(), r["pages"].as_u64()),
        (Some(0), Some(0))
    );
    // Filters.
    let r = page("visibility=public&q=BOB").await.json();
    assert_eq!(r["total"], 1);
    let owner = format!("owner_id={bob_id}");
    let r = call(&app, Method::GET, &format!("/projects?{owner}"))
        .send()
        .await
        .json();
    assert_eq!(r["total"], 1);
    let r = call(&app, Method::GET, "/projects?visibility=private")
        .token(&ada)
        .send()
        .await
        .json();
    assert_eq!(r["items"][0]["name"], "secret");

    for (q, loc) in [
        ("page_size=0", "page_size"),
        ("page_size=101", "page_size"),
        ("page_size=ten", "page_size"),
        ("page=0", "page"),
        ("page=x", "page"),
        ("visibility=PUBLIC", "visibility"),
    ] {
        let body = page(q).await.problem(422);
        assert_eq!(body["code"], "BAD_USER_INPUT");
        assert_eq!(
            body["errors"][0]["loc"],
            json!(["query", loc]),
            "{q}: {body}"
        );
    }
    let body = page("owner_id=not-an-id").await.problem(422);
    assert_eq!(
        body["errors"][0]["loc"],
        json!(["query", "owner_id"]),
        "{body}"
    );
    let r = page("page_size=100").await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn conditional_gets_revalidate_with_304() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let id = create_project(&app, &ada, "Forge", "public").await.json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/projects/{id}");
    let first = call(&app, Method::GET, &path).token(&ada).send().await;
    let tag = first.header("etag").unwrap().to_owned();
    for inm in [
        tag.clone(),
        format!("W/{tag}"),
        format!("\"x\", {tag}"),
        "*".into(),
    ] {
        let r = call(&app, Method::GET, &path)
            .token(&ada)
            .header("if-none-match", &inm)
            .send()
            .await;
        assert_eq!(r.status, 304, "{inm}");
        assert!(r.bytes.is_empty());
        assert_eq!(r.header("etag"), Some(tag.as_str()));
        assert_eq!(r.header("cache-control"), Some("private, no-cache"));
        assert_eq!(r.header("vary"), Some("authorization"));
    }
    let head = call(&app, Method::HEAD, &path)
        .header("if-none-match", &tag)
        .send()
        .await;
    assert_eq!(head.status, 304);
    let stale = call(&app, Method::GET, &path)
        .header("if-none-match", "\"project-other-v1\"")
        .send()
        .await;
    assert_eq!(stale.status, 200);
    // Revalidation never reveals what the caller may not read, and a change invalidates it.
    let secret = create_project(&app, &ada, "Secret", "private").await;
    let secret_path = format!("/projects/{}", secret.json()["id"].as_str().unwrap());
    let secret_tag = secret.header("etag").unwrap().to_owned();
    call(&app, Method::GET, &secret_path)
        .header("if-none-match", &secret_tag)
        .send()
        .await
        .problem(404);
    let patched = call(&app, Method::PATCH, &path)
        .token(&ada)
        .json(json!({ "name": "Forged" }))
        .send()
        .await;
    assert_eq!(patched.status, 200);
    let after = call(&app, Method::GET, &path)
        .header("if-none-match", &tag)
        .send()
        .await;
    assert_eq!(after.status, 200);
    assert_eq!(after.json()["name"], "Forged");
    assert_eq!(after.header("etag"), patched.header("etag"));

    // Lists: a strong ETag over the body, which changes when the list does.
    let list = call(&app, Method::GET, "/projects").send().await;
    let list_tag = list.header("etag").unwrap().to_owned();
    assert!(list_tag.starts_with('"') && list_tag.len() > 10);
    let again = call(&app, Method::GET, "/projects")
        .header("if-none-match", &list_tag)
        .send()
        .await;
    assert_eq!(again.status, 304);
    create_project(&app, &ada, "Second", "public").await;
    let changed = call(&app, Method::GET, "/projects")
        .header("if-none-match", &list_tag)
        .send()
        .await;
    assert_eq!(changed.status, 200);
    assert_ne!(changed.header("etag"), Some(list_tag.as_str()));
}

#[tokio::test]
async fn if_match_makes_writes_conditional() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let created = create_project(&app, &ada, "Forge", "public").await;
    let id = created.json()["id"].as_str().unwrap().to_owned();
    let path = format!("/projects/{id}");
    let v1 = created.header("etag").unwrap().to_owned();

    let ok = call(&app, Method::PATCH, &path)
        .token(&ada)
        .header("if-match", &v1)
        .json(json!({ "name": "v2" }))
        .send()
        .await;
    assert_eq!(ok.status, 200);
    let v2 = ok.header("etag").unwrap().to_owned();

    let stale = call(&app, Method::PATCH, &path)
        .token(&ada)
        .header("if-match", &v1)
        .json(json!({ "name": "lost update" }))
        .send()
        .await;
    assert_eq!(stale.problem(412)["code"], "PRECONDITION_FAILED");
    for bad in [
        format!("W/{v2}"),
        "\"project-00000000-0000-0000-0000-000000000000-v2\"".to_owned(),
        "garbage".to_owned(),
    ] {
        let r = call(&app, Method::PATCH, &path)
            .token(&ada)
            .header("if-match", &bad)
            .json(json!({ "name": "x" }))
            .send()
            .await;
        r.problem(412);
    }
    let stale_delete = call(&app, Method::DELETE, &path)
        .token(&ada)
        .header("if-match", &v1)
        .send()
        .await;
    stale_delete.problem(412);
    let get = call(&app, Method::GET, &path).send().await.json();
    assert_eq!(get["name"], "v2", "no failed write changed anything");
    let any = call(&app, Method::DELETE, &path)
        .token(&ada)
        .header("if-match", "*")
        .send()
        .await;
    assert_eq!(any.status, 204);
}

#[tokio::test]
async fn racing_patches_with_the_same_if_match_one_wins() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let created = create_project(&app, &ada, "Forge", "public").await;
    let id = created.json()["id"].as_str().unwrap().to_owned();
    let path = format!("/projects/{id}");
    let tag = created.header("etag").unwrap().to_owned();
    let patch = |name: &'static str| {
        call(&app, Method::PATCH, &path)
            .token(&ada)
            .header("if-match", &tag)
            .json(json!({ "name": name }))
            .send()
    };
    let (a, b) = tokio::join!(patch("a"), patch("b"));
    let mut statuses = [a.status.as_u16(), b.status.as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 412]);
    let winner = if a.status == 200 { a.json() } else { b.json() };
    assert_eq!(winner["version"], 2);
    let now = call(&app, Method::GET, &path).send().await.json();
    assert_eq!(now["name"], winner["name"]);
    assert_eq!(now["version"], 2);
}

#[tokio::test]
async fn idempotent_replay_is_byte_identical() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let post = || {
        call(&app, Method::POST, "/projects")
            .token(&ada)
            .header("idempotency-key", "create-forge-1")
            .json(json!({ "name": "Forge", "visibility": "public" }))
            .send()
    };
    let first = post().await;
    assert_eq!(first.status, 201);
    assert_eq!(first.header("idempotent-replayed"), None);
    let second = post().await;
    assert_eq!(second.status, 201);
    assert_eq!(second.header("idempotent-replayed"), Some("true"));
    assert_eq!(second.bytes, first.bytes, "byte-identical body");
    assert_eq!(second.header("etag"), first.header("etag"));
    assert_eq!(second.header("location"), first.header("location"));
    let list = call(&app, Method::GET, "/projects").send().await.json();
    assert_eq!(list["total"], 1, "no second project");

    // Same key, other input: 422 IDEMPOTENCY_KEY_MISMATCH.
    let other = call(&app, Method::POST, "/projects")
        .token(&ada)
        .header("idempotency-key", "create-forge-1")
        .json(json!({ "name": "Other" }))
        .send()
        .await;
    assert_eq!(other.problem(422)["code"], "IDEMPOTENCY_KEY_MISMATCH");

    // PATCH replays too.
    let id = first.json()["id"].as_str().unwrap().to_owned();
    let patch = || {
        call(&app, Method::PATCH, &format!("/projects/{id}"))
            .token(&ada)
            .header("idempotency-key", "\"rename-1\"")
            .json(json!({ "name": "Renamed" }))
            .send()
    };
    let p1 = patch().await;
    let p2 = patch().await;
    assert_eq!((p1.status.as_u16(), p2.status.as_u16()), (200, 200));
    assert_eq!(p1.bytes, p2.bytes);
    assert_eq!(p2.json()["version"], 2, "applied once");
    assert_eq!(p2.header("idempotent-replayed"), Some("true"));
    assert_eq!(p1.header("etag"), p2.header("etag"));
}

#[tokio::test]
async fn error_statuses_are_problem_json() {
    let app = spawn_app_with(|s| s.body_limit = 4096).await;
    let ada = app.user("ada@example.com").await;
    let bob = app.user("bob@example.com").await;

    // 400 malformed JSON.
    let r = call(&app, Method::POST, "/projects")
        .token(&ada)
        .raw("application/json", b"{\"name\": ")
        .send()
        .await;
    assert_eq!(r.problem(400)["code"], "BAD_USER_INPUT");
    // 415 wrong content type.
    let r = call(&app, Method::POST, "/projects")
        .token(&ada)
        .raw("text/plain", b"{\"name\": \"x\"}")
        .send()
        .await;
    assert_eq!(r.problem(415)["code"], "UNSUPPORTED_MEDIA_TYPE");
    // 413 body too large.
    let big = json!({ "name": "x", "description": "d".repeat(10_000) });
    let r = call(&app, Method::POST, "/projects")
        .token(&ada)
        .json(big)
        .send()
        .await;
    assert_eq!(r.problem(413)["code"], "PAYLOAD_TOO_LARGE");
    // 422: unknown field, wrong type, bad enum, missing field, domain validation.
    let r = call(&app, Method::POST, "/projects")
        .token(&ada)
        .json(json!({ "name": 5, "colour": "red", "visibility": "secret" }))
        .send()
        .await;
    let body = r.problem(422);
    let locs: Vec<Value> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["loc"].clone())
        .collect();
    assert!(locs.contains(&json!(["body", "colour"])), "{body}");
    assert!(locs.contains(&json!(["body", "name"])), "{body}");
    assert!(locs.contains(&json!(["body", "visibility"])), "{body}");
    for e in body["errors"].as_array().unwrap() {
        assert!(e["msg"].is_string() && e["type"].is_string(), "{e}");
    }
    let r = call(&app, Method::POST, "/projects")
        .token(&ada)
        .json(json!({}))
        .send()
        .await;
    assert_eq!(r.problem(422)["errors"][0]["loc"], json!(["body", "name"]));
    let r = call(&app, Method::POST, "/projects")
        .token(&ada)
        .json(json!({ "name": "n".repeat(121) }))
        .send()
        .await;
    let body = r.problem(422);
    assert_eq!(body["errors"][0]["loc"], json!(["body", "name"]), "{body}");
    let r = call(&app, Method::POST, "/projects")
        .token(&ada)
        .json(json!([1, 2]))
        .send()
        .await;
    r.problem(422);
    // 401: no token for a write; a bad token anywhere (with WWW-Authenticate).
    let r = call(&app, Method::POST, "/projects")
        .json(json!({ "name": "x" }))
        .send()
        .await;
    assert_eq!(r.problem(401)["code"], "UNAUTHENTICATED");
    // No credentials: the bare challenge; bad credentials: the challenge names the error.
    assert_eq!(
        r.header("www-authenticate"),
        Some(r#"Bearer realm="neoforge""#)
    );
    let r = call(&app, Method::GET, "/projects")
        .token("not-a-jwt")
        .send()
        .await;
    r.problem(401);
    assert_eq!(
        r.header("www-authenticate"),
        Some(r#"Bearer realm="neoforge", error="invalid_token""#)
    );
    // 403: someone else's project.
    let id = create_project(&app, &ada, "Forge", "public").await.json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = call(&app, Method::PATCH, &format!("/projects/{id}"))
        .token(&bob)
        .json(json!({ "name": "mine" }))
        .send()
        .await;
    assert_eq!(r.problem(403)["code"], "FORBIDDEN");
    // 404: unknown route, unknown id, malformed id.
    call(&app, Method::GET, "/nope").send().await.problem(404);
    call(
        &app,
        Method::GET,
        "/projects/00000000-0000-0000-0000-000000000000",
    )
    .send()
    .await
    .problem(404);
    let r = call(&app, Method::GET, "/projects/not-an-id").send().await;
    assert_eq!(r.problem(404)["instance"], "/api/v1/projects/not-an-id");
    // 405 with Allow.
    let r = call(&app, Method::PUT, &format!("/projects/{id}"))
        .send()
        .await;
    assert_eq!(r.problem(405)["code"], "METHOD_NOT_ALLOWED");
    assert_eq!(r.header("allow"), Some("GET, HEAD, PATCH, DELETE"));
    let r = call(&app, Method::DELETE, "/projects").send().await;
    assert_eq!(r.header("allow"), Some("GET, HEAD, POST"));
    r.problem(405);
    // A bad Idempotency-Key.
    let r = call(&app, Method::POST, "/projects")
        .token(&ada)
        .header("idempotency-key", "\"unterminated")
        .json(json!({ "name": "x" }))
        .send()
        .await;
    let body = r.problem(422);
    assert_eq!(
        body["errors"][0]["loc"],
        json!(["header", "idempotency-key"]),
        "{body}"
    );
}

#[tokio::test]
async fn rest_and_graphql_return_the_same_project() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let rest = create_project(&app, &ada, "Forge", "public").await.json();
    let id = rest["id"].as_str().unwrap();
    let gql = app
        .gql(
            "query($id: ID!) { project(id: $id) { id name description visibility createdAt updatedAt version owner { id } } }",
            json!({ "id": id }),
            Some(&ada),
        )
        .await;
    let g = &gql["data"]["project"];
    let fetched = call(&app, Method::GET, &format!("/projects/{id}"))
        .send()
        .await
        .json();
    assert_eq!(fetched, rest);
    assert_eq!(
        fetched,
        json!({
            "id": g["id"], "owner_id": g["owner"]["id"], "name": g["name"],
            "description": g["description"],
            "visibility": g["visibility"].as_str().unwrap().to_lowercase(),
            "created_at": g["createdAt"], "updated_at": g["updatedAt"], "version": g["version"],
        })
    );
}

#[tokio::test]
async fn tickets_posts_status_and_auth_routes() {
    let app = spawn_app().await;
    // Auth: register (201 user), login (tokens), me.
    let reg = call(&app, Method::POST, "/auth/register")
        .json(json!({ "email": "Ada@Example.com", "password": "correct horse", "display_name": "Ada" }))
        .send()
        .await;
    assert_eq!(reg.status, 201, "{}", String::from_utf8_lossy(&reg.bytes));
    let user = reg.json();
    assert_eq!(
        keys(&user),
        ["created_at", "display_name", "email", "id", "role"]
    );
    assert_eq!(user["email"], "ada@example.com");
    assert_eq!(user["role"], "user");
    let dup = call(&app, Method::POST, "/auth/register")
        .json(json!({ "email": "ada@example.com", "password": "correct horse", "display_name": "Ada" }))
        .send()
        .await;
    assert_eq!(dup.problem(409)["code"], "CONFLICT");
    let short = call(&app, Method::POST, "/auth/register")
        .json(json!({ "email": "b@example.com", "password": "short", "display_name": "B" }))
        .send()
        .await;
    assert_eq!(
        short.problem(422)["errors"][0]["loc"],
        json!(["body", "password"])
    );
    let login = call(&app, Method::POST, "/auth/login")
        .json(json!({ "email": "ada@example.com", "password": "correct horse" }))
        .send()
        .await;
    assert_eq!(login.status, 200);
    assert_eq!(login.header("cache-control"), Some("no-store"));
    let tokens = login.json();
    assert_eq!(tokens["token_type"], "bearer");
    assert!(tokens["expires_in"].as_u64().unwrap() > 0);
    assert_eq!(tokens["user"], user);
    let token = tokens["access_token"].as_str().unwrap().to_owned();
    let wrong = call(&app, Method::POST, "/auth/login")
        .json(json!({ "email": "ada@example.com", "password": "wrong password" }))
        .send()
        .await;
    wrong.problem(401);
    let me = call(&app, Method::GET, "/auth/me")
        .token(&token)
        .send()
        .await;
    assert_eq!(me.json(), user);
    call(&app, Method::GET, "/auth/me")
        .send()
        .await
        .problem(401);

    // Tickets.
    let staff = app.user_with_role("staff@example.com", Role::Staff).await;
    let staff_id = user_id(&app, &staff).await;
    let project = create_project(&app, &token, "Forge", "public").await.json();
    let t = call(&app, Method::POST, "/support/tickets")
        .token(&token)
        .json(json!({ "subject": "Help", "body": "It broke", "project_id": project["id"] }))
        .send()
        .await;
    assert_eq!(t.status, 201, "{}", String::from_utf8_lossy(&t.bytes));
    let ticket = t.json();
    let tid = ticket["id"].as_str().unwrap().to_owned();
    assert_eq!(
        keys(&ticket),
        [
            "assignee_id",
            "body",
            "created_at",
            "id",
            "priority",
            "project_id",
            "requester_id",
            "status",
            "subject",
            "updated_at",
            "version"
        ]
    );
    assert_eq!(ticket["priority"], "normal");
    assert_eq!(ticket["status"], "open");
    assert_eq!(ticket["requester_id"], user["id"]);
    assert_eq!(ticket["project_id"], project["id"]);
    assert_eq!(ticket["assignee_id"], Value::Null);
    assert_eq!(
        t.header("location"),
        Some(format!("/api/v1/support/tickets/{tid}").as_str())
    );
    let upd = call(&app, Method::PATCH, &format!("/support/tickets/{tid}"))
        .token(&staff)
        .header("if-match", t.header("etag").unwrap())
        .json(json!({ "status": "in_progress", "priority": "high", "assignee_id": staff_id }))
        .send()
        .await;
    assert_eq!(upd.status, 200, "{}", String::from_utf8_lossy(&upd.bytes));
    let u = upd.json();
    assert_eq!(
        (u["status"].as_str(), u["priority"].as_str()),
        (Some("in_progress"), Some("high"))
    );
    assert_eq!(u["assignee_id"], staff_id);
    let list = call(
        &app,
        Method::GET,
        "/support/tickets?status=in_progress&priority=high",
    )
    .token(&token)
    .send()
    .await
    .json();
    assert_eq!(list["total"], 1);
    assert_eq!(list["items"][0], u);
    call(&app, Method::GET, "/support/tickets")
        .send()
        .await
        .problem(401);
    call(&app, Method::GET, "/support/tickets?status=bogus")
        .token(&token)
        .send()
        .await
        .problem(422);

    // Posts.
    let p = call(&app, Method::POST, "/community/posts")
        .token(&token)
        .json(json!({ "title": "Hello", "body": "World", "tags": ["Rust", "news"] }))
        .send()
        .await;
    assert_eq!(p.status, 201, "{}", String::from_utf8_lossy(&p.bytes));
    let post = p.json();
    assert_eq!(
        keys(&post),
        [
            "author_id",
            "body",
            "created_at",
            "id",
            "project_id",
            "tags",
            "title",
            "updated_at",
            "version"
        ]
    );
    assert_eq!(post["tags"], json!(["rust", "news"]));
    assert_eq!(post["author_id"], user["id"]);
    let posts = call(&app, Method::GET, "/community/posts?tag=rust")
        .send()
        .await;
    assert_eq!(
        posts.header("cache-control"),
        Some("public, max-age=15, must-revalidate")
    );
    assert_eq!(posts.json()["items"], json!([post]));
    call(&app, Method::POST, "/community/posts")
        .token(&token)
        .json(json!({ "title": "x", "body": "y", "tags": "rust" }))
        .send()
        .await
        .problem(422);

    // Status.
    let s = call(&app, Method::GET, "/status").send().await;
    assert_eq!(
        s.json(),
        json!({ "overall": "operational", "services": [], "updated_at": null })
    );
    let forbidden = call(&app, Method::POST, "/status/events")
        .token(&token)
        .json(json!({ "service": "api", "status": "degraded" }))
        .send()
        .await;
    forbidden.problem(403);
    let e = call(&app, Method::POST, "/status/events")
        .token(&staff)
        .json(json!({ "service": "api", "status": "degraded", "message": "slow" }))
        .send()
        .await;
    assert_eq!(e.status, 201, "{}", String::from_utf8_lossy(&e.bytes));
    let event = e.json();
    assert_eq!(
        keys(&event),
        [
            "created_at",
            "created_by_id",
            "id",
            "message",
            "service",
            "status"
        ]
    );
    assert_eq!(event["created_by_id"], staff_id);
    let s = call(&app, Method::GET, "/status").send().await;
    let status = s.json();
    assert_eq!(status["overall"], "degraded");
    assert_eq!(status["services"][0]["service"], "api");
    assert_eq!(status["services"][0]["status"], "degraded");
    assert_eq!(status["services"][0]["message"], "slow");
    assert_eq!(status["updated_at"], event["created_at"]);
    let again = call(&app, Method::GET, "/status")
        .header("if-none-match", s.header("etag").unwrap())
        .send()
        .await;
    assert_eq!(again.status, 304);
    let events = call(&app, Method::GET, "/status/events?service=api")
        .send()
        .await
        .json();
    assert_eq!(events["items"], json!([event]));
}

#[tokio::test]
async fn openapi_document_is_served_and_covers_the_table() {
    let app = spawn_app().await;
    let r = call(&app, Method::GET, "/openapi.json").send().await;
    assert_eq!(r.status, 200);
    let doc = r.json();
    assert_eq!(doc, neoforge::rest::openapi::document());
    assert_eq!(doc["openapi"], "3.1.0");
    for route in neoforge::rest::routes::TABLE {
        let op = &doc["paths"][route.path][route.method.as_str().to_ascii_lowercase()];
        assert!(
            op["responses"].is_object(),
            "{} {}",
            route.method,
            route.path
        );
    }
    let r = call(&app, Method::POST, "/openapi.json").send().await;
    r.problem(405);
    assert_eq!(r.header("allow"), Some("GET, HEAD"));
    let create = &doc["paths"]["/projects"]["post"];
    assert!(create["responses"]["201"]["headers"]["Location"].is_object());
    assert_eq!(
        create["requestBody"]["content"]["application/json"]["schema"]["additionalProperties"],
        false
    );
    let patch = &doc["paths"]["/projects/{id}"]["patch"]["responses"];
    for status in ["200", "403", "404", "412", "422"] {
        assert!(
            patch[status].is_object(),
            "PATCH /projects/{{id}} declares {status}"
        );
    }
}

#[tokio::test]
async fn if_match_can_be_required() {
    let app = spawn_app_with(|s| s.require_if_match = true).await;
    let ada = app.user("ada@example.com").await;
    let created = create_project(&app, &ada, "Forge", "public").await;
    let id = created.json()["id"].as_str().unwrap().to_owned();
    let path = format!("/projects/{id}");
    let missing = call(&app, Method::PATCH, &path)
        .token(&ada)
        .json(json!({ "name": "unconditional" }))
        .send()
        .await;
    assert_eq!(missing.problem(428)["code"], "PRECONDITION_REQUIRED");
    call(&app, Method::DELETE, &path)
        .token(&ada)
        .send()
        .await
        .problem(428);
    let ticket = call(&app, Method::POST, "/support/tickets")
        .token(&ada)
        .json(json!({ "subject": "Help", "body": "Broken" }))
        .send()
        .await
        .json();
    call(
        &app,
        Method::PATCH,
        &format!("/support/tickets/{}", ticket["id"].as_str().unwrap()),
    )
    .token(&ada)
    .json(json!({ "subject": "Still broken" }))
    .send()
    .await
    .problem(428);
    let etag = created.header("etag").unwrap().to_owned();
    let ok = call(&app, Method::PATCH, &path)
        .token(&ada)
        .header("if-match", &etag)
        .json(json!({ "name": "conditional" }))
        .send()
        .await;
    assert_eq!(ok.status, 200);
}

#[tokio::test]
async fn cors_allows_configured_origins_and_exposes_rest_headers() {
    let app = spawn_app_with(|s| s.cors_origins = vec!["https://app.neoforge.test".into()]).await;
    let preflight = app
        .client
        .request(Method::OPTIONS, app.url("/api/v1/projects"))
        .header("origin", "https://app.neoforge.test")
        .header("access-control-request-method", "PATCH")
        .header(
            "access-control-request-headers",
            "idempotency-key, if-match",
        )
        .send()
        .await
        .unwrap();
    let allow_origin = preflight
        .headers()
        .get("access-control-allow-origin")
        .map(|v| v.to_str().unwrap().to_owned());
    assert_eq!(allow_origin.as_deref(), Some("https://app.neoforge.test"));
    let allowed = preflight.headers()["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_lowercase();
    assert!(
        allowed.contains("idempotency-key") && allowed.contains("if-match"),
        "{allowed}"
    );

    let res = app
        .client
        .get(app.url("/api/v1/projects"))
        .header("origin", "https://app.neoforge.test")
        .send()
        .await
        .unwrap();
    let exposed = res.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .to_lowercase();
    for h in ["etag", "location", "idempotent-replayed", "retry-after"] {
        assert!(exposed.contains(h), "exposes {h}: {exposed}");
    }
    let other = app
        .client
        .get(app.url("/api/v1/projects"))
        .header("origin", "https://evil.test")
        .send()
        .await
        .unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn concurrent_duplicate_posts_get_409_with_retry_after_and_write_once() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let (client, url, token) =
                (app.client.clone(), app.url("/api/v1/projects"), ada.clone());
            tokio::spawn(async move {
                let res = client
                    .post(url)
                    .bearer_auth(token)
                    .header("idempotency-key", "double-click")
                    .json(&json!({ "name": "Once", "visibility": "public" }))
                    .send()
                    .await
                    .unwrap();
                let status = res.status();
                let retry = res.headers().get("retry-after").is_some();
                let location = res
                    .headers()
                    .get("location")
                    .map(|v| v.to_str().unwrap().to_owned());
                (status, retry, location, res.bytes().await.unwrap())
            })
        })
        .collect();
    let mut created = vec![];
    for t in tasks {
        let (status, retry, location, body) = t.await.unwrap();
        match status {
            StatusCode::CREATED => created.push((location, body)),
            StatusCode::CONFLICT => assert!(retry, "409 carries Retry-After"),
            other => panic!("unexpected {other}: {}", String::from_utf8_lossy(&body)),
        }
    }
    assert!(!created.is_empty());
    assert!(
        created.iter().all(|c| *c == created[0]),
        "every 201 is the same bytes and Location"
    );
    let list = call(&app, Method::GET, "/projects")
        .token(&ada)
        .send()
        .await;
    assert_eq!(list.json()["total"], 1);
}

#[tokio::test]
async fn locations_resolve_and_odd_inputs_get_clear_answers() {
    let app = spawn_app().await;
    let ada = app.user("ada@example.com").await;
    let bob = app.user("bob@example.com").await;
    let staff = app.user_with_role("staff@example.com", Role::Staff).await;

    // Login: exact token members; a TOTP code is accepted in shape, refused out of shape.
    let login = call(&app, Method::POST, "/auth/login")
        .json(json!({ "email": "ada@example.com", "password": "a test password", "totp_code": "123456" }))
        .send()
        .await;
    assert_eq!(
        login.status,
        200,
        "{}",
        String::from_utf8_lossy(&login.bytes)
    );
    assert_eq!(
        keys(&login.json()),
        [
            "access_token",
            "expires_in",
            "refresh_token",
            "session_id",
            "token_type",
            "user"
        ]
    );
    let bad_code = call(&app, Method::POST, "/auth/login")
        .json(json!({ "email": "ada@example.com", "password": "a test password", "totp_code": "12ab" }))
        .send()
        .await;
    assert_eq!(
        bad_code.problem(422)["errors"][0]["loc"],
        json!(["body", "totp_code"])
    );

    // Every Location answers a GET with the same representation and ETag.
    let t = call(&app, Method::POST, "/support/tickets")
        .token(&ada)
        .json(json!({ "subject": "Help", "body": "It broke" }))
        .send()
        .await;
    assert_eq!(t.status, 201);
    let location = t.header("location").unwrap().trim_start_matches("/api/v1");
    let got = call(&app, Method::GET, location).token(&ada).send().await;
    assert_eq!(got.status, 200);
    assert_eq!(got.json(), t.json());
    assert_eq!(got.header("etag"), t.header("etag"));
    assert_eq!(got.header("cache-control"), Some("private, no-cache"));
    call(&app, Method::GET, location)
        .token(&bob)
        .send()
        .await
        .problem(404);
    call(&app, Method::GET, location).send().await.problem(401);
    assert_eq!(
        call(&app, Method::GET, location)
            .token(&staff)
            .send()
            .await
            .status,
        200
    );

    let p = call(&app, Method::POST, "/community/posts")
        .token(&ada)
        .json(json!({ "title": "Hello", "body": "World" }))
        .send()
        .await;
    let location = p.header("location").unwrap().trim_start_matches("/api/v1");
    let got = call(&app, Method::GET, location).send().await;
    assert_eq!(got.json(), p.json());
    assert_eq!(got.header("etag"), p.header("etag"));

    let e = call(&app, Method::POST, "/status/events")
        .token(&staff)
        .json(json!({ "service": "api", "status": "maintenance" }))
        .send()
        .await;
    let location = e.header("location").unwrap().trim_start_matches("/api/v1");
    let got = call(&app, Method::GET, location).send().await;
    assert_eq!(got.json(), e.json());
    assert!(got.header("etag").is_some());
    let status = call(&app, Method::GET, "/status").send().await.json();
    assert_eq!(
        keys(&status["services"][0]),
        ["message", "service", "since", "status", "updated_at"]
    );

    // Ids in any spelling a UUID allows name the same resource, also for If-Match.
    let created = create_project(&app, &ada, "Forge", "public").await;
    let id = created.json()["id"].as_str().unwrap().to_owned();
    let etag = created.header("etag").unwrap().to_owned();
    let patched = call(
        &app,
        Method::PATCH,
        &format!("/projects/{}", id.to_uppercase()),
    )
    .token(&ada)
    .header("if-match", &etag)
    .json(json!({ "name": "Forged" }))
    .send()
    .await;
    assert_eq!(
        patched.status,
        200,
        "{}",
        String::from_utf8_lossy(&patched.bytes)
    );
    // A version no resource can have is a failed precondition, not a server error.
    let huge = call(&app, Method::PATCH, &format!("/projects/{id}"))
        .token(&ada)
        .header("if-match", &format!("\"project-{id}-v3000000000\""))
        .json(json!({ "name": "Huge" }))
        .send()
        .await;
    huge.problem(412);

    // NUL is never text; a bad service filter is a located validation error.
    let nul = call(&app, Method::PATCH, &format!("/projects/{id}"))
        .token(&ada)
        .json(json!({ "description": "a\u{0}b" }))
        .send()
        .await;
    assert_eq!(
        nul.problem(422)["errors"][0]["loc"],
        json!(["body", "description"])
    );
    let nul_query = call(&app, Method::GET, "/projects?q=a%00b").send().await;
    assert_eq!(
        nul_query.problem(422)["errors"][0]["loc"],
        json!(["query", "q"])
    );
    let bad_service = call(&app, Method::GET, "/status/events?service=Not%20A%20Slug")
        .send()
        .await;
    assert_eq!(
        bad_service.problem(422)["errors"][0]["loc"],
        json!(["query", "service"])
    );
}

#[tokio::test]
async fn every_list_pages_newest_first_and_every_create_replays() {
    let app = spawn_app().await;
    let staff = app.user_with_role("staff@example.com", Role::Staff).await;
    let creates = [
        ("/support/tickets", json!({ "subject": "S", "body": "B" })),
        ("/community/posts", json!({ "title": "T", "body": "B" })),
        (
            "/status/events",
            json!({ "service": "api", "status": "degraded" }),
        ),
        ("/projects", json!({ "name": "P", "visibility": "public" })),
    ];
    for (path, body) in creates {
        let mut ids = Vec::new();
        for n in 0..3 {
            let key = format!("{path}-{n}");
            let first = call(&app, Method::POST, path)
                .token(&staff)
                .header("idempotency-key", &key)
                .json(body.clone())
                .send()
                .await;
            assert_eq!(
                first.status,
                201,
                "{path}: {}",
                String::from_utf8_lossy(&first.bytes)
            );
            assert!(first.header("idempotent-replayed").is_none());
            let again = call(&app, Method::POST, path)
                .token(&staff)
                .header("idempotency-key", &key)
                .json(body.clone())
                .send()
                .await;
            assert_eq!(again.status, 201, "{path}");
            assert_eq!(again.header("idempotent-replayed"), Some("true"), "{path}");
            assert_eq!(again.bytes, first.bytes, "{path}: replay differs");
            assert_eq!(again.header("location"), first.header("location"));
            ids.push(first.json()["id"].clone());
        }
        // Two per page, newest first: [3rd, 2nd] then [1st].
        let list = format!("{path}?page_size=2");
        let page1 = call(&app, Method::GET, &list).token(&staff).send().await;
        assert_eq!(page1.status, 200, "{path}");
        let body1 = page1.json();
        assert_eq!(
            keys(&body1),
            ["items", "page", "page_size", "pages", "total"]
        );
        assert_eq!(
            (
                &body1["total"],
                &body1["page"],
                &body1["page_size"],
                &body1["pages"]
            ),
            (&json!(3), &json!(1), &json!(2), &json!(2)),
            "{path}"
        );
        let got: Vec<&Value> = body1["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| &i["id"])
            .collect();
        assert_eq!(got, [&ids[2], &ids[1]], "{path}: newest first");
        let page2 = call(&app, Method::GET, &format!("{list}&page=2"))
            .token(&staff)
            .send()
            .await
            .json();
        assert_eq!(page2["items"][0]["id"], ids[0], "{path}");
        // HEAD answers like GET, without a body.
        let head = call(&app, Method::HEAD, &list).token(&staff).send().await;
        assert_eq!(head.status, 200, "{path}");
        assert!(head.bytes.is_empty());
        assert_eq!(head.header("etag"), page1.header("etag"), "{path}");
    }
}
