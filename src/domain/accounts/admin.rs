//! Administration of accounts (admins only): change a role, disable and re-enable an account, end
//! all of its sessions. Each change is audited in its transaction and reaches every process's
//! session-state cache (this one at once, the others on PostgreSQL's notification, and at worst
//! within `NEOFORGE_SESSION_CACHE_TTL`).

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::session_state::Scope;
use super::tokens::{EndReason, end_all, end_all_audited, evicted};
use crate::domain::audit;
use crate::domain::context::RequestContext;
use crate::entity::users::{self, Column, Role};
use crate::error::{Error, Result};

/// The acting admin's id.
fn admin(ctx: &RequestContext) -> Result<Uuid> {
    match ctx.principal.user_id() {
        None => Err(Error::Unauthenticated("sign in to do this".into())),
        Some(_) if !ctx.principal.is_admin() => Err(Error::Forbidden(
            "only admins may administer accounts".into(),
        )),
        Some(id) => Ok(id),
    }
}

async fn target(conn: &impl ConnectionTrait, id: Uuid) -> Result<users::Model> {
    users::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or_else(|| Error::NotFound("user".into()))
}

/// An admin may not lock themselves out: another admin has to do it.
fn not_self(actor: Uuid, user: Uuid, what: &str) -> Result<()> {
    if actor == user {
        return Err(Error::Conflict(format!(
            "you cannot {what} your own account; ask another admin"
        )));
    }
    Ok(())
}

async fn bump(conn: &impl ConnectionTrait, id: Uuid, column: Column, value: Expr) -> Result<()> {
    users::Entity::update_many()
        .col_expr(column, value)
        .col_expr(Column::UpdatedAt, Expr::value(chrono::Utc::now()))
        .col_expr(Column::Version, Expr::col(Column::Version).add(1))
        .filter(Column::Id.eq(id))
        .exec(conn)
        .await?;
    Ok(())
}

/// Gives `user_id` the role `role`; their open sessions carry it from their next request.
#[tracing::instrument(skip(ctx))]
pub async fn set_role(ctx: &RequestContext, user_id: Uuid, role: Role) -> Result<users::Model> {
    let actor = admin(ctx)?;
    not_self(actor, user_id, "change the role of")?;
    let tx = ctx.db().begin_write().await?;
    let user = target(&*tx, user_id).await?;
    if user.role != role {
        bump(&*tx, user_id, Column::Role, Expr::value(role)).await?;
        ctx.sessions().announce(&*tx, Scope::User(user_id)).await?;
        let details = serde_json::json!({ "from": user.role, "to": role });
        let target = Some(format!("user:{user_id}"));
        audit::record(
            &*tx,
            &ctx.meta,
            Some(actor),
            "user.role_changed",
            target,
            Some(details),
        )
        .await?;
    }
    let user = target(&*tx, user_id).await?;
    tx.commit().await?;
    evicted(ctx, Scope::User(user_id));
    Ok(user)
}

/// Disables (`disabled`) or re-enables an account. Disabling ends all its sessions and refuses
/// sign-in and refresh until it is enabled again.
#[tracing::instrument(skip(ctx))]
pub async fn set_disabled(
    ctx: &RequestContext,
    user_id: Uuid,
    disabled: bool,
) -> Result<users::Model> {
    let actor = admin(ctx)?;
    not_self(actor, user_id, "disable or enable")?;
    let tx = ctx.db().begin_write().await?;
    let user = target(&*tx, user_id).await?;
    if user.disabled_at.is_some() != disabled {
        let at = disabled.then(chrono::Utc::now);
        bump(&*tx, user_id, Column::DisabledAt, Expr::value(at)).await?;
        let details = if disabled {
            let ended = end_all(&*tx, ctx, user_id, None, EndReason::Disabled).await?;
            Some(serde_json::json!({ "sessions_ended": ended }))
        } else {
            None
        };
        let action = if disabled {
            "user.disabled"
        } else {
            "user.enabled"
        };
        let target = Some(format!("user:{user_id}"));
        audit::record(&*tx, &ctx.meta, Some(actor), action, target, details).await?;
    }
    let user = target(&*tx, user_id).await?;
    tx.commit().await?;
    evicted(ctx, Scope::User(user_id));
    Ok(user)
}

/// Ends every session of `user_id` (a stolen device, a compromised account); answers how many.
#[tracing::instrument(skip(ctx))]
pub async fn revoke_sessions(ctx: &RequestContext, user_id: Uuid) -> Result<u64> {
    let actor = admin(ctx)?;
    let tx = ctx.db().begin_write().await?;
    target(&*tx, user_id).await?;
    let ended = end_all_audited(
        &*tx,
        ctx,
        user_id,
        None,
        EndReason::Revoked,
        actor,
        "session.revoked_by_admin",
    )
    .await?;
    tx.commit().await?;
    evicted(ctx, Scope::User(user_id));
    Ok(ended)
}

/// Deletes an account and, by the schema's cascades, its sessions, projects, tickets and posts
/// (audit events keep their rows with the actor cleared). Not your own.
#[tracing::instrument(skip(ctx))]
pub async fn delete_user(ctx: &RequestContext, user_id: Uuid) -> Result<()> {
    let actor = admin(ctx)?;
    not_self(actor, user_id, "delete")?;
    let tx = ctx.db().begin_write().await?;
    let user = target(&*tx, user_id).await?;
    users::Entity::delete_by_id(user_id).exec(&*tx).await?;
    ctx.sessions().announce(&*tx, Scope::User(user_id)).await?;
    let details = serde_json::json!({ "email": user.email, "role": user.role });
    let target = Some(format!("user:{user_id}"));
    audit::record(
        &*tx,
        &ctx.meta,
        Some(actor),
        "user.deleted",
        target,
        Some(details),
    )
    .await?;
    tx.commit().await?;
    evicted(ctx, Scope::User(user_id));
    Ok(())
}
