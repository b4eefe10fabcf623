//! SeaORM entities, one module per table. The schema itself comes only from
//! the `migration` crate; these types must match it column for column.

/// `impl Related<Target> for Entity` through one of the entity's `Relation`s. SeaORM wants
/// one impl per related table, each the same three lines; an entity lists its pairs once.
macro_rules! related {
    ($($target:path => $relation:ident),+ $(,)?) => {
        $(
            impl Related<$target> for Entity {
                fn to() -> RelationDef {
                    Relation::$relation.def()
                }
            }
        )+
    };
}
pub(crate) use related;

pub mod account_tokens;
pub mod audit_events;
pub mod community_post_tags;
pub mod community_posts;
pub mod idempotency_keys;
pub mod outbox_emails;
pub mod projects;
pub mod refresh_tokens;
pub mod service_statuses;
pub mod sessions;
pub mod status_events;
pub mod support_tickets;
pub mod users;

pub use idempotency_keys::IdempotencyState;
pub use projects::Visibility;
pub use status_events::ServiceStatus;
pub use support_tickets::{TicketPriority, TicketStatus};
pub use users::Role;
