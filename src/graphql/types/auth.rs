use async_graphql::{InputObject, SimpleObject};

use super::User;

/// Create an account.
#[derive(InputObject)]
pub struct RegisterInput {
    /// Email address; compared case-insensitively and stored lowercased.
    pub email: String,
    /// 8–128 characters.
    #[graphql(secret)]
    pub password: String,
    /// 1–100 characters.
    pub display_name: String,
}

/// Sign in with email and password.
#[derive(InputObject)]
pub struct LoginInput {
    /// The account's email (any case).
    pub email: String,
    /// The account's password.
    #[graphql(secret)]
    pub password: String,
    /// A 6–8 digit TOTP code for accounts with two-factor authentication.
    pub totp_code: Option<String>,
    /// A label for this device's session (e.g. "Ada's laptop").
    pub device: Option<String>,
}

/// Result of `register`.
#[derive(SimpleObject)]
pub struct RegisterPayload {
    /// The new account.
    pub user: User,
}

/// Result of `login`: send `Authorization: Bearer <accessToken>` on later requests.
#[derive(SimpleObject)]
pub struct AuthPayload {
    /// A short-lived JWT access token.
    pub access_token: String,
    /// Always `bearer`.
    pub token_type: String,
    /// Seconds until `accessToken` expires.
    pub expires_in: u64,
    /// An opaque refresh token for `refreshToken`: single use (each refresh returns the next
    /// one); presenting a used one again ends the session. Keep it secret. Null in the REST
    /// shim's browser mode, which sets it as an HttpOnly cookie instead.
    pub refresh_token: Option<String>,
    /// The session this sign-in opened (see `sessions`).
    pub session_id: async_graphql::ID,
    /// The signed-in account.
    pub user: User,
}

/// Exchange a refresh token for new tokens.
#[derive(InputObject)]
pub struct RefreshTokenInput {
    /// The refresh token from `login` or the previous refresh.
    pub refresh_token: String,
}

/// Result of `logout`.
#[derive(SimpleObject)]
pub struct LogoutPayload {
    /// False when the session had already ended.
    pub revoked: bool,
}
