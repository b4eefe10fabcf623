//! Accounts: registration, login and the identity behind a [`Principal`].

pub mod admin;
pub mod credentials;
pub mod devices;
mod input;
mod one_time;
pub mod secrets;
pub mod session_state;
pub mod tokens;
pub mod two_factor;

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

pub use input::{DisplayName, Email, Password};
pub use tokens::{logout, refresh};

use crate::auth::{Principal, password};
use crate::db::Db;
use crate::domain::audit;
use crate::domain::context::{RequestContext, RequestMeta};
use crate::entity::account_tokens::Purpose;
use crate::entity::{sessions, users};
use crate::error::{Error, FieldError, Result};
use std::collections::HashMap;

pub use users::Role;

pub struct RegisterInput {
    pub email: String,
    pub password: String,
    pub display_name: String,
}

pub struct LoginInput {
    pub email: String,
    pub password: String,
    /// A TOTP code or a recovery code, for accounts with two-factor authentication.
    pub totp_code: Option<String>,
    pub device: Option<String>,
}

// Hand-written so that passwords and codes never reach a log line through `{:?}`.
impl std::fmt::Debug for RegisterInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegisterInput")
            .field("email", &self.email)
            .field("password", &"***")
            .field("display_name", &self.display_name)
            .finish()
    }
}

impl std::fmt::Debug for LoginInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginInput")
            .field("email", &self.email)
            .field("password", &"***")
            .field("totp_code", &self.totp_code.as_ref().map(|_| "***"))
            .field("device", &self.device)
            .finish()
    }
}

/// A successful login or refresh: a short-lived access token for `user` and the session's
/// current refresh token.
pub struct Login {
    pub access_token: String,
    pub expires_in: u64,
    pub refresh_token: String,
    pub session_id: Uuid,
    pub user: users::Model,
}

impl std::fmt::Debug for Login {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Login")
            .field("session_id", &self.session_id)
            .field("user_id", &self.user.id)
            .finish_non_exhaustive()
    }
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
/// Registration draws from the client address's sign-in budget before anything else. The new
/// account's verification mail is written in the same transaction.
pub async fn register(ctx: &RequestContext, input: RegisterInput) -> Result<users::Model> {
    ctx.draw_auth_attempt().await?;
    let (email, pw, name) = collect(
        Email::parse(&input.email),
        Password::parse(&input.password),
        DisplayName::parse(&input.display_name),
    )?;
    let hash = password::hash(pw.expose()).await?;
    let tx = ctx.db().begin_write().await?;
    let user = insert_user(&*tx, &ctx.meta, email, hash, name, Role::User).await?;
    credentials::send_verification(&*tx, ctx, &user).await?;
    tx.commit().await?;
    ctx.mailer().poke();
    tracing::info!(user.id = %user.id, "registered");
    Ok(user)
}

/// Creates an account with any role: the operator's CLI (and test fixtures).
pub async fn create_user(
    db: &Db,
    meta: &RequestMeta,
    email: Email,
    pw: Password,
    name: DisplayName,
    role: Role,
) -> Result<users::Model> {
    let hash = password::hash(pw.expose()).await?;
    let tx = db.begin_write().await?;
    let user = insert_user(&*tx, meta, email, hash, name, role).await?;
    tx.commit().await?;
    Ok(user)
}

async fn insert_user(
    conn: &impl ConnectionTrait,
    meta: &RequestMeta,
    email: Email,
    hash: String,
    name: DisplayName,
    role: Role,
) -> Result<users::Model> {
    let now = crate::domain::now();
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
        totp_last_step: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        version: Set(1),
    }
    .insert(conn)
    .await
    .map_err(|e| match Error::from(e) {
        Error::Conflict(_) => Error::Conflict("an account with this email already exists".into()),
        other => other,
    })?;
    audit::record(
        conn,
        meta,
        Some(user.id),
        "user.created",
        Some(format!("user:{}", user.id)),
        None,
    )
    .await?;
    Ok(user)
}

/// How long a sign-in challenge (password accepted, second factor pending) lives.
const CHALLENGE_TTL: chrono::TimeDelta = chrono::TimeDelta::minutes(5);
/// Wrong codes one challenge takes before it is void (the account's code budget also applies).
const CHALLENGE_ATTEMPTS: i32 = 5;

#[tracing::instrument(skip_all)]
/// Sign-in draws from the client address's sign-in budget before anything else. An account with
/// two-factor authentication also needs `totp_code` (a TOTP code or a recovery code); without
/// one, a correct password earns a short-lived challenge ([`Error::SecondFactorRequired`]) to
/// answer with [`complete_login`], not a session.
pub async fn login(ctx: &RequestContext, input: LoginInput) -> Result<Login> {
    ctx.draw_auth_attempt().await?;
    ctx.check_account_budget(&input.email).await?;
    let (db, meta) = (ctx.db(), &ctx.meta);
    let rejected = || Error::Unauthenticated("invalid email or password".into());
    if let Some(code) = input.totp_code.as_deref()
        && !(6..=32).contains(&code.trim().len())
    {
        return Err(Error::invalid(
            "totp_code",
            "value_error.totp_code",
            "must be a 6-digit code or a recovery code",
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
        ctx.sign_in_failed(&input.email).await;
        let target = email.map(|e| format!("email:{}", e.as_str()));
        audit::record(db.conn(), meta, None, "login.failed", target, None).await?;
        return Err(rejected());
    };

    if user.disabled_at.is_some() {
        return Err(Error::Unauthenticated("this account is disabled".into()));
    }

    let tx = db.begin_write().await?;
    if user.totp_enabled {
        let Some(code) = input.totp_code.as_deref() else {
            let challenge =
                one_time::issue(&*tx, user.id, Purpose::LoginChallenge, CHALLENGE_TTL).await?;
            tx.commit().await?;
            return Err(Error::SecondFactorRequired { challenge });
        };
        ctx.check_code_budget(user.id).await?;
        if !two_factor::second_factor(&*tx, ctx, &user, code).await? {
            second_factor_failed(&*tx, ctx, &user).await?;
            tx.commit().await?;
            return Err(wrong_second_factor());
        }
    }
    let login = open_session(&*tx, ctx, user, input.device).await?;
    tx.commit().await?;
    Ok(login)
}

fn wrong_second_factor() -> Error {
    Error::Unauthenticated("the two-factor code is not valid (or was already used)".into())
}

async fn second_factor_failed(
    conn: &impl ConnectionTrait,
    ctx: &RequestContext,
    user: &users::Model,
) -> Result<()> {
    ctx.code_failed(user.id).await;
    let details = serde_json::json!({ "reason": "second_factor" });
    let target = Some(format!("user:{}", user.id));
    audit::record(
        conn,
        &ctx.meta,
        Some(user.id),
        "login.failed",
        target,
        Some(details),
    )
    .await
}

/// The second step of a two-factor sign-in: the challenge from [`login`] and a TOTP or
/// recovery code. A challenge works once and takes at most five wrong codes.
#[tracing::instrument(skip_all)]
pub async fn complete_login(
    ctx: &RequestContext,
    challenge: &str,
    code: &str,
    device: Option<String>,
) -> Result<Login> {
    ctx.draw_auth_attempt().await?;
    let expired = || {
        Error::Unauthenticated(
            "the sign-in challenge is invalid or has expired; sign in again".into(),
        )
    };
    let tx = ctx.db().begin_write().await?;
    let found = one_time::find(&*tx, challenge, Purpose::LoginChallenge).await?;
    let Some(found) = found else {
        return Err(expired());
    };
    let user = users::Entity::find_by_id(found.user_id).one(&*tx).await?;
    let Some(user) = user.filter(|u| u.disabled_at.is_none() && u.totp_enabled) else {
        return Err(expired());
    };
    ctx.check_code_budget(user.id).await?;
    if !two_factor::second_factor(&*tx, ctx, &user, code).await? {
        if one_time::count_attempt(&*tx, found.id).await? >= CHALLENGE_ATTEMPTS {
            one_time::spend(&*tx, found.id).await?;
        }
        second_factor_failed(&*tx, ctx, &user).await?;
        tx.commit().await?;
        return Err(wrong_second_factor());
    }
    if !one_time::spend(&*tx, found.id).await? {
        return Err(expired());
    }
    let login = open_session(&*tx, ctx, user, device).await?;
    tx.commit().await?;
    Ok(login)
}

/// Opens a session for `user` (signed in) inside the caller's transaction.
async fn open_session(
    conn: &impl ConnectionTrait,
    ctx: &RequestContext,
    user: users::Model,
    device: Option<String>,
) -> Result<Login> {
    let now = Utc::now();
    let device = device
        .map(|d| crate::domain::text::first_chars(d.trim(), 100).to_owned())
        .filter(|d| !d.is_empty());
    let session = sessions::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user.id),
        device_label: Set(device),
        user_agent: Set(ctx.meta.user_agent.clone()),
        ip: Set(ctx.meta.ip.map(|ip| ip.to_string())),
        created_at: Set(now),
        last_seen_at: Set(now),
        revoked_at: Set(None),
        revoked_reason: Set(None),
    }
    .insert(conn)
    .await?;
    let refresh_token = tokens::issue(conn, ctx, session.id).await?;
    audit::record(
        conn,
        &ctx.meta,
        Some(user.id),
        "login",
        Some(format!("session:{}", session.id)),
        None,
    )
    .await?;
    let keys = ctx.jwt();
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
pub async fn viewer(ctx: &RequestContext) -> Result<Option<users::Model>> {
    let Some(id) = ctx.principal.user_id() else {
        return Ok(None);
    };
    let user = users::Entity::find_by_id(id).one(ctx.db().conn()).await?;
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
pub async fn by_ids(ctx: &RequestContext, ids: &[Uuid]) -> Result<HashMap<Uuid, users::Model>> {
    let select = users::Entity::find();
    super::batch::by_ids(ctx.db(), select, users::Column::Id, ids, |u| u.id).await
}
