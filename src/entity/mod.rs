//! SeaORM entities, one module per table. The schema itself comes only from
//! the `migration` crate; these types must match it column for column.
//!
//! An entity declares only the relations a query follows (`find_also_related`: a session's
//! user, a refresh token's session). Foreign keys and their `ON DELETE` rules belong to the
//! migrations alone: restated here they were never read, and could only drift.

/// The end of an entity whose queries follow one relation, to the row its `$from` column
/// points at (`belongs_to!(User: users via UserId)`): the relation and `Related` for
/// `find_also_related`, and no write hooks.
macro_rules! belongs_to {
    ($relation:ident: $target:ident via $from:ident) => {
        #[derive(Copy, Clone, Debug, EnumIter)]
        pub enum Relation {
            $relation,
        }

        impl RelationTrait for Relation {
            fn def(&self) -> RelationDef {
                match self {
                    Self::$relation => Entity::belongs_to(super::$target::Entity)
                        .from(Column::$from)
                        .to(super::$target::Column::Id)
                        .into(),
                }
            }
        }

        impl Related<super::$target::Entity> for Entity {
            fn to() -> RelationDef {
                Relation::$relation.def()
            }
        }

        impl ActiveModelBehavior for ActiveModel {}
    };
}
pub(crate) use belongs_to;

/// The end of an entity no query joins from: no relations, no write hooks.
macro_rules! unrelated {
    () => {
        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}

        impl ActiveModelBehavior for ActiveModel {}
    };
}
pub(crate) use unrelated;

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
