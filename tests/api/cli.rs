//! The `neoforge` binary itself: schema drift, help, configuration errors, users, serve/stop.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::common::process::{free_port, neoforge, wait_ready};
use crate::common::{TestDatabase, spawn_app_on};

#[test]
fn schema_graphql_is_up_to_date() {
    let out = neoforge().arg("schema").output().unwrap();
    assert!(out.status.success());
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql");
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == String::from_utf8_lossy(&out.stdout),
        "schema.graphql is stale: run `cargo run -- schema > schema.graphql`"
    );
}

#[test]
fn help_lists_every_setting_with_its_variable() {
    let out = neoforge().arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for var in [
        "DATABASE_URL",
        "NEOFORGE_BIND",
        "NEOFORGE_ENV",
        "NEOFORGE_JWT_SECRET",
        "NEOFORGE_DB_MAX_CONNECTIONS",
        "NEOFORGE_DB_CONNECT_TIMEOUT",
        "NEOFORGE_DB_STATEMENT_TIMEOUT",
        "NEOFORGE_CORS_ORIGINS",
        "NEOFORGE_HEADER_TIMEOUT",
        "NEOFORGE_KEEPALIVE_TIMEOUT",
        "NEOFORGE_BODY_MIN_RATE",
        "NEOFORGE_MAX_CONNECTIONS",
        "NEOFORGE_MAX_CONNECTIONS_PER_IP",
        "NEOFORGE_HTTP2_MAX_STREAMS",
    ] {
        assert!(help.contains(var), "--help mentions {var}");
    }
}

#[test]
fn invalid_settings_fail_at_start_naming_the_variable() {
    let out = neoforge()
        .env("NEOFORGE_BIND", "not-an-address")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("NEOFORGE_BIND"));

    let out = neoforge()
        .env("NEOFORGE_ENV", "production")
        .env("DATABASE_URL", "sqlite::memory:")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("NEOFORGE_JWT_SECRET"));
}

#[tokio::test]
async fn users_create_bootstraps_an_admin_from_stdin() {
    let db = TestDatabase::create().await;
    let mut child = neoforge()
        .args([
            "users",
            "create",
            "--email",
            "Root@Example.com",
            "--role",
            "admin",
        ])
        .env("DATABASE_URL", &db.url)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"an admin password\nignored second line\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let app = spawn_app_on(db, |_| {}).await;
    let token = app.login("root@example.com", "an admin password").await;
    let body = app
        .gql("{ viewer { role } }", serde_json::json!({}), Some(&token))
        .await;
    assert_eq!(body["data"]["viewer"]["role"], "ADMIN");
}

/// Two replicas started at the same moment against a fresh database both come up (one
/// migrates, the other waits for it), and both stop cleanly on SIGTERM with exit code 0.
#[tokio::test]
async fn two_servers_start_together_and_stop_on_sigterm() {
    let db = TestDatabase::create().await;
    let ports = [free_port(), free_port()];
    let mut children: Vec<_> = ports
        .iter()
        .map(|port| {
            neoforge()
                .arg("serve")
                .env("DATABASE_URL", &db.url)
                .env("NEOFORGE_BIND", format!("127.0.0.1:{port}"))
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for port in ports {
        assert!(wait_ready(port).await, "server on {port} became ready");
    }
    for child in &mut children {
        let status = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "exit 0 after SIGTERM: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
