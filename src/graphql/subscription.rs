//! The subscription root (served over WebSocket by `http::ws`).

use async_graphql::MergedSubscription;

use super::status::StatusSubscription;

/// Every subscription, one object per resource.
#[derive(MergedSubscription, Default)]
pub struct SubscriptionRoot(StatusSubscription);
