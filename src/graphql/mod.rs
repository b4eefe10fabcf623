//! The GraphQL schema: the one API that GraphiQL, typed clients and the REST shim all execute.

mod accounts;
mod admin;
mod conflict;
mod connection;
mod context;
pub mod cost;
mod credentials;
mod deadline;
pub mod documents;
mod error;
mod hooks;
mod limits;
pub mod loaders;
mod node;
mod posts;
mod projects;
pub(crate) mod replay;
mod status;
pub mod subscription;
mod tickets;
mod traces;
mod two_factor;
pub mod types;
mod write;

use async_graphql::{MergedObject, Schema};

pub use error::{Found, IntoGql};

use crate::config::Settings;
pub use subscription::SubscriptionRoot;

/// Every query field, one object per resource.
#[derive(MergedObject, Default)]
pub struct QueryRoot(
    node::NodeQuery,
    accounts::AccountQuery,
    admin::AdminQuery,
    projects::ProjectQuery,
    tickets::TicketQuery,
    posts::PostQuery,
    status::StatusQuery,
);

/// Every mutation, one object per resource.
#[derive(MergedObject, Default)]
pub struct MutationRoot(
    accounts::AccountMutation,
    accounts::SessionMutation,
    two_factor::TwoFactorMutation,
    credentials::CredentialsMutation,
    admin::AdminMutation,
    projects::ProjectMutation,
    tickets::TicketMutation,
    posts::PostMutation,
    status::StatusMutation,
);

pub type AppSchema = Schema<QueryRoot, MutationRoot, SubscriptionRoot>;

/// The one schema, configured twice: `graphql` validates every document it is sent;
/// `persisted` runs the REST shim's operations, which are fixed at build time: `rest`'s tests
/// validate each in full, within the depth and complexity limits at the largest page size, so
/// it does not validate them again per request. Both run every operation through the same
/// hooks ([`hooks::Hooks`]), whatever the transport or the log level.
pub struct Schemas {
    pub graphql: AppSchema,
    pub persisted: AppSchema,
}

/// The schema holds no services: every request brings its
/// [`RequestContext`](crate::domain::context::RequestContext), which holds them.
pub fn build(settings: &Settings) -> Schemas {
    let loader_delay = std::time::Duration::from_micros(settings.loader_delay_us);
    let schema = |documents: hooks::Documents| {
        let mut builder = Schema::build(
            QueryRoot::default(),
            MutationRoot::default(),
            SubscriptionRoot::default(),
        )
        // Generous for real clients, fatal for abusive queries; see `neoforge --help`.
        .limit_depth(settings.graphql_max_depth as usize)
        .limit_complexity(settings.graphql_max_complexity as usize)
        .limit_recursive_depth(32)
        .extension(hooks::Hooks {
            max_aliases: settings.graphql_max_aliases as usize,
            loader_delay,
            documents,
        });
        if !settings.introspection_enabled() {
            builder = builder.disable_introspection();
        }
        builder.finish()
    };
    let deadline = std::time::Duration::from_secs(settings.request_timeout);
    Schemas {
        graphql: schema(hooks::Documents::FromClients { deadline }),
        persisted: schema(hooks::Documents::Persisted),
    }
}

/// A request of a fixed, already parsed document (the REST shim's persisted operations) with
/// its variables, run as `request_context`'s caller.
pub fn persisted(
    document: async_graphql::parser::types::ExecutableDocument,
    variables: async_graphql::Variables,
    request_context: &crate::domain::context::RequestContext,
) -> async_graphql::Request {
    let mut request = async_graphql::Request::new("");
    request.set_parsed_query(document);
    request.variables = variables;
    request.data(request_context.clone())
}

/// The SDL that `neoforge schema` prints and `schema.graphql` must equal.
pub fn sdl() -> String {
    Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        SubscriptionRoot::default(),
    )
    .finish()
    .sdl()
}
