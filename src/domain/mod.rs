//! Business rules, validation and authorization. Resolvers and the REST shim call into here;
//! nothing else touches the database or decides who may do what.
//!
//! Every function takes the request's [`context::RequestContext`] (the caller and the services
//! it may use) plus its own input; writes also take [`context::WriteOptions`] (expected
//! version, idempotency key) and go through [`mod@write`], and batch loads for the GraphQL
//! DataLoaders live beside the rules they obey (`projects::by_ids`, …, see [`batch`]).

pub mod accounts;
pub mod audit;
pub mod batch;
pub mod context;
pub(crate) mod listener;
pub mod listing;
pub mod pagination;
pub mod patch;
pub mod posts;
pub mod projects;
pub mod status;
pub mod status_feed;
pub mod text;
pub mod tickets;
pub mod versioned;
pub mod write;

/// The current time at the precision both databases store (microseconds), so that a result
/// returned right after a write equals the same row read back later (and its replay).
pub fn now() -> chrono::DateTime<chrono::Utc> {
    use chrono::SubsecRound;
    chrono::Utc::now().trunc_subsecs(6)
}
