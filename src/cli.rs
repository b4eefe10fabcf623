//! The `neoforge` command line: `serve` (default), `migrate`, `schema`, `users`.

use std::io::BufRead;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use migration::{Migrator, MigratorTrait};

use crate::config::{Settings, redact_url};
use crate::db::{Db, Migration};
use crate::domain::accounts::{self, DisplayName, Email, Password, Role};
use crate::domain::context::RequestMeta;
use crate::{Application, graphql, shutdown_signal, telemetry};

#[derive(Debug, Parser)]
#[command(
    name = "neoforge",
    version,
    about = "NeoForge API: GraphQL API server with a REST compatibility shim"
)]
pub struct Cli {
    #[command(flatten)]
    pub settings: Settings,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server (the default).
    Serve,
    /// Manage the database schema.
    Migrate {
        #[command(subcommand)]
        action: MigrateAction,
    },
    /// Print the GraphQL schema (SDL).
    Schema,
    /// Print the REST API's OpenAPI 3.1 document (JSON).
    Openapi,
    /// Manage user accounts.
    Users {
        #[command(subcommand)]
        action: UsersAction,
    },
    /// Idempotency-key maintenance.
    Idempotency {
        #[command(subcommand)]
        action: IdempotencyAction,
    },
}

#[derive(Debug, Subcommand)]
pub enum IdempotencyAction {
    /// Delete expired keys now (the server also does this on an interval).
    Cleanup,
}

#[derive(Debug, Subcommand)]
pub enum MigrateAction {
    /// Apply all pending migrations.
    Up,
    /// Roll back the most recent migrations.
    Down {
        #[arg(long, default_value_t = 1)]
        steps: u32,
    },
    /// List migrations and whether each is applied.
    Status,
    /// Drop every table and re-apply all migrations (destroys all data).
    Fresh {
        /// Required in production.
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum UsersAction {
    /// Create an account (e.g. bootstrap the first admin). The password comes from --password,
    /// or else from the first line of standard input.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long, value_enum, default_value = "user")]
        role: CliRole,
        #[arg(long)]
        password: Option<String>,
        /// Defaults to the part of the email before `@`.
        #[arg(long)]
        display_name: Option<String>,
    },
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum CliRole {
    User,
    Staff,
    Admin,
}

impl From<CliRole> for Role {
    fn from(r: CliRole) -> Self {
        match r {
            CliRole::User => Role::User,
            CliRole::Staff => Role::Staff,
            CliRole::Admin => Role::Admin,
        }
    }
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = cli.settings;
    let telemetry = telemetry::init(settings.is_production());
    let result = command(cli.command, settings).await;
    // Flushes the spans still queued (the last requests before a shutdown).
    telemetry.shutdown().await;
    result
}

async fn command(command: Option<Command>, settings: Settings) -> anyhow::Result<()> {
    match command.unwrap_or(Command::Serve) {
        Command::Serve => serve(settings).await,
        Command::Schema => {
            print!("{}", graphql::sdl());
            Ok(())
        }
        Command::Openapi => {
            println!(
                "{}",
                serde_json::to_string_pretty(&crate::rest::openapi::document())?
            );
            Ok(())
        }
        Command::Migrate { action } => migrate(settings, action).await,
        Command::Idempotency {
            action: IdempotencyAction::Cleanup,
        } => {
            settings.validate()?;
            let db = Db::connect(&settings).await?;
            let deleted = crate::idempotency::cleanup_expired(&db).await?;
            println!("deleted {deleted} expired idempotency key(s)");
            db.close().await;
            Ok(())
        }
        Command::Users {
            action:
                UsersAction::Create {
                    email,
                    role,
                    password,
                    display_name,
                },
        } => {
            settings.validate()?;
            let password = match password {
                Some(p) => p,
                None => read_password_line()?,
            };
            let email = Email::parse(&email).map_err(|e| anyhow::anyhow!("--email: {}", e.msg))?;
            let password =
                Password::parse(&password).map_err(|e| anyhow::anyhow!("password: {}", e.msg))?;
            let name = display_name.unwrap_or_else(|| {
                email
                    .as_str()
                    .split('@')
                    .next()
                    .unwrap_or_default()
                    .to_owned()
            });
            let name = DisplayName::parse(&name)
                .map_err(|e| anyhow::anyhow!("--display-name: {}", e.msg))?;
            let db = Db::connect(&settings).await?;
            db.migrate_up(&settings).await?;
            let user = accounts::create_user(
                &db,
                &RequestMeta::default(),
                email,
                password,
                name,
                role.into(),
            )
            .await
            .map_err(|e| anyhow::anyhow!("{}", e.public_message()))?;
            println!(
                "created {} ({:?}) with id {}",
                user.email, user.role, user.id
            );
            db.close().await;
            Ok(())
        }
    }
}

fn read_password_line() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("reading the password from standard input")?;
    let line = line.trim_end_matches(['\r', '\n']).to_owned();
    anyhow::ensure!(
        !line.is_empty(),
        "no password: pass --password or write it on standard input"
    );
    Ok(line)
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    let app = Application::build(settings).await?;
    let addr = app.local_addr()?;
    let settings = &app.state().settings;
    tracing::info!(
        %addr,
        database = %redact_url(&settings.database_url),
        environment = ?settings.environment,
        "NeoForge API listening"
    );
    if settings.graphiql_enabled() {
        println!("GraphiQL:      http://{addr}/graphql");
    }
    println!("GraphQL:       POST http://{addr}/graphql");
    println!("REST API:      http://{addr}/api/v1");
    println!("Health:        http://{addr}/health/ready");
    app.run_until_stopped(shutdown_signal()).await?;
    Ok(())
}

async fn migrate(settings: Settings, action: MigrateAction) -> anyhow::Result<()> {
    settings.validate()?;
    let db = Db::connect(&settings).await?;
    match action {
        MigrateAction::Up => db.migrate_up(&settings).await?,
        MigrateAction::Down { steps } => db.migrate(&settings, Migration::Down(steps)).await?,
        MigrateAction::Status => {
            let pending = db.pending_migrations().await?;
            for m in Migrator::migrations() {
                let state = if pending.iter().any(|p| p == m.name()) {
                    "pending"
                } else {
                    "applied"
                };
                println!("{state:8} {}", m.name());
            }
        }
        MigrateAction::Fresh { yes } => {
            anyhow::ensure!(
                yes || !settings.is_production(),
                "`migrate fresh` destroys all data: pass --yes to run it in production"
            );
            db.migrate(&settings, Migration::Fresh).await?
        }
    }
    db.close().await;
    Ok(())
}
