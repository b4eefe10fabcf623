//! The result table (plain text on stdout, JSON on disk) and the target checks.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result};
use serde::Serialize;

#[derive(Clone, Debug, Default, Serialize)]
pub struct Row {
    pub workload: String,
    pub concurrency: usize,
    /// `closed` or `rate <n>/s`.
    pub mode: String,
    pub requests: u64,
    pub rps: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub errors: u64,
    pub statements_per_request: Option<f64>,
    pub cpu_seconds_per_1k: f64,
    pub peak_rss_mib: f64,
    pub rss_mib: f64,
    pub http_ceiling: Option<f64>,
    pub sql_ceiling: Option<f64>,
    /// Why the SQL ceiling is missing, or how it was obtained.
    pub sql_note: String,
    pub roofline: Option<f64>,
    pub of_roofline: Option<f64>,
}

impl Row {
    pub fn set_ceilings(&mut self, http: Option<f64>, sql: Option<f64>) {
        self.http_ceiling = http;
        self.sql_ceiling = sql;
        self.roofline = match (http, sql) {
            (Some(h), Some(s)) if h > 0.0 && s > 0.0 => Some(1.0 / (1.0 / h + 1.0 / s)),
            _ => None,
        };
        self.of_roofline = self.roofline.map(|r| self.rps / r);
    }
}

#[derive(Debug, Serialize)]
pub struct Check {
    pub target: String,
    pub pass: bool,
    /// Not measurable in this run (e.g. no SQL ceiling on SQLite); neither PASS nor FAIL.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub skipped: bool,
    pub detail: String,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub backend: String,
    pub started_at: String,
    pub warmup_s: f64,
    pub measure_s: f64,
    pub server_pool: u32,
    pub rows: Vec<Row>,
    pub sqlite_ready_ms_median: Option<f64>,
    pub sqlite_ready_ms_all: Vec<f64>,
    /// (page size, statements per request) measured with one request at a time.
    pub w3_statements_per_request: Vec<(usize, f64)>,
    pub checks: Vec<Check>,
    pub notes: Vec<String>,
}

fn opt(v: Option<f64>, digits: usize) -> String {
    v.map_or_else(|| "n/a".to_owned(), |v| format!("{v:.digits$}"))
}

pub fn table(rows: &[Row]) -> String {
    let mut out = String::new();
    let header = [
        "workload",
        "conc",
        "mode",
        "req/s",
        "p50 ms",
        "p99 ms",
        "errors",
        "SQL/req",
        "CPU-s/1k",
        "peak RSS MiB",
        "HTTP ceil",
        "SQL ceil",
        "roofline",
        "÷ roofline",
    ];
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            vec![
                r.workload.clone(),
                r.concurrency.to_string(),
                r.mode.clone(),
                format!("{:.0}", r.rps),
                format!("{:.2}", r.p50_ms),
                format!("{:.2}", r.p99_ms),
                r.errors.to_string(),
                opt(r.statements_per_request, 2),
                format!("{:.3}", r.cpu_seconds_per_1k),
                format!("{:.1}", r.peak_rss_mib),
                opt(r.http_ceiling, 0),
                opt(r.sql_ceiling, 0),
                opt(r.roofline, 0),
                opt(r.of_roofline, 2),
            ]
        })
        .collect();
    let widths: Vec<usize> = (0..header.len())
        .map(|i| {
            cells
                .iter()
                .map(|c| c[i].chars().count())
                .chain([header[i].chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |out: &mut String, row: &[String]| {
        out.push('|');
        for (i, cell) in row.iter().enumerate() {
            let pad = widths[i] - cell.chars().count();
            if i < 3 {
                let _ = write!(out, " {cell}{} |", " ".repeat(pad));
            } else {
                let _ = write!(out, " {}{cell} |", " ".repeat(pad));
            }
        }
        out.push('\n');
    };
    line(&mut out, &header.map(str::to_owned));
    out.push('|');
    for (i, w) in widths.iter().enumerate() {
        let dashes = "-".repeat(*w);
        if i < 3 {
            let _ = write!(out, "{dashes}--|");
        } else {
            let _ = write!(out, "-{dashes}:|");
        }
    }
    out.push('\n');
    for c in &cells {
        line(&mut out, c);
    }
    out
}

pub fn checks_text(checks: &[Check]) -> String {
    checks
        .iter()
        .map(|c| {
            format!(
                "{} {}: {}\n",
                match (c.skipped, c.pass) {
                    (true, _) => "N/A ",
                    (false, true) => "PASS",
                    (false, false) => "FAIL",
                },
                c.target,
                c.detail
            )
        })
        .collect()
}

pub fn write_json(report: &Report, path: &Path) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("create {}", dir.display()))?;
    }
    let text = serde_json::to_string_pretty(report)?;
    std::fs::write(path, text).with_context(|| format!("write {}", path.display()))
}

fn find<'a>(rows: &'a [Row], workload: &str, c: usize) -> Option<&'a Row> {
    rows.iter()
        .find(|r| r.workload == workload && r.concurrency == c && r.mode == "closed")
}

/// The targets, each at every closed-loop concurrency both sides were measured at.
pub fn checks(
    rows: &[Row],
    concurrencies: &[usize],
    ready_ms: Option<f64>,
    w3: &[(usize, f64)],
) -> Vec<Check> {
    let mut out = Vec::new();
    let mut ratio = |target: &str, a: &str, b: &str, min: f64| {
        for &c in concurrencies {
            if let (Some(x), Some(y)) = (find(rows, a, c), find(rows, b, c)) {
                let r = x.rps / y.rps;
                out.push(Check {
                    target: format!("{target} (c={c})"),
                    pass: r >= min,
                    skipped: false,
                    detail: format!("{:.0} / {:.0} req/s = {r:.2} (need ≥ {min})", x.rps, y.rps),
                });
            }
        }
    };
    ratio(
        "304 path at least as fast as 200",
        "W1 GET 304",
        "W1 GET",
        1.0,
    );
    ratio(
        "W4 fresh-key creates ≥ 0.8 × keyless",
        "W4 create key",
        "W4 create",
        0.8,
    );
    ratio("W4 replays ≥ 0.9 × W1", "W4 replay", "W1 GET", 0.9);
    ratio(
        "REST shim ≥ 0.95 × POST /graphql",
        "W1 GET",
        "W1 GET gql",
        0.95,
    );
    for (workload, min) in [("W1 GET", 0.7), ("W3 overview", 0.5)] {
        for &c in concurrencies {
            if let Some(r) = find(rows, workload, c) {
                out.push(match r.of_roofline {
                    Some(x) => Check {
                        target: format!("{workload} ≥ {min} × roofline (c={c})"),
                        pass: x >= min,
                        skipped: false,
                        detail: format!(
                            "{x:.2} × roofline ({:.0} of {:.0} req/s)",
                            r.rps,
                            r.roofline.unwrap_or(0.0)
                        ),
                    },
                    None => Check {
                        target: format!("{workload} ≥ {min} × roofline (c={c})"),
                        pass: false,
                        skipped: true,
                        detail: format!("no SQL ceiling ({})", r.sql_note),
                    },
                });
            }
        }
    }
    if !w3.is_empty() {
        let max = w3.iter().map(|x| x.1).fold(0.0, f64::max);
        let min = w3.iter().map(|x| x.1).fold(f64::MAX, f64::min);
        let list: Vec<String> = w3
            .iter()
            .map(|(p, s)| format!("first={p}: {s:.2}"))
            .collect();
        out.push(Check {
            target: "W3 SQL statements/request constant and ≤ 4".into(),
            pass: max <= 4.0 && max - min < 0.01,
            skipped: false,
            detail: list.join(", "),
        });
    }
    // VmHWM only grows, so the last row at ≥ 256 connections holds the peak of them all.
    if let Some(r) = rows.iter().rev().find(|r| r.concurrency >= 256) {
        out.push(Check {
            target: "server peak RSS ≤ 100 MiB at 256 connections".into(),
            pass: r.peak_rss_mib <= 100.0,
            skipped: false,
            detail: format!(
                "peak (VmHWM) {:.1} MiB, current {:.1} MiB after {} at c={}",
                r.peak_rss_mib, r.rss_mib, r.workload, r.concurrency
            ),
        });
    }
    if let Some(ms) = ready_ms {
        out.push(Check {
            target: "ready ≤ 300 ms after start on SQLite".into(),
            pass: ms <= 300.0,
            skipped: false,
            detail: format!("median {ms:.0} ms from spawn to /health/ready 200 (fresh file)"),
        });
    }
    for r in rows.iter().filter(|r| r.errors > 0) {
        out.push(Check {
            target: format!("no errors: {} c={} {}", r.workload, r.concurrency, r.mode),
            pass: false,
            skipped: false,
            detail: format!("{} of {} responses wrong", r.errors, r.requests),
        });
    }
    out
}
