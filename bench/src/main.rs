//! `neoforge-bench`: builds nothing itself (the `just bench` recipe builds the release server
//! first), starts the server on PostgreSQL (or SQLite with `--sqlite`), seeds a realistic data
//! set, runs workloads W1–W6 against the HTTP and SQL ceilings, and prints one table.

mod ceiling;
mod floor;
mod http;
mod load;
mod paired;
mod peer;
mod pglog;
mod report;
mod seed;
mod server;
mod soak;
mod sql;
mod sqlite_seed;
mod suite;
mod workloads;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Result, ensure};
use clap::Parser;

#[derive(Parser, Debug, Clone)]
#[command(about = "Load benchmark of the NeoForge API against its SQL and HTTP ceilings")]
pub struct Args {
    /// Run against a temporary SQLite file instead of PostgreSQL (no SQL ceiling then).
    #[arg(long)]
    pub sqlite: bool,
    /// Shorter runs (0.5 s warm-up, 2 s measured) for a ~3 minute smoke run.
    #[arg(long)]
    pub quick: bool,
    /// Warm-up seconds per run (default 1, quick 0.5).
    #[arg(long)]
    pub warmup: Option<f64>,
    /// Measured seconds per run (default 5, quick 2).
    #[arg(long)]
    pub measure: Option<f64>,
    /// Closed-loop concurrencies.
    #[arg(long, value_delimiter = ',', default_value = "16,64")]
    pub concurrency: Vec<usize>,
    /// The extra high-concurrency W1 run that checks memory.
    #[arg(long, default_value_t = 256)]
    pub max_concurrency: usize,
    /// Where the JSON copy of the table goes.
    #[arg(long, default_value = "target/bench/latest.json")]
    pub json: PathBuf,
    /// PostgreSQL's log file when the logging collector is off.
    #[arg(long, default_value = "/var/log/postgresql/postgresql-15-main.log")]
    pub pg_log: PathBuf,
    /// `sslmode` of the server's PostgreSQL URL (the SQL-ceiling replay never uses TLS).
    #[arg(long, default_value = "disable")]
    pub pg_sslmode: String,
    /// Skip the SQL-ceiling capture and replay.
    #[arg(long)]
    pub no_sql_ceiling: bool,
    /// The server binary (default: target/release/neoforge under the workspace).
    #[arg(long)]
    pub server_bin: Option<PathBuf>,
    /// The server's database pool size (NEOFORGE_DB_MAX_CONNECTIONS; default 24 on
    /// PostgreSQL, 8 on SQLite, where every connection keeps its own page cache).
    #[arg(long)]
    pub pool: Option<u32>,
    /// Fresh-SQLite starts to time for the readiness check (0 to skip).
    #[arg(long, default_value_t = 5)]
    pub ready_runs: usize,
    /// The measured server's rate-limit quota for every tier: `off` (default), or one no
    /// workload reaches (e.g. `1000000/s`) to measure what the protection layers cost.
    #[arg(long, default_value = "off")]
    pub rate_limits: String,
    /// Instead of the workloads: a mixed read/write soak of this many seconds, reporting RSS,
    /// open descriptors, database sessions and p99 per window (`just soak`).
    #[arg(long)]
    pub soak: Option<u64>,
    /// Seconds per soak window.
    #[arg(long, default_value_t = 10)]
    pub soak_window: u64,
    /// Skip the PostGraphile peer (bench/postgraphile; needs Node 20 and npm). Always skipped
    /// with --sqlite.
    #[arg(long)]
    pub no_peer: bool,
    /// Only these workloads (comma-separated prefixes, e.g. `W1,W3`; the peer's rows start
    /// with the workload they mirror).
    #[arg(long, value_delimiter = ',')]
    pub only: Vec<String>,
    /// The measured servers' `RUST_LOG` (default: unset, so they log at the binary's shipped
    /// default, as a user starts it).
    #[arg(long)]
    pub rust_log: Option<String>,
    /// Instead of the workloads: W1 GET, W1 over GraphQL, W3 and replayed creates on this
    /// binary and on the one under test, turn about on one seeded database, as new ÷ old.
    #[arg(long)]
    pub baseline_bin: Option<PathBuf>,
    /// Rounds of a paired comparison (each side measured once per round).
    #[arg(long, default_value_t = 3)]
    pub rounds: usize,
}

impl Args {
    /// The server's pool size: `--pool`, or the backend's default.
    pub fn pool(&self) -> u32 {
        self.pool.unwrap_or(if self.sqlite { 8 } else { 24 })
    }

    pub fn timing(&self) -> load::Timing {
        let (w, m) = if self.quick { (0.5, 2.0) } else { (1.0, 5.0) };
        load::Timing {
            warmup: Duration::from_secs_f64(self.warmup.unwrap_or(w)),
            measure: Duration::from_secs_f64(self.measure.unwrap_or(m)),
        }
    }
}

pub(crate) fn workspace_root() -> PathBuf {
    // The bench lives in <root>/bench; running it through cargo sets this at compile time.
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."))
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let root = workspace_root();
    let bin = args
        .server_bin
        .clone()
        .unwrap_or_else(|| server::release_binary(&root));
    ensure!(
        bin.exists(),
        "{} not found: run `cargo build --release --bin neoforge` first",
        bin.display()
    );
    let json = if args.json.is_absolute() {
        args.json.clone()
    } else {
        root.join(&args.json)
    };
    if let Some(seconds) = args.soak {
        return soak::run(&args, &bin, seconds, args.soak_window).await;
    }
    if let Some(baseline) = &args.baseline_bin {
        ensure!(baseline.exists(), "{} not found", baseline.display());
        return paired::versus(&args, baseline, &bin).await;
    }
    let report = suite::run(&args, &bin).await?;
    println!();
    println!("{}", report::table(&report.rows));
    print!("{}", report::curve_text(&report.w3_curve));
    print!("{}", report::checks_text(&report.checks));
    for note in &report.notes {
        println!("note: {note}");
    }
    report::write_json(&report, &json)?;
    println!("JSON: {}", json.display());
    Ok(())
}
