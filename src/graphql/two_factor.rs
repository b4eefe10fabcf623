//! Two-factor authentication: `setupTwoFactor`, `enableTwoFactor`, `disableTwoFactor`,
//! `regenerateRecoveryCodes` and `completeLogin`, the second step of a two-factor sign-in.

use async_graphql::{Context, Object};

use super::IntoGql;
use super::context::request_context;
use super::types::{
    AuthPayload, CompleteLoginInput, DisableTwoFactorInput, DisableTwoFactorPayload,
    RecoveryCodesPayload, TotpCodeInput, TwoFactorSetupPayload,
};
use crate::domain::accounts::{self, two_factor};

#[derive(Default)]
pub struct TwoFactorMutation;

#[Object]
impl TwoFactorMutation {
    /// Start enrolling an authenticator app: a new secret, its `otpauth://` URI and QR code.
    /// Sign-in does not need codes until `enableTwoFactor` confirms one.
    async fn setup_two_factor(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<TwoFactorSetupPayload> {
        let enrolment = two_factor::setup(request_context(ctx)?).await.gql()?;
        Ok(TwoFactorSetupPayload {
            secret: enrolment.secret,
            otpauth_uri: enrolment.uri,
            qr_code: enrolment.qr_code,
        })
    }

    /// Finish enrolment with a code from the app; from now on sign-in needs a code. Returns
    /// ten one-time recovery codes, shown only here.
    async fn enable_two_factor(
        &self,
        ctx: &Context<'_>,
        input: TotpCodeInput,
    ) -> async_graphql::Result<RecoveryCodesPayload> {
        let codes = two_factor::enable(request_context(ctx)?, &input.code)
            .await
            .gql()?;
        Ok(RecoveryCodesPayload {
            recovery_codes: codes,
        })
    }

    /// Turn two-factor authentication off (password and a TOTP or recovery code).
    async fn disable_two_factor(
        &self,
        ctx: &Context<'_>,
        input: DisableTwoFactorInput,
    ) -> async_graphql::Result<DisableTwoFactorPayload> {
        two_factor::disable(request_context(ctx)?, input.password, &input.code)
            .await
            .gql()?;
        Ok(DisableTwoFactorPayload {
            two_factor_enabled: false,
        })
    }

    /// New recovery codes for a current TOTP code; the old ones stop working.
    async fn regenerate_recovery_codes(
        &self,
        ctx: &Context<'_>,
        input: TotpCodeInput,
    ) -> async_graphql::Result<RecoveryCodesPayload> {
        let codes = two_factor::regenerate_recovery_codes(request_context(ctx)?, &input.code)
            .await
            .gql()?;
        Ok(RecoveryCodesPayload {
            recovery_codes: codes,
        })
    }

    /// The second step of a two-factor sign-in: `login` without `totpCode` answered
    /// UNAUTHENTICATED with `extensions.totpRequired` and `extensions.challenge`; send that
    /// challenge with a code.
    async fn complete_login(
        &self,
        ctx: &Context<'_>,
        input: CompleteLoginInput,
    ) -> async_graphql::Result<AuthPayload> {
        let login = accounts::complete_login(
            request_context(ctx)?,
            &input.challenge,
            &input.code,
            input.device,
        )
        .await
        .gql()?;
        Ok(AuthPayload::from(login))
    }
}
