//! The floor of this stack for W1: `neoforge-floor` (src/floor_server.rs), a hand-written
//! hyper + tokio-postgres server answering `GET /api/v1/projects/{id}` with the same body and
//! headers as ours, on the database the run seeded. What it reaches is what any server on
//! these crates and this machine could reach; the gap to ours is what our framework costs.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, Result};
use tokio::process::Command;

use crate::http::Req;
use crate::server::{Server, free_port};

/// Next to the bench's own binary (`cargo build --release -p neoforge-bench --bins`).
pub fn binary() -> Option<PathBuf> {
    let bin = std::env::current_exe()
        .ok()?
        .with_file_name("neoforge-floor");
    bin.exists().then_some(bin)
}

/// Starts it on a free loopback port; returns once it answers `id` with 200.
pub async fn start(bin: &Path, url: &str, pool: u32, id: &str, log: &Path) -> Result<Server> {
    let addr = free_port()?;
    let file = std::fs::File::create(log).with_context(|| format!("create {}", log.display()))?;
    let child = Command::new(bin)
        .args([url, &addr.to_string(), &pool.to_string()])
        .stdin(Stdio::null())
        .stdout(file.try_clone()?)
        .stderr(file)
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("spawn {}", bin.display()))?;
    let mut server = Server::other(child, addr)?;
    let probe = Req::get(format!("/api/v1/projects/{id}"));
    server
        .answering(&probe, Duration::from_secs(20), "neoforge-floor", log)
        .await?;
    Ok(server)
}
