//! Protection of the API: rate limits per tier, client addresses behind proxies, sign-in
//! throttling, CSP reports and threat counters.

pub mod client_address;
pub mod csp;
pub mod rate_limit;
pub mod shared_buckets;
pub mod sign_in;
pub mod threats;

pub use crate::config::RateQuota;
pub use rate_limit::{Client, RateLimits, Tier};
pub use threats::Threat;

/// Every minute, drops the buckets of clients that have gone quiet.
pub fn spawn_housekeeping(
    tasks: &tokio_util::task::TaskTracker,
    shutdown: tokio_util::sync::CancellationToken,
    limits: RateLimits,
) {
    tasks.spawn(async move {
        let mut ticker = tokio::time::interval(std::time::Duration::from_secs(60));
        loop {
            tokio::select! {
                () = shutdown.cancelled() => break,
                _ = ticker.tick() => limits.forget_idle(),
            }
        }
    });
}
