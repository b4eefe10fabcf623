//! Password and email flows: change the password (other sessions end), reset it by a mailed
//! single-use link, verify the email address.
//!
//! Reset requests answer the same whether or not the address has an account; links carry a
//! 256-bit token stored only as a hash, expire, and work once (see [`super::one_time`]). Mail
//! goes through the outbox in the same transaction as the token.

use chrono::TimeDelta;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::one_time;
use super::session_state::Scope;
use super::tokens::{EndReason, end_all_audited, evicted};
use super::{Email, Password};
use crate::auth::{Principal, password};
use crate::domain::audit;
use crate::domain::context::RequestContext;
use crate::entity::account_tokens::Purpose;
use crate::entity::users::{self, Column};
use crate::error::{Error, Result};

const RESET_TTL: TimeDelta = TimeDelta::hours(1);
const VERIFICATION_TTL: TimeDelta = TimeDelta::hours(24);

fn signed_in(ctx: &RequestContext) -> Result<(Uuid, Uuid)> {
    match &ctx.principal {
        Principal::User { id, session_id, .. } => Ok((*id, *session_id)),
        Principal::Anonymous => Err(Error::Unauthenticated("sign in to do this".into())),
    }
}

async fn set_password(conn: &impl ConnectionTrait, user_id: Uuid, hash: String) -> Result<()> {
    users::Entity::update_many()
        .col_expr(Column::PasswordHash, Expr::value(hash))
        .col_expr(Column::UpdatedAt, Expr::value(chrono::Utc::now()))
        .col_expr(Column::Version, Expr::col(Column::Version).add(1))
        .filter(Column::Id.eq(user_id))
        .exec(conn)
        .await?;
    Ok(())
}

/// Changes the caller's password; every other session of theirs ends.
#[tracing::instrument(skip_all)]
pub async fn change_password(
    ctx: &RequestContext,
    current_password: String,
    new_password: &str,
) -> Result<u64> {
    let (user_id, session_id) = signed_in(ctx)?;
    ctx.draw_auth_attempt().await?;
    let new = Password::parse(new_password).map_err(|mut e| {
        e.loc = vec!["new_password".into()];
        Error::Validation(vec![e])
    })?;
    let user = users::Entity::find_by_id(user_id)
        .one(ctx.db().conn())
        .await?
        .ok_or_else(|| Error::Unauthenticated("the account no longer exists".into()))?;
    ctx.check_account_budget(&user.email).await?;
    if !password::verify(current_password, Some(user.password_hash.clone())).await? {
        ctx.sign_in_failed(&user.email).await;
        return Err(Error::invalid(
            "current_password",
            "value_error.password",
            "the current password is not correct",
        ));
    }
    let hash = password::hash(new.expose()).await?;
    let tx = ctx.db().begin_write().await?;
    set_password(&*tx, user_id, hash).await?;
    let ended = end_all_audited(
        &*tx,
        ctx,
        user_id,
        Some(session_id),
        EndReason::Password,
        user_id,
        "password.changed",
    )
    .await?;
    tx.commit().await?;
    evicted(ctx, Scope::User(user_id));
    Ok(ended)
}

/// Mails a reset link when `email` has an account; answers the same either way.
#[tracing::instrument(skip_all)]
pub async fn request_password_reset(ctx: &RequestContext, email: &str) -> Result<()> {
    ctx.draw_auth_attempt().await?;
    let email = Email::parse(email).map_err(|e| Error::Validation(vec![e]))?;
    // Bounds the mail one address can be sent, known or not (so the limit reveals nothing).
    let budget_key = format!("reset:{}", email.as_str());
    ctx.check_account_budget(&budget_key).await?;
    ctx.sign_in_failed(&budget_key).await;
    let user = users::Entity::find()
        .filter(Column::Email.eq(email.as_str()))
        .one(ctx.db().conn())
        .await?;
    let Some(user) = user.filter(|u| u.disabled_at.is_none()) else {
        tracing::info!("password reset requested for an address without an active account");
        return Ok(());
    };
    let tx = ctx.db().begin_write().await?;
    let token = one_time::issue(&*tx, user.id, Purpose::PasswordReset, RESET_TTL).await?;
    let link = ctx.mailer().link("/reset-password", &token);
    let body = format!(
        "Hello {},\n\nSomeone (hopefully you) asked to reset the password of your NeoForge \
         account. Follow this link within an hour to choose a new one:\n\n{link}\n\n\
         The link works once. If you did not ask for it, ignore this message: your password \
         stays as it is.\n",
        user.display_name
    );
    ctx.mailer()
        .enqueue(&*tx, &user.email, "Reset your NeoForge password", body)
        .await?;
    let target = Some(format!("user:{}", user.id));
    audit::record(
        &*tx,
        &ctx.meta,
        None,
        "password.reset_requested",
        target,
        None,
    )
    .await?;
    tx.commit().await?;
    ctx.mailer().poke();
    Ok(())
}

fn bad_link(what: &str) -> Error {
    Error::invalid(
        "token",
        "value_error.token",
        format!("the {what} link is invalid, has expired or was already used"),
    )
}

/// Sets a new password with a reset link's token; every session of the account ends.
#[tracing::instrument(skip_all)]
pub async fn reset_password(ctx: &RequestContext, token: &str, new_password: &str) -> Result<()> {
    ctx.draw_auth_attempt().await?;
    let new = Password::parse(new_password).map_err(|mut e| {
        e.loc = vec!["new_password".into()];
        Error::Validation(vec![e])
    })?;
    if one_time::find(ctx.db().conn(), token, Purpose::PasswordReset)
        .await?
        .is_none()
    {
        return Err(bad_link("reset"));
    }
    let hash = password::hash(new.expose()).await?;
    let tx = ctx.db().begin_write().await?;
    // Looked up again inside the transaction: the spend below decides between concurrent uses.
    let found = one_time::find(&*tx, token, Purpose::PasswordReset).await?;
    let Some(found) = found else {
        return Err(bad_link("reset"));
    };
    if !one_time::spend(&*tx, found.id).await? {
        return Err(bad_link("reset"));
    }
    let user_id = found.user_id;
    set_password(&*tx, user_id, hash).await?;
    // The link reached the mailbox: the address is proven too.
    users::Entity::update_many()
        .col_expr(Column::EmailVerifiedAt, Expr::value(chrono::Utc::now()))
        .filter(Column::Id.eq(user_id))
        .filter(Column::EmailVerifiedAt.is_null())
        .exec(&*tx)
        .await?;
    end_all_audited(
        &*tx,
        ctx,
        user_id,
        None,
        EndReason::Password,
        user_id,
        "password.reset",
    )
    .await?;
    tx.commit().await?;
    evicted(ctx, Scope::User(user_id));
    Ok(())
}

/// Writes a verification mail for `user` into the outbox, in the caller's transaction.
pub(super) async fn send_verification(
    conn: &impl ConnectionTrait,
    ctx: &RequestContext,
    user: &users::Model,
) -> Result<()> {
    let token =
        one_time::issue(conn, user.id, Purpose::EmailVerification, VERIFICATION_TTL).await?;
    let link = ctx.mailer().link("/verify-email", &token);
    let body = format!(
        "Hello {},\n\nPlease confirm that this is your email address by following this link \
         within 24 hours:\n\n{link}\n\nIf you did not create a NeoForge account, ignore this \
         message.\n",
        user.display_name
    );
    ctx.mailer()
        .enqueue(
            conn,
            &user.email,
            "Confirm your NeoForge email address",
            body,
        )
        .await
}

/// Mails the caller a new verification link.
#[tracing::instrument(skip_all)]
pub async fn request_email_verification(ctx: &RequestContext) -> Result<()> {
    let (user_id, _) = signed_in(ctx)?;
    ctx.draw_auth_attempt().await?;
    let budget_key = format!("verify:{user_id}");
    ctx.check_account_budget(&budget_key).await?;
    ctx.sign_in_failed(&budget_key).await;
    let tx = ctx.db().begin_write().await?;
    let user = users::Entity::find_by_id(user_id)
        .one(&*tx)
        .await?
        .ok_or_else(|| Error::Unauthenticated("the account no longer exists".into()))?;
    if user.email_verified_at.is_some() {
        return Err(Error::Conflict(
            "the email address is already verified".into(),
        ));
    }
    send_verification(&*tx, ctx, &user).await?;
    tx.commit().await?;
    ctx.mailer().poke();
    Ok(())
}

/// Marks the address verified with a verification link's token.
#[tracing::instrument(skip_all)]
pub async fn verify_email(ctx: &RequestContext, token: &str) -> Result<()> {
    ctx.draw_auth_attempt().await?;
    let tx = ctx.db().begin_write().await?;
    let found = one_time::find(&*tx, token, Purpose::EmailVerification).await?;
    let Some(found) = found else {
        return Err(bad_link("verification"));
    };
    if !one_time::spend(&*tx, found.id).await? {
        return Err(bad_link("verification"));
    }
    users::Entity::update_many()
        .col_expr(Column::EmailVerifiedAt, Expr::value(chrono::Utc::now()))
        .filter(Column::Id.eq(found.user_id))
        .exec(&*tx)
        .await?;
    let target = Some(format!("user:{}", found.user_id));
    audit::record(
        &*tx,
        &ctx.meta,
        Some(found.user_id),
        "email.verified",
        target,
        None,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
