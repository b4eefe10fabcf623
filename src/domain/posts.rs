//! Community posts: written by a user, optionally about a project, tagged with up to ten slugs.
//! DESIGN §8: anyone (signed in or not) reads them; any signed-in user creates them; only the
//! author, staff or admins change or delete them.
//!
//! Tags live twice, kept in step inside the same transaction: as a JSON array in
//! `community_posts.tags` (the read path, no join) and as `community_post_tags` rows (the filter
//! path, indexed by tag).

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Query;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect, Select,
    Set,
};
use uuid::Uuid;

use super::pagination::{self, Direction, Ordering, Page, PageArgs, SortValue};
use super::patch::Patch;
use super::text::{bounded, slug};
use super::{audit, projects, versioned};
use crate::auth::Principal;
use crate::db::Db;
use crate::entity::community_post_tags as post_tags;
use crate::entity::community_posts::{self, Column, Entity, Model};
use crate::error::{Error, FieldError, Result};
use crate::idempotency::{Idempotency, Outcome};
use crate::state::RequestMeta;

pub const MAX_TAGS: usize = 10;
pub const MAX_TAG_LEN: usize = 32;

#[derive(Clone, Debug, Default)]
pub struct PostFilter {
    /// Only posts carrying this tag (normalised like a tag on input).
    pub tag: Option<String>,
    pub project_id: Option<Uuid>,
    pub author_id: Option<Uuid>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PostOrderField {
    #[default]
    CreatedAt,
    UpdatedAt,
}

pub fn ordering(field: PostOrderField, direction: Direction) -> Ordering<Entity> {
    let (name, column, key): (_, _, fn(&Model) -> SortValue) = match field {
        PostOrderField::CreatedAt => ("created_at", Column::CreatedAt, |m| {
            SortValue::Time(m.created_at)
        }),
        PostOrderField::UpdatedAt => ("updated_at", Column::UpdatedAt, |m| {
            SortValue::Time(m.updated_at)
        }),
    };
    Ordering {
        name,
        column,
        id_column: Column::Id,
        direction,
        key,
        id: |m| m.id,
        is_time: true,
    }
}

/// The author, staff and admins may change or delete a post.
pub fn can_write(principal: &Principal, post: &Model) -> bool {
    principal.is_staff() || principal.user_id() == Some(post.author_id)
}

/// The post's tags, in the order the author gave them.
pub fn tags_of(post: &Model) -> Vec<String> {
    serde_json::from_str(&post.tags).unwrap_or_else(|err| {
        tracing::warn!(post = %post.id, error = %err, "unreadable tags column");
        Vec::new()
    })
}

/// Normalises one tag: trimmed, lowercased, then it must be a slug of at most 32 characters.
fn tag(field: &str, raw: &str) -> Result<String, FieldError> {
    slug(field, &raw.trim().to_lowercase(), MAX_TAG_LEN)
}

/// Normalises a tag list: each tag as in [`tag`], duplicates removed (first occurrence kept,
/// order kept), at most ten. Errors point at the offending element (`tags.2`).
pub fn normalize_tags(raw: &[String]) -> Result<Vec<String>, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut tags: Vec<String> = Vec::with_capacity(raw.len().min(MAX_TAGS));
    for (i, t) in raw.iter().enumerate() {
        match tag("tags", t) {
            Ok(t) if !tags.contains(&t) => tags.push(t),
            Ok(_) => {}
            Err(mut e) => {
                e.loc.push(i.to_string());
                errors.push(e);
            }
        }
    }
    if errors.is_empty() && tags.len() > MAX_TAGS {
        errors.push(FieldError::new(
            "tags",
            "value_error.list.max_items",
            format!("at most {MAX_TAGS} distinct tags"),
        ));
    }
    if errors.is_empty() {
        Ok(tags)
    } else {
        Err(errors)
    }
}

fn filtered(filter: &PostFilter) -> Result<Select<Entity>> {
    let mut select = Entity::find();
    if let Some(raw) = &filter.tag {
        let tag = tag("tag", raw).map_err(|e| Error::Validation(vec![e]))?;
        let tagged = Query::select()
            .column(post_tags::Column::PostId)
            .from(post_tags::Entity)
            .and_where(post_tags::Column::Tag.eq(tag))
            .to_owned();
        select = select.filter(Column::Id.in_subquery(tagged));
    }
    if let Some(project) = filter.project_id {
        select = select.filter(Column::ProjectId.eq(project));
    }
    if let Some(author) = filter.author_id {
        select = select.filter(Column::AuthorId.eq(author));
    }
    Ok(select)
}

#[tracing::instrument(skip_all)]
pub async fn list(
    db: &Db,
    filter: &PostFilter,
    order: &Ordering<Entity>,
    args: &PageArgs,
) -> Result<Page<Model>> {
    pagination::paginate(db.conn(), filtered(filter)?, order, args).await
}

#[tracing::instrument(skip_all)]
pub async fn count(db: &Db, filter: &PostFilter) -> Result<u64> {
    Ok(filtered(filter)?.count(db.conn()).await?)
}

/// One post (posts are public).
#[tracing::instrument(skip(db))]
pub async fn get(db: &Db, id: Uuid) -> Result<Model> {
    Entity::find_by_id(id)
        .one(db.conn())
        .await?
        .ok_or_else(|| Error::NotFound("community post".into()))
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct CreatePost {
    pub title: String,
    pub body: String,
    pub tags: Vec<String>,
    pub project_id: Option<Uuid>,
}

#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct UpdatePost {
    pub title: Patch<String>,
    pub body: Patch<String>,
    pub tags: Patch<Vec<String>>,
}

fn title(raw: &str) -> Result<String, FieldError> {
    bounded("title", raw, 1, 200, true)
}

fn body(raw: &str) -> Result<String, FieldError> {
    bounded("body", raw, 1, 20_000, false)
}

fn tags_json(tags: &[String]) -> String {
    serde_json::Value::from(tags.to_vec()).to_string()
}

/// Replaces the post's rows in `community_post_tags` with `tags`.
async fn write_tag_rows(
    conn: &impl ConnectionTrait,
    post_id: Uuid,
    created_at: DateTime<Utc>,
    tags: &[String],
    replace: bool,
) -> Result<()> {
    if replace {
        post_tags::Entity::delete_many()
            .filter(post_tags::Column::PostId.eq(post_id))
            .exec(conn)
            .await?;
    }
    post_tags::Entity::insert_many(tags.iter().map(|t| post_tags::ActiveModel {
        tag: Set(t.clone()),
        post_id: Set(post_id),
        created_at: Set(created_at),
    }))
    .exec_without_returning(conn)
    .await?;
    Ok(())
}

#[tracing::instrument(skip_all)]
pub async fn create(
    db: &Db,
    idem: &Idempotency,
    principal: &Principal,
    meta: &RequestMeta,
    input: CreatePost,
    key: Option<&str>,
) -> Result<(Model, Outcome)> {
    let author = principal.require_user()?;
    let keyed = idem.prepare(principal, meta, "createCommunityPost", key, &input)?;
    let mut errors = Vec::new();
    let title = title(&input.title).map_err(|e| errors.push(e)).ok();
    let body = body(&input.body).map_err(|e| errors.push(e)).ok();
    let tags = normalize_tags(&input.tags)
        .map_err(|e| errors.extend(e))
        .ok();
    if !errors.is_empty() {
        return Err(Error::Validation(errors));
    }
    let tags = tags.unwrap_or_default();
    let now = super::now();
    let model = Model {
        id: Uuid::now_v7(),
        author_id: author,
        project_id: input.project_id,
        title: title.unwrap_or_default(),
        body: body.unwrap_or_default(),
        tags: tags_json(&tags),
        created_at: now,
        updated_at: now,
        version: 1,
    };
    let principal = principal.clone();
    let meta = meta.clone();
    idem.run(db, keyed, move |tx| {
        Box::pin(async move {
            if let Some(project_id) = input.project_id {
                // FOR SHARE: the project cannot be deleted between this check and the insert.
                let project = crate::entity::projects::Entity::find_by_id(project_id)
                    .lock_shared()
                    .one(tx)
                    .await?;
                if !project.is_some_and(|p| projects::can_read(&principal, &p)) {
                    return Err(Error::invalid(
                        "project_id",
                        "value_error.reference",
                        "no such project",
                    ));
                }
            }
            Entity::insert(community_posts::ActiveModel::from(model.clone()))
                .exec_without_returning(tx)
                .await?;
            write_tag_rows(tx, model.id, model.created_at, &tags, false).await?;
            audit::record(
                tx,
                &meta,
                Some(author),
                "post.created",
                Some(format!("post:{}", model.id)),
                None,
            )
            .await?;
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
    patch: UpdatePost,
    expected_version: Option<i32>,
    key: Option<&str>,
) -> Result<(Model, Outcome)> {
    let actor = principal.require_user()?;
    let keyed = idem.prepare(
        principal,
        meta,
        "updateCommunityPost",
        key,
        &(id, &patch, expected_version),
    )?;
    let mut errors = Vec::new();
    let mut check = |r: Result<Option<String>, FieldError>| r.map_err(|e| errors.push(e)).ok();
    let new_title = check(
        patch
            .title
            .required("title")
            .and_then(|t| t.map(|t| title(&t)).transpose()),
    );
    let new_body = check(
        patch
            .body
            .required("body")
            .and_then(|b| b.map(|b| body(&b)).transpose()),
    );
    let new_tags = match patch.tags.required("tags") {
        Ok(Some(raw)) => normalize_tags(&raw)
            .map(Some)
            .map_err(|e| errors.extend(e))
            .ok(),
        Ok(None) => Some(None),
        Err(e) => {
            errors.push(e);
            None
        }
    };
    if !errors.is_empty() {
        return Err(Error::Validation(errors));
    }

    let principal = principal.clone();
    let meta = meta.clone();
    idem.run(db, keyed, move |tx| {
        Box::pin(async move {
            let current = load_for_write(tx, &principal, id, expected_version).await?;
            let mut next = current.clone();
            if let Some(Some(t)) = new_title {
                next.title = t;
            }
            if let Some(Some(b)) = new_body {
                next.body = b;
            }
            let new_tags = new_tags.flatten();
            if let Some(tags) = &new_tags {
                next.tags = tags_json(tags);
            }
            next.updated_at = super::now();
            next.version = current.version + 1;
            let changes = community_posts::ActiveModel {
                title: Set(next.title.clone()),
                body: Set(next.body.clone()),
                tags: Set(next.tags.clone()),
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
            if let Some(tags) = &new_tags {
                write_tag_rows(tx, id, current.created_at, tags, true).await?;
            }
            audit::record(
                tx,
                &meta,
                Some(actor),
                "post.updated",
                Some(format!("post:{id}")),
                None,
            )
            .await?;
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
    // The tag rows would also go by ON DELETE CASCADE; deleting them here keeps the two copies
    // in step whatever the connection's foreign-key settings.
    post_tags::Entity::delete_many()
        .filter(post_tags::Column::PostId.eq(id))
        .exec(&*tx)
        .await?;
    versioned::delete::<Entity, _>(&*tx, Column::Id, id, Column::Version, current.version).await?;
    audit::record(
        &*tx,
        meta,
        Some(actor),
        "post.deleted",
        Some(format!("post:{id}")),
        None,
    )
    .await?;
    tx.commit().await?;
    Ok(current)
}

/// Reads the row inside the write transaction and checks the caller may change it at the version
/// they expect. The write itself is still conditional on that version (see [`versioned`]).
async fn load_for_write(
    conn: &impl ConnectionTrait,
    principal: &Principal,
    id: Uuid,
    expected_version: Option<i32>,
) -> Result<Model> {
    let current = Entity::find_by_id(id)
        .lock_exclusive()
        .one(conn)
        .await?
        .ok_or_else(|| Error::NotFound("community post".into()))?;
    if !can_write(principal, &current) {
        return Err(Error::Forbidden(
            "only the author, staff or an admin may change this post".into(),
        ));
    }
    versioned::expect(expected_version, current.version)?;
    Ok(current)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn tags_are_normalised_deduplicated_and_ordered() {
        let tags = normalize_tags(&strings(&[" Rust ", "help", "rust", "async-io"])).unwrap();
        assert_eq!(tags, ["rust", "help", "async-io"]);
        assert_eq!(normalize_tags(&[]).unwrap(), Vec::<String>::new());
    }

    #[test]
    fn bad_tags_name_their_position() {
        let errors = normalize_tags(&strings(&["ok", "not ok", &"a".repeat(33)])).unwrap_err();
        let locs: Vec<_> = errors.iter().map(|e| e.loc.join(".")).collect();
        assert_eq!(locs, ["tags.1", "tags.2"]);
        assert!(normalize_tags(&strings(&[&"a".repeat(32)])).is_ok());
    }

    #[test]
    fn at_most_ten_distinct_tags() {
        let ten: Vec<String> = (0..10).map(|i| format!("t{i}")).collect();
        assert!(normalize_tags(&ten).is_ok());
        let mut eleven = ten.clone();
        eleven.push("t10".into());
        let errors = normalize_tags(&eleven).unwrap_err();
        assert_eq!(errors[0].loc, ["tags"]);
        // Duplicates do not count against the limit.
        let mut dup = ten;
        dup.push("t0".into());
        assert!(normalize_tags(&dup).is_ok());
    }
}
