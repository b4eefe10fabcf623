//! The signed-in user's sessions (devices): list them, end one, end all the others.

use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use super::session_state::Scope;
use super::tokens::{EndReason, end, evicted};
use crate::domain::audit;
use crate::domain::context::RequestContext;
use crate::entity::sessions;
use crate::error::{Error, Result};

/// The caller's user and session: a caller sees and ends only their own sessions.
fn own(ctx: &RequestContext) -> Result<(Uuid, Uuid)> {
    match &ctx.principal {
        crate::auth::Principal::User { id, session_id, .. } => Ok((*id, *session_id)),
        crate::auth::Principal::Anonymous => {
            Err(Error::Unauthenticated("sign in to do this".into()))
        }
    }
}

fn open_of(user_id: Uuid) -> sea_orm::Select<sessions::Entity> {
    sessions::Entity::find()
        .filter(sessions::Column::UserId.eq(user_id))
        .filter(sessions::Column::RevokedAt.is_null())
}

/// The caller's open sessions, newest first: (total, one page).
pub async fn list(
    ctx: &RequestContext,
    first: u64,
    offset: u64,
) -> Result<(u64, Vec<sessions::Model>)> {
    let (user_id, _) = own(ctx)?;
    let conn = ctx.db().conn();
    let total = open_of(user_id).count(conn).await?;
    let page = open_of(user_id)
        .order_by_desc(sessions::Column::CreatedAt)
        .order_by_desc(sessions::Column::Id)
        .offset(offset)
        .limit(first)
        .all(conn)
        .await?;
    Ok((total, page))
}

/// Ends one of the caller's sessions (the current one too: that is a sign-out). Another user's
/// session, or one already ended, does not exist for the caller.
pub async fn revoke(ctx: &RequestContext, session_id: Uuid) -> Result<()> {
    let (user_id, _) = own(ctx)?;
    let tx = ctx.db().begin_write().await?;
    let mine = open_of(user_id)
        .filter(sessions::Column::Id.eq(session_id))
        .one(&*tx)
        .await?;
    if mine.is_none() || !end(&*tx, ctx, session_id, EndReason::Revoked).await? {
        return Err(Error::NotFound("session".into()));
    }
    let target = Some(format!("session:{session_id}"));
    audit::record(
        &*tx,
        &ctx.meta,
        Some(user_id),
        "session.revoked",
        target,
        None,
    )
    .await?;
    tx.commit().await?;
    evicted(ctx, Scope::Session(session_id));
    Ok(())
}

/// Ends every session of the caller but the current one; answers how many ended.
pub async fn revoke_others(ctx: &RequestContext) -> Result<u64> {
    let (user_id, current) = own(ctx)?;
    let tx = ctx.db().begin_write().await?;
    let ended = sessions::Entity::update_many()
        .col_expr(sessions::Column::RevokedAt, Expr::value(chrono::Utc::now()))
        .col_expr(sessions::Column::RevokedReason, Expr::value("revoked"))
        .filter(sessions::Column::UserId.eq(user_id))
        .filter(sessions::Column::Id.ne(current))
        .filter(sessions::Column::RevokedAt.is_null())
        .exec(&*tx)
        .await?
        .rows_affected;
    if ended > 0 {
        ctx.sessions().announce(&*tx, Scope::User(user_id)).await?;
        let details = serde_json::json!({ "sessions": ended });
        let target = Some(format!("user:{user_id}"));
        audit::record(
            &*tx,
            &ctx.meta,
            Some(user_id),
            "session.revoked_others",
            target,
            Some(details),
        )
        .await?;
    }
    tx.commit().await?;
    evicted(ctx, Scope::User(user_id));
    Ok(ended)
}
