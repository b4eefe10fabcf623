//! Administration (admins only): `auditEvents`, `setUserRole`, `disableUser`, `enableUser`,
//! `revokeUserSessions`, `deleteUser`.

use async_graphql::{Context, Object};

use super::IntoGql;
use super::connection::{self, Conn, connection};
use super::context::{parse_id, request_context};
use super::types::{
    AdminUserPayload, AuditEvent, AuditEventFilter, DeleteUserPayload, OrderDirection,
    RevokeUserSessionsPayload, SetUserRoleInput, User, UserIdInput, UserRole,
};
use crate::domain::accounts::admin;
use crate::domain::audit;
use crate::domain::pagination::PageArgs;
use crate::entity::users::Role;

connection::paged_query! {
    AdminQuery {}

    /// The audit log, newest first by default (admins only).
    audit_events(
        filter: Option<AuditEventFilter>,
        #[graphql(desc = "By time; default DESC (newest first).")] direction: Option<OrderDirection>,
    ) -> AuditEvent = list_audit_events;
}

async fn list_audit_events(
    ctx: &Context<'_>,
    args: PageArgs,
    filter: Option<AuditEventFilter>,
    direction: Option<OrderDirection>,
) -> async_graphql::Result<Conn<AuditEvent>> {
    let filter = filter.unwrap_or_default();
    let actor_id = filter
        .actor_id
        .as_ref()
        .map(|id| parse_id("filter.actor_id", id))
        .transpose()
        .gql()?;
    let filter = audit::AuditFilter {
        actor_id,
        action: filter.action,
        target: filter.target,
        since: filter.since,
        until: filter.until,
    };
    let ordering = audit::ordering(direction.map(Into::into));
    let (page, count) = connection::page(ctx, filter, &ordering, args).await?;
    Ok(connection(page, AuditEvent::from, count))
}

#[derive(Default)]
pub struct AdminMutation;

#[Object]
impl AdminMutation {
    /// Give an account another role; it applies to the account's open sessions within
    /// seconds. Not your own.
    async fn set_user_role(
        &self,
        ctx: &Context<'_>,
        input: SetUserRoleInput,
    ) -> async_graphql::Result<AdminUserPayload> {
        let id = parse_id("id", &input.id).gql()?;
        let role = match input.role {
            UserRole::User => Role::User,
            UserRole::Staff => Role::Staff,
            UserRole::Admin => Role::Admin,
        };
        let user = admin::set_role(request_context(ctx)?, id, role)
            .await
            .gql()?;
        Ok(AdminUserPayload {
            user: User::new(user),
        })
    }

    /// Disable an account: its sessions end within seconds and it cannot sign in. Not your own.
    async fn disable_user(
        &self,
        ctx: &Context<'_>,
        input: UserIdInput,
    ) -> async_graphql::Result<AdminUserPayload> {
        let id = parse_id("id", &input.id).gql()?;
        let user = admin::set_disabled(request_context(ctx)?, id, true)
            .await
            .gql()?;
        Ok(AdminUserPayload {
            user: User::new(user),
        })
    }

    /// Re-enable a disabled account (it signs in again; its old sessions stay ended).
    async fn enable_user(
        &self,
        ctx: &Context<'_>,
        input: UserIdInput,
    ) -> async_graphql::Result<AdminUserPayload> {
        let id = parse_id("id", &input.id).gql()?;
        let user = admin::set_disabled(request_context(ctx)?, id, false)
            .await
            .gql()?;
        Ok(AdminUserPayload {
            user: User::new(user),
        })
    }

    /// Delete an account with everything it owns (projects, tickets, posts, sessions); its
    /// audit trail stays. Not your own.
    async fn delete_user(
        &self,
        ctx: &Context<'_>,
        input: UserIdInput,
    ) -> async_graphql::Result<DeleteUserPayload> {
        let id = parse_id("id", &input.id).gql()?;
        admin::delete_user(request_context(ctx)?, id).await.gql()?;
        Ok(DeleteUserPayload {
            deleted_id: input.id,
        })
    }

    /// End every session of an account.
    async fn revoke_user_sessions(
        &self,
        ctx: &Context<'_>,
        input: UserIdInput,
    ) -> async_graphql::Result<RevokeUserSessionsPayload> {
        let id = parse_id("id", &input.id).gql()?;
        let ended = admin::revoke_sessions(request_context(ctx)?, id)
            .await
            .gql()?;
        Ok(RevokeUserSessionsPayload {
            revoked_count: i64::try_from(ended).unwrap_or(i64::MAX),
        })
    }
}
