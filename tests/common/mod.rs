//! Test harness: the real application on port 0, over real HTTP, with a database of its own.
//! SQLite (a temporary file) by default; with `TEST_DATABASE_URL=postgres://...`, a fresh
//! PostgreSQL database per test, dropped afterwards.
#![allow(dead_code)]

pub mod fault;
pub mod pgbouncer;
pub mod process;
pub mod smtp;

use std::net::SocketAddr;

use neoforge::Application;
use neoforge::config::Settings;
use neoforge::security::RateQuota;
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};
use tokio::sync::oneshot;

pub struct TestDatabase {
    pub url: String,
    /// PostgreSQL: (server URL, database name) to drop on drop. SQLite: the temp dir.
    pg: Option<(String, String)>,
    _dir: Option<tempfile::TempDir>,
}

impl TestDatabase {
    pub async fn create() -> Self {
        match std::env::var("TEST_DATABASE_URL")
            .ok()
            .filter(|u| !u.is_empty())
        {
            Some(server) => {
                let name = format!("nf_test_{}", uuid::Uuid::new_v4().simple());
                let admin = Database::connect(&server)
                    .await
                    .expect("connect to TEST_DATABASE_URL");
                admin
                    .execute_unprepared(&format!("CREATE DATABASE {name}"))
                    .await
                    .expect("create test database");
                admin.close().await.ok();
                Self {
                    url: with_database(&server, &name),
                    pg: Some((server, name)),
                    _dir: None,
                }
            }
            None => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display());
                Self {
                    url,
                    pg: None,
                    _dir: Some(dir),
                }
            }
        }
    }

    pub fn is_postgres(&self) -> bool {
        self.pg.is_some()
    }

    /// Another handle on the database at `url`, which it neither created nor drops (a second
    /// server process on the same database).
    pub fn shared(url: &str) -> Self {
        Self {
            url: url.to_owned(),
            pg: None,
            _dir: None,
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some((server, name)) = self.pg.take() else {
            return;
        };
        // Drop runs outside any runtime we may block: use a thread with its own runtime.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async {
                let admin = Database::connect(&server).await.ok()?;
                admin
                    .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .await
                    .ok()?;
                admin.close().await.ok()
            })
        })
        .join();
    }
}

/// Replaces the database name in a PostgreSQL URL.
pub fn with_database(server: &str, name: &str) -> String {
    let (base, query) = server
        .split_once('?')
        .map_or((server, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    let mut url = format!("{}/{}", &base[..host_end], name);
    if let Some(q) = query {
        url.push('?');
        url.push_str(q);
    }
    url
}

pub struct TestApp {
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    pub settings: Settings,
    /// The app's own pool (shares its statement counter).
    pub db_handle: neoforge::db::Db,
    /// The app's services, for calling the domain directly.
    pub services: std::sync::Arc<neoforge::domain::context::Services>,
    /// The app's parsed-document cache, to see what it learned about a document.
    pub documents: std::sync::Arc<neoforge::graphql::documents::DocumentCache>,
    stop: Option<oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    // Last: the database outlives the server that uses it.
    pub db: TestDatabase,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(configure: impl FnOnce(&mut Settings)) -> TestApp {
    spawn_app_on(TestDatabase::create().await, configure).await
}

/// Starts a second server process on `other`'s database (as a second replica would be): it
/// shares the data; the database is dropped with `other`, so stop this one first.
pub async fn spawn_app_sharing(other: &TestApp) -> TestApp {
    spawn_app_on(TestDatabase::shared(&other.db.url), |_| {}).await
}

/// Starts the app on an existing test database (e.g. one a CLI command already wrote to).
pub async fn spawn_app_on(db: TestDatabase, configure: impl FnOnce(&mut Settings)) -> TestApp {
    let mut settings = Settings::for_database(db.url.clone());
    settings.bind = "127.0.0.1:0".parse().expect("addr");
    settings.db_max_connections = 5;
    // The suite sends bursts far beyond any real client; the rate-limit tests turn limits on.
    settings.rate_limit_anonymous = RateQuota::OFF;
    settings.rate_limit_api = RateQuota::OFF;
    settings.rate_limit_auth = RateQuota::OFF;
    configure(&mut settings);
    if std::env::var("TEST_LOG").is_ok() {
        let _ = neoforge::telemetry::init(false);
    }
    let app = Application::build(settings.clone())
        .await
        .expect("build app");
    let addr = app.local_addr().expect("local addr");
    let db_handle = app.state().db().clone();
    let services = app.state().services.clone();
    let documents = app.state().documents.clone();
    let (stop, stopped) = oneshot::channel::<()>();
    let handle = tokio::spawn(app.run_until_stopped(async {
        let _ = stopped.await;
    }));
    TestApp {
        addr,
        client: reqwest::Client::builder().build().expect("client"),
        settings,
        db_handle,
        services,
        documents,
        stop: Some(stop),
        handle: Some(handle),
        db,
    }
}

impl TestApp {
    /// A request context for an anonymous caller, for calling the domain directly.
    pub fn anonymous(&self) -> neoforge::domain::context::RequestContext {
        neoforge::domain::context::RequestContext::new(
            self.services.clone(),
            neoforge::auth::Principal::Anonymous,
            Default::default(),
        )
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// POST /graphql with `application/json`, optionally with a bearer token.
    pub async fn graphql(
        &self,
        query: &str,
        variables: Value,
        token: Option<&str>,
    ) -> reqwest::Response {
        graphql(&self.client, self, query, variables, token).await
    }

    /// Like [`TestApp::graphql`] but returns the JSON body, asserting HTTP 200.
    pub async fn gql(&self, query: &str, variables: Value, token: Option<&str>) -> Value {
        gql(&self.client, self, query, variables, token).await
    }

    pub async fn register(&self, email: &str, password: &str, name: &str) -> Value {
        self.gql(
            "mutation($i: RegisterInput!) { register(input: $i) { user { id email displayName role } } }",
            json!({ "i": { "email": email, "password": password, "displayName": name } }),
            None,
        )
        .await
    }

    /// Logs in and returns the access token (panics on failure).
    pub async fn login(&self, email: &str, password: &str) -> String {
        let body = self
            .gql(
                "mutation($i: LoginInput!) { login(input: $i) { accessToken tokenType expiresIn } }",
                json!({ "i": { "email": email, "password": password } }),
                None,
            )
            .await;
        body["data"]["login"]["accessToken"]
            .as_str()
            .unwrap_or_else(|| panic!("login failed: {body}"))
            .to_owned()
    }

    /// Creates an account with `role` directly in the database (as `neoforge users create`
    /// would) and returns an access token for it.
    pub async fn user_with_role(&self, email: &str, role: neoforge::entity::users::Role) -> String {
        use neoforge::domain::accounts::{self, DisplayName, Email, Password};
        let password = "a test password";
        let user = accounts::create_user(
            &self.db_handle,
            &Default::default(),
            Email::parse(email).expect("email"),
            Password::parse(password).expect("password"),
            DisplayName::parse(email.split('@').next().unwrap_or("user")).expect("name"),
            role,
        )
        .await
        .expect("create user");
        assert_eq!(user.role, role);
        self.login(email, password).await
    }

    /// A regular user's token (registered through the API).
    pub async fn user(&self, email: &str) -> String {
        self.user_with_role(email, neoforge::entity::users::Role::User)
            .await
    }

    /// The Prometheus text of `GET /metrics`.
    pub async fn metrics(&self) -> String {
        let res = self.client.get(self.url("/metrics")).send().await;
        res.expect("GET /metrics")
            .text()
            .await
            .expect("metrics text")
    }

    /// Another writer holding project `id` until the returned transaction drops (SQLite: the
    /// one write lock; PostgreSQL: the project's row lock).
    pub async fn hold_project(&self, id: &str) -> neoforge::db::WriteTx {
        use sea_orm::ConnectionTrait;
        let held = self.db_handle.begin_write().await.expect("hold the writer");
        if !self.settings.is_sqlite() {
            held.tx
                .execute_unprepared(&format!(
                    "SELECT id FROM projects WHERE id = '{id}' FOR UPDATE"
                ))
                .await
                .expect("lock the row");
        }
        held
    }

    /// SQL statements the app has executed so far.
    pub fn statements(&self) -> u64 {
        self.db_handle.statements_executed()
    }

    /// Stops the server gracefully and waits for it.
    pub async fn stop(mut self) -> std::io::Result<()> {
        self.shut_down().await
    }

    /// Stops the server gracefully and waits for it, keeping the database for a test to
    /// inspect what the server left behind.
    pub async fn shut_down(&mut self) -> std::io::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.handle.take() {
            Some(handle) => handle.await.expect("server task"),
            None => Ok(()),
        }
    }
}

/// A server the tests reach over HTTP: in this process ([`TestApp`]) or a child process
/// ([`process::ServerProcess`]).
pub trait Server {
    fn addr(&self) -> SocketAddr;
}

impl Server for TestApp {
    fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Server for process::ServerProcess {
    fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }
}

/// POST /graphql on `server` with `application/json`, optionally with a bearer token.
pub async fn graphql(
    client: &reqwest::Client,
    server: &impl Server,
    query: &str,
    variables: Value,
    token: Option<&str>,
) -> reqwest::Response {
    let mut req = client
        .post(format!("http://{}/graphql", server.addr()))
        .json(&json!({ "query": query, "variables": variables }));
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    req.send().await.expect("request")
}

/// Like [`graphql`] but returns the JSON body, asserting HTTP 200.
pub async fn gql(
    client: &reqwest::Client,
    server: &impl Server,
    query: &str,
    variables: Value,
    token: Option<&str>,
) -> Value {
    let res = graphql(client, server, query, variables, token).await;
    assert_eq!(res.status(), 200);
    res.json().await.expect("json body")
}

/// The value of a metric line that starts with `series` (0 when absent).
pub fn metric(metrics: &str, series: &str) -> f64 {
    metrics
        .lines()
        .find(|l| l.starts_with(series) && l[series.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

/// The first error's `extensions.code`.
pub fn error_code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("<none>")
}
