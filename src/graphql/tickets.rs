//! Support tickets: `supportTickets`, `supportTicket`, `createSupportTicket`,
//! `updateSupportTicket`. There is no delete: tickets are closed, not removed.

use async_graphql::{Context, ID, Object};

use super::IntoGql;
use super::connection::{self, Conn, connection};
use super::context::parse_id;
use super::loaders::{self, ProjectLoader, UserLoader};
use super::types::{
    CreateSupportTicketInput, CreateSupportTicketPayload, SupportTicket, SupportTicketFilter,
    SupportTicketOrder, UpdateSupportTicketInput, UpdateSupportTicketPayload,
};
use super::write;
use crate::domain::context::WriteOptions;
use crate::domain::pagination::PageArgs;
use crate::domain::tickets as domain;
use crate::entity::support_tickets;
use crate::error::Error;

fn optional_id(field: &str, id: Option<&ID>) -> Result<Option<uuid::Uuid>, Error> {
    id.map(|id| parse_id(field, id)).transpose()
}

fn filter_to_domain(filter: Option<SupportTicketFilter>) -> Result<domain::TicketFilter, Error> {
    let f = filter.unwrap_or_default();
    Ok(domain::TicketFilter {
        status: f.status.map(Into::into),
        priority: f.priority.map(Into::into),
        project_id: optional_id("project_id", f.project_id.as_ref())?,
        requester_id: optional_id("requester_id", f.requester_id.as_ref())?,
        assignee_id: optional_id("assignee_id", f.assignee_id.as_ref())?,
    })
}

connection::paged_query! {
    TicketQuery {}

    /// Support tickets the caller may read: their own (staff and admins: all). Requires sign-in.
    support_tickets(
        #[graphql(desc = "Only tickets matching every given filter.")] filter: Option<SupportTicketFilter>,
        #[graphql(desc = "Sort order; default newest first.")] order_by: Option<SupportTicketOrder>,
    ) -> SupportTicket = list_tickets;

    /// One support ticket, or null when it does not exist or the caller may not read it.
    /// Requires sign-in.
    async fn support_ticket(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The ticket's id.")] id: ID,
    ) -> async_graphql::Result<Option<SupportTicket>> {
        connection::one::<support_tickets::Entity, _>(ctx, &id).await
    }
}

async fn list_tickets(
    ctx: &Context<'_>,
    args: PageArgs,
    filter: Option<SupportTicketFilter>,
    order_by: Option<SupportTicketOrder>,
) -> async_graphql::Result<Conn<SupportTicket>> {
    let filter = filter_to_domain(filter).gql()?;
    let ordering = domain::ordering(order_by.map(|o| (o.field.into(), o.direction.into())));
    let (page, count) = connection::page(ctx, filter, &ordering, args).await?;
    // One statement per relation for the whole page; the items' resolvers hit the cache.
    let (requesters, assignees, projects) = (
        loaders::selects(ctx, "requester"),
        loaders::selects(ctx, "assignee"),
        loaders::selects(ctx, "project"),
    );
    let users = page.items.iter().flat_map(|t| {
        let requester = requesters.then_some(t.requester_id);
        requester
            .into_iter()
            .chain(t.assignee_id.filter(|_| assignees))
    });
    let projects = page
        .items
        .iter()
        .filter_map(|t| t.project_id.filter(|_| projects));
    futures::try_join!(
        loaders::prefetch::<UserLoader, _>(ctx, users),
        loaders::prefetch::<ProjectLoader, _>(ctx, projects),
    )?;
    Ok(connection(page, SupportTicket::from, count))
}

#[derive(Default)]
pub struct TicketMutation;

#[Object]
impl TicketMutation {
    /// Open a support ticket as the caller. It starts OPEN and unassigned.
    async fn create_support_ticket(
        &self,
        ctx: &Context<'_>,
        input: CreateSupportTicketInput,
        #[graphql(desc = "Retry-safe key: the same key and input replay the first result.")]
        idempotency_key: Option<String>,
    ) -> async_graphql::Result<CreateSupportTicketPayload> {
        let input = domain::CreateTicket {
            project_id: optional_id("project_id", input.project_id.as_ref()).gql()?,
            subject: input.subject,
            body: input.body,
            priority: input.priority.map(Into::into),
        };
        write::create(ctx, input, idempotency_key, domain::create).await
    }

    /// Change a support ticket: staff and admins any field; the requester the subject and body
    /// while it is OPEN, or close it.
    async fn update_support_ticket(
        &self,
        ctx: &Context<'_>,
        input: UpdateSupportTicketInput,
        #[graphql(desc = "Fail with PRECONDITION_FAILED unless the ticket is at this version.")]
        expected_version: Option<i32>,
        #[graphql(desc = "Retry-safe key: the same key and input replay the first result.")]
        idempotency_key: Option<String>,
    ) -> async_graphql::Result<UpdateSupportTicketPayload> {
        let options = WriteOptions::new(expected_version, idempotency_key);
        write::update(ctx, input, options, domain::update).await
    }
}
