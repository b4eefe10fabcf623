//! NeoForge API: a GraphQL API server with a REST compatibility shim.
//!
//! [`Application::build`] turns [`config::Settings`] into a bound, migrated, ready-to-run server;
//! `main.rs` and the test harness both use it.

pub mod auth;
pub mod bounds;
pub mod cli;
pub mod config;
pub mod db;
pub mod domain;
pub mod entity;
pub mod error;
pub mod graphql;
pub mod http;
pub mod idempotency;
pub mod mail;
pub mod metrics;
pub mod rest;
pub mod security;
pub mod server;
pub mod startup;
pub mod state;
pub mod telemetry;

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::auth::JwtKeys;
use crate::config::Settings;
use crate::domain::accounts::session_state::SessionStates;
use crate::domain::context::Services;
use crate::domain::status_feed::StatusFeed;
use crate::idempotency::Idempotency;
use crate::security::RateLimits;
use crate::state::AppState;

pub struct Application {
    listener: TcpListener,
    router: server::App,
    state: AppState,
    /// Cancelled on shutdown: background jobs watch it and stop.
    shutdown: CancellationToken,
    tasks: TaskTracker,
    /// Delivers status events to subscribers; on PostgreSQL its listener runs as a background job.
    status_feed: StatusFeed,
    /// When the database was unreachable at start: the job that brings it up.
    database_wait: Option<startup::DatabaseWait>,
    /// `/metrics` apart from the API (`NEOFORGE_METRICS_BIND`).
    metrics_listener: Option<TcpListener>,
}

impl Application {
    /// Validates settings, connects, applies migrations (if enabled) and binds the listener.
    /// A PostgreSQL that cannot be reached yet is waited for in the background (see
    /// [`startup`]) unless `NEOFORGE_DB_WAIT=0`.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        settings.validate()?;
        metrics::handle();
        security::threats::register();
        let (db, database_wait) = startup::open(&settings).await?;
        let jwt = JwtKeys::new(settings.jwt_secret.as_bytes(), settings.access_token_ttl());
        let shared_buckets =
            security::shared_buckets::SharedBuckets::from_settings(&settings)?.map(Arc::new);
        if let Some(shared) = &shared_buckets {
            shared.probe().await;
        }
        let shutdown = CancellationToken::new();
        let backend = db.backend();
        let status_feed = StatusFeed::new(backend, shutdown.child_token());
        let services = Arc::new(Services {
            db,
            // One engine for both executors, so a key in flight through one is in flight for
            // the other.
            idempotency: Idempotency::from_settings(&settings),
            status_feed: status_feed.clone(),
            jwt,
            rate_limits: RateLimits::from_settings(&settings, shared_buckets),
            sessions: SessionStates::new(
                backend,
                std::time::Duration::from_secs(settings.session_cache_ttl),
            ),
            refresh_token_ttl: std::time::Duration::from_secs(settings.refresh_token_ttl),
            secrets: domain::accounts::secrets::SecretBox::new(&settings.totp_key),
            mailer: mail::Mailer::from_settings(&settings)?,
        });
        let schemas = graphql::build(&settings);
        let state = AppState::new(state::Shared {
            services,
            settings: Arc::new(settings),
            schema: schemas.graphql,
            persisted: schemas.persisted,
            documents: Default::default(),
        });
        let listener = TcpListener::bind(state.settings.bind).await?;
        let metrics_listener = match state.settings.metrics_bind {
            Some(addr) => Some(TcpListener::bind(addr).await?),
            None => None,
        };
        Ok(Self {
            listener,
            router: server::app(state.clone()),
            state,
            shutdown,
            tasks: TaskTracker::new(),
            status_feed,
            database_wait,
            metrics_listener,
        })
    }

    /// Where `/metrics` listens when it has a listener of its own.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_listener
            .as_ref()
            .and_then(|l| l.local_addr().ok())
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `signal` resolves, then stops accepting, drains in-flight requests, stops
    /// background jobs and closes the pool.
    pub async fn run_until_stopped(
        self,
        signal: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let Self {
            listener,
            router,
            state,
            shutdown,
            tasks,
            status_feed,
            database_wait,
            metrics_listener,
        } = self;
        let gave_up = database_wait.as_ref().map(startup::DatabaseWait::gave_up);
        if let Some(database_wait) = database_wait {
            tasks.spawn(database_wait.run(state.db().clone(), shutdown.clone()));
        }
        if let Some(listener) = metrics_listener {
            let stop = shutdown.clone();
            let router = http::metrics::listener_router(state.clone());
            tasks.spawn(async move {
                let served = axum::serve(listener, router)
                    .with_graceful_shutdown(stop.cancelled_owned())
                    .await;
                if let Err(err) = served {
                    tracing::error!(error = %err, "the metrics listener failed");
                }
            });
        }
        if status_feed.needs_listener() {
            // Stops when `shutdown` is cancelled (the feed's token is its child).
            let url = state.settings.session_url().to_owned();
            tasks.spawn(status_feed.listen(state.db().clone(), url));
        }
        let sessions = state.services.sessions.clone();
        if sessions.needs_listener() {
            let url = state.settings.session_url().to_owned();
            tasks.spawn(sessions.listen(url, shutdown.clone()));
        }
        idempotency::spawn_cleanup(
            &tasks,
            shutdown.clone(),
            state.db().clone(),
            std::time::Duration::from_secs(state.settings.idempotency_cleanup_interval),
        );
        mail::spawn_sender(
            &tasks,
            shutdown.clone(),
            state.db().clone(),
            state.services.mailer.clone(),
        );
        let limits = state.services.rate_limits.clone();
        security::spawn_housekeeping(&tasks, shutdown.clone(), limits);
        // A child token: the server stops on the signal or on `shutdown`, and background jobs
        // keep running until the server has drained.
        let stop = shutdown.child_token();
        let serving = server::serve(
            listener,
            router,
            server::Transport::from_settings(&state.settings),
            stop.clone(),
        );
        let stopping = async move {
            tokio::select! {
                () = signal => {}
                () = stop.cancelled() => {}
            }
            stop.cancel();
        };
        tokio::join!(serving, stopping);
        shutdown.cancel();
        tasks.close();
        tasks.wait().await;
        state.db().clone().close().await;
        tracing::info!("stopped");
        match gave_up.and_then(|g| g.get().cloned()) {
            Some(message) => Err(std::io::Error::other(message)),
            None => Ok(()),
        }
    }
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
