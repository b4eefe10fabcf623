//! The data set: users and status events through the API (so passwords, roles and the
//! per-service status table are exactly what the server would write), projects, tickets and
//! posts as bulk SQL (tens of thousands of rows in seconds).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Context, Result, bail, ensure};
use http::Method;
use serde_json::json;

use crate::http::{Conn, Req};
use crate::server::{Launch, Server};
use crate::sql::Sql;

pub const USERS: usize = 100;
pub const PROJECTS: usize = 10_000;
pub const TICKETS: usize = 50_000;
pub const POSTS: usize = 20_000;
pub const STATUS_EVENTS: usize = 2_000;
pub const SERVICES: usize = 20;
/// Users we log in and hold tokens for (writes need owners).
pub const TOKEN_USERS: usize = 32;

pub struct User {
    pub id: String,
    pub token: String,
}

pub struct Seeded {
    pub users: Vec<User>,
    pub staff_token: String,
    /// A sample of public project ids (anonymous GETs answer 200).
    pub public_ids: Vec<String>,
    /// Projects of each token user, for conflict-free PATCH streams.
    pub owned: HashMap<String, Vec<String>>,
    pub public_total: u64,
    /// SQL statements one `POST /status/events` costs, to separate the W5 background writer.
    pub statements_per_event: f64,
}

const PASSWORD: &str = "bench-password-1234";

fn email(i: usize) -> String {
    format!("user{i:03}@bench.example")
}

pub async fn seed(server: &Server, launch: &Launch<'_>, sql: &Sql) -> Result<Seeded> {
    let addr = server.addr;
    let ids = parallel(addr, USERS, 4, |i| {
        Req::json(
            Method::POST,
            "/api/v1/auth/register",
            &json!({ "email": email(i), "password": PASSWORD, "display_name": format!("Bench User {i}") }),
        )
    }, 201)
    .await
    .context("register users")?;
    let logins = parallel(
        addr,
        TOKEN_USERS,
        4,
        |i| {
            Req::json(
                Method::POST,
                "/api/v1/auth/login",
                &json!({ "email": email(i), "password": PASSWORD }),
            )
        },
        200,
    )
    .await
    .context("log users in")?;
    let users = logins
        .into_iter()
        .map(|v| -> Result<User> {
            Ok(User {
                id: v["user"]["id"]
                    .as_str()
                    .context("login without user id")?
                    .to_owned(),
                token: v["access_token"]
                    .as_str()
                    .context("login without token")?
                    .to_owned(),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    ensure!(ids.len() == USERS, "registered {} users", ids.len());

    launch
        .cli(&[
            "users",
            "create",
            "--email",
            "staff@bench.example",
            "--role",
            "staff",
            "--password",
            PASSWORD,
        ])
        .await?;
    let mut conn = Conn::new(addr);
    let staff = conn
        .send(&Req::json(
            Method::POST,
            "/api/v1/auth/login",
            &json!({ "email": "staff@bench.example", "password": PASSWORD }),
        ))
        .await?
        .expect(200)
        .context("staff login")?;
    let staff_token = staff["access_token"]
        .as_str()
        .context("staff login without token")?
        .to_owned();

    let before = server.statements(&mut conn).await?;
    let token = staff_token.clone();
    parallel(
        addr,
        STATUS_EVENTS,
        4,
        move |i| status_event(&token, i),
        201,
    )
    .await
    .context("record status events")?;
    let after = server.statements(&mut conn).await?;
    let statements_per_event = (after - before) as f64 / STATUS_EVENTS as f64;

    match sql {
        Sql::Pg(_) => sql
            .exec(PG_SEED)
            .await
            .context("bulk-insert PostgreSQL rows")?,
        Sql::Sqlite(_) => crate::sqlite_seed::seed(sql).await?,
    }

    for (table, want) in [
        ("projects", PROJECTS),
        ("support_tickets", TICKETS),
        ("community_posts", POSTS),
    ] {
        let have: usize = sql
            .scalar(&format!("SELECT count(*) FROM {table}"))
            .await?
            .parse()?;
        ensure!(have == want, "seeded {have} rows into {table}, want {want}");
    }
    let public_ids: Vec<String> = sql
        .rows(&format!(
            "SELECT {} FROM projects WHERE visibility = 'public' ORDER BY random() LIMIT 2000",
            sql.id_text("id")
        ))
        .await?
        .into_iter()
        .filter_map(|r| r.into_iter().next())
        .collect();
    let mut owned: HashMap<String, Vec<String>> = HashMap::new();
    for row in sql
        .rows(&format!(
            "SELECT {}, {} FROM projects ORDER BY id",
            sql.id_text("owner_id"),
            sql.id_text("id")
        ))
        .await?
    {
        if let [owner, id] = row.as_slice() {
            owned.entry(owner.clone()).or_default().push(id.clone());
        }
    }
    let public_total: u64 = sql
        .scalar("SELECT count(*) FROM projects WHERE visibility = 'public'")
        .await?
        .parse()?;
    let page = conn
        .send(&Req::get("/api/v1/projects?page=1&page_size=1"))
        .await?
        .expect(200)?;
    let api_total = page["total"].as_u64().context("list without total")?;
    if api_total != public_total || public_total < (PROJECTS / 2) as u64 {
        bail!("seeding check: API lists {api_total} public projects, database has {public_total}");
    }
    Ok(Seeded {
        users,
        staff_token,
        public_ids,
        owned,
        public_total,
        statements_per_event,
    })
}

const SERVICE_STATES: [&str; 5] = [
    "operational",
    "maintenance",
    "degraded",
    "partial_outage",
    "major_outage",
];

pub fn status_event(token: &str, i: usize) -> Req {
    // Mostly operational, like a real status page.
    let status = if i % 10 < 7 {
        "operational"
    } else {
        SERVICE_STATES[i % SERVICE_STATES.len()]
    };
    Req::json(
        Method::POST,
        "/api/v1/status/events",
        &json!({
            "service": format!("service-{:02}", i % SERVICES),
            "status": status,
            "message": format!("event {i}"),
        }),
    )
    .bearer(token)
}

/// Sends `count` requests over `conns` connections and returns the JSON bodies in order.
async fn parallel<F>(
    addr: SocketAddr,
    count: usize,
    conns: usize,
    make: F,
    status: u16,
) -> Result<Vec<serde_json::Value>>
where
    F: Fn(usize) -> Req + Send + Sync + 'static,
{
    let make = Arc::new(make);
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..conns {
        let make = make.clone();
        let next = next.clone();
        tasks.push(tokio::spawn(async move {
            let mut conn = Conn::new(addr);
            let mut out = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count {
                    return Ok::<_, anyhow::Error>(out);
                }
                let body = conn.send(&make(i)).await?.expect(status)?;
                out.push((i, body));
            }
        }));
    }
    let mut all = Vec::with_capacity(count);
    for t in tasks {
        all.extend(t.await.context("seeding task panicked")??);
    }
    all.sort_by_key(|(i, _)| *i);
    Ok(all.into_iter().map(|(_, v)| v).collect())
}

/// Owners round-robin over the registered users, half the projects public; tickets and posts
/// spread over projects by a multiplicative hash; times spaced a second apart into the past.
const PG_SEED: &str = r#"
BEGIN;
CREATE TEMP TABLE bench_users AS
  SELECT id, row_number() OVER (ORDER BY email) - 1 AS rn FROM users WHERE role = 'user';
INSERT INTO projects (id, owner_id, name, description, visibility, created_at, updated_at, version)
SELECT gen_random_uuid(), u.id, 'Project ' || g, 'Seeded project number ' || g,
       CASE WHEN g % 2 = 0 THEN 'public' ELSE 'private' END,
       now() - make_interval(secs => 200000 - g), now() - make_interval(secs => 200000 - g), 1
FROM generate_series(1, 10000) g JOIN bench_users u ON u.rn = g % 100;
CREATE TEMP TABLE bench_projects AS
  SELECT id, owner_id, row_number() OVER (ORDER BY id) - 1 AS rn FROM projects;
INSERT INTO support_tickets (id, requester_id, project_id, subject, body, status, priority,
                             assignee_id, created_at, updated_at, version)
SELECT gen_random_uuid(), p.owner_id, p.id, 'Ticket ' || g, 'Seeded ticket body ' || g,
       (ARRAY['open','in_progress','resolved','closed'])[1 + g % 4],
       (ARRAY['low','normal','high','urgent'])[1 + (g / 4) % 4],
       NULL, now() - make_interval(secs => 100000 - g), now() - make_interval(secs => 100000 - g), 1
FROM generate_series(1, 50000) g JOIN bench_projects p ON p.rn = (g::bigint * 7919) % 10000;
INSERT INTO community_posts (id, author_id, project_id, title, body, tags, created_at, updated_at, version)
SELECT gen_random_uuid(), p.owner_id, CASE WHEN g % 10 = 0 THEN NULL ELSE p.id END,
       'Post ' || g, 'Seeded post body ' || g,
       '["tag' || (g % 20) || '","topic' || (g % 7) || '"]',
       now() - make_interval(secs => 50000 - g), now() - make_interval(secs => 50000 - g), 1
FROM generate_series(1, 20000) g JOIN bench_projects p ON p.rn = (g::bigint * 104729) % 10000;
INSERT INTO community_post_tags (post_id, tag, created_at)
SELECT c.id, t.tag, c.created_at FROM community_posts c, jsonb_array_elements_text(c.tags::jsonb) AS t(tag);
COMMIT;
ANALYZE;
"#;
