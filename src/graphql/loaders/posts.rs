use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use sea_orm::sea_query::{Expr, Func};
use sea_orm::{
    ColumnTrait, DbBackend, EntityTrait, FromQueryResult, QueryFilter, QuerySelect, Statement,
    Value,
};
use uuid::Uuid;

use super::LoadError;
use crate::db::Db;
use crate::entity::community_posts::{self, Column, Entity};

/// How many posts [`LatestPostsLoader`] returns per project.
pub const LATEST_POSTS: usize = 3;

/// Per project: the number of community posts about it.
pub struct PostCountLoader(pub Db);

#[derive(FromQueryResult)]
struct CountRow {
    project_id: Uuid,
    n: i64,
}

impl Loader<Uuid> for PostCountLoader {
    type Value = i64;
    type Error = LoadError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows = Entity::find()
            .select_only()
            .column(Column::ProjectId)
            .column_as(Expr::expr(Func::count(Expr::col(Column::Id))), "n")
            .filter(Column::ProjectId.is_in(keys.iter().copied()))
            .group_by(Column::ProjectId)
            .into_model::<CountRow>()
            .all(self.0.conn())
            .await
            .map_err(Arc::new)?;
        // Every key gets an answer so the request cache is complete.
        let mut counts: HashMap<Uuid, i64> = keys.iter().map(|k| (*k, 0)).collect();
        counts.extend(rows.into_iter().map(|r| (r.project_id, r.n)));
        Ok(counts)
    }
}

/// Per project: its [`LATEST_POSTS`] newest posts (created_at DESC, id DESC), for a whole batch
/// of projects in one statement. Projects without posts are absent from the map.
pub struct LatestPostsLoader(pub Db);

/// The ranked query for `n` project ids in `backend`'s placeholder style. `ROW_NUMBER()` works on
/// PostgreSQL and on SQLite ≥ 3.25.
fn latest_posts_sql(backend: DbBackend, n: usize) -> String {
    let placeholders: Vec<String> = (1..=n)
        .map(|i| match backend {
            DbBackend::Postgres => format!("${i}"),
            _ => "?".to_owned(),
        })
        .collect();
    format!(
        "SELECT id, author_id, project_id, title, body, tags, created_at, updated_at, version \
         FROM (SELECT id, author_id, project_id, title, body, tags, created_at, updated_at, \
         version, ROW_NUMBER() OVER (PARTITION BY project_id ORDER BY created_at DESC, id DESC) \
         AS rn FROM community_posts WHERE project_id IN ({})) ranked \
         WHERE rn <= {LATEST_POSTS} ORDER BY project_id, created_at DESC, id DESC",
        placeholders.join(", ")
    )
}

impl Loader<Uuid> for LatestPostsLoader {
    type Value = Vec<community_posts::Model>;
    type Error = LoadError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        if keys.is_empty() {
            return Ok(HashMap::new());
        }
        let backend = self.0.backend();
        let values: Vec<Value> = keys.iter().map(|k| (*k).into()).collect();
        let stmt =
            Statement::from_sql_and_values(backend, latest_posts_sql(backend, keys.len()), values);
        let rows = Entity::find()
            .from_raw_sql(stmt)
            .all(self.0.conn())
            .await
            .map_err(Arc::new)?;
        let mut out: HashMap<Uuid, Self::Value> = keys.iter().map(|k| (*k, Vec::new())).collect();
        for post in rows {
            if let Some(project) = post.project_id {
                out.entry(project).or_default().push(post);
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_follow_the_backend() {
        let pg = latest_posts_sql(DbBackend::Postgres, 3);
        assert!(pg.contains("IN ($1, $2, $3)"), "{pg}");
        let lite = latest_posts_sql(DbBackend::Sqlite, 2);
        assert!(lite.contains("IN (?, ?)"), "{lite}");
        assert!(lite.contains("rn <= 3"), "{lite}");
    }
}
