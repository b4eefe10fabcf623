use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::LoadError;
use crate::db::Db;
use crate::entity::users;

/// Users by id.
pub struct UserLoader(pub Db);

impl Loader<Uuid> for UserLoader {
    type Value = users::Model;
    type Error = LoadError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows = users::Entity::find()
            .filter(users::Column::Id.is_in(keys.iter().copied()))
            .all(self.0.conn())
            .await
            .map_err(Arc::new)?;
        Ok(rows.into_iter().map(|u| (u.id, u)).collect())
    }
}
