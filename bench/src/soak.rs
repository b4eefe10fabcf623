//! `--soak SECONDS` (`just soak`): a mixed read/write load for a bounded time against one
//! server process, reported in windows so that growth shows: the process's RSS and open file
//! descriptors, the database sessions it holds, throughput, p99 and errors. A leak of memory,
//! descriptors or pooled connections, or latency that creeps up, is the failure this looks for;
//! the verdict compares the first window after warm-up with the last.

use std::path::Path;
use std::time::Duration;

use anyhow::{Result, bail};
use rand::Rng;
use rand::rngs::StdRng;

use crate::Args;
use crate::http::{Req, Resp};
use crate::load::{self, Factory, Pace, Script, Timing};
use crate::server::{Launch, Server};
use crate::sql;
use crate::suite::{self, Ctx};
use crate::workloads::{self as w, CreateKind};

/// What "beyond noise" means between the first steady window and the last.
const RSS_GROWTH_LIMIT: f64 = 0.25;
const RSS_GROWTH_FLOOR_MIB: f64 = 16.0;
const FD_GROWTH_LIMIT: i64 = 16;
const P99_GROWTH_LIMIT: f64 = 2.0;

/// One window's readings.
struct Window {
    at_s: f64,
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    errors: u64,
    rss_mib: f64,
    fds: i64,
    db_sessions: Option<i64>,
}

pub async fn run(args: &Args, bin: &Path, seconds: u64, window: u64) -> Result<()> {
    let prepared = suite::prepare(args, bin).await?;
    let launch = Launch {
        bin,
        database_url: &prepared.url,
        pool: args.pool(),
        rate_limit: &args.rate_limits,
        log: args.rust_log.as_deref(),
    };
    let (server, _) = launch.start().await?;
    let ctx = suite::context(
        &server,
        prepared.seeded,
        prepared.tokens,
        prepared.completed,
    );
    let concurrency = args.concurrency.first().copied().unwrap_or(16);
    let result = soak(args, &server, &ctx, concurrency, seconds, window).await;
    server.stop().await?;
    result
}

async fn soak(
    args: &Args,
    server: &Server,
    ctx: &Ctx,
    concurrency: usize,
    seconds: u64,
    window: u64,
) -> Result<()> {
    let pg = if args.sqlite {
        None
    } else {
        Some(sql::pg_connect(&sql::pg_bench_config()).await?)
    };
    let factory = mixed(ctx, concurrency);
    let windows = (seconds / window.max(1)).max(2);
    eprintln!(
        "soak: {windows} windows of {window} s, {concurrency} connections, mix: 60% GET project, \
         10% list page, 10% keyed create, 10% keyed replay, 10% conditional PATCH"
    );
    println!(
        "{:>6} {:>8} {:>8} {:>8} {:>6} {:>8} {:>5} {:>11}",
        "t (s)", "req/s", "p50 ms", "p99 ms", "errors", "RSS MiB", "fds", "db sessions"
    );
    let started = std::time::Instant::now();
    let mut readings = Vec::new();
    for i in 0..windows {
        let timing = Timing {
            // Only the first window warms up (connections, caches, the allocator's arenas).
            warmup: Duration::from_secs(if i == 0 { 2 } else { 0 }),
            measure: Duration::from_secs(window),
        };
        let run = load::run(server, &factory, concurrency, Pace::Closed, timing).await?;
        for e in &run.first_errors {
            eprintln!("  error: {e}");
        }
        let db_sessions = match &pg {
            Some(client) => Some(
                client
                    .query_one(
                        "SELECT count(*) FROM pg_stat_activity \
                         WHERE datname = current_database() AND pid <> pg_backend_pid()",
                        &[],
                    )
                    .await?
                    .get::<_, i64>(0),
            ),
            None => None,
        };
        let reading = Window {
            at_s: started.elapsed().as_secs_f64(),
            rps: run.rps(),
            p50_ms: run.p50_ms(),
            p99_ms: run.p99_ms(),
            errors: run.errors,
            rss_mib: run.rss_kib as f64 / 1024.0,
            fds: open_descriptors(server.pid)?,
            db_sessions,
        };
        println!(
            "{:>6.0} {:>8.0} {:>8.2} {:>8.2} {:>6} {:>8.1} {:>5} {:>11}",
            reading.at_s,
            reading.rps,
            reading.p50_ms,
            reading.p99_ms,
            reading.errors,
            reading.rss_mib,
            reading.fds,
            reading
                .db_sessions
                .map_or_else(|| "-".to_owned(), |n| n.to_string()),
        );
        readings.push(reading);
    }
    verdict(&readings)
}

/// Compares the first window with the last; fails on errors or growth beyond noise.
fn verdict(readings: &[Window]) -> Result<()> {
    let (Some(first), Some(last)) = (readings.first(), readings.last()) else {
        bail!("no windows measured");
    };
    let errors: u64 = readings.iter().map(|r| r.errors).sum();
    let rss_growth = last.rss_mib - first.rss_mib;
    let fd_growth = last.fds - first.fds;
    let p99_ratio = last.p99_ms / first.p99_ms.max(0.001);
    println!(
        "start → end: RSS {:.1} → {:.1} MiB ({:+.1} MiB), fds {} → {} ({:+}), p99 {:.2} → {:.2} ms \
         (×{:.2}), db sessions {} → {}, errors {errors}",
        first.rss_mib,
        last.rss_mib,
        rss_growth,
        first.fds,
        last.fds,
        fd_growth,
        first.p99_ms,
        last.p99_ms,
        p99_ratio,
        first
            .db_sessions
            .map_or_else(|| "-".to_owned(), |n| n.to_string()),
        last.db_sessions
            .map_or_else(|| "-".to_owned(), |n| n.to_string()),
    );
    let mut problems = Vec::new();
    if errors > 0 {
        problems.push(format!("{errors} requests failed"));
    }
    if rss_growth > RSS_GROWTH_FLOOR_MIB && rss_growth > first.rss_mib * RSS_GROWTH_LIMIT {
        problems.push(format!("RSS grew by {rss_growth:.1} MiB"));
    }
    if fd_growth > FD_GROWTH_LIMIT {
        problems.push(format!("{fd_growth} more open descriptors"));
    }
    if p99_ratio > P99_GROWTH_LIMIT {
        problems.push(format!("p99 grew ×{p99_ratio:.2}"));
    }
    if let (Some(a), Some(b)) = (first.db_sessions, last.db_sessions)
        && b > a
    {
        problems.push(format!("{} more database sessions", b - a));
    }
    if problems.is_empty() {
        println!("soak: steady (no growth beyond noise)");
        Ok(())
    } else {
        bail!("soak: {}", problems.join("; "))
    }
}

fn open_descriptors(pid: u32) -> Result<i64> {
    Ok(std::fs::read_dir(format!("/proc/{pid}/fd"))?.count() as i64)
}

/// Each worker mixes reads and keyed writes; a response is checked by the script that made
/// its request.
fn mixed(ctx: &Ctx, concurrency: usize) -> Factory {
    let parts: Vec<(u32, Factory)> = vec![
        (60, w::w1_get(ctx.ids.clone())),
        (10, w::w2_list(ctx.pages)),
        (10, w::w4_create(ctx.tokens.clone(), CreateKind::FreshKey)),
        (10, w::w4_replay(ctx.completed.clone())),
        (10, w::w6_patch(ctx.owned.clone(), concurrency)),
    ];
    std::sync::Arc::new(move |worker| {
        Box::new(Mixed {
            parts: parts.iter().map(|(w, f)| (*w, f(worker))).collect(),
            last: 0,
        }) as Box<dyn Script>
    })
}

struct Mixed {
    parts: Vec<(u32, Box<dyn Script>)>,
    last: usize,
}

impl Script for Mixed {
    fn next(&mut self, rng: &mut StdRng) -> Req {
        let total: u32 = self.parts.iter().map(|(w, _)| w).sum();
        let mut roll = rng.random_range(0..total.max(1));
        let mut chosen = self.parts.len() - 1;
        for (i, (weight, _)) in self.parts.iter().enumerate() {
            if roll < *weight {
                chosen = i;
                break;
            }
            roll -= weight;
        }
        self.last = chosen;
        self.parts[chosen].1.next(rng)
    }

    fn check(&mut self, resp: &Resp) -> Result<(), String> {
        self.parts[self.last].1.check(resp)
    }
}
