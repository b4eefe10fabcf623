//! Database schema for NeoForge API. Migrations are the only source of the
//! schema, on PostgreSQL and SQLite alike.

pub use sea_orm_migration::prelude::*;

mod common;
mod m20261126_000001_create_users;
mod m20261126_000002_create_sessions;
mod m20261126_000003_create_refresh_tokens;
mod m20261126_000004_create_audit_events;
mod m20261126_000005_create_projects;
mod m20261126_000006_create_support_tickets;
mod m20261126_000007_create_community_posts;
mod m20261126_000008_create_status_events;
mod m20261126_000009_create_idempotency_keys;
mod m20261126_000010_create_service_statuses;
mod m20261129_130001_account_security;
mod m20261130_000001_account_flows;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261126_000001_create_users::Migration),
            Box::new(m20261126_000002_create_sessions::Migration),
            Box::new(m20261126_000003_create_refresh_tokens::Migration),
            Box::new(m20261126_000004_create_audit_events::Migration),
            Box::new(m20261126_000005_create_projects::Migration),
            Box::new(m20261126_000006_create_support_tickets::Migration),
            Box::new(m20261126_000007_create_community_posts::Migration),
            Box::new(m20261126_000008_create_status_events::Migration),
            Box::new(m20261126_000009_create_idempotency_keys::Migration),
            Box::new(m20261126_000010_create_service_statuses::Migration),
            Box::new(m20261129_130001_account_security::Migration),
            Box::new(m20261130_000001_account_flows::Migration),
        ]
    }
}
