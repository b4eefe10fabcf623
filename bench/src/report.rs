//! The result table (plain text on stdout, JSON on disk) and the target checks.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result};
use serde::Serialize;

/// The peer's name: its rows are `<our workload> PostGraphile`, its `server` this.
pub const PEER: &str = "PostGraphile";
/// The hand-written floor of this stack (bench/src/floor_server.rs).
pub const FLOOR: &str = "floor";

#[derive(Clone, Debug, Default, Serialize)]
pub struct Row {
    pub workload: String,
    /// `NeoForge`, `PostGraphile` for the peer's rows, or `floor` for the floor's.
    pub server: String,
    /// The page size of a W3 row.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_size: Option<usize>,
    pub concurrency: usize,
    /// `closed` or `rate <n>/s`.
    pub mode: String,
    pub requests: u64,
    pub rps: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub errors: u64,
    /// `None` for the peer, which has no statement counter.
    pub statements_per_request: Option<f64>,
    /// The measured process's utime + stime per request.
    pub cpu_us_per_request: f64,
    /// The same, in seconds per 1,000 requests (older readers of the JSON use this).
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
    /// W3's CPU cost per request against the page size, per server.
    pub w3_curve: Vec<Curve>,
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
        "CPU µs/req",
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
                format!("{:.0}", r.cpu_us_per_request),
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

/// One point of [`Curve`].
#[derive(Debug, Serialize)]
pub struct CurvePoint {
    pub page_size: usize,
    pub rps: f64,
    pub cpu_us_per_request: f64,
    pub cpu_us_per_row: f64,
}

/// W3's CPU per request against its page size at one concurrency, with the least-squares line
/// `fixed + per_row × rows` through the points: linear in rows means the points sit on it.
#[derive(Debug, Serialize)]
pub struct Curve {
    pub server: String,
    pub concurrency: usize,
    pub points: Vec<CurvePoint>,
    pub fixed_us: f64,
    pub per_row_us: f64,
    /// The largest |measured − line| ÷ measured over the points.
    pub max_deviation: f64,
}

/// The W3 page-size curve of every server that ran W3 at more than one page size at `c`.
pub fn w3_curve(rows: &[Row], c: usize) -> Vec<Curve> {
    // Each server once, in the order of its first row (the rows alternate between them).
    let mut servers: Vec<&str> = Vec::new();
    for r in rows {
        if !servers.contains(&r.server.as_str()) {
            servers.push(&r.server);
        }
    }
    let mut out = Vec::new();
    for server in servers {
        let mut points: Vec<CurvePoint> = rows
            .iter()
            .filter(|r| r.server == server && r.concurrency == c && r.mode == "closed")
            .filter_map(|r| {
                let n = r.page_size?;
                Some(CurvePoint {
                    page_size: n,
                    rps: r.rps,
                    cpu_us_per_request: r.cpu_us_per_request,
                    cpu_us_per_row: r.cpu_us_per_request / n as f64,
                })
            })
            .collect();
        if points.len() < 2 {
            continue;
        }
        points.sort_by_key(|p| p.page_size);
        let k = points.len() as f64;
        let mx = points.iter().map(|p| p.page_size as f64).sum::<f64>() / k;
        let my = points.iter().map(|p| p.cpu_us_per_request).sum::<f64>() / k;
        let (mut sxy, mut sxx) = (0.0, 0.0);
        for p in &points {
            let dx = p.page_size as f64 - mx;
            sxy += dx * (p.cpu_us_per_request - my);
            sxx += dx * dx;
        }
        let per_row = if sxx > 0.0 { sxy / sxx } else { 0.0 };
        let fixed = my - per_row * mx;
        let max_deviation = points
            .iter()
            .map(|p| {
                let line = fixed + per_row * p.page_size as f64;
                (p.cpu_us_per_request - line).abs() / p.cpu_us_per_request.max(1.0)
            })
            .fold(0.0, f64::max);
        out.push(Curve {
            server: server.to_owned(),
            concurrency: c,
            points,
            fixed_us: fixed,
            per_row_us: per_row,
            max_deviation,
        });
    }
    out
}

pub fn curve_text(curves: &[Curve]) -> String {
    let mut out = String::new();
    for c in curves {
        let points: Vec<String> = c
            .points
            .iter()
            .map(|p| {
                format!(
                    "first={}: {:.0} µs/req, {:.1} µs/row ({:.0} req/s)",
                    p.page_size, p.cpu_us_per_request, p.cpu_us_per_row, p.rps
                )
            })
            .collect();
        let _ = writeln!(
            out,
            "W3 cost curve, {} (c={}, CPU per request): {}; fit {:.0} µs + {:.1} µs/row, points within {:.0} % of it",
            c.server,
            c.concurrency,
            points.join("; "),
            c.fixed_us,
            c.per_row_us,
            c.max_deviation * 100.0
        );
    }
    out
}

fn find<'a>(rows: &'a [Row], workload: &str, c: usize) -> Option<&'a Row> {
    rows.iter()
        .find(|r| r.workload == workload && r.concurrency == c && r.mode == "closed")
}

/// Ours against the floor of this stack at each concurrency both ran: what any server on these
/// crates reaches on this machine, and how much of it ours keeps.
pub fn floor_notes(rows: &[Row], concurrencies: &[usize]) -> Vec<String> {
    let floor = format!("W1 GET {FLOOR}");
    let mut out = Vec::new();
    for &c in concurrencies {
        let (Some(ours), Some(bare)) = (find(rows, "W1 GET", c), find(rows, &floor, c)) else {
            continue;
        };
        let of_roofline = bare.of_roofline.map_or_else(
            || "no roofline".to_owned(),
            |x| format!("{x:.2} × roofline"),
        );
        out.push(format!(
            "floor at c={c}: {:.0} req/s ({of_roofline}), {:.0} µs CPU per request; W1 GET is {:.2} × the floor's req/s at {:.1} × its CPU",
            bare.rps,
            bare.cpu_us_per_request,
            ours.rps / bare.rps.max(1.0),
            ours.cpu_us_per_request / bare.cpu_us_per_request.max(1.0)
        ));
    }
    out
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
    ratio(
        "W1 over GraphQL ≥ 2 × PostGraphile projectById",
        "W1 GET gql",
        "W1 GET gql PostGraphile",
        2.0,
    );
    ratio(
        "W3 overview ≥ 2 × PostGraphile allProjects",
        "W3 overview",
        "W3 overview PostGraphile",
        2.0,
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
    for &c in concurrencies {
        if let Some(r) = find(rows, "W1 GET", c) {
            out.push(Check {
                target: format!("W1 GET server CPU ≤ 35 µs per request (c={c})"),
                pass: r.cpu_us_per_request <= 35.0,
                skipped: false,
                detail: format!(
                    "{:.0} µs (utime + stime over {} requests)",
                    r.cpu_us_per_request, r.requests
                ),
            });
        }
    }
    if !w3.is_empty() {
        let max = w3.iter().map(|x| x.1).fold(0.0, f64::max);
        let min = w3.iter().map(|x| x.1).fold(f64::MAX, f64::min);
        let list: Vec<String> = w3
            .iter()
            .map(|(p, s)| format!("first={p}: {s:.2}"))
            .collect();
        // Page, owners, open-ticket counts, post counts, latest posts.
        out.push(Check {
            target: "W3 SQL statements/request constant and ≤ 5".into(),
            pass: max <= 5.0 && max - min < 0.01,
            skipped: false,
            detail: list.join(", "),
        });
    }
    // VmHWM only grows, so the last row at ≥ 256 connections holds the peak of them all.
    if let Some(r) = rows
        .iter()
        .rev()
        .find(|r| r.concurrency >= 256 && r.server != PEER)
    {
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
    let requests: u64 = rows.iter().map(|r| r.requests).sum();
    let errors: u64 = rows.iter().map(|r| r.errors).sum();
    out.push(Check {
        target: "no error responses".into(),
        pass: errors == 0,
        skipped: false,
        detail: format!(
            "{errors} of {requests} checked responses wrong over {} runs",
            rows.len()
        ),
    });
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

#[cfg(test)]
mod tests {
    use super::*;

    fn row(workload: &str, concurrency: usize, rps: f64, cpu: f64, roofline: f64) -> Row {
        let mut row = Row {
            workload: workload.into(),
            concurrency,
            mode: "closed".into(),
            rps,
            cpu_us_per_request: cpu,
            ..Row::default()
        };
        row.set_ceilings(Some(roofline * 2.0), Some(roofline * 2.0));
        row
    }

    #[test]
    fn floor_notes_compare_ours_with_the_floor_at_each_concurrency_both_ran() {
        let rows = vec![
            row("W1 GET", 16, 7_000.0, 150.0, 15_000.0),
            row("W1 GET floor", 16, 14_000.0, 50.0, 15_000.0),
            row("W1 GET", 64, 6_000.0, 160.0, 15_000.0),
        ];
        let notes = floor_notes(&rows, &[16, 64]);
        assert_eq!(
            notes,
            [
                "floor at c=16: 14000 req/s (0.93 × roofline), 50 µs CPU per request; W1 GET is 0.50 × the floor's req/s at 3.0 × its CPU"
            ]
        );
    }
}
