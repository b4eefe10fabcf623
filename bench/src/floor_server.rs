//! `neoforge-floor DATABASE_URL ADDR POOL`: the least a Rust server on this stack does to
//! answer W1 (`GET /api/v1/projects/{id}`), to show where the hardware's reach ends for any
//! server, not just ours. hyper's HTTP/1 connection, tokio's multi-threaded runtime with its
//! default workers (as the server), one prepared statement per request through a pool of POOL
//! tokio-postgres connections used one request at a time (as sqlx's pool is), the row written
//! as the same JSON body with the same ETag and cache headers. Nothing else: no routing table,
//! no middleware, no request id, no caller, no GraphQL, no metrics, no logging.
//!
//! The bench measures it like the server (CPU and RSS from `/proc`, the same load generator and
//! response checks): `W1 GET floor` rows next to `W1 GET`.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode, header};
use hyper_util::rt::TokioIo;
use serde::Serialize;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_postgres::{Client, NoTls, Statement};
use uuid::Uuid;

const SELECT: &str = "SELECT id, owner_id, name, description, visibility, created_at, \
                      updated_at, version FROM projects WHERE id = $1";
const PREFIX: &str = "/api/v1/projects/";

/// Connections used one request at a time, like the server's pool.
struct Pool {
    permits: Semaphore,
    free: Mutex<Vec<usize>>,
    conns: Vec<(Client, Statement)>,
}

impl Pool {
    async fn connect(url: &str, size: usize) -> Result<Self> {
        let mut conns = Vec::with_capacity(size);
        for _ in 0..size {
            let (client, connection) = tokio_postgres::connect(url, NoTls)
                .await
                .context("connect to PostgreSQL")?;
            tokio::spawn(connection);
            let statement = client.prepare(SELECT).await.context("prepare")?;
            conns.push((client, statement));
        }
        Ok(Self {
            permits: Semaphore::new(size),
            free: Mutex::new((0..size).collect()),
            conns,
        })
    }

    async fn project(&self, id: Uuid) -> Result<Option<tokio_postgres::Row>> {
        let _permit = self.permits.acquire().await?;
        let slot = self.take()?;
        let (client, statement) = &self.conns[slot];
        let row = client.query_opt(statement, &[&id]).await;
        if let Ok(mut free) = self.free.lock() {
            free.push(slot);
        }
        Ok(row?)
    }

    fn take(&self) -> Result<usize> {
        self.free
            .lock()
            .ok()
            .and_then(|mut free| free.pop())
            .context("a permit without a free connection")
    }
}

/// The server's REST body for a project: the same members, in the same (sorted) order.
#[derive(Serialize)]
struct Project<'a> {
    created_at: String,
    description: &'a str,
    id: Uuid,
    name: &'a str,
    owner_id: Uuid,
    updated_at: String,
    version: i32,
    visibility: &'a str,
}

fn answer(status: StatusCode, body: &'static str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/problem+json"),
    );
    response
}

async fn handle(pool: Arc<Pool>, req: Request<Incoming>) -> Result<Response<Full<Bytes>>> {
    let not_found = || answer(StatusCode::NOT_FOUND, r#"{"status":404}"#);
    let Some(id) = req.uri().path().strip_prefix(PREFIX) else {
        return Ok(not_found());
    };
    let Ok(id) = Uuid::parse_str(id) else {
        return Ok(not_found());
    };
    let Some(row) = pool.project(id).await? else {
        return Ok(not_found());
    };
    let visibility: &str = row.try_get(4)?;
    if visibility != "public" {
        return Ok(not_found());
    }
    let created: chrono::DateTime<chrono::Utc> = row.try_get(5)?;
    let updated: chrono::DateTime<chrono::Utc> = row.try_get(6)?;
    let project = Project {
        id: row.try_get(0)?,
        owner_id: row.try_get(1)?,
        name: row.try_get(2)?,
        description: row.try_get(3)?,
        visibility,
        created_at: created.to_rfc3339(),
        updated_at: updated.to_rfc3339(),
        version: row.try_get(7)?,
    };
    let body = serde_json::to_vec(&project)?;
    let etag = format!("\"project-{}-v{}\"", project.id, project.version);
    let mut response = Response::new(Full::new(Bytes::from(body)));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    headers.insert(header::ETAG, header::HeaderValue::from_str(&etag)?);
    headers.insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("private, no-cache"),
    );
    headers.insert(
        header::VARY,
        header::HeaderValue::from_static("authorization"),
    );
    Ok(response)
}

async fn serve(
    pool: Arc<Pool>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(handle(pool, req).await.unwrap_or_else(|e| {
        eprintln!("error: {e:#}");
        answer(StatusCode::INTERNAL_SERVER_ERROR, r#"{"status":500}"#)
    }))
}

#[tokio::main]
async fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(url), Some(addr), Some(size)) = (args.next(), args.next(), args.next()) else {
        anyhow::bail!("usage: neoforge-floor DATABASE_URL ADDR POOL");
    };
    let size: usize = size.parse().context("POOL")?;
    let pool = Arc::new(Pool::connect(&url, size.max(1)).await?);
    let listener = TcpListener::bind(&addr).await.context("bind")?;
    eprintln!("neoforge-floor: listening on {addr}, pool {size}");
    loop {
        let (stream, _) = listener.accept().await?;
        let pool = pool.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| serve(pool.clone(), req));
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
