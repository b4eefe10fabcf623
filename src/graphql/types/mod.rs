//! GraphQL object and input types. Thin views over domain models.

mod auth;
mod common;
mod project;
mod user;

pub use auth::{AuthPayload, LoginInput, RegisterInput, RegisterPayload};
pub use common::OrderDirection;
pub use project::{
    CreateProjectInput, CreateProjectPayload, DeleteProjectInput, DeleteProjectPayload, Project, ProjectFilter,
    ProjectOrder, ProjectOrderBy, UpdateProjectInput, UpdateProjectPayload, Visibility,
};
pub use user::{User, UserRole};
