//! Two servers on one seeded database, measured turn about: a baseline binary against the one
//! under test (`--baseline-bin`), or one binary at two log levels. Every round measures each
//! side once, the side that goes first alternating, so whatever drifts during a run (other
//! processes, the database's caches) falls on both; the verdict compares the totals over all
//! rounds.

use std::path::Path;

use anyhow::Result;

use crate::Args;
use crate::load::{Pace, Timing};
use crate::report::{self, Check};
use crate::server::{Launch, Server};
use crate::suite::{self, Ctx, Kind};

/// What `versus` measures: the reads users run most, over REST and GraphQL, and a keyed write
/// that replays.
const VERSUS: [Kind; 4] = [Kind::W1Get, Kind::W1Graphql, Kind::W3(50), Kind::W4Replay];

/// How much slower the new binary may be on any workload.
const MAX_REGRESSION: f64 = 0.10;

/// How much slower `RUST_LOG=info` may make W1 than `RUST_LOG=error`.
const MAX_LOG_COST: f64 = 0.05;

/// One side's requests, seconds and CPU over every round of a workload.
#[derive(Clone, Copy, Default)]
struct Totals {
    requests: u64,
    seconds: f64,
    cpu_us: f64,
}

impl Totals {
    fn add(&mut self, row: &report::Row) {
        self.requests += row.requests;
        self.seconds += row.requests as f64 / row.rps.max(f64::MIN_POSITIVE);
        self.cpu_us += row.cpu_us_per_request * row.requests as f64;
    }

    fn rps(&self) -> f64 {
        self.requests as f64 / self.seconds.max(f64::MIN_POSITIVE)
    }

    fn cpu_us_per_request(&self) -> f64 {
        self.cpu_us / self.requests.max(1) as f64
    }
}

/// A workload at one concurrency, on both sides.
struct Compared {
    kind: Kind,
    concurrency: usize,
    sides: [Totals; 2],
}

impl Compared {
    /// Side 1's throughput as a multiple of side 0's.
    fn ratio(&self) -> f64 {
        self.sides[1].rps() / self.sides[0].rps().max(f64::MIN_POSITIVE)
    }

    fn describe(&self, names: [&str; 2]) -> String {
        let side = |i: usize| {
            format!(
                "{} {:.0} req/s ({:.0} µs CPU)",
                names[i],
                self.sides[i].rps(),
                self.sides[i].cpu_us_per_request()
            )
        };
        format!(
            "{}, {}: {:.3} × throughput, {:.3} × CPU per request",
            side(0),
            side(1),
            self.ratio(),
            self.sides[1].cpu_us_per_request() / self.sides[0].cpu_us_per_request().max(1e-9)
        )
    }
}

/// Measures each of `kinds` at `concurrency` on both servers, `rounds` times.
async fn alternate(
    servers: [(&str, &Server); 2],
    ctx: &Ctx,
    kinds: &[Kind],
    concurrency: usize,
    timing: Timing,
    rounds: usize,
) -> Result<Vec<Compared>> {
    let mut out: Vec<Compared> = kinds
        .iter()
        .map(|&kind| Compared {
            kind,
            concurrency,
            sides: Default::default(),
        })
        .collect();
    for round in 0..rounds {
        for compared in &mut out {
            let order = if round % 2 == 0 { [0, 1] } else { [1, 0] };
            for side in order {
                let (name, server) = servers[side];
                eprint!("{name:>9}");
                let row = suite::measure(
                    server,
                    ctx,
                    compared.kind,
                    concurrency,
                    Pace::Closed,
                    timing,
                )
                .await?;
                compared.sides[side].add(&row);
            }
        }
    }
    Ok(out)
}

/// `--baseline-bin`: the baseline and the binary under test at the same log level, on a
/// database the new one seeded; prints new ÷ old per workload and concurrency.
pub async fn versus(args: &Args, baseline: &Path, bin: &Path) -> Result<()> {
    let prepared = suite::prepare(args, bin).await?;
    let launch = |bin| Launch {
        bin,
        database_url: &prepared.url,
        pool: args.pool(),
        rate_limit: &args.rate_limits,
        log: args.rust_log.as_deref(),
    };
    let (old, _) = launch(baseline).start().await?;
    let (new, _) = launch(bin).start().await?;
    let ctx = suite::context(&new, prepared.seeded, prepared.tokens, prepared.completed);
    let mut compared = Vec::new();
    let mut failed = None;
    for &c in &args.concurrency {
        match alternate(
            [("old", &old), ("new", &new)],
            &ctx,
            &VERSUS,
            c,
            args.timing(),
            args.rounds,
        )
        .await
        {
            Ok(mut rows) => compared.append(&mut rows),
            Err(e) => {
                failed = Some(e);
                break;
            }
        }
    }
    old.stop().await?;
    new.stop().await?;
    if let Some(e) = failed {
        return Err(e);
    }
    println!();
    println!(
        "old: {}\nnew: {}\nRUST_LOG: {}; {} rounds of {:.1} s per side, turn about",
        baseline.display(),
        bin.display(),
        args.rust_log
            .as_deref()
            .unwrap_or("unset (the shipped default)"),
        args.rounds,
        args.timing().measure.as_secs_f64()
    );
    let checks: Vec<Check> = compared
        .iter()
        .map(|c| Check {
            target: format!(
                "{} c={}: new within {:.0} % of old",
                c.kind.name(),
                c.concurrency,
                MAX_REGRESSION * 100.0
            ),
            pass: c.ratio() >= 1.0 - MAX_REGRESSION,
            skipped: false,
            detail: c.describe(["old", "new"]),
        })
        .collect();
    print!("{}", report::checks_text(&checks));
    Ok(())
}

/// W1 GET on two servers of `launch`'s binary, one at `RUST_LOG=info` (as the README starts
/// it), one at `RUST_LOG=error`: what logging at INFO costs when nothing is logged per request.
pub async fn log_levels(
    args: &Args,
    launch: &Launch<'_>,
    ctx: &Ctx,
    timing: Timing,
) -> Result<Check> {
    let at = |log| Launch {
        log: Some(log),
        ..*launch
    };
    let (error, _) = at("error").start().await?;
    let (info, _) = at("info").start().await?;
    let c = args.concurrency.first().copied().unwrap_or(16);
    let compared = alternate(
        [("error", &error), ("info", &info)],
        ctx,
        &[Kind::W1Get],
        c,
        timing,
        args.rounds,
    )
    .await;
    error.stop().await?;
    info.stop().await?;
    let compared = compared?;
    let w1 = &compared[0];
    Ok(Check {
        target: format!(
            "W1 GET c={c} at RUST_LOG=info within {:.0} % of RUST_LOG=error ({} rounds)",
            MAX_LOG_COST * 100.0,
            args.rounds
        ),
        pass: w1.ratio() >= 1.0 - MAX_LOG_COST,
        skipped: false,
        detail: w1.describe(["error", "info"]),
    })
}
