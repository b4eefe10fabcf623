use async_graphql::{InputObject, SimpleObject};

/// What an authenticator app needs: scan `qrCode` or type `secret`, then call
/// `enableTwoFactor` with a code it shows.
#[derive(SimpleObject)]
pub struct TwoFactorSetupPayload {
    /// The TOTP secret, base32 (RFC 4648, no padding). Shown once; keep it secret.
    pub secret: String,
    /// `otpauth://totp/...` URI (SHA-1, 6 digits, 30-second steps).
    pub otpauth_uri: String,
    /// The URI as a QR code: an `data:image/svg+xml;base64,...` URI for an `<img src>`.
    pub qr_code: String,
}

/// A code from the authenticator app.
#[derive(InputObject)]
pub struct TotpCodeInput {
    /// The 6-digit code the app shows now.
    #[graphql(secret)]
    pub code: String,
}

/// One-time recovery codes: each signs in once in place of a TOTP code. Shown only now.
#[derive(SimpleObject)]
pub struct RecoveryCodesPayload {
    /// Ten codes like `abcde-fghjk`; earlier codes no longer work.
    pub recovery_codes: Vec<String>,
}

/// Turn two-factor authentication off.
#[derive(InputObject)]
pub struct DisableTwoFactorInput {
    /// The account's password.
    #[graphql(secret)]
    pub password: String,
    /// A current TOTP code or an unused recovery code.
    #[graphql(secret)]
    pub code: String,
}

/// Result of `disableTwoFactor`.
#[derive(SimpleObject)]
pub struct DisableTwoFactorPayload {
    /// Always false: sign-in needs only the password again.
    pub two_factor_enabled: bool,
}

/// The second step of a two-factor sign-in.
#[derive(InputObject)]
pub struct CompleteLoginInput {
    /// The `challenge` from the `login` error (`extensions.challenge`); valid 5 minutes, once.
    #[graphql(secret)]
    pub challenge: String,
    /// A current TOTP code or an unused recovery code.
    #[graphql(secret)]
    pub code: String,
    /// A label for this device's session.
    pub device: Option<String>,
}
