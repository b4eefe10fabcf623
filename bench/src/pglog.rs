//! Captures the exact statements the server sends, from PostgreSQL's own statement log
//! (`log_statement = 'all'` switched on for the capture only).

use std::collections::HashMap;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use tokio_postgres::Client;

use crate::sql::pg_db;

#[derive(Clone, Debug)]
pub struct Statement {
    pub sql: String,
    pub params: Vec<Option<String>>,
}

/// Where the server log is: the collector's file if it runs, else the given default (the
/// Debian packages log stderr to /var/log/postgresql/postgresql-<major>-main.log).
pub async fn log_path(admin: &Client, default: &Path) -> Result<PathBuf> {
    let row = admin
        .query_one(
            "SELECT pg_current_logfile(), current_setting('data_directory')",
            &[],
        )
        .await
        .context("ask for the log file")?;
    let file: Option<String> = row.get(0);
    let data: String = row.get(1);
    Ok(match file {
        Some(f) if Path::new(&f).is_absolute() => PathBuf::from(f),
        Some(f) => Path::new(&data).join(f),
        None => default.to_path_buf(),
    })
}

pub struct Capture<'a> {
    admin: &'a Client,
    path: PathBuf,
    offset: u64,
}

impl<'a> Capture<'a> {
    pub async fn start(admin: &'a Client, path: PathBuf) -> Result<Capture<'a>> {
        let offset = std::fs::metadata(&path)
            .with_context(|| format!("stat PostgreSQL log {} (see --pg-log)", path.display()))?
            .len();
        // Separate commands: ALTER SYSTEM refuses the implicit transaction of a multi-statement
        // simple query.
        admin
            .batch_execute("ALTER SYSTEM SET log_statement = 'all'")
            .await
            .context("turn statement logging on")?;
        admin
            .batch_execute("SELECT pg_reload_conf()")
            .await
            .context("reload PostgreSQL configuration")?;
        // Backends apply a reload between commands; give the idle ones a moment.
        tokio::time::sleep(Duration::from_millis(300)).await;
        Ok(Capture {
            admin,
            path,
            offset,
        })
    }

    /// Turns logging off again and returns the statements per backend, in log order.
    pub async fn finish(self) -> Result<HashMap<u32, Vec<Statement>>> {
        let reset = stop_logging(self.admin).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        reset?;
        let mut file = std::fs::File::open(&self.path)
            .with_context(|| format!("open {}", self.path.display()))?;
        file.seek(SeekFrom::Start(self.offset))?;
        let mut text = String::new();
        file.read_to_string(&mut text)
            .context("read the PostgreSQL log")?;
        Ok(parse(&text))
    }
}

pub async fn stop_logging(admin: &Client) -> Result<()> {
    admin
        .batch_execute("ALTER SYSTEM RESET log_statement")
        .await
        .context("turn statement logging off")?;
    admin
        .batch_execute("SELECT pg_reload_conf()")
        .await
        .context("reload PostgreSQL configuration")
}

struct Entry<'a> {
    pid: u32,
    db: &'a str,
    message: String,
}

/// Lines look like `2026-11-26 04:30:01.123 UTC [12345] postgres@neoforge_bench LOG:  msg`;
/// newlines inside a message continue on lines starting with a tab.
fn entries(text: &str) -> Vec<Entry<'_>> {
    let mut out: Vec<Entry> = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix('\t') {
            if let Some(last) = out.last_mut() {
                last.message.push('\n');
                last.message.push_str(rest);
            }
            continue;
        }
        let Some(open) = line.find(" [") else {
            continue;
        };
        let Some(close) = line[open..].find("] ").map(|c| open + c) else {
            continue;
        };
        let Ok(pid) = line[open + 2..close].parse::<u32>() else {
            continue;
        };
        let rest = &line[close + 2..];
        let Some((who, message)) = rest.split_once(' ') else {
            continue;
        };
        let db = who.split_once('@').map(|(_, d)| d).unwrap_or("");
        out.push(Entry {
            pid,
            db,
            message: message.to_owned(),
        });
    }
    out
}

pub fn parse(text: &str) -> HashMap<u32, Vec<Statement>> {
    let mut by_pid: HashMap<u32, Vec<Statement>> = HashMap::new();
    for e in entries(text) {
        if e.db != pg_db() {
            continue;
        }
        if let Some(sql) = e.message.strip_prefix("LOG:  statement: ") {
            by_pid.entry(e.pid).or_default().push(Statement {
                sql: sql.to_owned(),
                params: Vec::new(),
            });
        } else if let Some(rest) = e.message.strip_prefix("LOG:  execute ") {
            if let Some((_, sql)) = rest.split_once(": ") {
                by_pid.entry(e.pid).or_default().push(Statement {
                    sql: sql.to_owned(),
                    params: Vec::new(),
                });
            }
        } else if let Some(params) = e
            .message
            .strip_prefix("DETAIL:  parameters: ")
            .or_else(|| e.message.strip_prefix("DETAIL:  Parameters: "))
            && let Some(last) = by_pid.get_mut(&e.pid).and_then(|v| v.last_mut())
        {
            last.params = parse_params(params);
        }
    }
    by_pid
}

/// `$1 = 'it''s', $2 = NULL` → `[Some("it's"), None]`.
pub fn parse_params(s: &str) -> Vec<Option<String>> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    loop {
        // Skip `$n = `.
        for c in chars.by_ref() {
            if c == '=' {
                break;
            }
        }
        while chars.peek() == Some(&' ') {
            chars.next();
        }
        match chars.peek() {
            None => break,
            Some('\'') => {
                chars.next();
                let mut value = String::new();
                while let Some(c) = chars.next() {
                    if c == '\'' {
                        if chars.peek() == Some(&'\'') {
                            chars.next();
                            value.push('\'');
                        } else {
                            break;
                        }
                    } else {
                        value.push(c);
                    }
                }
                out.push(Some(value));
            }
            Some(_) => {
                // NULL
                for c in chars.by_ref() {
                    if c == ',' {
                        break;
                    }
                }
                out.push(None);
                continue;
            }
        }
        // Skip `, `.
        for c in chars.by_ref() {
            if c == ',' {
                break;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_statements_and_parameters() {
        let log = "2026-11-26 04:30:01.123 UTC [12] postgres@neoforge_bench LOG:  execute sqlx_s_3: SELECT $1, $2\n\
2026-11-26 04:30:01.123 UTC [12] postgres@neoforge_bench DETAIL:  parameters: $1 = 'it''s, ok', $2 = NULL\n\
2026-11-26 04:30:01.124 UTC [12] postgres@neoforge_bench LOG:  statement: BEGIN\n\
2026-11-26 04:30:01.124 UTC [13] postgres@other LOG:  statement: SELECT 1\n";
        let parsed = parse(log);
        let s = &parsed[&12];
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].sql, "SELECT $1, $2");
        assert_eq!(s[0].params, vec![Some("it's, ok".to_owned()), None]);
        assert_eq!(s[1].sql, "BEGIN");
        assert!(!parsed.contains_key(&13));
    }
}
