//! The peer: PostGraphile v4 (the npm package pinned in `bench/postgraphile/`),
//! one Node process on the very database the run seeded, answering W1 over GraphQL
//! (`projectById`) and W3 (`allProjects`) with the same fields and semantics as ours. The bench
//! observes it like the server (CPU and RSS from `/proc`) and drives it with the same load
//! generator.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use tokio::process::Command;

use crate::http::{Conn, Req};
use crate::server::{Server, free_port};
use crate::workloads as w;

/// What PostGraphile v4 needs beyond the tables: `openTicketCount` as a computed column (a
/// STABLE function named `<table>_<field>` taking the row, in the table's own schema, which
/// PostGraphile v4 requires). Created by the bench on its seeded database only, never by the
/// server's migrations. The post count and the latest posts come from the posts relation
/// (`communityPostsByProjectId`), the owner from the `projects_owner_id_fkey` relation.
pub const FUNCTIONS: &str = "\
CREATE OR REPLACE FUNCTION public.projects_open_ticket_count(p public.projects) RETURNS integer
LANGUAGE sql STABLE AS $$
  SELECT count(*)::integer FROM public.support_tickets t
  WHERE t.project_id = p.id AND t.status IN ('open', 'in_progress')
$$;";

/// The PostGraphile process and what it is.
pub struct Peer {
    pub server: Server,
    /// e.g. `PostGraphile 4.14.1 on Node v20.20.2, pool 24`.
    pub describe: String,
}

fn dir(root: &Path) -> PathBuf {
    root.join("bench/postgraphile")
}

fn cli(root: &Path) -> PathBuf {
    dir(root).join("node_modules/postgraphile/cli.js")
}

async fn output(cmd: &mut Command, what: &str) -> Result<String> {
    let out = cmd.stdin(Stdio::null()).output().await.with_context(|| {
        format!("run {what} (is Node 20 with npm installed? --no-peer skips the peer)")
    })?;
    if !out.status.success() {
        bail!(
            "{what} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// `npm ci` from the committed lock file when `node_modules` is missing.
async fn install(root: &Path) -> Result<()> {
    if cli(root).exists() {
        return Ok(());
    }
    eprintln!("installing PostGraphile: npm ci in {}", dir(root).display());
    output(
        Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(dir(root)),
        "npm ci",
    )
    .await
    .map(|_| ())
}

/// Installs when needed, creates [`FUNCTIONS`] through `db`, and starts PostGraphile on a free
/// loopback port; returns once it answers a query. Its output goes to `log`.
pub async fn start(
    root: &Path,
    db: &tokio_postgres::Client,
    database_url: &str,
    pool: u32,
    log: &Path,
) -> Result<Peer> {
    install(root).await?;
    db.batch_execute(FUNCTIONS)
        .await
        .context("create the peer's SQL functions")?;
    let node = output(Command::new("node").arg("--version"), "node --version").await?;
    let version = output(
        Command::new("node").arg(cli(root)).arg("--version"),
        "postgraphile --version",
    )
    .await?;
    let addr = free_port()?;
    let file = std::fs::File::create(log).with_context(|| format!("create {}", log.display()))?;
    let child = Command::new("node")
        .arg(cli(root))
        .args(["--connection", database_url, "--schema", "public"])
        .args(["--host", "127.0.0.1", "--port", &addr.port().to_string()])
        .args(["--max-pool-size", &pool.to_string()])
        // Production settings: no GraphiQL, no per-query console log, reads only.
        .args(["--disable-graphiql", "--disable-query-log"])
        .arg("--disable-default-mutations")
        .env("NODE_ENV", "production")
        .stdin(Stdio::null())
        .stdout(file.try_clone()?)
        .stderr(file)
        .kill_on_drop(true)
        .spawn()
        .context("spawn node (PostGraphile)")?;
    let mut server = Server::other(child, addr)?;
    let started = Instant::now();
    let probe = Req::json(
        http::Method::POST,
        "/graphql",
        &json!({ "query": "{ __typename }" }),
    );
    server
        .answering(&probe, Duration::from_secs(60), "PostGraphile", log)
        .await?;
    eprintln!(
        "PostGraphile {version} (Node {node}) ready on {addr} in {} ms",
        started.elapsed().as_millis()
    );
    Ok(Peer {
        server,
        describe: format!(
            "PostGraphile {version} on Node {node}, one process, pool {pool}, NODE_ENV=production"
        ),
    })
}

async fn data(conn: &mut Conn, query: &str, variables: Value) -> Result<Value> {
    let body = json!({ "query": query, "variables": variables });
    let mut v = conn
        .send(&Req::json(http::Method::POST, "/graphql", &body))
        .await?
        .expect(200)?;
    if let Some(errors) = v.get("errors") {
        bail!("GraphQL errors: {errors}");
    }
    Ok(v.get_mut("data").map(Value::take).unwrap_or(Value::Null))
}

fn text(v: &Value, pointer: &str) -> String {
    match v.pointer(pointer) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

/// One W3 node as comparable text: id, name, owner id and name, open tickets, posts, the latest
/// posts' ids and titles (timestamps are formatted differently by the two servers).
fn overview_node(n: &Value, owner: &str, posts: &str, latest: &str) -> String {
    let latest: Vec<String> = n
        .pointer(latest)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|p| format!("{} {}", text(p, "/id"), text(p, "/title")))
                .collect()
        })
        .unwrap_or_default();
    format!(
        "{} {} owner={} {} open={} posts={} latest=[{}]",
        text(n, "/id"),
        text(n, "/name"),
        text(n, &format!("{owner}/id")),
        text(n, &format!("{owner}/displayName")),
        text(n, "/openTicketCount"),
        text(n, posts),
        latest.join(", ")
    )
}

fn overview(v: &Value, nodes: &str, owner: &str, posts: &str, latest: &str) -> Vec<String> {
    v.pointer(nodes)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|n| overview_node(n, owner, posts, latest))
                .collect()
        })
        .unwrap_or_default()
}

fn project(v: &Value, owner: &str) -> String {
    format!(
        "{} owner={} {} {:?} {} version={}",
        text(v, "/id"),
        text(v, &format!("{owner}/id")),
        text(v, "/name"),
        text(v, "/description"),
        text(v, "/visibility"),
        text(v, "/version"),
    )
}

/// Whether the peer answers what we answer: W3 at first=50 (every node's id, name, owner,
/// counts and latest posts, in order) and W1 for `ids`. `Ok(Err(..))` describes the first
/// difference.
pub async fn same_answers(
    ours: &Server,
    peer: &Server,
    ids: &[String],
) -> Result<std::result::Result<String, String>> {
    let mut a = Conn::new(ours.addr);
    let mut b = Conn::new(peer.addr);
    let mine = data(&mut a, &w::overview_query(50), Value::Null).await?;
    let theirs = data(&mut b, &w::peer_overview_query(50), Value::Null).await?;
    let mine = overview(
        &mine,
        "/projects/nodes",
        "/owner",
        "/postCount",
        "/latestPosts",
    );
    let theirs = overview(
        &theirs,
        "/allProjects/nodes",
        "/userByOwnerId",
        "/communityPostsByProjectId/totalCount",
        "/communityPostsByProjectId/nodes",
    );
    if mine.len() != 50 || mine != theirs {
        let first = mine
            .iter()
            .zip(&theirs)
            .find(|(x, y)| x != y)
            .map(|(x, y)| format!("ours {x} / peer {y}"))
            .unwrap_or_else(|| format!("{} vs {} nodes", mine.len(), theirs.len()));
        return Ok(Err(format!("W3 first=50 differs: {first}")));
    }
    let posts: usize = mine.iter().filter(|n| !n.ends_with("latest=[]")).count();
    for id in ids {
        let vars = json!({ "id": id });
        let x = data(&mut a, w::GET_PROJECT, vars.clone()).await?;
        let y = data(&mut b, w::PEER_GET_PROJECT, vars).await?;
        let (x, y) = (
            project(&x["project"], "/owner"),
            project(&y["projectById"], "/userByOwnerId"),
        );
        // Visibility is an enum for us (PUBLIC) and the column's text for PostGraphile.
        if x.to_lowercase() != y.to_lowercase() {
            return Ok(Err(format!("W1 {id} differs: ours {x} / peer {y}")));
        }
    }
    Ok(Ok(format!(
        "W3 first=50: the same 50 projects in the same order with the same owners, counts and latest posts ({posts} with posts); W1: the same fields for {} projects",
        ids.len()
    )))
}
