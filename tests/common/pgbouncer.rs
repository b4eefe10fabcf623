//! PgBouncer in transaction pooling mode in front of the test PostgreSQL, and server processes
//! configured for it (docs/scaling.md).

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::TestDatabase;
use super::process::{ServerProcess, free_port};

/// Few server sessions for many clients, so that clients share sessions all the time: a
/// statement that relies on its session fails at once rather than now and then.
const SERVER_SESSIONS: u32 = 3;

pub struct PgBouncer {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl PgBouncer {
    /// PgBouncer in front of `db`'s PostgreSQL; `None`, with the reason printed, on SQLite or
    /// where PgBouncer is not installed. In CI (`CI` set) a missing PgBouncer fails the test:
    /// `.ci/run` installs it.
    pub async fn start(db: &TestDatabase) -> Option<Self> {
        if !db.is_postgres() {
            eprintln!("skipped: PgBouncer fronts PostgreSQL (set TEST_DATABASE_URL)");
            return None;
        }
        let Some(binary) = binary() else {
            assert!(
                std::env::var_os("CI").is_none(),
                "pgbouncer is not installed (CI installs Debian's `pgbouncer`)"
            );
            eprintln!("skipped: pgbouncer is not installed (apt-get install pgbouncer)");
            return None;
        };
        let (host, port) = host_and_port(&db.url);
        let dir = tempfile::tempdir().expect("temp dir");
        // PgBouncer refuses to run as root; as `postgres` it must still read its files.
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))
            .expect("chmod temp dir");
        let listen = free_port();
        let ini = dir.path().join("pgbouncer.ini");
        // `trust` still admits only the users listed.
        std::fs::write(
            dir.path().join("userlist.txt"),
            format!("\"{}\" \"\"\n", user(&db.url)),
        )
        .expect("userlist");
        std::fs::write(
            &ini,
            format!(
                "[databases]\n* = host={host} port={port}\n\n[pgbouncer]\n\
                 listen_addr = 127.0.0.1\nlisten_port = {listen}\nunix_socket_dir =\n\
                 auth_type = trust\nauth_file = {userlist}\npool_mode = transaction\n\
                 default_pool_size = {SERVER_SESSIONS}\nmax_client_conn = 1000\n",
                userlist = dir.path().join("userlist.txt").display(),
            ),
        )
        .expect("pgbouncer.ini");
        let log = std::fs::File::create(dir.path().join("pgbouncer.log")).expect("log file");
        let mut cmd = Command::new(binary);
        if running_as_root() {
            cmd.args(["-u", "postgres"]);
        }
        let child = cmd
            .arg(&ini)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn pgbouncer");
        let mut bouncer = Self {
            child,
            port: listen,
            dir,
        };
        bouncer.wait_listening().await;
        Some(bouncer)
    }

    /// `database_url` with its host and port replaced by PgBouncer's.
    pub fn url(&self, database_url: &str) -> String {
        let (start, end) = host_and_port_span(database_url);
        format!(
            "{}127.0.0.1:{}{}",
            &database_url[..start],
            self.port,
            &database_url[end..]
        )
    }

    /// A `neoforge serve` process whose pool goes through PgBouncer and whose `LISTEN`
    /// sessions and migration lock go to `db` directly.
    pub async fn server(&self, db: &TestDatabase) -> ServerProcess {
        ServerProcess::start_with(
            &self.url(&db.url),
            &[
                ("NEOFORGE_DATABASE_POOLER", "transaction"),
                ("NEOFORGE_DATABASE_SESSION_URL", &db.url),
            ],
        )
        .await
    }

    async fn wait_listening(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while tokio::net::TcpStream::connect(("127.0.0.1", self.port))
            .await
            .is_err()
        {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("pgbouncer exited ({status}): {}", self.log());
            }
            assert!(
                Instant::now() < deadline,
                "pgbouncer listens: {}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("pgbouncer.log")).unwrap_or_default()
    }
}

impl Drop for PgBouncer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Debian installs it in /usr/sbin, which a non-root PATH often lacks.
fn binary() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin".into(), "/usr/local/sbin".into()])
        .map(|dir| dir.join("pgbouncer"))
        .find(|candidate| candidate.is_file())
}

fn running_as_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// `host` and `port` of `postgres://[user[:password]@]host[:port]/database[?...]`.
fn host_and_port(url: &str) -> (String, u16) {
    let (start, end) = host_and_port_span(url);
    match url[start..end].rsplit_once(':') {
        Some((host, port)) => (host.to_owned(), port.parse().expect("port in the URL")),
        None => (url[start..end].to_owned(), 5432),
    }
}

/// The user of a PostgreSQL URL (`postgres` when it names none).
fn user(url: &str) -> String {
    let start = url.find("://").map_or(0, |i| i + 3);
    let (_, end) = host_and_port_span(url);
    url[start..end]
        .rsplit_once('@')
        .map(|(credentials, _)| credentials.split(':').next().unwrap_or_default())
        .filter(|user| !user.is_empty())
        .unwrap_or("postgres")
        .to_owned()
}

/// Where `host[:port]` lies in a PostgreSQL URL.
fn host_and_port_span(url: &str) -> (usize, usize) {
    let start = url.find("://").map_or(0, |i| i + 3);
    let end = url[start..].find('/').map_or(url.len(), |i| start + i);
    let start = url[start..end].rfind('@').map_or(start, |i| start + i + 1);
    (start, end)
}
