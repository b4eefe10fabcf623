//! Sessions and their refresh tokens: sign-in opens a session (a token family); each refresh
//! rotates its opaque token; presenting a rotated token again ends the family.
//!
//! Refresh tokens are 256 random bits, base64url; only their SHA-256 is stored (a database leak
//! does not hand out sessions, and a 256-bit secret needs no slow hash). Rotation is one
//! conditional `UPDATE ... WHERE rotated_at IS NULL`: of concurrent refreshes with one token the
//! database lets exactly one through, and every other sees a rotated token, which is reuse.

use base64::Engine;
use chrono::Utc;
use rand::RngCore;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::Login;
use super::session_state::Scope;
use crate::domain::audit;
use crate::domain::context::RequestContext;
use crate::entity::{refresh_tokens, sessions, users};
use crate::error::{Error, Result};

/// Longest refresh token accepted for lookup (ours are 43 characters).
const MAX_TOKEN_LEN: usize = 256;

/// Why a session ended (`sessions.revoked_reason`).
#[derive(Clone, Copy, Debug)]
pub enum EndReason {
    Logout,
    Reuse,
    Revoked,
    Password,
    Disabled,
}

impl EndReason {
    fn as_str(self) -> &'static str {
        match self {
            Self::Logout => "logout",
            Self::Reuse => "reuse",
            Self::Revoked => "revoked",
            Self::Password => "password",
            Self::Disabled => "disabled",
        }
    }
}

fn digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A new refresh token for `session_id`, stored hashed; returns the token itself.
pub(super) async fn issue(
    conn: &impl ConnectionTrait,
    ctx: &RequestContext,
    session_id: Uuid,
) -> Result<String> {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let now = Utc::now();
    let ttl = chrono::TimeDelta::from_std(ctx.refresh_token_ttl()).map_err(Error::internal)?;
    refresh_tokens::ActiveModel {
        id: Set(Uuid::now_v7()),
        session_id: Set(session_id),
        token_hash: Set(digest(&token)),
        created_at: Set(now),
        expires_at: Set(now + ttl),
        rotated_at: Set(None),
    }
    .insert(conn)
    .await?;
    Ok(token)
}

/// Ends a session inside the caller's transaction and tells the other processes on commit;
/// call [`evicted`] after the commit. False when it had already ended.
pub(crate) async fn end(
    conn: &impl ConnectionTrait,
    ctx: &RequestContext,
    session_id: Uuid,
    reason: EndReason,
) -> Result<bool> {
    let ended = sessions::Entity::update_many()
        .col_expr(sessions::Column::RevokedAt, Expr::value(Utc::now()))
        .col_expr(
            sessions::Column::RevokedReason,
            Expr::value(reason.as_str()),
        )
        .filter(sessions::Column::Id.eq(session_id))
        .filter(sessions::Column::RevokedAt.is_null())
        .exec(conn)
        .await?
        .rows_affected
        > 0;
    if ended {
        ctx.sessions()
            .announce(conn, Scope::Session(session_id))
            .await?;
    }
    Ok(ended)
}

/// Ends every open session of `user_id` (but `except`) inside the caller's transaction and
/// tells the other processes on commit; call [`evicted`] with `Scope::User` after the commit.
pub(crate) async fn end_all(
    conn: &impl ConnectionTrait,
    ctx: &RequestContext,
    user_id: Uuid,
    except: Option<Uuid>,
    reason: EndReason,
) -> Result<u64> {
    let mut update = sessions::Entity::update_many()
        .col_expr(sessions::Column::RevokedAt, Expr::value(Utc::now()))
        .col_expr(
            sessions::Column::RevokedReason,
            Expr::value(reason.as_str()),
        )
        .filter(sessions::Column::UserId.eq(user_id))
        .filter(sessions::Column::RevokedAt.is_null());
    if let Some(keep) = except {
        update = update.filter(sessions::Column::Id.ne(keep));
    }
    let ended = update.exec(conn).await?.rows_affected;
    // Also for zero: a role change or a disabled account must reach every process's cache.
    ctx.sessions().announce(conn, Scope::User(user_id)).await?;
    Ok(ended)
}

/// [`end_all`], audited in the same transaction as `action` by `actor`, with the number of
/// sessions ended: a password change or reset, an administrator's revocation.
pub(crate) async fn end_all_audited(
    conn: &impl ConnectionTrait,
    ctx: &RequestContext,
    user_id: Uuid,
    except: Option<Uuid>,
    reason: EndReason,
    actor: Uuid,
    action: &str,
) -> Result<u64> {
    let ended = end_all(conn, ctx, user_id, except, reason).await?;
    let details = serde_json::json!({ "sessions_ended": ended });
    let target = Some(format!("user:{user_id}"));
    audit::record(conn, &ctx.meta, Some(actor), action, target, Some(details)).await?;
    Ok(ended)
}

/// After the transaction that ended sessions or changed a user committed: this process forgets
/// them at once (the others on the notification).
pub(crate) fn evicted(ctx: &RequestContext, scope: Scope) {
    ctx.sessions().evict(scope);
}

/// What a refresh found, decided inside its transaction.
enum Refreshed {
    Rotated(Box<Login>),
    Reused { session_id: Uuid, user_id: Uuid },
    Refused(&'static str),
}

/// Exchanges a refresh token for a new access token and a new refresh token.
#[tracing::instrument(skip_all)]
pub async fn refresh(ctx: &RequestContext, token: &str) -> Result<Login> {
    ctx.draw_auth_attempt().await?;
    let token = token.trim();
    if token.is_empty() || token.len() > MAX_TOKEN_LEN {
        return Err(Error::Unauthenticated(
            "the refresh token is invalid".into(),
        ));
    }
    let hash = digest(token);
    let tx = ctx.db().begin_write().await?;
    let outcome = rotate(&*tx, ctx, &hash).await?;
    if let Refreshed::Reused {
        session_id,
        user_id,
    } = &outcome
    {
        end(&*tx, ctx, *session_id, EndReason::Reuse).await?;
        audit::record(
            &*tx,
            &ctx.meta,
            Some(*user_id),
            "refresh_token.reused",
            Some(format!("session:{session_id}")),
            None,
        )
        .await?;
    }
    tx.commit().await?;
    match outcome {
        Refreshed::Rotated(login) => Ok(*login),
        Refreshed::Reused { session_id, .. } => {
            evicted(ctx, Scope::Session(session_id));
            metrics::counter!("threats_detected_total", "kind" => "refresh_token_reuse")
                .increment(1);
            tracing::warn!(%session_id, "refresh token reuse: the session is revoked");
            Err(Error::Unauthenticated(
                "this refresh token was already used; the session has been ended".into(),
            ))
        }
        Refreshed::Refused(reason) => Err(Error::Unauthenticated(reason.into())),
    }
}

async fn rotate(
    conn: &impl ConnectionTrait,
    ctx: &RequestContext,
    hash: &str,
) -> Result<Refreshed> {
    let found = refresh_tokens::Entity::find()
        .filter(refresh_tokens::Column::TokenHash.eq(hash))
        .find_also_related(sessions::Entity)
        .one(conn)
        .await?;
    let Some((row, Some(session))) = found else {
        return Ok(Refreshed::Refused("the refresh token is invalid"));
    };
    if session.revoked_at.is_some() {
        return Ok(Refreshed::Refused("the session has ended; sign in again"));
    }
    let now = Utc::now();
    // The row's own `rotated_at` may be stale by the time we write: the conditional update is
    // what decides between concurrent refreshes.
    let won = refresh_tokens::Entity::update_many()
        .col_expr(refresh_tokens::Column::RotatedAt, Expr::value(now))
        .filter(refresh_tokens::Column::Id.eq(row.id))
        .filter(refresh_tokens::Column::RotatedAt.is_null())
        .exec(conn)
        .await?
        .rows_affected
        == 1;
    if !won {
        return Ok(Refreshed::Reused {
            session_id: session.id,
            user_id: session.user_id,
        });
    }
    if row.expires_at <= now {
        return Ok(Refreshed::Refused(
            "the refresh token has expired; sign in again",
        ));
    }
    let user = users::Entity::find_by_id(session.user_id).one(conn).await?;
    let Some(user) = user.filter(|u| u.disabled_at.is_none()) else {
        return Ok(Refreshed::Refused("this account is disabled"));
    };
    let refresh_token = issue(conn, ctx, session.id).await?;
    sessions::Entity::update_many()
        .col_expr(sessions::Column::LastSeenAt, Expr::value(now))
        .filter(sessions::Column::Id.eq(session.id))
        .exec(conn)
        .await?;
    let keys = ctx.jwt();
    Ok(Refreshed::Rotated(Box::new(Login {
        access_token: keys.issue(user.id, user.role, session.id)?,
        expires_in: keys.ttl.as_secs(),
        refresh_token,
        session_id: session.id,
        user,
    })))
}

/// Ends the caller's session. Answers whether it was still open.
#[tracing::instrument(skip_all)]
pub async fn logout(ctx: &RequestContext) -> Result<bool> {
    let crate::auth::Principal::User { id, session_id, .. } = &ctx.principal else {
        return Err(Error::Unauthenticated("sign in to do this".into()));
    };
    let tx = ctx.db().begin_write().await?;
    let ended = end(&*tx, ctx, *session_id, EndReason::Logout).await?;
    if ended {
        audit::record(
            &*tx,
            &ctx.meta,
            Some(*id),
            "logout",
            Some(format!("session:{session_id}")),
            None,
        )
        .await?;
    }
    tx.commit().await?;
    evicted(ctx, Scope::Session(*session_id));
    Ok(ended)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_stored_as_sha256() {
        let hash = digest("abc");
        assert_eq!(
            hash,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
