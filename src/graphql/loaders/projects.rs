use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use sea_orm::sea_query::{Expr, Func};
use sea_orm::{ColumnTrait, EntityTrait, FromQueryResult, QueryFilter, QuerySelect};
use uuid::Uuid;

use super::LoadError;
use crate::db::Db;
use crate::entity::projects;
use crate::entity::support_tickets::{self, TicketStatus};

/// Projects by id. Visibility is checked by the caller (the loader is shared by all requests).
pub struct ProjectLoader(pub Db);

impl Loader<Uuid> for ProjectLoader {
    type Value = projects::Model;
    type Error = LoadError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows = projects::Entity::find()
            .filter(projects::Column::Id.is_in(keys.iter().copied()))
            .all(self.0.conn())
            .await
            .map_err(Arc::new)?;
        Ok(rows.into_iter().map(|p| (p.id, p)).collect())
    }
}

/// Per project: tickets still open (status `open` or `in_progress`).
pub struct OpenTicketCountLoader(pub Db);

#[derive(FromQueryResult)]
struct CountRow {
    project_id: Uuid,
    n: i64,
}

impl Loader<Uuid> for OpenTicketCountLoader {
    type Value = i64;
    type Error = LoadError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows = support_tickets::Entity::find()
            .select_only()
            .column(support_tickets::Column::ProjectId)
            .column_as(
                Expr::expr(Func::count(Expr::col(support_tickets::Column::Id))),
                "n",
            )
            .filter(support_tickets::Column::ProjectId.is_in(keys.iter().copied()))
            .filter(
                support_tickets::Column::Status
                    .is_in([TicketStatus::Open, TicketStatus::InProgress]),
            )
            .group_by(support_tickets::Column::ProjectId)
            .into_model::<CountRow>()
            .all(self.0.conn())
            .await
            .map_err(Arc::new)?;
        // Every key gets an answer (0 when it has no open tickets) so the request cache is complete.
        let mut counts: HashMap<Uuid, i64> = keys.iter().map(|k| (*k, 0)).collect();
        counts.extend(rows.into_iter().map(|r| (r.project_id, r.n)));
        Ok(counts)
    }
}
