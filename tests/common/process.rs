//! Real `neoforge serve` processes on one database: multi-replica and crash tests.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The server binary: the one cargo built for these tests, unless `NEOFORGE_TEST_BIN` names
/// another (a target directory shared by several checkouts holds only the last one linked).
pub fn neoforge() -> Command {
    let bin = std::env::var_os("NEOFORGE_TEST_BIN")
        .unwrap_or_else(|| env!("CARGO_BIN_EXE_neoforge").into());
    let mut cmd = Command::new(bin);
    // Hermetic: nothing from the developer's shell leaks into these runs.
    for var in [
        "DATABASE_URL",
        "NEOFORGE_BIND",
        "NEOFORGE_ENV",
        "NEOFORGE_JWT_SECRET",
        "RUST_LOG",
    ] {
        cmd.env_remove(var);
    }
    // Process tests send bursts far beyond any real client (see `spawn_app_on`).
    for tier in ["ANONYMOUS", "API", "AUTH"] {
        cmd.env(format!("NEOFORGE_RATE_LIMIT_{tier}"), "off");
    }
    cmd
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

pub struct ServerProcess {
    pub child: Child,
    pub port: u16,
}

impl ServerProcess {
    /// Starts `neoforge serve` on `database_url` and waits until it is ready.
    pub async fn start(database_url: &str) -> Self {
        Self::start_with(database_url, &[]).await
    }

    /// The same, with more settings (which override the defaults above).
    pub async fn start_with(database_url: &str, env: &[(&str, &str)]) -> Self {
        let port = free_port();
        let child = neoforge()
            .arg("serve")
            .envs(env.iter().copied())
            .env("DATABASE_URL", database_url)
            .env("NEOFORGE_BIND", format!("127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn neoforge");
        let server = Self { child, port };
        assert!(wait_ready(port).await, "server on {port} became ready");
        server
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{}", self.port, path)
    }

    /// SIGKILL: no draining, no cleanup.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

pub async fn wait_ready(port: u16) -> bool {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        let res = reqwest::get(format!("http://127.0.0.1:{port}/health/ready")).await;
        if res.is_ok_and(|r| r.status() == 200) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}
