use async_graphql::Enum;

use crate::domain::pagination::Direction;

/// Sort direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Enum, Default)]
pub enum OrderDirection {
    /// Smallest first.
    Asc,
    /// Largest (newest) first.
    #[default]
    Desc,
}

impl From<OrderDirection> for Direction {
    fn from(d: OrderDirection) -> Self {
        match d {
            OrderDirection::Asc => Self::Asc,
            OrderDirection::Desc => Self::Desc,
        }
    }
}
