//! Single-use account tokens (`account_tokens`): a password-reset or verification link's token,
//! or the sign-in challenge between the password and the second factor. Only the SHA-256 is
//! stored; using one is a conditional update (`used_at IS NULL`), so of two concurrent uses
//! exactly one wins.

use chrono::{TimeDelta, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use super::secrets::{digest, random_token};
use crate::entity::account_tokens::{self, Column, Purpose};
use crate::error::Result;

/// Longest token looked up (ours are 43 characters).
const MAX_TOKEN_LEN: usize = 256;

/// A new token for `user_id`, valid for `ttl`; earlier unused tokens of the same purpose stop
/// working (only the latest link in a mailbox counts).
pub async fn issue(
    conn: &impl ConnectionTrait,
    user_id: Uuid,
    purpose: Purpose,
    ttl: TimeDelta,
) -> Result<String> {
    let now = Utc::now();
    account_tokens::Entity::update_many()
        .col_expr(Column::UsedAt, Expr::value(now))
        .filter(Column::UserId.eq(user_id))
        .filter(Column::Purpose.eq(purpose))
        .filter(Column::UsedAt.is_null())
        .exec(conn)
        .await?;
    let token = random_token();
    account_tokens::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user_id),
        purpose: Set(purpose),
        token_hash: Set(digest(&token)),
        attempts: Set(0),
        created_at: Set(now),
        expires_at: Set(now + ttl),
        used_at: Set(None),
    }
    .insert(conn)
    .await?;
    Ok(token)
}

/// The live (unused, unexpired) token of `purpose`, without using it.
pub async fn find(
    conn: &impl ConnectionTrait,
    token: &str,
    purpose: Purpose,
) -> Result<Option<account_tokens::Model>> {
    let token = token.trim();
    if token.is_empty() || token.len() > MAX_TOKEN_LEN {
        return Ok(None);
    }
    let row = account_tokens::Entity::find()
        .filter(Column::TokenHash.eq(digest(token)))
        .filter(Column::Purpose.eq(purpose))
        .one(conn)
        .await?;
    Ok(row.filter(|t| t.used_at.is_none() && t.expires_at > Utc::now()))
}

/// Uses the token: true for the one caller that did.
pub async fn spend(conn: &impl ConnectionTrait, id: Uuid) -> Result<bool> {
    let won = account_tokens::Entity::update_many()
        .col_expr(Column::UsedAt, Expr::value(Utc::now()))
        .filter(Column::Id.eq(id))
        .filter(Column::UsedAt.is_null())
        .exec(conn)
        .await?
        .rows_affected
        == 1;
    Ok(won)
}

/// Counts a wrong code against a challenge; answers the attempts so far.
pub async fn count_attempt(conn: &impl ConnectionTrait, id: Uuid) -> Result<i32> {
    account_tokens::Entity::update_many()
        .col_expr(Column::Attempts, Expr::col(Column::Attempts).add(1))
        .filter(Column::Id.eq(id))
        .exec(conn)
        .await?;
    let row = account_tokens::Entity::find_by_id(id).one(conn).await?;
    Ok(row.map_or(i32::MAX, |r| r.attempts))
}
