use async_graphql::{InputObject, SimpleObject};

/// Change the caller's password.
#[derive(InputObject)]
pub struct ChangePasswordInput {
    #[graphql(secret)]
    pub current_password: String,
    /// 8–128 characters.
    #[graphql(secret)]
    pub new_password: String,
}

/// Result of `changePassword`.
#[derive(SimpleObject)]
pub struct ChangePasswordPayload {
    /// The caller's other sessions that ended (this one stays signed in).
    pub revoked_session_count: i64,
}

/// Ask for a password-reset link by email.
#[derive(InputObject)]
pub struct RequestPasswordResetInput {
    pub email: String,
}

/// Set a new password with the token of a reset link.
#[derive(InputObject)]
pub struct ResetPasswordInput {
    /// The `token` of the link in the reset mail.
    #[graphql(secret)]
    pub token: String,
    /// 8–128 characters.
    #[graphql(secret)]
    pub new_password: String,
}

/// Confirm an email address with the token of a verification link.
#[derive(InputObject)]
pub struct VerifyEmailInput {
    /// The `token` of the link in the verification mail.
    #[graphql(secret)]
    pub token: String,
}

/// The request was accepted. For `requestPasswordReset` this says nothing about whether the
/// address has an account.
#[derive(SimpleObject)]
pub struct AcceptedPayload {
    pub accepted: bool,
}
