//! `users`: accounts. Emails are stored lowercased; uniqueness is on
//! `lower(email)` (index `users_email_lower_key`).

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize, Deserialize,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
#[serde(rename_all = "snake_case")]
pub enum Role {
    #[sea_orm(string_value = "user")]
    User,
    #[sea_orm(string_value = "staff")]
    Staff,
    #[sea_orm(string_value = "admin")]
    Admin,
}

/// Deliberately not `Serialize`: it carries the password hash and TOTP secrets.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(column_type = "String(StringLen::N(320))")]
    pub email: String,
    #[sea_orm(column_type = "String(StringLen::N(100))")]
    pub display_name: String,
    #[sea_orm(column_type = "Text")]
    pub password_hash: String,
    pub role: Role,
    #[sea_orm(column_type = "Text", nullable)]
    pub totp_secret: Option<String>,
    pub totp_enabled: bool,
    /// JSON array of hashed recovery codes.
    #[sea_orm(column_type = "Text", nullable)]
    pub recovery_codes: Option<String>,
    pub email_verified_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub version: i32,
    /// Set while an admin has disabled the account: its sessions end and sign-in is refused.
    pub disabled_at: Option<DateTimeUtc>,
    /// The last TOTP time step accepted: a code is accepted once, on every replica.
    pub totp_last_step: Option<i64>,
}

super::positional!(
    id,
    email,
    display_name,
    password_hash,
    role,
    totp_secret,
    totp_enabled,
    recovery_codes,
    email_verified_at,
    created_at,
    updated_at,
    version,
    disabled_at,
    totp_last_step
);

super::unrelated!();
