//! End-to-end tests over real HTTP. One binary (faster to link) with a module per area.

#[path = "../common/mod.rs"]
mod common;

mod accounts;
mod admin;
mod authz_matrix;
mod cli;
mod conflicts;
mod docs;
mod faults;
mod graphql_documents;
mod graphql_http;
mod health;
mod idempotency;
mod mail_flows;
mod migrations;
mod observability;
mod playground;
mod pool;
mod posts;
mod projects;
mod protection;
mod reads;
mod rest;
mod sessions;
mod shared_budgets;
mod shield;
mod status;
mod tickets;
mod transport;
mod two_factor;
