//! The server under test: spawned from the release binary, observed through `/proc` and
//! `/metrics`, stopped with SIGTERM.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use tokio::process::{Child, Command};

use crate::http::{Conn, Req};

pub struct Server {
    child: Child,
    pub pid: u32,
    pub addr: SocketAddr,
    /// Whether it serves `/metrics` with `db_statements_total` (the NeoForge server does, the
    /// PostGraphile peer does not).
    metrics: bool,
}

pub struct Launch<'a> {
    pub bin: &'a Path,
    pub database_url: &'a str,
    pub pool: u32,
    /// Every rate-limit tier's quota (`off`, or e.g. `1000000/s` to run the layers without
    /// ever refusing).
    pub rate_limit: &'a str,
    /// The server's `RUST_LOG`; `None` leaves it unset, so the server logs at its shipped
    /// default, as a user starts it.
    pub log: Option<&'a str>,
}

impl Launch<'_> {
    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(self.bin);
        cmd.args(args)
            .env("DATABASE_URL", self.database_url)
            .env("NEOFORGE_RATE_LIMIT_ANONYMOUS", self.rate_limit)
            .env("NEOFORGE_RATE_LIMIT_API", self.rate_limit)
            .env("NEOFORGE_RATE_LIMIT_AUTH", self.rate_limit)
            // Every load connection comes from loopback, and the memory run opens 256 of them.
            .env("NEOFORGE_MAX_CONNECTIONS_PER_IP", "0")
            .env("NEOFORGE_DB_MAX_CONNECTIONS", self.pool.to_string())
            // Tokens from seeding must outlive the whole run, which restarts the server.
            .env("NEOFORGE_ACCESS_TOKEN_TTL", "7200")
            .kill_on_drop(true);
        match self.log {
            Some(filter) => cmd.env("RUST_LOG", filter),
            None => cmd.env_remove("RUST_LOG"),
        };
        cmd
    }

    /// Runs a one-off CLI command (e.g. `users create`) against the same database.
    pub async fn cli(&self, args: &[&str]) -> Result<String> {
        let out = self
            .command(args)
            .stdin(Stdio::null())
            .output()
            .await
            .with_context(|| format!("run {} {}", self.bin.display(), args.join(" ")))?;
        if !out.status.success() {
            bail!(
                "{} {} failed: {}",
                self.bin.display(),
                args.join(" "),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Starts `serve` on a free loopback port; returns once `/health/ready` answers 200, with
    /// the time that took from spawn.
    pub async fn start(&self) -> Result<(Server, Duration)> {
        let mut last = None;
        for _ in 0..5 {
            match self.try_start().await {
                Ok(started) => return Ok(started),
                Err(e) => {
                    eprintln!("server start failed, retrying on another port: {e:#}");
                    last = Some(e);
                }
            }
        }
        Err(last.unwrap_or_else(|| anyhow::anyhow!("server did not start")))
    }

    async fn try_start(&self) -> Result<(Server, Duration)> {
        let addr = free_port()?;
        let started = Instant::now();
        let child = self
            .command(&["serve"])
            .env("NEOFORGE_BIND", addr.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("spawn {}", self.bin.display()))?;
        let pid = child.id().context("server exited at once")?;
        let mut server = Server {
            child,
            pid,
            addr,
            metrics: true,
        };
        let mut conn = Conn::new(addr);
        loop {
            if let Ok(resp) = conn.send(&Req::get("/health/ready")).await
                && resp.status == 200
            {
                let ready = started.elapsed();
                // Another process may have taken the port between our probe and the server's
                // bind; then the answer came from it, and our server has exited.
                if let Some(status) = server.child.try_wait()? {
                    bail!("server exited ({status}) while something else answered on {addr}");
                }
                return Ok((server, ready));
            }
            if let Some(status) = server.child.try_wait()? {
                bail!("server exited before it was ready: {status}");
            }
            if started.elapsed() > Duration::from_secs(60) {
                bail!("server not ready after 60 s");
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
}

impl Server {
    /// Another HTTP process the bench started (the PostGraphile peer), observed through `/proc`
    /// like the server and stopped the same way; it has no statement counter.
    pub fn other(child: Child, addr: SocketAddr) -> Result<Self> {
        let pid = child.id().context("process exited at once")?;
        Ok(Self {
            child,
            pid,
            addr,
            metrics: false,
        })
    }

    /// Waits until `probe` answers 200 (a process the bench spawned: the peer, the floor),
    /// failing with its `log` if it exits first, or after `within`.
    pub async fn answering(
        &mut self,
        probe: &Req,
        within: Duration,
        what: &str,
        log: &Path,
    ) -> Result<()> {
        let started = Instant::now();
        let mut conn = Conn::new(self.addr);
        loop {
            if let Ok(resp) = conn.send(probe).await
                && resp.status == 200
            {
                return Ok(());
            }
            if let Some(status) = self.exited()? {
                bail!(
                    "{what} exited before it was ready ({status}): {}",
                    std::fs::read_to_string(log).unwrap_or_default()
                );
            }
            if started.elapsed() > within {
                bail!(
                    "{what} not ready after {} s (log: {})",
                    within.as_secs(),
                    log.display()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Whether [`Server::statements`] works.
    pub fn counts_statements(&self) -> bool {
        self.metrics
    }

    /// `Some` once the process has exited.
    pub fn exited(&mut self) -> Result<Option<std::process::ExitStatus>> {
        Ok(self.child.try_wait()?)
    }

    pub async fn stop(mut self) -> Result<()> {
        // SIGTERM lets the server drain; the kill is the fallback for a hung shutdown.
        // SAFETY: kill(2) on our own child's pid has no memory-safety preconditions.
        unsafe {
            libc::kill(self.pid as libc::pid_t, libc::SIGTERM);
        }
        if tokio::time::timeout(Duration::from_secs(10), self.child.wait())
            .await
            .is_err()
        {
            self.child.kill().await.context("kill server")?;
        }
        Ok(())
    }

    pub fn stats(&self) -> Result<ProcStats> {
        ProcStats::read(self.pid)
    }

    /// The server's own count of SQL statements executed (`db_statements_total`).
    pub async fn statements(&self, conn: &mut Conn) -> Result<u64> {
        let resp = conn.send(&Req::get("/metrics")).await?;
        let text = String::from_utf8_lossy(&resp.body);
        text.lines()
            .filter(|l| l.starts_with("db_statements_total"))
            .filter_map(|l| l.split_whitespace().last())
            .filter_map(|v| v.parse::<f64>().ok())
            .map(|v| v as u64)
            .next()
            .context("/metrics has no db_statements_total (rebuild the server)")
    }
}

/// A free port below Linux's ephemeral range (32768–60999): other processes binding port 0 (test
/// suites running next to the bench) then cannot take it between this probe and the server's
/// own bind.
pub fn free_port() -> Result<SocketAddr> {
    use rand::Rng;
    let mut rng = rand::rng();
    for _ in 0..100 {
        let port = rng.random_range(20_000..32_000);
        if let Ok(listener) = TcpListener::bind(("127.0.0.1", port)) {
            return Ok(listener.local_addr()?);
        }
    }
    let listener = TcpListener::bind("127.0.0.1:0").context("bind a free port")?;
    Ok(listener.local_addr()?)
}

#[derive(Clone, Copy, Debug, Default)]
pub struct ProcStats {
    /// utime + stime, in clock ticks.
    pub cpu_ticks: u64,
    pub rss_kib: u64,
    pub peak_rss_kib: u64,
}

impl ProcStats {
    pub fn read(pid: u32) -> Result<Self> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .with_context(|| format!("read /proc/{pid}/stat"))?;
        // The command name may contain spaces; fields are counted after its closing paren.
        let rest = stat.rsplit_once(')').context("malformed stat")?.1;
        let fields: Vec<&str> = rest.split_whitespace().collect();
        if fields.first() == Some(&"Z") {
            bail!("the server (pid {pid}) has exited");
        }
        // utime and stime are fields 14 and 15 of stat(5); `rest` starts at field 3.
        let utime: u64 = fields.get(11).context("no utime")?.parse()?;
        let stime: u64 = fields.get(12).context("no stime")?.parse()?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
            .with_context(|| format!("read /proc/{pid}/status"))?;
        let kib = |key: &str| -> u64 {
            status
                .lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        };
        Ok(Self {
            cpu_ticks: utime + stime,
            rss_kib: kib("VmRSS:"),
            peak_rss_kib: kib("VmHWM:"),
        })
    }
}

pub fn clock_ticks_per_second() -> f64 {
    // SAFETY: sysconf has no preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if ticks > 0 { ticks as f64 } else { 100.0 }
}

pub fn release_binary(root: &Path) -> PathBuf {
    root.join("target/release/neoforge")
}
