//! End-to-end tests over real HTTP. One binary (faster to link) with a module per area.

#[path = "../common/mod.rs"]
mod common;

mod accounts;
mod cli;
mod docs;
mod faults;
mod graphql_http;
mod health;
mod idempotency;
mod migrations;
mod observability;
mod playground;
mod posts;
mod projects;
mod protection;
mod rest;
mod sessions;
mod shield;
mod status;
mod tickets;
mod transport;
