//! Service status: `status`, `statusEvents`, `statusEvent`, `createStatusEvent` and the
//! `statusChanged` subscription.

use async_graphql::{Context, ID, Object, Subscription};
use futures::{Stream, StreamExt};

use super::IntoGql;
use super::connection::{self, Conn, connection};
use super::context::request_context;
use super::loaders::{self, UserLoader};
use super::types::{
    CreateStatusEventInput, CreateStatusEventPayload, ServiceStatusSummary, StatusEvent,
    StatusEventFilter, StatusEventOrder,
};
use super::write;
use crate::domain::pagination::PageArgs;
use crate::domain::status as domain;
use crate::entity::status_events;

connection::paged_query! {
    StatusQuery {
        /// The status page: every service's current status and the overall status. Anyone may read it.
        async fn status(&self, ctx: &Context<'_>) -> async_graphql::Result<ServiceStatusSummary> {
            Ok(domain::summary(request_context(ctx)?).await.gql()?.into())
        }
    }

    /// The history of status events, newest first by default. Anyone may read it.
    status_events(
        filter: Option<StatusEventFilter>,
        order_by: Option<StatusEventOrder>,
    ) -> StatusEvent = list_events;

    /// One status event, or null when it does not exist.
    async fn status_event(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<Option<StatusEvent>> {
        connection::one::<status_events::Entity, _>(ctx, &id).await
    }
}

async fn list_events(
    ctx: &Context<'_>,
    args: PageArgs,
    filter: Option<StatusEventFilter>,
    order_by: Option<StatusEventOrder>,
) -> async_graphql::Result<Conn<StatusEvent>> {
    let filter = domain::StatusEventFilter {
        service: filter.unwrap_or_default().service,
    };
    let ordering = domain::ordering(order_by.map(|o| o.direction.into()));
    let (page, count) = connection::page(ctx, filter, &ordering, args).await?;
    if loaders::selects(ctx, "createdBy") {
        loaders::prefetch::<UserLoader, _>(ctx, page.items.iter().filter_map(|e| e.created_by))
            .await?;
    }
    Ok(connection(page, StatusEvent::from, count))
}

#[derive(Default)]
pub struct StatusMutation;

#[Object]
impl StatusMutation {
    /// Record a service's status (staff and admins). `statusChanged` subscribers hear of it.
    async fn create_status_event(
        &self,
        ctx: &Context<'_>,
        input: CreateStatusEventInput,
        #[graphql(desc = "Retry-safe key: the same key and input replay the first result.")]
        idempotency_key: Option<String>,
    ) -> async_graphql::Result<CreateStatusEventPayload> {
        let input = domain::CreateStatusEvent {
            service: input.service,
            status: input.status.into(),
            message: input.message,
        };
        write::create(ctx, input, idempotency_key, domain::create).await
    }
}

#[derive(Default)]
pub struct StatusSubscription;

#[Subscription]
impl StatusSubscription {
    /// Every status event recorded from now on, by any server, as it commits. Anyone may
    /// subscribe. Over WebSocket at `/graphql/ws` (`graphql-transport-ws`).
    async fn status_changed(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only events of this service (a lowercase slug). Default: all services.")]
        service: Option<String>,
    ) -> async_graphql::Result<impl Stream<Item = StatusEvent> + use<>> {
        let service = service
            .map(|s| domain::service_argument("service", &s))
            .transpose()
            .gql()?;
        let events = request_context(ctx)?.status_feed().subscribe();
        Ok(events.filter_map(move |event| {
            let wanted = service.as_ref().is_none_or(|s| *s == event.service);
            futures::future::ready(wanted.then(|| StatusEvent::from((*event).clone())))
        }))
    }
}
