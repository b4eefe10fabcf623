//! The load generator: closed-loop and fixed-rate runs over per-worker keep-alive connections,
//! with latencies in an HDR histogram and every response checked by its workload.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::{Context, Result};
use hdrhistogram::Histogram;
use rand::SeedableRng;
use rand::rngs::StdRng;
use tokio::time::Instant;

use crate::http::{Conn, Req, Resp};
use crate::server::{ProcStats, Server};

/// One worker's request stream: what to send next and whether an answer is right.
pub trait Script: Send {
    fn next(&mut self, rng: &mut StdRng) -> Req;
    /// `Err` counts the response as an error, with a message for the first few.
    fn check(&mut self, resp: &Resp) -> Result<(), String>;
}

pub type Factory = Arc<dyn Fn(usize) -> Box<dyn Script> + Send + Sync>;

#[derive(Clone, Copy, Debug)]
pub struct Timing {
    pub warmup: Duration,
    pub measure: Duration,
}

pub struct RunResult {
    pub requests: u64,
    pub errors: u64,
    pub seconds: f64,
    pub hist: Histogram<u64>,
    pub first_errors: Vec<String>,
    pub cpu_ticks: u64,
    /// `None` when the process under test has no statement counter (the peer).
    pub statements: Option<u64>,
    pub peak_rss_kib: u64,
    pub rss_kib: u64,
}

impl RunResult {
    pub fn rps(&self) -> f64 {
        self.requests as f64 / self.seconds
    }
    pub fn p50_ms(&self) -> f64 {
        self.hist.value_at_quantile(0.50) as f64 / 1000.0
    }
    pub fn p99_ms(&self) -> f64 {
        self.hist.value_at_quantile(0.99) as f64 / 1000.0
    }
}

struct WorkerOut {
    requests: u64,
    errors: u64,
    hist: Histogram<u64>,
    first_errors: Vec<String>,
}

fn histogram() -> Histogram<u64> {
    // 1 µs .. 60 s at 3 significant digits.
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("valid histogram bounds")
}

struct Snapshot {
    stats: ProcStats,
    statements: Option<u64>,
}

async fn snapshot(server: &Server, conn: &mut Conn) -> Result<Snapshot> {
    let statements = if server.counts_statements() {
        Some(server.statements(conn).await?)
    } else {
        None
    };
    Ok(Snapshot {
        stats: server.stats()?,
        statements,
    })
}

/// How a worker paces its requests.
#[derive(Clone, Copy)]
pub enum Pace {
    /// Each worker sends its next request as soon as the previous one is answered.
    Closed,
    /// Requests are scheduled at this many per second overall; latency counts from the
    /// scheduled time, so a slow answer cannot hide the requests queued behind it.
    Rate(f64),
}

pub async fn run(
    server: &Server,
    factory: &Factory,
    concurrency: usize,
    pace: Pace,
    timing: Timing,
) -> Result<RunResult> {
    let start = Instant::now() + Duration::from_millis(20);
    let measure_from = start + timing.warmup;
    let end = measure_from + timing.measure;
    let ticket = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::with_capacity(concurrency);
    for worker in 0..concurrency {
        let script = factory(worker);
        let addr = server.addr;
        let ticket = ticket.clone();
        tasks.push(tokio::spawn(worker_loop(
            addr,
            script,
            worker,
            pace,
            ticket,
            (start, measure_from, end),
        )));
    }
    let mut metrics = Conn::new(server.addr);
    tokio::time::sleep_until(measure_from).await;
    let before = snapshot(server, &mut metrics).await?;
    tokio::time::sleep_until(end).await;
    let after = snapshot(server, &mut metrics).await?;
    let mut result = RunResult {
        requests: 0,
        errors: 0,
        seconds: timing.measure.as_secs_f64(),
        hist: histogram(),
        first_errors: Vec::new(),
        cpu_ticks: after.stats.cpu_ticks - before.stats.cpu_ticks,
        statements: after
            .statements
            .zip(before.statements)
            .map(|(a, b)| a.saturating_sub(b)),
        peak_rss_kib: after.stats.peak_rss_kib,
        rss_kib: after.stats.rss_kib,
    };
    for task in tasks {
        let out = task.await.context("worker panicked")?;
        result.requests += out.requests;
        result.errors += out.errors;
        result.hist.add(&out.hist).context("merge histograms")?;
        for e in out.first_errors {
            if result.first_errors.len() < 5 {
                result.first_errors.push(e);
            }
        }
    }
    Ok(result)
}

async fn worker_loop(
    addr: SocketAddr,
    mut script: Box<dyn Script>,
    worker: usize,
    pace: Pace,
    ticket: Arc<AtomicU64>,
    (start, measure_from, end): (Instant, Instant, Instant),
) -> WorkerOut {
    let mut rng = StdRng::seed_from_u64(0x6e65_6f66 ^ worker as u64);
    let mut conn = Conn::new(addr);
    let mut out = WorkerOut {
        requests: 0,
        errors: 0,
        hist: histogram(),
        first_errors: Vec::new(),
    };
    tokio::time::sleep_until(start).await;
    loop {
        let scheduled = match pace {
            Pace::Closed => Instant::now(),
            Pace::Rate(rate) => {
                let i = ticket.fetch_add(1, Ordering::Relaxed);
                let at = start + Duration::from_secs_f64(i as f64 / rate);
                if at >= end {
                    break;
                }
                tokio::time::sleep_until(at).await;
                at
            }
        };
        if scheduled >= end {
            break;
        }
        let req = script.next(&mut rng);
        let outcome = match conn.send(&req).await {
            Ok(resp) => script
                .check(&resp)
                .map_err(|e| format!("{} {}: {e}", req.method, req.path)),
            Err(e) => Err(format!("{} {}: {e:#}", req.method, req.path)),
        };
        let done = Instant::now();
        if scheduled < measure_from {
            continue;
        }
        out.requests += 1;
        if let Err(e) = outcome {
            out.errors += 1;
            if out.first_errors.len() < 3 {
                out.first_errors.push(e);
            }
        }
        let micros = done.duration_since(scheduled).as_micros() as u64;
        out.hist.saturating_record(micros.max(1));
    }
    out
}
