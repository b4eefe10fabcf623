//! Community posts: written by a user, optionally about a project, tagged with up to ten slugs.
//! Anyone (signed in or not) reads them; any signed-in user creates them; only the author, staff or
//! admins change or delete them.
//!
//! Tags live twice, kept in step inside the same transaction: as a JSON array in
//! `community_posts.tags` (the read path, no join) and as `community_post_tags` rows (the filter
//! path, indexed by tag).

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Query;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryTrait, Select, Set,
    Statement, Value,
};
use std::collections::HashMap;
use uuid::Uuid;

use super::batch;
use super::context::{RequestContext, WriteOptions};
use super::listing::Listed;
use super::pagination::{Direction, Ordering};
use super::patch::Patch;
use super::projects;
use super::text::{bounded, slug};
use super::versioned::{self, Guarded};
use super::write::{self, Tx};
use crate::auth::Principal;
use crate::bounds::{BODY, TITLE};
use crate::entity::community_post_tags as post_tags;
use crate::entity::community_posts::{Column, Entity, Model};
use crate::error::{Error, FieldError, Result};
use crate::idempotency::Outcome;
use futures::future::BoxFuture;

pub use crate::bounds::{MAX_TAGS, TAG_MAX as MAX_TAG_LEN};

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

pub fn ordering(order: Option<(PostOrderField, Direction)>) -> Ordering<Entity> {
    let (field, direction) = order.unwrap_or_default();
    match field {
        PostOrderField::CreatedAt => Ordering::created(direction),
        PostOrderField::UpdatedAt => Ordering::updated(direction),
    }
}

/// The author, staff and admins may change or delete a post.
pub fn can_write(principal: &Principal, post: &Model) -> bool {
    principal.is_staff() || principal.user_id() == Some(post.author_id)
}

impl Guarded for Entity {
    /// Posts are public.
    fn readable(_: &Principal, _: &Model) -> bool {
        true
    }

    fn writable(principal: &Principal, row: &Model) -> Result<()> {
        match can_write(principal, row) {
            true => Ok(()),
            false => Err(Error::Forbidden(
                "only the author, staff or an admin may change this post".into(),
            )),
        }
    }

    /// The tag rows would also go by ON DELETE CASCADE; deleting them here keeps the two
    /// copies in step whatever the connection's foreign-key settings.
    fn on_delete<'t>(tx: Tx<'t>, row: &'t Model) -> BoxFuture<'t, Result<()>> {
        Box::pin(async move {
            post_tags::Entity::delete_many()
                .filter(post_tags::Column::PostId.eq(row.id))
                .exec(tx.conn)
                .await?;
            Ok(())
        })
    }
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

impl Listed for Entity {
    type Filter = PostFilter;
    const NOUN: &'static str = "community post";
    const ID: Column = Column::Id;

    /// Posts are public.
    fn visible(_: &RequestContext, filter: &PostFilter) -> Result<Select<Entity>> {
        filtered(filter)
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
    Ok(select
        .apply_if(filter.project_id, |q, id| {
            q.filter(Column::ProjectId.eq(id))
        })
        .apply_if(filter.author_id, |q, id| q.filter(Column::AuthorId.eq(id))))
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
    bounded("title", raw, TITLE.min, TITLE.max, true)
}

fn body(raw: &str) -> Result<String, FieldError> {
    bounded("body", raw, BODY.min, BODY.max, false)
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
    ctx: &RequestContext,
    input: CreatePost,
    options: &WriteOptions,
) -> Result<(Model, Outcome)> {
    let author = ctx.principal.require_user()?;
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
    write::keyed(ctx, "createCommunityPost", options, &input, move |tx| {
        Box::pin(async move {
            projects::check_reference(tx, model.project_id).await?;
            let model = versioned::insert::<Entity>(tx, model).await?;
            write_tag_rows(tx.conn, model.id, model.created_at, &tags, false).await?;
            Ok(model)
        })
    })
    .await
}

#[tracing::instrument(skip(ctx, patch, options))]
pub async fn update(
    ctx: &RequestContext,
    id: Uuid,
    patch: UpdatePost,
    options: &WriteOptions,
) -> Result<(Model, Outcome)> {
    ctx.principal.require_user()?;
    let mut errors = Vec::new();
    let mut check = |r: Result<Option<String>, FieldError>| r.map_err(|e| errors.push(e)).ok();
    let new_title = check(
        patch
            .title
            .clone()
            .required("title")
            .and_then(|t| t.map(|t| title(&t)).transpose()),
    );
    let new_body = check(
        patch
            .body
            .clone()
            .required("body")
            .and_then(|b| b.map(|b| body(&b)).transpose()),
    );
    let new_tags = match patch.tags.clone().required("tags") {
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
    let expected = options.expected_version;
    let input = (id, &patch, expected);
    write::keyed(ctx, "updateCommunityPost", options, &input, move |tx| {
        Box::pin(async move {
            let current = versioned::lock::<Entity>(tx, id, expected).await?;
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
            let next = versioned::save::<Entity>(tx, &current, next).await?;
            if let Some(tags) = &new_tags {
                write_tag_rows(tx.conn, id, current.created_at, tags, true).await?;
            }
            Ok(next)
        })
    })
    .await
}

/// Posts by id, for `node` (posts are public).
#[tracing::instrument(skip_all, fields(ids = ids.len()))]
pub async fn by_ids(ctx: &RequestContext, ids: &[Uuid]) -> Result<HashMap<Uuid, Model>> {
    batch::by_ids(ctx.db(), Entity::find(), Column::Id, ids, |row| row.id).await
}

/// Per project: the number of posts about it, for every id asked (posts are public).
#[tracing::instrument(skip_all, fields(ids = ids.len()))]
pub async fn counts_for_projects(ctx: &RequestContext, ids: &[Uuid]) -> Result<HashMap<Uuid, i64>> {
    batch::count_per(ctx.db(), Entity::find(), Column::ProjectId, ids).await
}

/// How many posts [`latest_for_projects`] returns per project.
pub const LATEST_POSTS: usize = 3;

/// The query for `n` project ids in `backend`'s placeholder style. PostgreSQL reads at most
/// [`LATEST_POSTS`] index entries per project (`LATERAL … LIMIT`), however many posts a
/// project has; SQLite, which has no `LATERAL`, ranks them with `ROW_NUMBER()` (≥ 3.25).
fn latest_posts_sql(backend: DbBackend, n: usize) -> String {
    // The model's own columns, in its order: the rows are read by position.
    let columns = <Model as crate::db::Positional>::COLUMNS.join(", ");
    if backend == DbBackend::Postgres {
        let keys: Vec<String> = (1..=n).map(|i| format!("(${i}::uuid)")).collect();
        return format!(
            "SELECT {columns} FROM (VALUES {}) AS k(project) CROSS JOIN LATERAL \
             (SELECT {columns} FROM community_posts WHERE project_id = k.project \
             ORDER BY created_at DESC, id DESC LIMIT {LATEST_POSTS}) latest \
             ORDER BY project_id, created_at DESC, id DESC",
            keys.join(", ")
        );
    }
    format!(
        "SELECT {columns} FROM (SELECT {columns}, ROW_NUMBER() OVER (PARTITION BY project_id \
         ORDER BY created_at DESC, id DESC) AS rn FROM community_posts WHERE project_id IN ({})) \
         ranked WHERE rn <= {LATEST_POSTS} ORDER BY project_id, created_at DESC, id DESC",
        vec!["?"; n].join(", ")
    )
}

/// Per project: its [`LATEST_POSTS`] newest posts (created_at DESC, id DESC), for a whole batch
/// of projects in one statement (posts are public); empty for projects without posts.
#[tracing::instrument(skip_all, fields(ids = ids.len()))]
pub async fn latest_for_projects(
    ctx: &RequestContext,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, Vec<Model>>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let backend = ctx.db().backend();
    let values: Vec<Value> = ids.iter().map(|k| (*k).into()).collect();
    let stmt =
        Statement::from_sql_and_values(backend, latest_posts_sql(backend, ids.len()), values);
    let posts: Vec<Model> = ctx.db().all_statement(stmt).await?;
    let mut out: HashMap<Uuid, Vec<Model>> = ids.iter().map(|k| (*k, Vec::new())).collect();
    for post in posts {
        if let Some(project) = post.project_id {
            out.entry(project).or_default().push(post);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn placeholders_follow_the_backend() {
        let pg = latest_posts_sql(DbBackend::Postgres, 3);
        assert!(
            pg.contains("VALUES ($1::uuid), ($2::uuid), ($3::uuid)"),
            "{pg}"
        );
        assert!(pg.contains("LIMIT 3"), "{pg}");
        let lite = latest_posts_sql(DbBackend::Sqlite, 2);
        assert!(lite.contains("IN (?, ?)"), "{lite}");
        assert!(lite.contains("rn <= 3"), "{lite}");
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
