//! Projects: public or private, owned by a user. DESIGN §8: public projects are readable by
//! anyone, private ones by their owner and admins; only the owner or an admin changes them.

use sea_orm::sea_query::{Condition, Expr, ExprTrait, Func, LikeExpr};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect, Select, Set};
use uuid::Uuid;

use super::pagination::{self, Direction, Ordering, Page, PageArgs, SortValue};
use super::patch::Patch;
use super::text::{Checks, bounded};
use super::{audit, versioned};
use crate::auth::Principal;
use crate::db::Db;
use crate::entity::projects::{self, Column, Entity, Model, Visibility};
use crate::error::{Error, Result};
use crate::idempotency::{Idempotency, Outcome};
use crate::state::RequestMeta;

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

pub fn ordering(field: ProjectOrderField, direction: Direction) -> Ordering<Entity> {
    let (name, column, key, is_time): (_, _, fn(&Model) -> SortValue, _) = match field {
        ProjectOrderField::CreatedAt => (
            "created_at",
            Column::CreatedAt,
            |m| SortValue::Time(m.created_at),
            true,
        ),
        ProjectOrderField::UpdatedAt => (
            "updated_at",
            Column::UpdatedAt,
            |m| SortValue::Time(m.updated_at),
            true,
        ),
        ProjectOrderField::Name => (
            "name",
            Column::Name,
            |m| SortValue::Text(m.name.clone()),
            false,
        ),
    };
    Ordering {
        name,
        column,
        id_column: Column::Id,
        direction,
        key,
        id: |m| m.id,
        is_time,
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

/// `%`, `_` and `\` in user input match themselves.
pub fn like_pattern(q: &str) -> String {
    let escaped = q
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

fn filtered(principal: &Principal, filter: &ProjectFilter) -> Select<Entity> {
    let mut select = Entity::find().filter(readable(principal));
    if let Some(q) = filter.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        let name = Expr::expr(Func::lower(Expr::col((Entity, Column::Name))));
        select = select.filter(name.like(LikeExpr::new(like_pattern(q)).escape('\\')));
    }
    if let Some(v) = filter.visibility {
        select = select.filter(Column::Visibility.eq(v));
    }
    if let Some(owner) = filter.owner_id {
        select = select.filter(Column::OwnerId.eq(owner));
    }
    select
}

#[tracing::instrument(skip_all)]
pub async fn list(
    db: &Db,
    principal: &Principal,
    filter: &ProjectFilter,
    order: &Ordering<Entity>,
    args: &PageArgs,
) -> Result<Page<Model>> {
    pagination::paginate(db.conn(), filtered(principal, filter), order, args).await
}

#[tracing::instrument(skip_all)]
pub async fn count(db: &Db, principal: &Principal, filter: &ProjectFilter) -> Result<u64> {
    Ok(filtered(principal, filter).count(db.conn()).await?)
}

/// One project; `NotFound` also when it exists but is not readable (no existence leak).
#[tracing::instrument(skip(db, principal))]
pub async fn get(db: &Db, principal: &Principal, id: Uuid) -> Result<Model> {
    Entity::find_by_id(id)
        .filter(readable(principal))
        .one(db.conn())
        .await?
        .ok_or_else(|| Error::NotFound("project".into()))
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
    bounded("name", raw, 1, 120, true)
}

fn description(raw: &str) -> Result<String, crate::error::FieldError> {
    bounded("description", raw, 0, 5_000, false)
}

#[tracing::instrument(skip_all)]
pub async fn create(
    db: &Db,
    idem: &Idempotency,
    principal: &Principal,
    meta: &RequestMeta,
    input: CreateProject,
    key: Option<&str>,
) -> Result<(Model, Outcome)> {
    let owner = principal.require_user()?;
    let mut checks = Checks::default();
    let name = checks.check(name(&input.name));
    let description = checks.check(description(
        input.description.as_deref().unwrap_or_default(),
    ));
    checks.finish()?;
    let keyed = idem.prepare(principal, meta, "createProject", key, &input)?;
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
    let meta = meta.clone();
    idem.run(db, keyed, move |tx| {
        Box::pin(async move {
            Entity::insert(projects::ActiveModel::from(model.clone()))
                .exec_without_returning(tx)
                .await?;
            let target = Some(format!("project:{}", model.id));
            audit::record(tx, &meta, Some(owner), "project.created", target, None).await?;
            Ok(model)
        })
    })
    .await
}

#[tracing::instrument(skip(db, idem, principal, meta, patch, key))]
#[allow(clippy::too_many_arguments)]
pub async fn update(
    db: &Db,
    idem: &Idempotency,
    principal: &Principal,
    meta: &RequestMeta,
    id: Uuid,
    patch: UpdateProject,
    expected_version: Option<i32>,
    key: Option<&str>,
) -> Result<(Model, Outcome)> {
    let actor = principal.require_user()?;
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
    let keyed = idem.prepare(
        principal,
        meta,
        "updateProject",
        key,
        &(id, &patch, expected_version),
    )?;
    let principal = principal.clone();
    let meta = meta.clone();
    idem.run(db, keyed, move |tx| {
        Box::pin(async move {
            let current = load_for_write(tx, &principal, id, expected_version).await?;
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
            next.updated_at = super::now();
            next.version = current.version + 1;
            let changes = projects::ActiveModel {
                name: Set(next.name.clone()),
                description: Set(next.description.clone()),
                visibility: Set(next.visibility),
                updated_at: Set(next.updated_at),
                version: Set(next.version),
                ..Default::default()
            };
            versioned::update::<Entity, _>(
                tx,
                changes,
                Column::Id,
                id,
                Column::Version,
                current.version,
            )
            .await?;
            let target = Some(format!("project:{id}"));
            audit::record(tx, &meta, Some(actor), "project.updated", target, None).await?;
            Ok(next)
        })
    })
    .await
}

#[tracing::instrument(skip(db, principal, meta))]
pub async fn delete(
    db: &Db,
    principal: &Principal,
    meta: &RequestMeta,
    id: Uuid,
    expected_version: Option<i32>,
) -> Result<Model> {
    let actor = principal.require_user()?;
    let tx = db.begin_write().await?;
    let current = load_for_write(&*tx, principal, id, expected_version).await?;
    versioned::delete::<Entity, _>(&*tx, Column::Id, id, Column::Version, current.version).await?;
    audit::record(
        &*tx,
        meta,
        Some(actor),
        "project.deleted",
        Some(format!("project:{id}")),
        None,
    )
    .await?;
    tx.commit().await?;
    Ok(current)
}

/// Reads the row inside the write transaction and checks the caller may change it at the version
/// they expect. The write itself is still conditional on that version (see [`versioned`]).
async fn load_for_write(
    conn: &impl sea_orm::ConnectionTrait,
    principal: &Principal,
    id: Uuid,
    expected_version: Option<i32>,
) -> Result<Model> {
    let current = Entity::find_by_id(id).lock_exclusive().one(conn).await?;
    let current = current
        .filter(|p| can_read(principal, p))
        .ok_or_else(|| Error::NotFound("project".into()))?;
    if !can_write(principal, &current) {
        return Err(Error::Forbidden(
            "only the owner or an admin may change this project".into(),
        ));
    }
    versioned::expect(expected_version, current.version)?;
    Ok(current)
}
