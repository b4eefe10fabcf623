//! Password and email flows: `changePassword`, `requestPasswordReset`, `resetPassword`,
//! `requestEmailVerification`, `verifyEmail`.

use async_graphql::{Context, Object};

use super::IntoGql;
use super::context::request_context;
use super::types::{
    AcceptedPayload, ChangePasswordInput, ChangePasswordPayload, RequestPasswordResetInput,
    ResetPasswordInput, VerifyEmailInput,
};
use crate::domain::accounts::credentials;

#[derive(Default)]
pub struct CredentialsMutation;

const ACCEPTED: AcceptedPayload = AcceptedPayload { accepted: true };

#[Object]
impl CredentialsMutation {
    /// Change your password; your other sessions end (this one stays signed in).
    async fn change_password(
        &self,
        ctx: &Context<'_>,
        input: ChangePasswordInput,
    ) -> async_graphql::Result<ChangePasswordPayload> {
        let ended = credentials::change_password(
            request_context(ctx)?,
            input.current_password,
            &input.new_password,
        )
        .await
        .gql()?;
        Ok(ChangePasswordPayload {
            revoked_session_count: i64::try_from(ended).unwrap_or(i64::MAX),
        })
    }

    /// Mail a password-reset link (valid one hour, once) if the address has an account. The
    /// answer is the same either way.
    async fn request_password_reset(
        &self,
        ctx: &Context<'_>,
        input: RequestPasswordResetInput,
    ) -> async_graphql::Result<AcceptedPayload> {
        credentials::request_password_reset(request_context(ctx)?, &input.email)
            .await
            .gql()?;
        Ok(ACCEPTED)
    }

    /// Set a new password with a reset link's token; every session of the account ends.
    async fn reset_password(
        &self,
        ctx: &Context<'_>,
        input: ResetPasswordInput,
    ) -> async_graphql::Result<AcceptedPayload> {
        credentials::reset_password(request_context(ctx)?, &input.token, &input.new_password)
            .await
            .gql()?;
        Ok(ACCEPTED)
    }

    /// Mail yourself a new email-verification link (valid 24 hours, once).
    async fn request_email_verification(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<AcceptedPayload> {
        credentials::request_email_verification(request_context(ctx)?)
            .await
            .gql()?;
        Ok(ACCEPTED)
    }

    /// Confirm an email address with a verification link's token.
    async fn verify_email(
        &self,
        ctx: &Context<'_>,
        input: VerifyEmailInput,
    ) -> async_graphql::Result<AcceptedPayload> {
        credentials::verify_email(request_context(ctx)?, &input.token)
            .await
            .gql()?;
        Ok(ACCEPTED)
    }
}
