//! GraphQL object and input types. Thin views over domain models.

mod auth;
mod user;

pub use auth::{AuthPayload, LoginInput, RegisterInput, RegisterPayload};
pub use user::{User, UserRole};
