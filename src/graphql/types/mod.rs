//! GraphQL object and input types. Thin views over domain models.

mod admin;
mod auth;
mod common;
mod credentials;
mod post;
mod project;
mod session;
mod status;
mod ticket;
mod two_factor;
mod user;

pub use admin::{
    AdminUserPayload, AuditEvent, AuditEventFilter, DeleteUserPayload, RevokeUserSessionsPayload,
    SetUserRoleInput, UserIdInput,
};
pub use auth::{
    AuthPayload, LoginInput, LogoutPayload, RefreshTokenInput, RegisterInput, RegisterPayload,
};
pub use common::OrderDirection;
pub use credentials::{
    AcceptedPayload, ChangePasswordInput, ChangePasswordPayload, RequestPasswordResetInput,
    ResetPasswordInput, VerifyEmailInput,
};
pub use post::{
    CommunityPost, CommunityPostFilter, CommunityPostOrder, CommunityPostOrderBy,
    CreateCommunityPostInput, CreateCommunityPostPayload, DeleteCommunityPostInput,
    DeleteCommunityPostPayload, UpdateCommunityPostInput, UpdateCommunityPostPayload,
};
pub use project::{
    CreateProjectInput, CreateProjectPayload, DeleteProjectInput, DeleteProjectPayload, Project,
    ProjectFilter, ProjectOrder, ProjectOrderBy, UpdateProjectInput, UpdateProjectPayload,
    Visibility,
};
pub use session::{
    RevokeOtherSessionsPayload, RevokeSessionInput, RevokeSessionPayload, Session, SessionList,
};
pub use status::{
    CreateStatusEventInput, CreateStatusEventPayload, ServiceState, ServiceStatusLevel,
    ServiceStatusSummary, StatusEvent, StatusEventFilter, StatusEventOrder, StatusEventOrderBy,
};
pub use ticket::{
    CreateSupportTicketInput, CreateSupportTicketPayload, SupportTicket, SupportTicketFilter,
    SupportTicketOrder, SupportTicketOrderBy, TicketPriority, TicketStatus,
    UpdateSupportTicketInput, UpdateSupportTicketPayload,
};
pub use two_factor::{
    CompleteLoginInput, DisableTwoFactorInput, DisableTwoFactorPayload, RecoveryCodesPayload,
    TotpCodeInput, TwoFactorSetupPayload,
};
pub use user::{User, UserRole};
