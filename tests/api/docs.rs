//! docs/api.md's shell examples form one session; run it against a real server so the
//! documentation cannot drift from the API.

use std::process::Command;

use crate::common::spawn_app;

#[tokio::test]
async fn api_md_examples_run_as_documented() {
    if Command::new("curl").arg("--version").output().is_err()
        || Command::new("jq").arg("--version").output().is_err()
    {
        eprintln!("skipping: the examples need curl and jq");
        return;
    }
    let app = spawn_app().await;
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/api.md")).unwrap();
    let mut script = String::from("set -euo pipefail\n");
    let mut in_sh = false;
    for line in doc.lines() {
        match line.trim_end() {
            "```sh" => in_sh = true,
            "```" if in_sh => in_sh = false,
            l if in_sh && l.starts_with("BASE=") => {
                script.push_str(&format!("BASE={}\n", app.url("/api/v1")))
            }
            l if in_sh => {
                script.push_str(l);
                script.push('\n');
            }
            _ => {}
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let out = tokio::task::spawn_blocking(move || {
        Command::new("bash")
            .arg("-c")
            .arg(&script)
            .current_dir(dir.path())
            .output()
    })
    .await
    .unwrap()
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_lowercase();
    assert!(
        out.status.success(),
        "the examples ran: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("\"email\":\"ada@example.com\""),
        "auth/me: {stdout}"
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines.contains(&"1"), "one project found: {stdout}");
    assert!(lines.contains(&"2"), "PATCH made version 2: {stdout}");
    assert!(lines.contains(&"304"), "revalidation: {stdout}");
    assert!(
        lines.contains(&"[412,2]"),
        "a stale write says what won: {stdout}"
    );
    assert!(
        stdout.contains("idempotent-replayed: true"),
        "replay: {stdout}"
    );
    assert!(lines.contains(&"204"), "delete: {stdout}");
}
