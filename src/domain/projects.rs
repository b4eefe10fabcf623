//! Projects: public or private, owned by a user. Public projects are readable by anyone, private
//! ones by their owner and admins; only the owner or an admin changes them.

use sea_orm::sea_query::{Condition, Expr, ExprTrait, Func, LikeExpr};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect, QueryTrait, Select};
use std::collections::HashMap;

use uuid::Uuid;

use super::batch;
use super::context::{RequestContext, WriteOptions};
use super::listing::Listed;
use super::pagination::{Direction, Ordering, SortValue};
use super::patch::Patch;
use super::text::{Checks, bounded};
use super::versioned::{self, Guarded};
use super::write::{self, Tx};
use crate::auth::Principal;
use crate::bounds::{PROJECT_DESCRIPTION as DESC, PROJECT_NAME};
use crate::entity::projects::{Column, Entity, Model, Visibility};
use crate::error::{Error, Result};
use crate::idempotency::Outcome;

#[derive(Clone, Debug, Default)]
pub struct ProjectFilter {
    /// Case-insensitive substring of the name.
    pub q: Option<String>,
    pub visibility: Option<Visibility>,
    pub owner_id: Option<Uuid>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ProjectOrderField {
    #[default]
    CreatedAt,
    UpdatedAt,
    Name,
}

pub fn ordering(order: Option<(ProjectOrderField, Direction)>) -> Ordering<Entity> {
    let (field, direction) = order.unwrap_or_default();
    match field {
        ProjectOrderField::CreatedAt => Ordering::created(direction),
        ProjectOrderField::UpdatedAt => Ordering::updated(direction),
        ProjectOrderField::Name => Ordering::with_key(
            "name",
            Column::Name,
            |m: &Model| SortValue::Text(m.name.clone()),
            false,
            direction,
        ),
    }
}

/// The projects `principal` may read.
pub fn readable(principal: &Principal) -> Condition {
    match principal {
        Principal::User {
            role: crate::entity::users::Role::Admin,
            ..
        } => Condition::all(),
        Principal::User { id, .. } => Condition::any()
            .add(Column::Visibility.eq(Visibility::Public))
            .add(Column::OwnerId.eq(*id)),
        Principal::Anonymous => Condition::all().add(Column::Visibility.eq(Visibility::Public)),
    }
}

pub fn can_read(principal: &Principal, project: &Model) -> bool {
    project.visibility == Visibility::Public || can_write(principal, project)
}

fn can_write(principal: &Principal, project: &Model) -> bool {
    principal.is_admin() || principal.user_id() == Some(project.owner_id)
}

impl Guarded for Entity {
    fn readable(principal: &Principal, row: &Model) -> bool {
        can_read(principal, row)
    }

    fn writable(principal: &Principal, row: &Model) -> Result<()> {
        match can_write(principal, row) {
            true => Ok(()),
            false => Err(Error::Forbidden(
                "only the owner or an admin may change this project".into(),
            )),
        }
    }
}

/// `%`, `_` and `\` in user input match themselves.
pub fn like_pattern(q: &str) -> String {
    let escaped = q
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

impl Listed for Entity {
    type Filter = ProjectFilter;
    const NOUN: &'static str = "project";
    const ID: Column = Column::Id;

    /// Public projects, and the caller's own private ones (admins: all).
    fn visible(ctx: &RequestContext, filter: &ProjectFilter) -> Result<Select<Entity>> {
        Ok(filtered(&ctx.principal, filter))
    }
}

fn filtered(principal: &Principal, filter: &ProjectFilter) -> Select<Entity> {
    let mut select = Entity::find().filter(readable(principal));
    if let Some(q) = filter.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        let name = Expr::expr(Func::lower(Expr::col((Entity, Column::Name))));
        select = select.filter(name.like(LikeExpr::new(like_pattern(q)).escape('\\')));
    }
    select
        .apply_if(filter.visibility, |q, v| q.filter(Column::Visibility.eq(v)))
        .apply_if(filter.owner_id, |q, id| q.filter(Column::OwnerId.eq(id)))
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct CreateProject {
    pub name: String,
    pub description: Option<String>,
    pub visibility: Option<Visibility>,
}

#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct UpdateProject {
    pub name: Patch<String>,
    pub description: Patch<String>,
    pub visibility: Patch<Visibility>,
}

fn name(raw: &str) -> Result<String, crate::error::FieldError> {
    bounded("name", raw, PROJECT_NAME.min, PROJECT_NAME.max, true)
}

fn description(raw: &str) -> Result<String, crate::error::FieldError> {
    bounded("description", raw, DESC.min, DESC.max, false)
}

#[tracing::instrument(skip_all)]
pub async fn create(
    ctx: &RequestContext,
    input: CreateProject,
    options: &WriteOptions,
) -> Result<(Model, Outcome)> {
    let owner = ctx.principal.require_user()?;
    let mut checks = Checks::default();
    let name = checks.check(name(&input.name));
    let description = checks.check(description(
        input.description.as_deref().unwrap_or_default(),
    ));
    checks.finish()?;
    let now = super::now();
    let model = Model {
        id: Uuid::now_v7(),
        owner_id: owner,
        name: name.unwrap_or_default(),
        description: description.unwrap_or_default(),
        visibility: input.visibility.unwrap_or(Visibility::Private),
        created_at: now,
        updated_at: now,
        version: 1,
    };
    write::keyed(ctx, "createProject", options, &input, move |tx| {
        Box::pin(async move { versioned::insert::<Entity>(tx, model).await })
    })
    .await
}

#[tracing::instrument(skip(ctx, patch, options))]
pub async fn update(
    ctx: &RequestContext,
    id: Uuid,
    patch: UpdateProject,
    options: &WriteOptions,
) -> Result<(Model, Outcome)> {
    ctx.principal.require_user()?;
    let mut checks = Checks::default();
    let new_name = checks.check(
        patch
            .name
            .clone()
            .required("name")
            .and_then(|n| n.map(|n| name(&n)).transpose()),
    );
    let new_description = checks.check(
        patch
            .description
            .clone()
            .required("description")
            .and_then(|d| d.map(|d| description(&d)).transpose()),
    );
    let new_visibility = checks.check(patch.visibility.clone().required("visibility"));
    checks.finish()?;
    let expected = options.expected_version;
    let input = (id, &patch, expected);
    write::keyed(ctx, "updateProject", options, &input, move |tx| {
        Box::pin(async move {
            let current = versioned::lock::<Entity>(tx, id, expected).await?;
            let mut next = current.clone();
            if let Some(Some(n)) = new_name {
                next.name = n;
            }
            if let Some(Some(d)) = new_description {
                next.description = d;
            }
            if let Some(Some(v)) = new_visibility {
                next.visibility = v;
            }
            versioned::save::<Entity>(tx, &current, next).await
        })
    })
    .await
}

/// A new ticket's or post's `project_id`: the project must exist and be readable by the caller.
/// Read `FOR SHARE`, so it cannot be deleted between this check and the referencing insert.
pub async fn check_reference(tx: Tx<'_>, project_id: Option<Uuid>) -> Result<()> {
    let Some(project_id) = project_id else {
        return Ok(());
    };
    let project = Entity::find_by_id(project_id)
        .lock_shared()
        .one(tx.conn)
        .await?;
    match project.is_some_and(|p| can_read(&tx.ctx.principal, &p)) {
        true => Ok(()),
        false => Err(Error::invalid(
            "project_id",
            "value_error.reference",
            "no such project",
        )),
    }
}

/// Projects by id, for relations and `node`: only those the caller may read.
#[tracing::instrument(skip_all, fields(ids = ids.len()))]
pub async fn by_ids(ctx: &RequestContext, ids: &[Uuid]) -> Result<HashMap<Uuid, Model>> {
    let select = Entity::find().filter(readable(&ctx.principal));
    batch::by_ids(ctx.db(), select, Column::Id, ids, |row| row.id).await
}
