//! The whole benchmark run: database, server, seed, workloads, ceilings, report.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use anyhow::{Context, Result};
use tokio_postgres::Client;

use crate::Args;
use crate::ceiling::{self, Unit};
use crate::floor;
use crate::http::{Conn, Req};
use crate::load::{self, Factory, Pace, RunResult, Script, Timing};
use crate::paired;
use crate::peer::{self, Peer};
use crate::pglog::{self, Capture};
use crate::report::{self, Check, FLOOR, PEER, Report, Row};
use crate::seed::{self, Seeded};
use crate::server::{Launch, Server, clock_ticks_per_second};
use crate::sql::{self, Sql};
use crate::workloads::{self as w, Completed, CreateKind};

#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Kind {
    Health,
    W1Get,
    W1Signed,
    W1NotModified,
    W1Graphql,
    W2List,
    W3(usize),
    W4Keyless,
    W4Key,
    W4Replay,
    W5Status,
    W6Patch,
    /// W1 over GraphQL against PostGraphile (`projectById`).
    PeerW1,
    /// W3 against PostGraphile (`allProjects`), at this page size.
    PeerW3(usize),
    /// W1 against the hand-written floor of this stack ([`floor`]).
    FloorW1,
}

impl Kind {
    pub(crate) fn name(self) -> String {
        match self {
            Self::Health => "HTTP ceiling /health/live".into(),
            Self::W1Get => "W1 GET".into(),
            Self::W1Signed => "W1 GET signed-in".into(),
            Self::W1NotModified => "W1 GET 304".into(),
            Self::W1Graphql => "W1 GET gql".into(),
            Self::W2List => "W2 list".into(),
            Self::W3(50) => "W3 overview".into(),
            Self::W3(n) => format!("W3 overview (first={n})"),
            Self::W4Keyless => "W4 create".into(),
            Self::W4Key => "W4 create key".into(),
            Self::W4Replay => "W4 replay".into(),
            Self::W5Status => "W5 status".into(),
            Self::W6Patch => "W6 patch".into(),
            Self::PeerW1 => format!("{} {PEER}", Self::W1Graphql.name()),
            Self::PeerW3(50) => format!("{} {PEER}", Self::W3(50).name()),
            Self::PeerW3(n) => format!("{} {PEER} (first={n})", Self::W3(50).name()),
            Self::FloorW1 => format!("{} {FLOOR}", Self::W1Get.name()),
        }
    }

    /// The same workload on another server: the peer's version, or the floor's.
    fn twin(self) -> Option<Self> {
        match self {
            Self::W1Get => Some(Self::FloorW1),
            Self::W1Graphql => Some(Self::PeerW1),
            Self::W3(n) => Some(Self::PeerW3(n)),
            _ => None,
        }
    }

    fn server(self) -> &'static str {
        match self {
            Self::PeerW1 | Self::PeerW3(_) => PEER,
            Self::FloorW1 => FLOOR,
            _ => "NeoForge",
        }
    }

    fn writes(self) -> bool {
        matches!(
            self,
            Self::W4Keyless | Self::W4Key | Self::W4Replay | Self::W6Patch
        )
    }
}

const MAIN: [Kind; 11] = [
    Kind::W1Get,
    Kind::W1Signed,
    Kind::W1NotModified,
    Kind::W1Graphql,
    Kind::W2List,
    Kind::W3(50),
    Kind::W4Keyless,
    Kind::W4Key,
    Kind::W4Replay,
    Kind::W5Status,
    Kind::W6Patch,
];

/// Status events the W5 background writer records per second.
const W5_EVENTS_PER_SECOND: f64 = 50.0;

pub(crate) struct Ctx {
    pub(crate) addr: SocketAddr,
    pub(crate) ids: Arc<Vec<String>>,
    pub(crate) tokens: Arc<Vec<String>>,
    pub(crate) staff_token: String,
    pub(crate) completed: Arc<Vec<Completed>>,
    pub(crate) owned: Arc<Vec<(String, Vec<String>)>>,
    pub(crate) pages: u64,
    pub(crate) statements_per_event: f64,
}

impl Ctx {
    async fn factory(&self, kind: Kind, concurrency: usize) -> Result<Factory> {
        Ok(match kind {
            Kind::Health => w::http_ceiling(),
            Kind::W1Get => w::w1_get(self.ids.clone()),
            Kind::W1Signed => w::w1_signed(self.ids.clone(), self.tokens.clone()),
            Kind::W1NotModified => w::w1_not_modified(Arc::new(self.etags(300).await?)),
            Kind::W1Graphql => w::w1_graphql(self.ids.clone()),
            Kind::W2List => w::w2_list(self.pages),
            Kind::W3(n) => w::w3_overview(n),
            Kind::W4Keyless => w::w4_create(self.tokens.clone(), CreateKind::Keyless),
            Kind::W4Key => w::w4_create(self.tokens.clone(), CreateKind::FreshKey),
            Kind::W4Replay => w::w4_replay(self.completed.clone()),
            Kind::W5Status => w::w5_status(),
            Kind::W6Patch => w::w6_patch(self.owned.clone(), concurrency),
            Kind::PeerW1 => w::w1_graphql_peer(self.ids.clone()),
            Kind::PeerW3(n) => w::w3_overview_peer(n),
            Kind::FloorW1 => w::w1_get(self.ids.clone()),
        })
    }

    /// Current ETags, fetched just before a 304 run (W6 changes versions between runs).
    async fn etags(&self, n: usize) -> Result<Vec<(String, String)>> {
        let mut conn = Conn::new(self.addr);
        let mut out = Vec::with_capacity(n);
        for id in self.ids.iter().take(n) {
            let resp = conn
                .send(&Req::get(format!("/api/v1/projects/{id}")))
                .await?;
            let etag = resp.header("etag").context("GET project without ETag")?;
            out.push((id.clone(), etag.to_owned()));
        }
        Ok(out)
    }
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn row(kind: Kind, concurrency: usize, mode: String, r: &RunResult, extra_statements: f64) -> Row {
    let requests = r.requests.max(1) as f64;
    let statements = r
        .statements
        .map(|n| (n as f64 - extra_statements).max(0.0) / requests);
    let cpu_seconds = r.cpu_ticks as f64 / clock_ticks_per_second();
    Row {
        workload: kind.name(),
        server: kind.server().into(),
        page_size: match kind {
            Kind::W3(n) | Kind::PeerW3(n) => Some(n),
            _ => None,
        },
        concurrency,
        mode,
        requests: r.requests,
        rps: r.rps(),
        p50_ms: r.p50_ms(),
        p99_ms: r.p99_ms(),
        errors: r.errors,
        statements_per_request: statements,
        cpu_us_per_request: cpu_seconds / requests * 1e6,
        cpu_seconds_per_1k: cpu_seconds / requests * 1000.0,
        peak_rss_mib: mib(r.peak_rss_kib),
        rss_mib: mib(r.rss_kib),
        ..Row::default()
    }
}

pub(crate) async fn measure(
    server: &Server,
    ctx: &Ctx,
    kind: Kind,
    concurrency: usize,
    pace: Pace,
    timing: Timing,
) -> Result<Row> {
    let factory = ctx.factory(kind, concurrency).await?;
    let background =
        (kind == Kind::W5Status).then(|| status_writer(ctx.addr, ctx.staff_token.clone()));
    let result = load::run(server, &factory, concurrency, pace, timing).await;
    let mut extra = 0.0;
    if let Some((stop, posted, task)) = background {
        stop.store(true, Ordering::Relaxed);
        let errors = task.await.context("status writer panicked")?;
        if errors > 0 {
            eprintln!("  W5 background writer: {errors} failed POSTs");
        }
        // Only the writes inside the measured window count; at a steady rate that is the
        // measured share of all the writes.
        let share = timing.measure.as_secs_f64() / (timing.warmup + timing.measure).as_secs_f64();
        extra = posted.load(Ordering::Relaxed) as f64 * share * ctx.statements_per_event;
    }
    let result = result?;
    let mode = match pace {
        Pace::Closed => "closed".to_owned(),
        Pace::Rate(r) => format!("rate {r:.0}/s"),
    };
    let row = row(kind, concurrency, mode, &result, extra);
    eprintln!(
        "  {:<38} c={:<3} {:>8.0} req/s  p50 {:>6.2} ms  p99 {:>7.2} ms  errors {}  SQL/req {}  CPU {:.0} µs/req",
        row.workload,
        concurrency,
        row.rps,
        row.p50_ms,
        row.p99_ms,
        row.errors,
        row.statements_per_request
            .map_or_else(|| "n/a".to_owned(), |s| format!("{s:.2}")),
        row.cpu_us_per_request
    );
    for e in &result.first_errors {
        eprintln!("    error: {e}");
    }
    Ok(row)
}

type Writer = (
    Arc<AtomicBool>,
    Arc<AtomicU64>,
    tokio::task::JoinHandle<u64>,
);

/// Records status events at a steady rate while W5 reads the status.
fn status_writer(addr: SocketAddr, token: String) -> Writer {
    let stop = Arc::new(AtomicBool::new(false));
    let posted = Arc::new(AtomicU64::new(0));
    let (s, p) = (stop.clone(), posted.clone());
    let task = tokio::spawn(async move {
        let mut conn = Conn::new(addr);
        let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / W5_EVENTS_PER_SECOND));
        let mut errors = 0;
        let mut i = 0usize;
        while !s.load(Ordering::Relaxed) {
            tick.tick().await;
            i += 1;
            match conn.send(&seed::status_event(&token, i)).await {
                Ok(r) if r.status == 201 => {
                    p.fetch_add(1, Ordering::Relaxed);
                }
                _ => errors += 1,
            }
        }
        errors
    });
    (stop, posted, task)
}

/// Completed creates with keys, for the replay workload.
async fn completed_keys(addr: SocketAddr, tokens: &[String], n: usize) -> Result<Vec<Completed>> {
    let nonce = uuid::Uuid::new_v4().simple().to_string();
    let mut conn = Conn::new(addr);
    let mut out = Vec::with_capacity(n);
    for k in 0..n {
        let c = Completed {
            token: tokens[k % tokens.len()].clone(),
            key: format!("replay-{nonce}-{k}"),
            body: serde_json::json!({ "name": format!("Replayed {k}"), "visibility": "private" }),
        };
        conn.send(&w::w4_create_request(&c))
            .await?
            .expect(201)
            .context("create a replayable project")?;
        out.push(c);
    }
    Ok(out)
}

/// A seeded database and the state the workloads need, with the seeding server stopped.
pub(crate) struct Prepared {
    pub tmp: TempDir,
    pub url: String,
    pub seeded: Seeded,
    pub tokens: Vec<String>,
    pub completed: Vec<Completed>,
}

/// Creates the database (PostgreSQL, or a SQLite file under a temporary directory), starts the
/// server once to seed it, and stops that server.
pub(crate) async fn prepare(args: &Args, bin: &Path) -> Result<Prepared> {
    let tmp = TempDir::new()?;
    let db_file = tmp.0.join("bench.db");
    let url = if args.sqlite {
        format!("sqlite://{}?mode=rwc", db_file.display())
    } else {
        sql::pg_fresh_database().await?;
        sql::pg_url(&args.pg_sslmode)
    };
    let launch = Launch {
        bin,
        database_url: &url,
        pool: args.pool(),
        rate_limit: "off",
        // Seeding is not measured.
        log: Some("warn"),
    };
    eprintln!(
        "starting {} on {}",
        bin.display(),
        if args.sqlite { "SQLite" } else { "PostgreSQL" }
    );
    let (server, ready) = launch.start().await?;
    eprintln!("ready in {} ms; seeding", ready.as_millis());
    let db = if args.sqlite {
        Sql::Sqlite(db_file)
    } else {
        Sql::Pg(sql::pg_connect(&sql::pg_bench_config()).await?)
    };
    let seeded = seed::seed(&server, &launch, &db).await?;
    let tokens: Vec<String> = seeded.users.iter().map(|u| u.token.clone()).collect();
    let completed = completed_keys(server.addr, &tokens, 256).await?;
    eprintln!(
        "seeded: {} public projects listed, {:.1} SQL statements per status event",
        seeded.public_total, seeded.statements_per_event
    );
    server.stop().await?;
    Ok(Prepared {
        tmp,
        url,
        seeded,
        tokens,
        completed,
    })
}

pub async fn run(args: &Args, bin: &Path) -> Result<Report> {
    let timing = args.timing();
    let started_at = chrono::Utc::now().to_rfc3339();
    let prepared = prepare(args, bin).await?;
    let tmp = prepared.tmp.0.as_path();
    let launch = Launch {
        bin,
        database_url: &prepared.url,
        pool: args.pool(),
        rate_limit: &args.rate_limits,
        log: args.rust_log.as_deref(),
    };
    // A fresh process, so peak RSS and warm state reflect the load phase, not seeding (which
    // hashes 130 passwords with argon2).
    let (server, _) = launch.start().await?;
    let ctx = context(
        &server,
        prepared.seeded,
        prepared.tokens,
        prepared.completed,
    );
    // The peer runs next to ours: its answers are compared with ours once, and each of its
    // workloads is measured right after ours at the same concurrency (the other process idles
    // meanwhile), so both sides of a ratio see the same background load.
    let mut peer_checks = Vec::new();
    let mut peer_note = None;
    let mut setup_notes = Vec::new();
    let peer = if peer_wanted(args) {
        match start_peer(args, &prepared.url, &server, &ctx, tmp).await {
            Ok((peer, same)) => {
                peer_note = Some(format!(
                    "peer: {}, on the database this run seeded (anonymous: the connecting user); each peer row measured right after ours",
                    peer.describe
                ));
                peer_checks.push(Check {
                    target: "PostGraphile answers what NeoForge answers (W3 first=50, W1)".into(),
                    pass: same.is_ok(),
                    skipped: false,
                    detail: same.unwrap_or_else(|e| e),
                });
                Some(peer)
            }
            // The rest of the run is still worth having; the missing comparison is a FAIL.
            Err(e) => {
                eprintln!("PostGraphile peer failed: {e:#}");
                peer_checks.push(Check {
                    target: "PostGraphile peer ran (--no-peer skips it)".into(),
                    pass: false,
                    skipped: false,
                    detail: format!("{e:#}").chars().take(300).collect(),
                });
                None
            }
        }
    } else {
        None
    };
    let floor_server = start_floor(args, &prepared.url, &ctx, tmp, &mut setup_notes).await;
    let others = Others {
        peer: peer.as_ref().map(|p| &p.server),
        floor: floor_server.as_ref(),
    };
    let result = match others.peer {
        Some(p) => warm_peer(args, p, &ctx, timing).await,
        None => Ok(()),
    };
    let result = match result {
        Ok(()) => workloads(args, &server, others, &ctx, timing).await,
        Err(e) => Err(e),
    };
    if let Some(peer) = peer {
        peer.server.stop().await?;
    }
    if let Some(floor) = floor_server {
        floor.stop().await?;
    }
    server.stop().await?;
    let (mut rows, mut notes, exact_w3) = result?;
    // After the main server stopped: these two servers have the machine to themselves.
    let log_levels = if selected(args, Kind::W1Get) {
        Some(paired::log_levels(args, &launch, &ctx, timing).await?)
    } else {
        None
    };
    notes.extend(peer_note);
    notes.extend(setup_notes);
    if !args.sqlite && !args.no_sql_ceiling {
        sql_ceilings(args, &launch, &ctx, &mut rows, &mut notes, timing).await?;
    } else {
        let why = if args.sqlite {
            "SQLite: no server-side statement log to capture and no separate server to replay against"
        } else {
            "--no-sql-ceiling"
        };
        for r in &mut rows {
            r.sql_note = why.into();
        }
    }
    let mut ready_ms = Vec::new();
    for i in 0..args.ready_runs {
        let file = tmp.join(format!("ready-{i}.db"));
        let url = format!("sqlite://{}?mode=rwc", file.display());
        let launch = Launch {
            bin,
            database_url: &url,
            pool: args.pool(),
            rate_limit: "off",
            log: args.rust_log.as_deref(),
        };
        let (server, ready) = launch.start().await?;
        server.stop().await?;
        ready_ms.push(ready.as_secs_f64() * 1000.0);
    }
    let median = median(&ready_ms);
    let mut cs = args.concurrency.clone();
    cs.push(args.max_concurrency);
    notes.extend(report::floor_notes(&rows, &args.concurrency));
    let mut checks = report::checks(&rows, &cs, median, &exact_w3);
    // Next to the ratio lines they qualify.
    let at = checks
        .iter()
        .position(|c| c.target.contains(PEER))
        .unwrap_or(checks.len());
    checks.splice(at..at, peer_checks);
    checks.extend(log_levels);
    let w3_curve = report::w3_curve(&rows, args.concurrency.first().copied().unwrap_or(16));
    Ok(Report {
        backend: if args.sqlite { "sqlite" } else { "postgresql" }.into(),
        started_at,
        warmup_s: timing.warmup.as_secs_f64(),
        measure_s: timing.measure.as_secs_f64(),
        server_pool: args.pool(),
        rows,
        sqlite_ready_ms_median: median,
        sqlite_ready_ms_all: ready_ms,
        w3_statements_per_request: exact_w3,
        w3_curve,
        checks,
        notes,
    })
}

/// The floor of this stack on the seeded database, when W1 runs on PostgreSQL and the binary
/// is built; otherwise a note says why not (a missing floor is no failure of ours).
async fn start_floor(
    args: &Args,
    url: &str,
    ctx: &Ctx,
    tmp: &Path,
    notes: &mut Vec<String>,
) -> Option<Server> {
    if args.sqlite || !selected(args, Kind::FloorW1) {
        return None;
    }
    let Some(bin) = floor::binary() else {
        notes.push("floor: neoforge-floor is not built (cargo build --release -p neoforge-bench --bins); W1 GET floor not measured".into());
        return None;
    };
    let id = ctx.ids.first()?;
    match floor::start(&bin, url, args.pool(), id, &tmp.join("floor.log")).await {
        Ok(server) => {
            notes.push(format!(
                "floor: {} (bench/src/floor_server.rs), hyper + tokio-postgres with no framework, pool {}, on the database this run seeded; W1 GET floor measured right after W1 GET",
                bin.display(),
                args.pool()
            ));
            Some(server)
        }
        Err(e) => {
            eprintln!("floor failed to start: {e:#}");
            notes.push(format!("floor: did not start: {e:#}"));
            None
        }
    }
}

fn peer_wanted(args: &Args) -> bool {
    !args.sqlite
        && !args.no_peer
        && [Kind::PeerW1, Kind::PeerW3(50)]
            .iter()
            .any(|k| selected(args, *k))
}

/// PostGraphile on the seeded database, and whether it answers what `ours` answers.
async fn start_peer(
    args: &Args,
    url: &str,
    ours: &Server,
    ctx: &Ctx,
    tmp: &Path,
) -> Result<(Peer, std::result::Result<String, String>)> {
    let db = sql::pg_connect(&sql::pg_bench_config()).await?;
    // The peer gets the pool ours has.
    let peer = peer::start(
        &crate::workspace_root(),
        &db,
        url,
        args.pool(),
        &tmp.join("postgraphile.log"),
    )
    .await?;
    let ids: Vec<String> = ctx.ids.iter().take(20).cloned().collect();
    let same = peer::same_answers(ours, &peer.server, &ids).await?;
    match &same {
        Ok(what) => eprintln!("  PostGraphile answers the same: {what}"),
        Err(what) => eprintln!("  PostGraphile answers differently: {what}"),
    }
    Ok((peer, same))
}

/// Node compiles hot code as it runs and PostGraphile caches each document's SQL: one untimed
/// run per document first, so the measured runs see a warm process (ours has served its
/// seeding checks and every earlier workload by then).
async fn warm_peer(args: &Args, peer: &Server, ctx: &Ctx, timing: Timing) -> Result<()> {
    let c = args.concurrency.first().copied().unwrap_or(16);
    let warm = Timing {
        warmup: Duration::ZERO,
        measure: timing.measure,
    };
    for kind in [
        Kind::PeerW1,
        Kind::PeerW3(10),
        Kind::PeerW3(50),
        Kind::PeerW3(100),
    ] {
        if selected(args, kind) {
            let factory = ctx.factory(kind, c).await?;
            let run = load::run(peer, &factory, c, Pace::Closed, warm).await?;
            eprintln!(
                "  warm-up {:<30} c={c:<3} {:>8.0} req/s  errors {}",
                kind.name(),
                run.rps(),
                run.errors
            );
        }
    }
    Ok(())
}

/// The servers measured next to ours, when they run.
#[derive(Clone, Copy)]
struct Others<'a> {
    peer: Option<&'a Server>,
    floor: Option<&'a Server>,
}

/// Our `kind` at `c` closed-loop, then its twin on the peer or the floor (if any, and that
/// server runs).
async fn measure_pair(
    args: &Args,
    (server, others): (&Server, Others<'_>),
    ctx: &Ctx,
    kind: Kind,
    c: usize,
    timing: Timing,
) -> Result<Vec<Row>> {
    let mut rows = vec![measure(server, ctx, kind, c, Pace::Closed, timing).await?];
    let Some(twin) = kind.twin().filter(|t| selected(args, *t)) else {
        return Ok(rows);
    };
    let other = match twin {
        Kind::FloorW1 => others.floor,
        _ => others.peer,
    };
    if let Some(other) = other {
        let mut row = measure(other, ctx, twin, c, Pace::Closed, timing).await?;
        if twin != Kind::FloorW1 {
            row.sql_note = "peer: no ceilings".into();
        }
        rows.push(row);
    }
    Ok(rows)
}

/// Removed on drop, so a failed run leaves no SQLite files behind.
pub(crate) struct TempDir(pub PathBuf);

impl TempDir {
    fn new() -> Result<Self> {
        let dir = std::env::temp_dir().join(format!("neoforge-bench-{}", std::process::id()));
        std::fs::create_dir_all(&dir).with_context(|| format!("create {}", dir.display()))?;
        Ok(Self(dir))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn clone_ctx(ctx: &Ctx) -> Ctx {
    Ctx {
        addr: ctx.addr,
        ids: ctx.ids.clone(),
        tokens: ctx.tokens.clone(),
        staff_token: ctx.staff_token.clone(),
        completed: ctx.completed.clone(),
        owned: ctx.owned.clone(),
        pages: ctx.pages,
        statements_per_event: ctx.statements_per_event,
    }
}

fn median(v: &[f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    Some(s[s.len() / 2])
}

pub(crate) fn context(
    server: &Server,
    seeded: Seeded,
    tokens: Vec<String>,
    completed: Vec<Completed>,
) -> Ctx {
    let by_id: HashMap<&str, &str> = seeded
        .users
        .iter()
        .map(|u| (u.id.as_str(), u.token.as_str()))
        .collect();
    let mut owned: Vec<(String, Vec<String>)> = seeded
        .owned
        .iter()
        .filter_map(|(owner, ids)| Some((by_id.get(owner.as_str())?.to_string(), ids.clone())))
        .collect();
    owned.sort();
    Ctx {
        addr: server.addr,
        ids: Arc::new(seeded.public_ids),
        tokens: Arc::new(tokens),
        staff_token: seeded.staff_token,
        completed: Arc::new(completed),
        owned: Arc::new(owned),
        pages: seeded.public_total / 50,
        statements_per_event: seeded.statements_per_event,
    }
}

fn selected(args: &Args, kind: Kind) -> bool {
    args.only.is_empty()
        || args
            .only
            .iter()
            .any(|p| kind.name().starts_with(p.as_str()))
}

async fn workloads(
    args: &Args,
    server: &Server,
    others: Others<'_>,
    ctx: &Ctx,
    timing: Timing,
) -> Result<(Vec<Row>, Vec<String>, Vec<(usize, f64)>)> {
    let mut rows = Vec::new();
    let mut notes = Vec::new();
    let mut exact_w3 = Vec::new();
    let mut http = HashMap::new();
    for &c in args.concurrency.iter().chain([&args.max_concurrency]) {
        let h = measure(server, ctx, Kind::Health, c, Pace::Closed, timing).await?;
        http.insert(c, h.rps);
        rows.push(h);
    }
    for &c in &args.concurrency {
        for kind in MAIN.into_iter().filter(|k| selected(args, *k)) {
            rows.extend(measure_pair(args, (server, others), ctx, kind, c, timing).await?);
        }
    }
    if selected(args, Kind::W1Get) {
        rows.push(
            measure(
                server,
                ctx,
                Kind::W1Get,
                args.max_concurrency,
                Pace::Closed,
                timing,
            )
            .await?,
        );
        let base = rows
            .iter()
            .find(|r| r.workload == Kind::W1Get.name())
            .map_or(1000.0, |r| r.rps);
        let rate = (base * 0.5).max(1.0);
        notes.push(format!(
            "fixed-rate W1: {rate:.0} req/s (half the closed-loop c={} throughput) over 64 connections; latency from each request's scheduled time (tokio timers add up to ~1 ms)",
            args.concurrency.first().copied().unwrap_or(16)
        ));
        rows.push(measure(server, ctx, Kind::W1Get, 64, Pace::Rate(rate), timing).await?);
    }
    if selected(args, Kind::W3(50)) {
        rows.push(
            measure(
                server,
                ctx,
                Kind::W3(50),
                args.max_concurrency,
                Pace::Closed,
                timing,
            )
            .await?,
        );
        for n in [10, 50, 100] {
            let exact = exact_statements(server, ctx, Kind::W3(n), 20).await?;
            eprintln!("  W3 first={n}: {exact:.2} SQL statements/request (20 sequential requests)");
            exact_w3.push((n, exact));
        }
        let c = args.concurrency.first().copied().unwrap_or(16);
        for n in [10, 100] {
            rows.extend(measure_pair(args, (server, others), ctx, Kind::W3(n), c, timing).await?);
        }
    }
    for r in rows.iter_mut().filter(|r| r.server != PEER) {
        r.http_ceiling = http.get(&r.concurrency).copied();
    }
    let w3 = exact_w3
        .iter()
        .map(|(n, s)| format!("first={n}: {s:.2}"))
        .collect::<Vec<_>>()
        .join(", ");
    if !w3.is_empty() {
        notes.push(format!("W3 SQL statements/request, 20 sequential requests each (exact, no requests in flight at the counter reads): {w3}"));
    }
    notes.push("W5 runs with a background writer recording 50 status events/s as staff; its statements are subtracted from SQL/req, its CPU is not".into());
    Ok((rows, notes, exact_w3))
}

/// Statements per request with nothing else in flight, so the counter delta is exact.
async fn exact_statements(server: &Server, ctx: &Ctx, kind: Kind, n: usize) -> Result<f64> {
    let factory = ctx.factory(kind, 1).await?;
    let mut script = factory(0);
    let mut conn = Conn::new(server.addr);
    let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(7);
    let before = server.statements(&mut conn).await?;
    for _ in 0..n {
        let req = script.next(&mut rng);
        let resp = conn.send(&req).await?;
        if let Err(e) = script.check(&resp) {
            anyhow::bail!("{}: {e}", kind.name());
        }
    }
    let after = server.statements(&mut conn).await?;
    Ok((after - before) as f64 / n as f64)
}

/// Runs `per_worker` requests on each script concurrently and hands the scripts back.
async fn drive(
    addr: SocketAddr,
    scripts: Vec<Box<dyn Script>>,
    per_worker: usize,
) -> Result<(Vec<Box<dyn Script>>, u64)> {
    let mut tasks = Vec::new();
    for (i, mut script) in scripts.into_iter().enumerate() {
        tasks.push(tokio::spawn(async move {
            use rand::SeedableRng;
            let mut rng = rand::rngs::StdRng::seed_from_u64(i as u64);
            let mut conn = Conn::new(addr);
            let mut errors = 0;
            for _ in 0..per_worker {
                let req = script.next(&mut rng);
                match conn.send(&req).await {
                    Ok(resp) if script.check(&resp).is_ok() => {}
                    _ => errors += 1,
                }
            }
            (script, errors)
        }));
    }
    let mut out = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (s, e) = t.await.context("capture worker panicked")?;
        out.push(s);
        errors += e;
    }
    Ok((out, errors))
}

const CAPTURE_WORKERS: usize = 4;
const CAPTURE_PER_WORKER: usize = 100;

/// Logs the statements of `CAPTURE_WORKERS × CAPTURE_PER_WORKER` requests of one workload.
async fn capture(admin: &Client, log: &Path, ctx: &Ctx, kind: Kind) -> Result<(Vec<Unit>, f64)> {
    let factory = ctx.factory(kind, CAPTURE_WORKERS).await?;
    let scripts = (0..CAPTURE_WORKERS).map(|i| factory(i)).collect();
    // Unlogged warm-up: W6 fetches its ETags here, so the logged part is PATCHes only.
    let (scripts, _) = drive(ctx.addr, scripts, 10).await?;
    let cap = Capture::start(admin, log.to_path_buf()).await?;
    let driven = drive(ctx.addr, scripts, CAPTURE_PER_WORKER).await;
    let by_pid = cap.finish().await?;
    let (_, errors) = driven?;
    if errors > 0 {
        eprintln!("  capture {}: {errors} errors", kind.name());
    }
    let total: usize = by_pid.values().map(Vec::len).sum();
    let per_request = total as f64 / (CAPTURE_WORKERS * CAPTURE_PER_WORKER) as f64;
    Ok((ceiling::units(by_pid), per_request))
}

async fn sql_ceilings(
    args: &Args,
    launch: &Launch<'_>,
    ctx: &Ctx,
    rows: &mut [Row],
    notes: &mut Vec<String>,
    timing: Timing,
) -> Result<()> {
    let admin = sql::pg_connect(sql::PG_ADMIN).await?;
    let log: PathBuf = pglog::log_path(&admin, &args.pg_log).await?;
    // The ceilings run against a restarted server (captures need live traffic) that is then
    // stopped, so the replay has the machine to itself like the workload had.
    let (server, _) = launch.start().await?;
    let ctx = Ctx {
        addr: server.addr,
        ..clone_ctx(ctx)
    };
    let mut captured = Vec::new();
    let mut failure = None;
    for kind in MAIN.into_iter().filter(|k| selected(args, *k)) {
        match capture(&admin, &log, &ctx, kind).await {
            Ok(c) => captured.push((kind, c)),
            Err(e) => {
                failure = Some(e);
                break;
            }
        }
    }
    // Never leave statement logging on, whatever happened.
    let reset = pglog::stop_logging(&admin).await;
    server.stop().await?;
    if let Some(e) = failure {
        return Err(e.context("capture statements"));
    }
    reset?;
    for (kind, (units, per_request)) in captured {
        let units = Arc::new(units);
        eprintln!(
            "  {:<28} {:.2} logged statements/request, {} units",
            kind.name(),
            per_request,
            units.len()
        );
        for &c in &args.concurrency {
            let replay =
                ceiling::replay(units.clone(), c, timing.warmup, timing.measure, false).await?;
            let ceiling = replay.statements as f64 / replay.seconds / per_request;
            eprintln!(
                "  SQL ceiling {:<16} c={c:<3} {ceiling:>8.0} req/s ({} replay errors{})",
                kind.name(),
                replay.errors,
                replay
                    .first_error
                    .as_deref()
                    .map(|e| format!(": {}", e.chars().take(200).collect::<String>()))
                    .unwrap_or_default()
            );
            // The floor's W1 rows run the same statement: the same ceiling.
            let floor = (kind == Kind::W1Get).then(|| Kind::FloorW1.name());
            for r in rows.iter_mut().filter(|r| {
                (r.workload == kind.name() || floor.as_ref() == Some(&r.workload))
                    && r.concurrency == c
                    && r.mode == "closed"
            }) {
                let http = r.http_ceiling;
                r.set_ceilings(http, Some(ceiling));
                r.sql_note = if kind.writes() {
                    "replayed, inserted ids/keys renewed, committed".into()
                } else {
                    "replayed".into()
                };
                if replay.errors > 0 {
                    r.sql_note
                        .push_str(&format!(", {} replay errors", replay.errors));
                }
            }
        }
    }
    for r in rows.iter_mut().filter(|r| r.sql_ceiling.is_none()) {
        if r.sql_note.is_empty() {
            r.sql_note = "not replayed at this concurrency (PostgreSQL max_connections) or not a DB workload".into();
        }
    }
    notes.push(format!(
        "SQL ceiling: statements captured from PostgreSQL's log ({}) for {} requests per workload, replayed with tokio-postgres (prepared once per connection, logged values sent as text) at the same concurrency; req/s = replayed statements/s ÷ logged statements per request",
        log.display(),
        CAPTURE_WORKERS * CAPTURE_PER_WORKER
    ));
    Ok(())
}
