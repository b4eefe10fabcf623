//! Bulk rows for SQLite, in the storage formats the server uses there. They are learned from a
//! user row the server itself wrote (ids as 16-byte blobs or text, timestamps as text in one
//! RFC 3339 variant), so the bench follows the server rather than guessing.

use anyhow::{Context, Result, bail};

use crate::sql::Sql;

struct Formats {
    id: &'static str,
    /// SQL producing a timestamp `$S` seconds ago in the server's text format.
    time: String,
}

async fn formats(sql: &Sql) -> Result<Formats> {
    let row = sql
        .rows("SELECT typeof(id), created_at FROM users LIMIT 1")
        .await?
        .into_iter()
        .next()
        .context("no user row to learn formats from")?;
    let [kind, sample] = row.as_slice() else {
        bail!("unexpected sample row {row:?}");
    };
    let id = match kind.as_str() {
        "blob" => "randomblob(16)",
        "text" => {
            "lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-a' || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6)))"
        }
        other => bail!("user ids stored as {other}"),
    };
    let sep = if sample.as_bytes().get(10) == Some(&b'T') {
        "T"
    } else {
        " "
    };
    let suffix = if sample.ends_with('Z') {
        "Z"
    } else if sample.ends_with("+00:00") {
        "+00:00"
    } else {
        ""
    };
    Ok(Formats {
        id,
        time: format!(
            "strftime('%Y-%m-%d{sep}%H:%M:%f', 'now', '-' || ($S) || ' seconds') || '{suffix}'"
        ),
    })
}

pub async fn seed(sql: &Sql) -> Result<()> {
    let f = formats(sql).await?;
    let t = |secs: &str| f.time.replace("$S", secs);
    let id = f.id;
    let script = format!(
        r#"
BEGIN;
CREATE TEMP TABLE bench_users AS
  SELECT id, row_number() OVER (ORDER BY email) - 1 AS rn FROM users WHERE role = 'user';
WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 10000)
INSERT INTO projects (id, owner_id, name, description, visibility, created_at, updated_at, version)
SELECT {id}, u.id, 'Project ' || n, 'Seeded project number ' || n,
       CASE WHEN n % 2 = 0 THEN 'public' ELSE 'private' END, {pt}, {pt}, 1
FROM g JOIN bench_users u ON u.rn = n % 100;
CREATE TEMP TABLE bench_projects AS
  SELECT id, owner_id, row_number() OVER (ORDER BY id) - 1 AS rn FROM projects;
WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 50000)
INSERT INTO support_tickets (id, requester_id, project_id, subject, body, status, priority,
                             assignee_id, created_at, updated_at, version)
SELECT {id}, p.owner_id, p.id, 'Ticket ' || n, 'Seeded ticket body ' || n,
       CASE n % 4 WHEN 0 THEN 'open' WHEN 1 THEN 'in_progress' WHEN 2 THEN 'resolved' ELSE 'closed' END,
       CASE (n / 4) % 4 WHEN 0 THEN 'low' WHEN 1 THEN 'normal' WHEN 2 THEN 'high' ELSE 'urgent' END,
       NULL, {tt}, {tt}, 1
FROM g JOIN bench_projects p ON p.rn = (n * 7919) % 10000;
WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 20000)
INSERT INTO community_posts (id, author_id, project_id, title, body, tags, created_at, updated_at, version)
SELECT {id}, p.owner_id, CASE WHEN n % 10 = 0 THEN NULL ELSE p.id END,
       'Post ' || n, 'Seeded post body ' || n,
       '["tag' || (n % 20) || '","topic' || (n % 7) || '"]', {ct}, {ct}, 1
FROM g JOIN bench_projects p ON p.rn = (n * 104729) % 10000;
INSERT INTO community_post_tags (post_id, tag, created_at)
SELECT c.id, j.value, c.created_at FROM community_posts c, json_each(c.tags) j;
COMMIT;
ANALYZE;
"#,
        pt = t("200000 - n"),
        tt = t("100000 - n"),
        ct = t("50000 - n"),
    );
    sql.exec(&script).await.context("bulk-insert SQLite rows")
}
