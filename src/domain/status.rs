//! Service status (`status_events`, `GET /status`): an append-only history of status events per
//! service, and each service's current state derived from it. Anyone reads; staff and admins
//! record.
//!
//! A service's status is its latest event (latest `created_at`, ties broken by the larger id,
//! i.e. the later UUIDv7). `since` is when the current run of that status began: the first event
//! of the unbroken sequence of equal statuses that ends with the latest event. The table
//! `service_statuses` holds that state per service and is updated in the same transaction as
//! each event insert, with one atomic upsert that only moves forward, so reading the status page
//! costs O(services) and never scans the history.

use chrono::{DateTime, SubsecRound, Utc};
use sea_orm::sea_query::{Alias, Condition, Expr, ExprTrait, OnConflict};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Select,
};
use serde_json::json;
use uuid::Uuid;

use super::audit;
use super::batch;
use super::context::{RequestContext, RequestMeta, WriteOptions};
use super::listing::Listed;
use super::pagination::{Direction, Ordering};
use super::status_feed::StatusFeed;
use super::text::{Checks, bounded, slug};
use super::write;
use crate::db::Db;
use crate::entity::service_statuses::{self, Column as StateColumn, Entity as StateEntity};
use crate::entity::status_events::{self, Column, Entity, Model, ServiceStatus};
use crate::error::{Error, FieldError, Result};
use crate::idempotency::Outcome;
use std::collections::HashMap;

/// Longest service name.
pub use crate::bounds::SERVICE_NAME_MAX as SERVICE_MAX;
/// Longest event message.
pub const MESSAGE_MAX: usize = crate::bounds::STATUS_MESSAGE.max;

#[derive(Clone, Debug, Default)]
pub struct StatusEventFilter {
    /// Only events of this service.
    pub service: Option<String>,
}

/// Events are listed by time (ties broken by id).
pub fn ordering(direction: Option<Direction>) -> Ordering<Entity> {
    Ordering::created(direction.unwrap_or_default())
}

fn service(raw: &str) -> Result<String, FieldError> {
    slug("service", raw, SERVICE_MAX)
}

fn message(raw: &str) -> Result<String, FieldError> {
    bounded("message", raw, 0, MESSAGE_MAX, false)
}

/// Checks a service name given as an argument (a filter, a subscription): `field` names it.
pub fn service_argument(field: &str, raw: &str) -> Result<String> {
    service(raw).map_err(|e| {
        Error::Validation(vec![FieldError {
            loc: field.split('.').map(str::to_owned).collect(),
            ..e
        }])
    })
}

impl Listed for Entity {
    type Filter = StatusEventFilter;
    const NOUN: &'static str = "status event";
    const ID: Column = Column::Id;

    /// Status events are public.
    fn visible(_: &RequestContext, filter: &StatusEventFilter) -> Result<Select<Entity>> {
        filtered(filter)
    }
}

fn filtered(filter: &StatusEventFilter) -> Result<Select<Entity>> {
    let mut select = Entity::find();
    if let Some(s) = &filter.service {
        select = select.filter(Column::Service.eq(service_argument("filter.service", s)?));
    }
    Ok(select)
}

/// The status page: every service's current state and the worst of them.
#[derive(Clone, Debug)]
pub struct StatusSummary {
    /// The most severe service status; operational when nothing was ever recorded.
    pub overall: ServiceStatus,
    /// Sorted by service name.
    pub services: Vec<service_statuses::Model>,
    /// The latest event's time; `None` when nothing was ever recorded.
    pub updated_at: Option<DateTime<Utc>>,
}

/// The current status of every service (readable by anyone). One query, O(services).
#[tracing::instrument(skip_all)]
pub async fn summary(ctx: &RequestContext) -> Result<StatusSummary> {
    let services = StateEntity::find()
        .order_by_asc(StateColumn::Service)
        .all(ctx.db().conn())
        .await?;
    Ok(StatusSummary {
        overall: services
            .iter()
            .map(|s| s.status)
            .max()
            .unwrap_or(ServiceStatus::Operational),
        updated_at: services.iter().map(|s| s.updated_at).max(),
        services,
    })
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct CreateStatusEvent {
    pub service: String,
    pub status: ServiceStatus,
    pub message: Option<String>,
}

/// Records a status event now, as the caller (staff and admins only), and announces it to the
/// `statusChanged` subscribers of every server process once it commits.
#[tracing::instrument(skip_all)]
pub async fn create(
    ctx: &RequestContext,
    input: CreateStatusEvent,
    options: &WriteOptions,
) -> Result<(Model, Outcome)> {
    let actor = ctx.principal.require_user()?;
    if !ctx.principal.is_staff() {
        return Err(Error::Forbidden(
            "only staff and admins may record status events".into(),
        ));
    }
    let mut checks = Checks::default();
    let service = checks.check(service(&input.service));
    let message = checks.check(message(input.message.as_deref().unwrap_or_default()));
    checks.finish()?;
    let event = Model {
        id: Uuid::now_v7(),
        service: service.unwrap_or_default(),
        status: input.status,
        message: message.unwrap_or_default(),
        created_by: Some(actor),
        created_at: super::now(),
    };
    let (event, outcome) = write::keyed(ctx, "createStatusEvent", options, &input, move |tx| {
        Box::pin(async move { record_in(tx.conn, tx.ctx.status_feed(), &tx.ctx.meta, event).await })
    })
    .await?;
    if outcome == Outcome::Stored {
        ctx.status_feed().committed(event.clone());
    }
    Ok((event, outcome))
}

/// Status events by id, for `node` (readable by anyone).
#[tracing::instrument(skip_all, fields(ids = ids.len()))]
pub async fn by_ids(ctx: &RequestContext, ids: &[Uuid]) -> Result<HashMap<Uuid, Model>> {
    batch::by_ids(ctx.db(), Entity::find(), Column::Id, ids, |row| row.id).await
}

/// Records an event exactly as given (id, time and author included), with no authorization
/// check: for trusted callers such as history imports and tests. The current state stays exact
/// even when the event is older than the latest one already recorded for its service.
#[tracing::instrument(skip_all)]
pub async fn import(db: &Db, feed: &StatusFeed, meta: &RequestMeta, event: Model) -> Result<Model> {
    let mut checks = Checks::default();
    let service = checks.check(service(&event.service));
    let message = checks.check(message(&event.message));
    checks.finish()?;
    let event = Model {
        service: service.unwrap_or_default(),
        message: message.unwrap_or_default(),
        // The precision both databases store.
        created_at: event.created_at.trunc_subsecs(6),
        ..event
    };
    record(db, feed, meta, event).await
}

/// One transaction: the event, the service's current state, the audit event and (PostgreSQL) the
/// cross-process notification. Subscribers in this process hear of it after the commit.
async fn record(db: &Db, feed: &StatusFeed, meta: &RequestMeta, event: Model) -> Result<Model> {
    let tx = db.begin_write().await?;
    let event = record_in(&*tx, feed, meta, event).await?;
    tx.commit().await?;
    feed.committed(event.clone());
    Ok(event)
}

/// The writes of [`record`], inside the caller's transaction.
async fn record_in(
    tx: &impl ConnectionTrait,
    feed: &StatusFeed,
    meta: &RequestMeta,
    event: Model,
) -> Result<Model> {
    Entity::insert(status_events::ActiveModel::from(event.clone()))
        .exec_without_returning(tx)
        .await?;
    if !advance(tx, &event).await? {
        resync_since(tx, &event.service).await?;
    }
    audit::record(
        tx,
        meta,
        event.created_by,
        "status.recorded",
        Some(format!("status_event:{}", event.id)),
        Some(json!({ "service": event.service, "status": event.status })),
    )
    .await?;
    feed.announce(tx, &event).await?;
    Ok(event)
}

/// Makes `event` the service's current state when it is the latest event: one atomic upsert that
/// keeps `since` while the status stays the same and only ever moves forward in
/// (`created_at`, `id`) order, so concurrent writers (other replicas) cannot move it back. The
/// conflicting row is locked either way, which serialises writers per service until commit.
/// Returns false when a later event is already current (`event` arrived out of order).
async fn advance(conn: &impl ConnectionTrait, event: &Model) -> Result<bool> {
    let excluded = |c: StateColumn| Expr::col((Alias::new("excluded"), c));
    let current = |c: StateColumn| Expr::col((StateEntity, c));
    let mut on_conflict = OnConflict::column(StateColumn::Service);
    on_conflict
        .values([
            (StateColumn::Status, excluded(StateColumn::Status)),
            (StateColumn::Message, excluded(StateColumn::Message)),
            (
                StateColumn::Since,
                Expr::case(
                    current(StateColumn::Status).eq(excluded(StateColumn::Status)),
                    current(StateColumn::Since),
                )
                .finally(excluded(StateColumn::Since))
                .into(),
            ),
            (StateColumn::UpdatedAt, excluded(StateColumn::UpdatedAt)),
            (StateColumn::LastEventId, excluded(StateColumn::LastEventId)),
        ])
        .action_and_where(
            Expr::tuple([
                excluded(StateColumn::UpdatedAt),
                excluded(StateColumn::LastEventId),
            ])
            .gt(Expr::tuple([
                current(StateColumn::UpdatedAt),
                current(StateColumn::LastEventId),
            ])),
        );
    let state = service_statuses::ActiveModel::from(service_statuses::Model {
        service: event.service.clone(),
        status: event.status,
        message: event.message.clone(),
        since: event.created_at,
        updated_at: event.created_at,
        last_event_id: event.id,
    });
    let changed = StateEntity::insert(state)
        .on_conflict(on_conflict)
        .exec_without_returning(conn)
        .await?;
    Ok(changed > 0)
}

/// Events read per query while looking for the start of a run.
const RUN_BATCH: u64 = 200;

/// After an out-of-order event: the latest event (and so status, message, `updated_at`) is
/// unchanged, but the event may split or extend the current run. Walks the service's history
/// back from the latest event to the first one of the current run.
async fn resync_since(conn: &impl ConnectionTrait, service: &str) -> Result<()> {
    let mut run_status: Option<ServiceStatus> = None;
    let mut since: Option<DateTime<Utc>> = None;
    let mut before: Option<(DateTime<Utc>, Uuid)> = None;
    'walk: loop {
        let mut query = Entity::find()
            .filter(Column::Service.eq(service))
            .order_by_desc(Column::CreatedAt)
            .order_by_desc(Column::Id)
            .limit(RUN_BATCH);
        if let Some((at, id)) = before {
            query = query.filter(
                Condition::any().add(Column::CreatedAt.lt(at)).add(
                    Condition::all()
                        .add(Column::CreatedAt.eq(at))
                        .add(Column::Id.lt(id)),
                ),
            );
        }
        let batch = query.all(conn).await?;
        let full = batch.len() as u64 == RUN_BATCH;
        for event in batch {
            if *run_status.get_or_insert(event.status) != event.status {
                break 'walk;
            }
            since = Some(event.created_at);
            before = Some((event.created_at, event.id));
        }
        if !full {
            break;
        }
    }
    if let Some(since) = since {
        StateEntity::update_many()
            .col_expr(StateColumn::Since, Expr::value(since))
            .filter(StateColumn::Service.eq(service))
            .exec(conn)
            .await?;
    }
    Ok(())
}
