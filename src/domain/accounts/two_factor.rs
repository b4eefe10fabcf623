//! TOTP two-factor authentication (RFC 6238): enrol, enable with a code, disable with the password
//! and a code, regenerate recovery codes, and the second-factor check of sign-in.
//!
//! - The secret is encrypted at rest ([`super::secrets::SecretBox`]).
//! - A code is accepted once: the accepted time step is written with a conditional update
//!   (`totp_last_step < step`), so a replayed code fails on every replica, and of two concurrent
//!   uses of one code only one succeeds.
//! - Ten recovery codes, stored as peppered digests; using one removes it (again a conditional
//!   update, on the list as read).
//! - Wrong codes spend the account's failure budget under a key of their own
//!   ([`RequestContext::check_code_budget`]), and every attempt draws from the address's
//!   sign-in budget.

use base64::Engine;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, UpdateMany};
use totp_rs::{Algorithm, Builder, Secret, Totp};
use uuid::Uuid;

use crate::auth::password;
use crate::db::WriteTx;
use crate::domain::audit;
use crate::domain::context::RequestContext;
use crate::entity::users::{self, Column};
use crate::error::{Error, Result};

use super::secrets::recovery_code;

const ISSUER: &str = "NeoForge";
/// Recovery codes issued at a time.
pub const RECOVERY_CODES: usize = 10;

/// What an authenticator app needs to enrol.
#[derive(Clone)]
pub struct Enrolment {
    /// Base32 (RFC 4648, no padding), for typing in.
    pub secret: String,
    /// `otpauth://totp/NeoForge:<email>?secret=...&issuer=NeoForge`.
    pub uri: String,
    /// The URI as a QR code: `data:image/svg+xml;base64,...`.
    pub qr_code: String,
}

impl std::fmt::Debug for Enrolment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Enrolment(***)")
    }
}

/// The RFC 6238 parameters every authenticator app supports: SHA-1, 6 digits, 30 s steps, one
/// step of clock skew either way.
fn totp(secret: Vec<u8>, account: &str) -> Result<Totp> {
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_skew(1)
        .with_step_duration(30)
        .with_secret(secret)
        .with_issuer(Some(ISSUER))
        // The otpauth label separates issuer and account with `:`.
        .with_account_name(account.replace(':', "_"))
        .build()
        .map_err(|e| Error::internal(anyhow::anyhow!("TOTP parameters: {e:?}")))
}

fn signed_in(ctx: &RequestContext) -> Result<Uuid> {
    ctx.principal
        .user_id()
        .ok_or_else(|| Error::Unauthenticated("sign in to do this".into()))
}

async fn load(conn: &impl ConnectionTrait, id: Uuid) -> Result<users::Model> {
    users::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| Error::Unauthenticated("the account no longer exists".into()))
}

fn unix_now() -> u64 {
    u64::try_from(chrono::Utc::now().timestamp()).unwrap_or(0)
}

fn wrong_code() -> Error {
    Error::invalid(
        "code",
        "value_error.totp_code",
        "the code is not valid (or was already used)",
    )
}

/// Starts enrolment: a new secret, stored encrypted but not yet required at sign-in.
#[tracing::instrument(skip_all)]
pub async fn setup(ctx: &RequestContext) -> Result<Enrolment> {
    let id = signed_in(ctx)?;
    ctx.draw_auth_attempt().await?;
    let tx = ctx.db().begin_write().await?;
    let user = load(&*tx, id).await?;
    if user.totp_enabled {
        return Err(Error::Conflict(
            "two-factor authentication is already enabled; disable it first".into(),
        ));
    }
    let secret = Secret::generate();
    let bytes = secret.as_ref().to_vec();
    let totp = totp(bytes.clone(), &user.email)?;
    let uri = totp
        .to_url()
        .map_err(|e| Error::internal(anyhow::anyhow!("{e:?}")))?;
    let sealed = ctx.secrets().seal(&bytes)?;
    let change = users::Entity::update_many()
        .col_expr(Column::TotpSecret, Expr::value(sealed))
        .col_expr(Column::TotpLastStep, Expr::value(Option::<i64>::None));
    commit(tx, ctx, id, change, "2fa.setup").await?;
    Ok(Enrolment {
        secret: secret.to_base32().trim_end_matches('=').to_owned(),
        qr_code: qr_data_uri(&uri)?,
        uri,
    })
}

/// The end of every change of an account's second factor: its columns written, the audit event
/// recorded, both committed in the one transaction that also read and checked the account.
async fn commit(
    tx: WriteTx,
    ctx: &RequestContext,
    id: Uuid,
    change: UpdateMany<users::Entity>,
    action: &str,
) -> Result<()> {
    change.filter(Column::Id.eq(id)).exec(&*tx).await?;
    let target = Some(format!("user:{id}"));
    audit::record(&*tx, &ctx.meta, Some(id), action, target, None).await?;
    tx.commit().await?;
    Ok(())
}

fn qr_data_uri(uri: &str) -> Result<String> {
    let code = qrcode::QrCode::new(uri.as_bytes()).map_err(Error::internal)?;
    let svg = code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(200, 200)
        .build();
    let encoded = base64::engine::general_purpose::STANDARD.encode(svg);
    Ok(format!("data:image/svg+xml;base64,{encoded}"))
}

/// Finishes enrolment with a code from the app; answers the recovery codes (shown once).
#[tracing::instrument(skip_all)]
pub async fn enable(ctx: &RequestContext, code: &str) -> Result<Vec<String>> {
    let id = signed_in(ctx)?;
    ctx.draw_auth_attempt().await?;
    ctx.check_code_budget(id).await?;
    let tx = ctx.db().begin_write().await?;
    let user = load(&*tx, id).await?;
    if user.totp_enabled {
        return Err(Error::Conflict(
            "two-factor authentication is already enabled".into(),
        ));
    }
    if user.totp_secret.is_none() {
        return Err(Error::Conflict(
            "start with setupTwoFactor (POST /auth/2fa/setup)".into(),
        ));
    }
    if !accept_totp(&*tx, ctx, &user, code).await? {
        drop(tx);
        ctx.code_failed(id).await;
        return Err(wrong_code());
    }
    let (codes, stored) = new_recovery_codes(ctx)?;
    let change = users::Entity::update_many()
        .col_expr(Column::TotpEnabled, Expr::value(true))
        .col_expr(Column::RecoveryCodes, Expr::value(stored))
        .col_expr(Column::UpdatedAt, Expr::value(chrono::Utc::now()));
    commit(tx, ctx, id, change, "2fa.enabled").await?;
    Ok(codes)
}

/// Turns 2FA off: the password and a TOTP code or a recovery code.
#[tracing::instrument(skip_all)]
pub async fn disable(ctx: &RequestContext, password: String, code: &str) -> Result<()> {
    let id = signed_in(ctx)?;
    ctx.draw_auth_attempt().await?;
    let user = load(ctx.db().conn(), id).await?;
    ctx.check_account_budget(&user.email).await?;
    if !user.totp_enabled {
        return Err(Error::Conflict(
            "two-factor authentication is not enabled".into(),
        ));
    }
    if !password::verify(password, Some(user.password_hash.clone())).await? {
        ctx.sign_in_failed(&user.email).await;
        return Err(Error::invalid(
            "password",
            "value_error.password",
            "the password is not correct",
        ));
    }
    ctx.check_code_budget(id).await?;
    let tx = ctx.db().begin_write().await?;
    let user = load(&*tx, id).await?;
    if !second_factor(&*tx, ctx, &user, code).await? {
        drop(tx);
        ctx.code_failed(id).await;
        return Err(wrong_code());
    }
    let change = users::Entity::update_many()
        .col_expr(Column::TotpEnabled, Expr::value(false))
        .col_expr(Column::TotpSecret, Expr::value(Option::<String>::None))
        .col_expr(Column::RecoveryCodes, Expr::value(Option::<String>::None))
        .col_expr(Column::TotpLastStep, Expr::value(Option::<i64>::None))
        .col_expr(Column::UpdatedAt, Expr::value(chrono::Utc::now()));
    commit(tx, ctx, id, change, "2fa.disabled").await
}

/// New recovery codes (the old ones stop working), for a current TOTP code.
#[tracing::instrument(skip_all)]
pub async fn regenerate_recovery_codes(ctx: &RequestContext, code: &str) -> Result<Vec<String>> {
    let id = signed_in(ctx)?;
    ctx.draw_auth_attempt().await?;
    ctx.check_code_budget(id).await?;
    let tx = ctx.db().begin_write().await?;
    let user = load(&*tx, id).await?;
    if !user.totp_enabled {
        return Err(Error::Conflict(
            "two-factor authentication is not enabled".into(),
        ));
    }
    if !accept_totp(&*tx, ctx, &user, code).await? {
        drop(tx);
        ctx.code_failed(id).await;
        return Err(wrong_code());
    }
    let (codes, stored) = new_recovery_codes(ctx)?;
    let change = users::Entity::update_many().col_expr(Column::RecoveryCodes, Expr::value(stored));
    commit(tx, ctx, id, change, "2fa.recovery_codes_regenerated").await?;
    Ok(codes)
}

fn new_recovery_codes(ctx: &RequestContext) -> Result<(Vec<String>, String)> {
    let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| recovery_code()).collect();
    let digests: Vec<String> = codes
        .iter()
        .map(|c| ctx.secrets().recovery_digest(c))
        .collect();
    let stored = serde_json::to_string(&digests).map_err(Error::internal)?;
    Ok((codes, stored))
}

/// Whether `code` is a second factor of `user` right now: a TOTP code not used before, or an
/// unused recovery code (which is used up). Writes in `conn`, the caller's transaction.
pub(super) async fn second_factor(
    conn: &impl ConnectionTrait,
    ctx: &RequestContext,
    user: &users::Model,
    code: &str,
) -> Result<bool> {
    let code = code.trim();
    if code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()) {
        return accept_totp(conn, ctx, user, code).await;
    }
    use_recovery_code(conn, ctx, user, code).await
}

async fn accept_totp(
    conn: &impl ConnectionTrait,
    ctx: &RequestContext,
    user: &users::Model,
    code: &str,
) -> Result<bool> {
    let Some(sealed) = &user.totp_secret else {
        return Ok(false);
    };
    let secret = ctx.secrets().open(sealed)?;
    let Some(step) = totp(secret, &user.email)?.check(code.trim(), unix_now()) else {
        return Ok(false);
    };
    let step = i64::try_from(step).map_err(Error::internal)?;
    // The step is claimed: a code is accepted once, whichever replica sees it first.
    let claimed = users::Entity::update_many()
        .col_expr(Column::TotpLastStep, Expr::value(step))
        .filter(Column::Id.eq(user.id))
        .filter(
            sea_orm::Condition::any()
                .add(Column::TotpLastStep.is_null())
                .add(Column::TotpLastStep.lt(step)),
        )
        .exec(conn)
        .await?
        .rows_affected
        == 1;
    Ok(claimed)
}

async fn use_recovery_code(
    conn: &impl ConnectionTrait,
    ctx: &RequestContext,
    user: &users::Model,
    code: &str,
) -> Result<bool> {
    let alnum = code.chars().filter(char::is_ascii_alphanumeric).count();
    let Some(stored) = user.recovery_codes.as_deref() else {
        return Ok(false);
    };
    if alnum != 10 || code.len() > 32 {
        return Ok(false);
    }
    let mut digests: Vec<String> = serde_json::from_str(stored).map_err(Error::internal)?;
    let digest = ctx.secrets().recovery_digest(code);
    let Some(at) = digests.iter().position(|d| *d == digest) else {
        return Ok(false);
    };
    digests.remove(at);
    let rest = serde_json::to_string(&digests).map_err(Error::internal)?;
    let used = users::Entity::update_many()
        .col_expr(Column::RecoveryCodes, Expr::value(rest))
        .filter(Column::Id.eq(user.id))
        .filter(Column::RecoveryCodes.eq(stored))
        .exec(conn)
        .await?
        .rows_affected
        == 1;
    if used {
        let details = serde_json::json!({ "remaining": digests.len() });
        let target = Some(format!("user:{}", user.id));
        audit::record(
            conn,
            &ctx.meta,
            Some(user.id),
            "2fa.recovery_code_used",
            target,
            Some(details),
        )
        .await?;
    }
    Ok(used)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1 (8 digits there; the same HOTP truncation as our 6).
    #[test]
    fn rfc6238_test_vectors() {
        let secret = b"12345678901234567890".to_vec();
        let totp = Builder::new()
            .with_algorithm(Algorithm::SHA1)
            .with_digits(8)
            .with_skew(0)
            .with_step_duration(30)
            .with_secret(secret)
            .build()
            .unwrap();
        for (time, code) in [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ] {
            assert_eq!(totp.generate(time).to_string(), code, "T = {time}");
        }
    }

    #[test]
    fn codes_of_the_neighbouring_steps_are_accepted_and_no_further() {
        let totp = totp(b"12345678901234567890".to_vec(), "ada@example.com").unwrap();
        let now: u64 = 1_700_000_000;
        for (offset, ok) in [
            (-60i64, false),
            (-30, true),
            (0, true),
            (30, true),
            (60, false),
        ] {
            let code = totp
                .generate(now.checked_add_signed(offset).unwrap())
                .to_string();
            assert_eq!(totp.check(&code, now).is_some(), ok, "offset {offset}");
        }
        assert!(
            totp.to_url()
                .unwrap()
                .starts_with("otpauth://totp/NeoForge:ada%40example.com?")
        );
    }
}
