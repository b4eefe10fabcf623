//! Runs every migration up, down and up again, then checks the constraints,
//! on SQLite always and on PostgreSQL when `TEST_DATABASE_URL` is set (a
//! server URL; a scratch database is created on it and dropped afterwards).

use std::time::{SystemTime, UNIX_EPOCH};

use migration::sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement};
use migration::{Migrator, MigratorTrait, SchemaManager};

const TABLES: &[&str] = &[
    "users",
    "sessions",
    "refresh_tokens",
    "audit_events",
    "projects",
    "support_tickets",
    "community_posts",
    "community_post_tags",
    "status_events",
    "idempotency_keys",
];

const USER_A: &str = "0190a000-0000-7000-8000-000000000001";
const USER_B: &str = "0190a000-0000-7000-8000-000000000002";
const PROJECT: &str = "0190a000-0000-7000-8000-000000000010";
const TICKET: &str = "0190a000-0000-7000-8000-000000000020";
const POST: &str = "0190a000-0000-7000-8000-000000000030";
const STATUS: &str = "0190a000-0000-7000-8000-000000000040";
const TS: &str = "2026-01-01T00:00:00Z";

fn unique_suffix() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock before epoch")
        .as_nanos();
    format!("{}_{}", std::process::id(), nanos)
}

async fn exec(db: &DatabaseConnection, sql: &str) -> Result<(), String> {
    db.execute_unprepared(sql)
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}

async fn must(db: &DatabaseConnection, sql: &str) {
    if let Err(e) = exec(db, sql).await {
        panic!("statement should succeed: {sql}\n{e}");
    }
}

async fn must_fail(db: &DatabaseConnection, sql: &str) {
    assert!(
        exec(db, sql).await.is_err(),
        "statement should have been rejected: {sql}"
    );
}

async fn scalar_i64(db: &DatabaseConnection, sql: &str) -> i64 {
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .expect("query")
        .expect("one row");
    row.try_get_by_index::<i64>(0).expect("integer column")
}

async fn assert_tables(db: &DatabaseConnection, present: bool) {
    let manager = SchemaManager::new(db);
    for table in TABLES {
        assert_eq!(
            manager.has_table(*table).await.expect("has_table"),
            present,
            "table {table} presence"
        );
    }
}

async fn index_names(db: &DatabaseConnection) -> Vec<String> {
    let sql = match db.get_database_backend() {
        DbBackend::Postgres => {
            "SELECT indexname AS name FROM pg_indexes WHERE schemaname = current_schema() \
             ORDER BY 1"
        }
        _ => "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY 1",
    };
    db.query_all_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .expect("list indexes")
        .iter()
        .map(|row| row.try_get::<String>("", "name").expect("name"))
        .collect()
}

async fn run_all(db: &DatabaseConnection) {
    Migrator::up(db, None).await.expect("first up");
    assert_tables(db, true).await;
    let first_indexes = index_names(db).await;
    assert!(first_indexes.contains(&"users_email_lower_key".to_owned()));
    assert!(first_indexes.contains(&"projects_created_at_id_idx".to_owned()));
    assert!(first_indexes.contains(&"community_post_tags_tag_created_at_post_id_idx".to_owned()));

    Migrator::down(db, None).await.expect("down all");
    assert_tables(db, false).await;
    assert!(
        index_names(db)
            .await
            .iter()
            .all(|name| name.starts_with("seaql_migrations")),
        "down must remove every index it created"
    );

    Migrator::up(db, None).await.expect("second up");
    assert_tables(db, true).await;
    assert_eq!(index_names(db).await, first_indexes);
    assert!(
        Migrator::get_pending_migrations(db)
            .await
            .unwrap()
            .is_empty()
    );

    check_constraints(db).await;

    Migrator::down(db, None).await.expect("final down");
    assert_tables(db, false).await;
}

async fn check_constraints(db: &DatabaseConnection) {
    // Defaults: role, totp_enabled, version.
    must(
        db,
        &format!(
            "INSERT INTO users (id, email, display_name, password_hash, created_at, updated_at) \
             VALUES ('{USER_A}', 'alice@example.com', 'Alice', 'x', '{TS}', '{TS}')"
        ),
    )
    .await;
    assert_eq!(
        scalar_i64(
            db,
            "SELECT COUNT(*) FROM users WHERE role = 'user' AND totp_enabled = FALSE \
             AND version = 1",
        )
        .await,
        1
    );
    // Case-insensitive unique email.
    must_fail(
        db,
        &format!(
            "INSERT INTO users (id, email, display_name, password_hash, created_at, updated_at) \
             VALUES ('{USER_B}', 'ALICE@Example.com', 'Alice 2', 'x', '{TS}', '{TS}')"
        ),
    )
    .await;
    // Role CHECK.
    must_fail(
        db,
        &format!(
            "INSERT INTO users (id, email, display_name, password_hash, role, created_at, \
             updated_at) VALUES ('{USER_B}', 'bob@example.com', 'Bob', 'x', 'root', '{TS}', '{TS}')"
        ),
    )
    .await;
    must(
        db,
        &format!(
            "INSERT INTO users (id, email, display_name, password_hash, role, created_at, \
             updated_at) VALUES ('{USER_B}', 'bob@example.com', 'Bob', 'x', 'staff', '{TS}', '{TS}')"
        ),
    )
    .await;

    // Projects: visibility CHECK and defaults.
    must_fail(
        db,
        &format!(
            "INSERT INTO projects (id, owner_id, name, visibility, created_at, updated_at) \
             VALUES ('{PROJECT}', '{USER_A}', 'P', 'secret', '{TS}', '{TS}')"
        ),
    )
    .await;
    must(
        db,
        &format!(
            "INSERT INTO projects (id, owner_id, name, created_at, updated_at) \
             VALUES ('{PROJECT}', '{USER_A}', 'P', '{TS}', '{TS}')"
        ),
    )
    .await;
    assert_eq!(
        scalar_i64(
            db,
            "SELECT COUNT(*) FROM projects WHERE visibility = 'private' AND description = '' \
             AND version = 1",
        )
        .await,
        1
    );

    // Tickets: status and priority CHECKs.
    let ticket = |status: &str, priority: &str| {
        format!(
            "INSERT INTO support_tickets (id, requester_id, project_id, subject, body, status, \
             priority, assignee_id, created_at, updated_at) VALUES ('{TICKET}', '{USER_A}', \
             '{PROJECT}', 'S', 'B', '{status}', '{priority}', '{USER_B}', '{TS}', '{TS}')"
        )
    };
    must_fail(db, &ticket("reopened", "low")).await;
    must_fail(db, &ticket("open", "critical")).await;
    must(db, &ticket("in_progress", "urgent")).await;

    // Posts and tags.
    must(
        db,
        &format!(
            "INSERT INTO community_posts (id, author_id, project_id, title, body, created_at, \
             updated_at) VALUES ('{POST}', '{USER_B}', '{PROJECT}', 'T', 'B', '{TS}', '{TS}')"
        ),
    )
    .await;
    must(
        db,
        &format!(
            "INSERT INTO community_post_tags (post_id, tag, created_at) \
             VALUES ('{POST}', 'rust', '{TS}')"
        ),
    )
    .await;
    must_fail(
        db,
        &format!(
            "INSERT INTO community_post_tags (post_id, tag, created_at) \
             VALUES ('{POST}', 'rust', '{TS}')"
        ),
    )
    .await;
    assert_eq!(
        scalar_i64(db, "SELECT COUNT(*) FROM community_posts WHERE tags = '[]'").await,
        1
    );

    // Status events.
    must_fail(
        db,
        &format!(
            "INSERT INTO status_events (id, service, status, created_by, created_at) \
             VALUES ('{STATUS}', 'api', 'down', '{USER_B}', '{TS}')"
        ),
    )
    .await;
    must(
        db,
        &format!(
            "INSERT INTO status_events (id, service, status, created_by, created_at) \
             VALUES ('{STATUS}', 'api', 'partial_outage', '{USER_B}', '{TS}')"
        ),
    )
    .await;

    // Idempotency keys: state CHECK and (scope, key) primary key.
    let idem = |state: &str| {
        format!(
            "INSERT INTO idempotency_keys (scope, key, fingerprint, state, created_at, \
             expires_at) VALUES ('u:{USER_A}:createProject', 'k1', 'f', '{state}', '{TS}', '{TS}')"
        )
    };
    must_fail(db, &idem("done")).await;
    must(db, &idem("in_progress")).await;
    must_fail(db, &idem("completed")).await;

    // Foreign keys: deleting the project nulls references; deleting a user
    // cascades to what they own and nulls what they are merely linked to.
    must(db, &format!("DELETE FROM projects WHERE id = '{PROJECT}'")).await;
    assert_eq!(
        scalar_i64(
            db,
            "SELECT COUNT(*) FROM support_tickets WHERE project_id IS NULL",
        )
        .await,
        1
    );
    must(db, &format!("DELETE FROM users WHERE id = '{USER_B}'")).await;
    assert_eq!(
        scalar_i64(db, "SELECT COUNT(*) FROM community_posts").await,
        0
    );
    assert_eq!(
        scalar_i64(db, "SELECT COUNT(*) FROM community_post_tags").await,
        0
    );
    assert_eq!(
        scalar_i64(
            db,
            "SELECT COUNT(*) FROM support_tickets WHERE assignee_id IS NULL",
        )
        .await,
        1
    );
    assert_eq!(
        scalar_i64(
            db,
            "SELECT COUNT(*) FROM status_events WHERE created_by IS NULL",
        )
        .await,
        1
    );
    must(db, &format!("DELETE FROM users WHERE id = '{USER_A}'")).await;
    assert_eq!(
        scalar_i64(db, "SELECT COUNT(*) FROM support_tickets").await,
        0
    );
}

#[tokio::test]
async fn migrations_sqlite() {
    let path = std::env::temp_dir().join(format!("neoforge_migration_{}.db", unique_suffix()));
    let url = format!("sqlite://{}?mode=rwc", path.display());
    let db = Database::connect(&url).await.expect("connect sqlite");
    run_all(&db).await;
    db.close().await.expect("close sqlite");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

/// Replaces the database name in a PostgreSQL URL, keeping any query string.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let base = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{base}/{name}?{query}"),
        None => format!("{base}/{name}"),
    }
}

#[tokio::test]
async fn migrations_postgres() {
    let Ok(server_url) = std::env::var("TEST_DATABASE_URL") else {
        eprintln!("TEST_DATABASE_URL not set; skipping the PostgreSQL migration test");
        return;
    };
    let admin = Database::connect(&server_url)
        .await
        .expect("connect TEST_DATABASE_URL");
    let name = format!("neoforge_migration_{}", unique_suffix());
    must(&admin, &format!("CREATE DATABASE \"{name}\"")).await;

    let db = Database::connect(&with_database(&server_url, &name))
        .await
        .expect("connect scratch database");
    run_all(&db).await;
    db.close().await.expect("close scratch database");

    must(&admin, &format!("DROP DATABASE \"{name}\" WITH (FORCE)")).await;
    admin.close().await.expect("close admin");
}

#[test]
fn database_url_rewrite() {
    assert_eq!(
        with_database("postgres://postgres@127.0.0.1:5432/postgres", "x"),
        "postgres://postgres@127.0.0.1:5432/x"
    );
    assert_eq!(
        with_database("postgres://u:p@h/db?sslmode=disable", "x"),
        "postgres://u:p@h/x?sslmode=disable"
    );
    assert_eq!(
        with_database("postgres://h:5432", "x"),
        "postgres://h:5432/x"
    );
}
