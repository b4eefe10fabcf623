//! The statement behind [`listing::get`](super::listing::get), built once per resource, caller
//! shape and backend, then reused with the request's ids put in.
//!
//! Building it (the resource's visibility rule as a SeaORM select, then sea-query's SQL text)
//! was 12 % of a `GET /api/v1/projects/{id}` request's instructions, for a statement whose
//! text depends only on the resource and on the kind of caller. The template is built through
//! the resource's own [`Listed::visible`] for a caller of the same kind whose ids are random
//! sentinels, so authorization stays in that one rule; debug builds (the tests) compare every
//! reuse with a freshly built statement.

use std::any::TypeId;
use std::sync::LazyLock;

use sea_orm::{ColumnTrait, DbBackend, QueryFilter, QuerySelect, QueryTrait, Statement, Value};
use uuid::Uuid;

use super::context::RequestContext;
use super::listing::Listed;
use crate::auth::Principal;
use crate::db::templates::{self, Templates};
use crate::entity::users::Role;
use crate::error::Result;

/// Stand-ins for the row's and the caller's id while a template is built; fresh per process,
/// so no stored id can be mistaken for one.
static ROW: LazyLock<Uuid> = LazyLock::new(Uuid::new_v4);
static CALLER: LazyLock<Uuid> = LazyLock::new(Uuid::new_v4);

/// What a visibility rule may depend on: whether the caller is signed in, and their role.
type Shape = Option<Role>;

type Key = (TypeId, Shape, DbBackend);

/// At most (resources × roles + 1) × backends entries.
static TEMPLATES: Templates<Key> = Templates::new();

/// `SELECT … WHERE <visible to cx> AND id = $id LIMIT 1` for `E`.
pub fn statement<E: Listed + 'static>(cx: &RequestContext, id: Uuid) -> Result<Statement> {
    let backend = cx.db().backend();
    let (shape, caller) = match &cx.principal {
        Principal::Anonymous => (None, None),
        Principal::User { id, role, .. } => (Some(*role), Some(*id)),
    };
    let key = (TypeId::of::<E>(), shape, backend);
    let template = TEMPLATES.get_or_build(key, || {
        let stand_in = match shape {
            None => Principal::Anonymous,
            Some(role) => Principal::User {
                id: *CALLER,
                role,
                session_id: Uuid::nil(),
            },
        };
        // A refusal (say, a resource only signed-in callers read) is the caller's too.
        build::<E>(&cx.with_principal(stand_in), *ROW, backend)
    })?;
    let stmt = fill(template, id, caller);
    debug_assert_eq!(
        Some(&stmt),
        build::<E>(cx, id, backend).ok().as_ref(),
        "the cached statement for {} differs from a fresh one: its visibility rule depends \
         on more than the caller's role and id",
        E::NOUN
    );
    Ok(stmt)
}

fn build<E: Listed>(cx: &RequestContext, id: Uuid, backend: DbBackend) -> Result<Statement> {
    Ok(E::visible(cx, &E::Filter::default())?
        .filter(E::ID.eq(id))
        .limit(1)
        .build(backend))
}

fn fill(template: Statement, id: Uuid, caller: Option<Uuid>) -> Statement {
    // An anonymous caller's template has no caller stand-in: it stays as it is.
    let caller = caller.unwrap_or(*CALLER);
    templates::fill(
        template,
        [
            (Value::from(*ROW), Value::from(id)),
            (Value::from(*CALLER), Value::from(caller)),
        ],
    )
}
