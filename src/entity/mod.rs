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

/// The model read by position from its entity's select list (`crate::db::positional`): the
/// fields in column order, as `E::find()` selects them. A list out of order fails on the first
/// row read (names are checked) and in `tests::positional_models_follow_their_select_lists`.
macro_rules! positional {
    ($($field:ident),* $(,)?) => {
        impl crate::db::Positional for Model {
            const COLUMNS: &'static [&'static str] = &[$(stringify!($field)),*];
            fn read(columns: &mut crate::db::positional::Columns<'_>) -> Result<Self, DbErr> {
                // Struct fields are evaluated in the order written: the columns' order.
                Ok(Self { $($field: columns.take()?,)* })
            }
        }
    };
}
pub(crate) use positional;

crate::db::positional::string_enum_fields!(
    IdempotencyState,
    ServiceStatus,
    TicketPriority,
    TicketStatus,
    Role,
    Visibility,
);

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

#[cfg(test)]
mod tests {
    use sea_orm::{EntityTrait, IdenStatic, Iterable};

    use crate::db::Positional;

    fn columns<E: EntityTrait>() -> Vec<String> {
        E::Column::iter().map(|c| c.as_str().to_owned()).collect()
    }

    fn fields<M: Positional>() -> Vec<String> {
        M::COLUMNS.iter().map(|c| (*c).to_owned()).collect()
    }

    #[test]
    fn positional_models_follow_their_select_lists() {
        macro_rules! in_select_order {
            ($($entity:ident),*) => {$(
                assert_eq!(
                    fields::<super::$entity::Model>(),
                    columns::<super::$entity::Entity>(),
                    stringify!($entity)
                );
            )*};
        }
        in_select_order!(
            audit_events,
            community_posts,
            idempotency_keys,
            projects,
            status_events,
            support_tickets,
            users
        );
    }
}
