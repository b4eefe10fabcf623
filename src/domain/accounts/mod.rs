//! Accounts: registration, login and the identity behind a [`Principal`].

pub mod devices;
mod input;
pub mod session_state;
pub mod tokens;

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

pub use input::{DisplayName, Email, Password};
pub use tokens::{logout, refresh};

use crate::auth::{Principal, password};
use crate::db::Db;
use crate::domain::audit;
use crate::domain::context::{RequestContext, RequestMeta};
use crate::entity::{sessions, users};
use crate::error::{Error, FieldError, Result};
use std::collections::HashMap;

pub use users::Role;

#[derive(Debug)]
pub struct RegisterInput {
    pub email: String,
    pub password: String,
    pub display_name: String,
}

#[derive(Debug)]
pub struct LoginInput {
    pub email: String,
    pub password: String,
    /// A TOTP code. Accounts cannot enable 2FA yet, so it is only checked for shape: clients
    /// that always send the field keep working when 2FA arrives.
    pub totp_code: Option<String>,
    pub device: Option<String>,
}

/// A successful login or refresh: a short-lived access token for `user` and the session's
/// current refresh token.
#[derive(Debug)]
pub struct Login {
    pub access_token: String,
    pub expires_in: u64,
    pub refresh_token: String,
    pub session_id: Uuid,
    pub user: users::Model,
}

/// Collects every field error rather than stopping at the first, so a form can show them all.
fn collect<A, B, C>(
    a: Result<A, FieldError>,
    b: Result<B, FieldError>,
    c: Result<C, FieldError>,
) -> Result<(A, B, C)> {
    match (a, b, c) {
        (Ok(a), Ok(b), Ok(c)) => Ok((a, b, c)),
        (a, b, c) => Err(Error::Validation(
            [a.err(), b.err(), c.err()].into_iter().flatten().collect(),
        )),
    }
}

#[tracing::instrument(skip_all)]
/// Registration draws from the client address's sign-in budget before anything else.
pub async fn register(cx: &RequestContext, input: RegisterInput) -> Result<users::Model> {
    cx.draw_auth_attempt().await?;
    let (email, pw, name) = collect(
        Email::parse(&input.email),
        Password::parse(&input.password),
        DisplayName::parse(&input.display_name),
    )?;
    let user = create_user(cx.db(), &cx.meta, email, pw, name, Role::User).await?;
    tracing::info!(user.id = %user.id, "registered");
    Ok(user)
}

/// Creates an account with any role: registration (role `user`) and the operator's CLI.
pub async fn create_user(
    db: &Db,
    meta: &RequestMeta,
    email: Email,
    pw: Password,
    name: DisplayName,
    role: Role,
) -> Result<users::Model> {
    let hash = password::hash(pw.expose()).await?;
    let now = crate::domain::now();
    let tx = db.begin_write().await?;
    let user = users::ActiveModel {
        id: Set(Uuid::now_v7()),
        email: Set(email.as_str().to_owned()),
        display_name: Set(name.into_inner()),
        password_hash: Set(hash),
        role: Set(role),
        totp_secret: Set(None),
        totp_enabled: Set(false),
        recovery_codes: Set(None),
        email_verified_at: Set(None),
        disabled_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
    }
    .insert(&*tx)
    .await
    .map_err(|e| match Error::from(e) {
        Error::Conflict(_) => Error::Conflict("an account with this email already exists".into()),
        other => other,
    })?;
    audit::record(
        &*tx,
        meta,
        Some(user.id),
        "user.created",
        Some(format!("user:{}", user.id)),
        None,
    )
    .await?;
    tx.commit().await?;
    Ok(user)
}

#[tracing::instrument(skip_all)]
/// Sign-in draws from the client address's sign-in budget before anything else.
pub async fn login(cx: &RequestContext, input: LoginInput) -> Result<Login> {
    cx.draw_auth_attempt().await?;
    cx.check_account_budget(&input.email).await?;
    let (db, keys, meta) = (cx.db(), cx.jwt(), &cx.meta);
    let rejected = || Error::Unauthenticated("invalid email or password".into());
    if let Some(code) = input.totp_code.as_deref()
        && !((6..=8).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(Error::invalid(
            "totp_code",
            "value_error.totp_code",
            "must be 6 to 8 digits",
        ));
    }
    // A malformed email cannot match an account; answer exactly as for a wrong password.
    let email = Email::parse(&input.email).ok();
    let user = match &email {
        Some(email) => {
            users::Entity::find()
                .filter(users::Column::Email.eq(email.as_str()))
                .one(db.conn())
                .await?
        }
        None => None,
    };
    let ok = password::verify(
        input.password,
        user.as_ref().map(|u| u.password_hash.clone()),
    )
    .await?;
    let Some(user) = user.filter(|_| ok) else {
        cx.sign_in_failed(&input.email).await;
        let target = email.map(|e| format!("email:{}", e.as_str()));
        audit::record(db.conn(), meta, None, "login.failed", target, None).await?;
        return Err(rejected());
    };

    if user.disabled_at.is_some() {
        return Err(Error::Unauthenticated("this account is disabled".into()));
    }

    let now = Utc::now();
    let device = input
        .device
        .map(|d| d.trim().chars().take(100).collect::<String>())
        .filter(|d| !d.is_empty());
    let tx = db.begin_write().await?;
    let session = sessions::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user.id),
        device_label: Set(device),
        user_agent: Set(meta.user_agent.clone()),
        ip: Set(meta.ip.clone()),
        created_at: Set(now),
        last_seen_at: Set(now),
        revoked_at: Set(None),
        revoked_reason: Set(None),
    }
    .insert(&*tx)
    .await?;
    let refresh_token = tokens::issue(&*tx, cx, session.id).await?;
    audit::record(
        &*tx,
        meta,
        Some(user.id),
        "login",
        Some(format!("session:{}", session.id)),
        None,
    )
    .await?;
    tx.commit().await?;

    let access_token = keys.issue(user.id, user.role, session.id)?;
    Ok(Login {
        access_token,
        expires_in: keys.ttl.as_secs(),
        refresh_token,
        session_id: session.id,
        user,
    })
}

/// The signed-in user, or `None` for anonymous requests. A token whose user no longer exists is
/// treated as invalid.
pub async fn viewer(cx: &RequestContext) -> Result<Option<users::Model>> {
    let Some(id) = cx.principal.user_id() else {
        return Ok(None);
    };
    let user = users::Entity::find_by_id(id).one(cx.db().conn()).await?;
    user.map(Some)
        .ok_or_else(|| Error::Unauthenticated("the account no longer exists".into()))
}

/// Who may see a user's email address: the user and staff.
pub fn can_see_email(principal: &Principal, user: &users::Model) -> bool {
    principal.user_id() == Some(user.id) || principal.is_staff()
}

/// Users by id, for relations and `node`: anyone may see a user's public profile (the email is
/// guarded field by field by [`can_see_email`]).
#[tracing::instrument(skip_all, fields(ids = ids.len()))]
pub async fn by_ids(cx: &RequestContext, ids: &[Uuid]) -> Result<HashMap<Uuid, users::Model>> {
    let select = users::Entity::find();
    super::batch::by_ids(cx.db(), select, users::Column::Id, ids, |u| u.id).await
}
