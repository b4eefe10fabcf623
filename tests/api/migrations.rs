use neoforge::db::{Db, Migration};
use sea_orm::ConnectionTrait;

use crate::common::spawn_app;

const TABLES: [&str; 11] = [
    "users",
    "sessions",
    "refresh_tokens",
    "audit_events",
    "projects",
    "support_tickets",
    "community_posts",
    "community_post_tags",
    "status_events",
    "service_statuses",
    "idempotency_keys",
];

async fn table_exists(db: &Db, table: &str) -> bool {
    db.conn()
        .execute_unprepared(&format!("SELECT 1 FROM {table} WHERE 1 = 0"))
        .await
        .is_ok()
}

#[tokio::test]
async fn up_down_up_round_trips() {
    let app = spawn_app().await;
    let db = Db::connect(&app.settings).await.unwrap();
    for t in TABLES {
        assert!(table_exists(&db, t).await, "{t} exists after up");
    }
    let all = u32::try_from(<migration::Migrator as migration::MigratorTrait>::migrations().len())
        .unwrap();
    db.migrate(&app.settings, Migration::Down(all))
        .await
        .unwrap();
    for t in TABLES {
        assert!(!table_exists(&db, t).await, "{t} is gone after down");
    }
    assert!(!db.pending_migrations().await.unwrap().is_empty());
    db.migrate_up(&app.settings).await.unwrap();
    for t in TABLES {
        assert!(table_exists(&db, t).await, "{t} exists after up again");
    }
    assert!(db.pending_migrations().await.unwrap().is_empty());
    db.close().await;
}

#[tokio::test]
async fn check_constraints_reject_unknown_enum_values() {
    let app = spawn_app().await;
    let db = Db::connect(&app.settings).await.unwrap();
    let now = "'2026-01-01T00:00:00Z'";
    let insert = |id: u8, role: &str| {
        format!(
            "INSERT INTO users (id, email, display_name, password_hash, role, totp_enabled, created_at, updated_at, version) \
             VALUES ('0190a0c0-0000-7000-8000-00000000000{id}', 'x{id}@example.com', 'X', 'h', '{role}', false, {now}, {now}, 1)"
        )
    };
    db.conn()
        .execute_unprepared(&insert(1, "staff"))
        .await
        .expect("a valid row inserts");
    assert!(
        db.conn()
            .execute_unprepared(&insert(2, "superuser"))
            .await
            .is_err(),
        "role CHECK"
    );
    db.close().await;
}
