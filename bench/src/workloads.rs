//! The workloads (W1–W6, described in docs/benchmarks.md, plus the no-database HTTP ceiling) as per-worker
//! request scripts, each checking every response it gets.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use http::{HeaderName, Method};
use rand::Rng;
use rand::rngs::StdRng;
use serde_json::{Value, json};

use crate::http::{Req, Resp};
use crate::load::{Factory, Script};

const IF_NONE_MATCH: HeaderName = http::header::IF_NONE_MATCH;
const IF_MATCH: HeaderName = http::header::IF_MATCH;
const IDEMPOTENCY_KEY: &str = "idempotency-key";

/// The exact operation behind `GET /api/v1/projects/{id}` (src/rest/routes.rs), so the REST shim
/// and `POST /graphql` are compared on the same work.
pub const GET_PROJECT: &str = "query GetProject($id: ID!) { project(id: $id) { ...P } } fragment P on Project { id owner { id } name description visibility createdAt updatedAt version }";

/// W3: the public projects page with owner, open-ticket count, post count and the 3 latest posts
/// (an anonymous caller sees public projects only, newest first).
pub fn overview_query(first: usize) -> String {
    format!(
        "{{ projects(first: {first}) {{ nodes {{ id name owner {{ id displayName }} openTicketCount postCount latestPosts {{ id title createdAt }} }} }} }}"
    )
}

/// [`GET_PROJECT`] as PostGraphile v4 names it: `projectById`, the owner through the foreign key
/// (`userByOwnerId`), the other columns as they are.
pub const PEER_GET_PROJECT: &str = "query GetProject($id: UUID!) { projectById(id: $id) { id userByOwnerId { id } name description visibility createdAt updatedAt version } }";

/// [`overview_query`] as PostGraphile v4 answers it: public projects by `condition`, the same
/// order (created_at DESC, id DESC), the owner through the foreign key, the open-ticket count
/// from the computed column `projects_open_ticket_count` (bench/src/peer.rs), and the post
/// count and latest 3 posts from the posts relation (`totalCount` counts all of them, `first`
/// limits `nodes`).
pub fn peer_overview_query(first: usize) -> String {
    format!(
        "{{ allProjects(first: {first}, condition: {{ visibility: \"public\" }}, orderBy: [CREATED_AT_DESC, ID_DESC]) {{ nodes {{ id name userByOwnerId {{ id displayName }} openTicketCount communityPostsByProjectId(first: 3, orderBy: [CREATED_AT_DESC, ID_DESC]) {{ totalCount nodes {{ id title createdAt }} }} }} }} }}"
    )
}

fn body_str(resp: &Resp) -> String {
    let s = String::from_utf8_lossy(&resp.body);
    s.chars().take(300).collect()
}

fn status_is(resp: &Resp, status: u16) -> Result<(), String> {
    if resp.status.as_u16() == status {
        Ok(())
    } else {
        Err(format!(
            "status {} (want {status}): {}",
            resp.status,
            body_str(resp)
        ))
    }
}

/// The expected status, a JSON object body, and the member the route always returns.
pub fn rest_ok(resp: &Resp, status: u16, key: &str) -> Result<(), String> {
    status_is(resp, status)?;
    let v: Value = serde_json::from_slice(&resp.body).map_err(|e| format!("bad JSON: {e}"))?;
    if v.get(key).is_none() {
        return Err(format!("no `{key}` in {}", body_str(resp)));
    }
    Ok(())
}

/// GraphQL answers 200 even when it failed: any `errors` member is an error; the `data` member.
fn graphql_data(resp: &Resp) -> Result<Value, String> {
    status_is(resp, 200)?;
    let mut v: Value = serde_json::from_slice(&resp.body).map_err(|e| format!("bad JSON: {e}"))?;
    if v.get("errors").is_some() {
        return Err(format!("GraphQL errors: {}", body_str(resp)));
    }
    match v.get_mut("data").map(Value::take) {
        Some(d) if !d.is_null() => Ok(d),
        _ => Err(format!("no data: {}", body_str(resp))),
    }
}

/// What a GraphQL answer must hold at a JSON pointer under `data`.
#[derive(Clone, Copy)]
pub enum Want {
    /// A non-null object (the project of W1).
    Object,
    /// A list of exactly this many items (a W3 page).
    Nodes(usize),
}

/// A 200 without `errors` whose `data` at `pointer` is what `want` says.
pub fn graphql_holds(resp: &Resp, pointer: &str, want: Want) -> Result<(), String> {
    let data = graphql_data(resp)?;
    let found = data.pointer(pointer);
    match (want, found) {
        (Want::Object, Some(Value::Object(_))) => Ok(()),
        (Want::Nodes(n), Some(Value::Array(items))) if items.len() == n => Ok(()),
        (Want::Nodes(n), Some(Value::Array(items))) => {
            Err(format!("{} nodes at data{pointer} (want {n})", items.len()))
        }
        _ => Err(format!("nothing at data{pointer}: {}", body_str(resp))),
    }
}

/// A `POST /graphql` of one document (with a random project id as `$id` when `ids` is given),
/// each answer checked with [`graphql_holds`]. PostGraphile's endpoint is `/graphql` too.
fn graphql_factory(
    query: String,
    ids: Option<Arc<Vec<String>>>,
    pointer: &'static str,
    want: Want,
) -> Factory {
    let fixed = json!({ "query": query });
    Arc::new(move |_| {
        let ids = ids.clone();
        let fixed = fixed.clone();
        let query = query.clone();
        simple(
            move |rng| match &ids {
                Some(ids) => {
                    let body = json!({ "query": query, "variables": { "id": pick(rng, ids) } });
                    Req::json(Method::POST, "/graphql", &body)
                }
                None => Req::json(Method::POST, "/graphql", &fixed),
            },
            move |r| graphql_holds(r, pointer, want),
        )
    })
}

/// A stateless script: a request maker and a checker.
struct Simple<N, C> {
    next: N,
    check: C,
}

impl<N, C> Script for Simple<N, C>
where
    N: FnMut(&mut StdRng) -> Req + Send,
    C: FnMut(&Resp) -> Result<(), String> + Send,
{
    fn next(&mut self, rng: &mut StdRng) -> Req {
        (self.next)(rng)
    }
    fn check(&mut self, resp: &Resp) -> Result<(), String> {
        (self.check)(resp)
    }
}

fn simple<N, C>(next: N, check: C) -> Box<dyn Script>
where
    N: FnMut(&mut StdRng) -> Req + Send + 'static,
    C: FnMut(&Resp) -> Result<(), String> + Send + 'static,
{
    Box::new(Simple { next, check })
}

fn pick<'a, T>(rng: &mut StdRng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

pub fn http_ceiling() -> Factory {
    Arc::new(|_| simple(|_| Req::get("/health/live"), |r| status_is(r, 200)))
}

pub fn w1_get(ids: Arc<Vec<String>>) -> Factory {
    Arc::new(move |_| {
        let ids = ids.clone();
        simple(
            move |rng| Req::get(format!("/api/v1/projects/{}", pick(rng, &ids))),
            |r| rest_ok(r, 200, "id"),
        )
    })
}

/// W1 with a bearer token: the difference to [`w1_get`] is what verifying the token and
/// checking its session (the per-process session-state cache) cost.
pub fn w1_signed(ids: Arc<Vec<String>>, tokens: Arc<Vec<String>>) -> Factory {
    Arc::new(move |worker| {
        let ids = ids.clone();
        let token = tokens[worker % tokens.len()].clone();
        simple(
            move |rng| Req::get(format!("/api/v1/projects/{}", pick(rng, &ids))).bearer(&token),
            |r| rest_ok(r, 200, "id"),
        )
    })
}

/// `(id, etag)` pairs fetched just before the run.
pub fn w1_not_modified(etags: Arc<Vec<(String, String)>>) -> Factory {
    Arc::new(move |_| {
        let etags = etags.clone();
        simple(
            move |rng| {
                let (id, etag) = pick(rng, &etags);
                Req::get(format!("/api/v1/projects/{id}")).header(IF_NONE_MATCH, etag.clone())
            },
            |r| {
                status_is(r, 304)?;
                if r.body.is_empty() {
                    Ok(())
                } else {
                    Err("304 with a body".into())
                }
            },
        )
    })
}

pub fn w1_graphql(ids: Arc<Vec<String>>) -> Factory {
    graphql_factory(GET_PROJECT.into(), Some(ids), "/project", Want::Object)
}

/// W1 over GraphQL against PostGraphile.
pub fn w1_graphql_peer(ids: Arc<Vec<String>>) -> Factory {
    graphql_factory(
        PEER_GET_PROJECT.into(),
        Some(ids),
        "/projectById",
        Want::Object,
    )
}

pub fn w2_list(pages: u64) -> Factory {
    Arc::new(move |_| {
        simple(
            move |rng| {
                let page = rng.random_range(1..=pages.max(1));
                Req::get(format!("/api/v1/projects?page={page}&page_size=50"))
            },
            |r| rest_ok(r, 200, "items"),
        )
    })
}

/// Every page is full: the seed has 5,000 public projects.
pub fn w3_overview(first: usize) -> Factory {
    graphql_factory(
        overview_query(first),
        None,
        "/projects/nodes",
        Want::Nodes(first),
    )
}

pub fn w3_overview_peer(first: usize) -> Factory {
    graphql_factory(
        peer_overview_query(first),
        None,
        "/allProjects/nodes",
        Want::Nodes(first),
    )
}

#[derive(Clone, Copy, PartialEq)]
pub enum CreateKind {
    Keyless,
    FreshKey,
}

/// Distinguishes keys across runs of the same process and across runs of the bench.
static KEY_SERIAL: AtomicU64 = AtomicU64::new(0);

pub fn w4_create(tokens: Arc<Vec<String>>, kind: CreateKind) -> Factory {
    let nonce = uuid::Uuid::new_v4().simple().to_string();
    Arc::new(move |worker| {
        let token = tokens[worker % tokens.len()].clone();
        let nonce = nonce.clone();
        simple(
            move |_| {
                let n = KEY_SERIAL.fetch_add(1, Ordering::Relaxed);
                let req = Req::json(
                    Method::POST,
                    "/api/v1/projects",
                    &json!({ "name": format!("Bench create {n}"), "visibility": "private" }),
                )
                .bearer(&token);
                match kind {
                    CreateKind::Keyless => req,
                    CreateKind::FreshKey => req.header(
                        HeaderName::from_static(IDEMPOTENCY_KEY),
                        format!("bench-{nonce}-{n}"),
                    ),
                }
            },
            |r| rest_ok(r, 201, "id"),
        )
    })
}

/// A completed create, replayable with the same caller, key and body.
#[derive(Clone)]
pub struct Completed {
    pub token: String,
    pub key: String,
    pub body: Value,
}

pub fn w4_create_request(c: &Completed) -> Req {
    Req::json(Method::POST, "/api/v1/projects", &c.body)
        .bearer(&c.token)
        .header(HeaderName::from_static(IDEMPOTENCY_KEY), c.key.clone())
}

pub fn w4_replay(done: Arc<Vec<Completed>>) -> Factory {
    Arc::new(move |_| {
        let done = done.clone();
        simple(
            move |rng| w4_create_request(pick(rng, &done)),
            |r| {
                rest_ok(r, 201, "id")?;
                match r.header("idempotent-replayed") {
                    Some("true") => Ok(()),
                    _ => Err("a replay without Idempotent-Replayed: true".into()),
                }
            },
        )
    })
}

pub fn w5_status() -> Factory {
    Arc::new(|_| {
        simple(
            |_| Req::get("/api/v1/status"),
            |r| rest_ok(r, 200, "overall"),
        )
    })
}

/// Each worker PATCHes only its own projects, so an `If-Match` failure (412) is a real error,
/// not contention between workers. The first visit of each project fetches its ETag.
struct Patcher {
    token: String,
    projects: Vec<String>,
    etags: HashMap<String, String>,
    turn: usize,
    current: String,
    serial: u64,
}

impl Script for Patcher {
    fn next(&mut self, _rng: &mut StdRng) -> Req {
        self.turn = (self.turn + 1) % self.projects.len();
        self.current = self.projects[self.turn].clone();
        let path = format!("/api/v1/projects/{}", self.current);
        match self.etags.get(&self.current) {
            None => Req::get(path).bearer(&self.token),
            Some(etag) => {
                self.serial += 1;
                Req::json(
                    Method::PATCH,
                    path,
                    &json!({ "description": format!("patched {}", self.serial) }),
                )
                .bearer(&self.token)
                .header(IF_MATCH, etag.clone())
            }
        }
    }

    fn check(&mut self, resp: &Resp) -> Result<(), String> {
        let result = rest_ok(resp, 200, "version");
        match (result.is_ok(), resp.header("etag")) {
            (true, Some(etag)) => {
                self.etags.insert(self.current.clone(), etag.to_owned());
            }
            // Refetch after a failure so one bad answer does not poison the stream.
            _ => {
                self.etags.remove(&self.current);
            }
        }
        result
    }
}

/// `owned`: (token, that user's project ids). Worker `w` gets a disjoint slice of one owner's
/// projects.
pub fn w6_patch(owned: Arc<Vec<(String, Vec<String>)>>, concurrency: usize) -> Factory {
    Arc::new(move |worker| {
        let owners = owned.len();
        let (token, ids) = &owned[worker % owners];
        // Workers sharing an owner split that owner's projects between them.
        let sharing = concurrency.div_ceil(owners).max(1);
        let slot = worker / owners;
        let projects: Vec<String> = ids
            .iter()
            .skip(slot)
            .step_by(sharing)
            .take(8)
            .cloned()
            .collect();
        Box::new(Patcher {
            token: token.clone(),
            projects,
            etags: HashMap::new(),
            turn: 0,
            current: String::new(),
            serial: 0,
        })
    })
}
