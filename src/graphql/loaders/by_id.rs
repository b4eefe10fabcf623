//! Rows by primary key, for `node`/`nodes` and relations.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::LoadError;
use crate::db::Db;
use crate::entity::{community_posts, support_tickets};

/// Support tickets by id. Readability is checked by the caller.
pub struct TicketLoader(pub Db);

impl Loader<Uuid> for TicketLoader {
    type Value = support_tickets::Model;
    type Error = LoadError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows = support_tickets::Entity::find()
            .filter(support_tickets::Column::Id.is_in(keys.iter().copied()))
            .all(self.0.conn())
            .await
            .map_err(Arc::new)?;
        Ok(rows.into_iter().map(|t| (t.id, t)).collect())
    }
}

/// Community posts by id (public).
pub struct PostLoader(pub Db);

impl Loader<Uuid> for PostLoader {
    type Value = community_posts::Model;
    type Error = LoadError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows = community_posts::Entity::find()
            .filter(community_posts::Column::Id.is_in(keys.iter().copied()))
            .all(self.0.conn())
            .await
            .map_err(Arc::new)?;
        Ok(rows.into_iter().map(|p| (p.id, p)).collect())
    }
}

/// Status events by id (public).
pub struct StatusEventLoader(pub Db);

impl Loader<Uuid> for StatusEventLoader {
    type Value = crate::entity::status_events::Model;
    type Error = LoadError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        use crate::entity::status_events;
        let rows = status_events::Entity::find()
            .filter(status_events::Column::Id.is_in(keys.iter().copied()))
            .all(self.0.conn())
            .await
            .map_err(Arc::new)?;
        Ok(rows.into_iter().map(|e| (e.id, e)).collect())
    }
}
