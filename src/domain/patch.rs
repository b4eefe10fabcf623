//! Partial updates: a field is left alone, cleared, or set.

#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub enum Patch<T> {
    #[default]
    Unchanged,
    Null,
    Set(T),
}

impl<T> Patch<T> {
    /// For fields that cannot be null: explicit null is an input error on `field`.
    pub fn required(self, field: &str) -> Result<Option<T>, crate::error::FieldError> {
        match self {
            Self::Unchanged => Ok(None),
            Self::Set(v) => Ok(Some(v)),
            Self::Null => Err(crate::error::FieldError::new(
                field,
                "value_error.missing",
                "must not be null",
            )),
        }
    }
}

impl<T> From<async_graphql::MaybeUndefined<T>> for Patch<T> {
    fn from(v: async_graphql::MaybeUndefined<T>) -> Self {
        match v {
            async_graphql::MaybeUndefined::Undefined => Self::Unchanged,
            async_graphql::MaybeUndefined::Null => Self::Null,
            async_graphql::MaybeUndefined::Value(v) => Self::Set(v),
        }
    }
}
