//! The route table of `/api/v1` (DESIGN §5): one declarative entry per route. Nothing here
//! decides anything: each route is a persisted GraphQL operation and a mapping.

use http::{Method, StatusCode};

use super::spec::*;

const VISIBILITY: &[&str] = &["public", "private"];
const TICKET_STATUS: &[&str] = &["open", "in_progress", "resolved", "closed"];
const TICKET_PRIORITY: &[&str] = &["low", "normal", "high", "urgent"];
const SERVICE_STATUS: &[&str] = &[
    "operational",
    "maintenance",
    "degraded",
    "partial_outage",
    "major_outage",
];
const ROLE: &[&str] = &["user", "staff", "admin"];

const STR: Conv = Conv::Same(Scalar::Str);
const INT: Conv = Conv::Same(Scalar::Int);
const TIME: Conv = Conv::Same(Scalar::DateTime);

pub static PROJECT: Shape = Shape {
    name: "Project",
    fields: &[
        field("id", "id", STR),
        field("owner_id", "ownerId", STR),
        field("name", "name", STR),
        field("description", "description", STR),
        field("visibility", "visibility", Conv::Lower(VISIBILITY)),
        field("created_at", "createdAt", TIME),
        field("updated_at", "updatedAt", TIME),
        field("version", "version", INT),
    ],
};
const PROJECT_FIELDS: &str =
    "fragment P on Project { id ownerId name description visibility createdAt updatedAt version }";

pub static TICKET: Shape = Shape {
    name: "SupportTicket",
    fields: &[
        field("id", "id", STR),
        field("requester_id", "requesterId", STR),
        nullable("project_id", "projectId", STR),
        field("subject", "subject", STR),
        field("body", "body", STR),
        field("status", "status", Conv::Lower(TICKET_STATUS)),
        field("priority", "priority", Conv::Lower(TICKET_PRIORITY)),
        nullable("assignee_id", "assigneeId", STR),
        field("created_at", "createdAt", TIME),
        field("updated_at", "updatedAt", TIME),
        field("version", "version", INT),
    ],
};
const TICKET_FIELDS: &str = "fragment T on SupportTicket { id requesterId projectId subject body status priority assigneeId createdAt updatedAt version }";

pub static POST: Shape = Shape {
    name: "CommunityPost",
    fields: &[
        field("id", "id", STR),
        field("author_id", "authorId", STR),
        nullable("project_id", "projectId", STR),
        field("title", "title", STR),
        field("body", "body", STR),
        field("tags", "tags", Conv::Strings),
        field("created_at", "createdAt", TIME),
        field("updated_at", "updatedAt", TIME),
        field("version", "version", INT),
    ],
};
const POST_FIELDS: &str = "fragment C on CommunityPost { id authorId projectId title body tags createdAt updatedAt version }";

pub static STATUS_EVENT: Shape = Shape {
    name: "StatusEvent",
    fields: &[
        field("id", "id", STR),
        field("service", "service", STR),
        field("status", "status", Conv::Lower(SERVICE_STATUS)),
        field("message", "message", STR),
        nullable("created_by_id", "createdById", STR),
        field("created_at", "createdAt", TIME),
    ],
};
const STATUS_EVENT_FIELDS: &str =
    "fragment E on StatusEvent { id service status message createdById createdAt }";

pub static SERVICE_STATE: Shape = Shape {
    name: "ServiceState",
    fields: &[
        field("service", "service", STR),
        field("status", "status", Conv::Lower(SERVICE_STATUS)),
        field("message", "message", STR),
        field("since", "since", TIME),
        field("updated_at", "updatedAt", TIME),
    ],
};

pub static STATUS: Shape = Shape {
    name: "StatusSummary",
    fields: &[
        field("overall", "overall", Conv::Lower(SERVICE_STATUS)),
        field("services", "services", Conv::List(&SERVICE_STATE)),
        nullable("updated_at", "updatedAt", TIME),
    ],
};

pub static USER: Shape = Shape {
    name: "User",
    fields: &[
        field("id", "id", STR),
        nullable("email", "email", STR),
        field("display_name", "displayName", STR),
        field("role", "role", Conv::Lower(ROLE)),
        field("created_at", "createdAt", TIME),
    ],
};
const USER_FIELDS: &str = "fragment U on User { id email displayName role createdAt }";

pub static TOKENS: Shape = Shape {
    name: "Tokens",
    fields: &[
        field("access_token", "accessToken", STR),
        field("token_type", "tokenType", STR),
        field("expires_in", "expiresIn", INT),
        nullable("refresh_token", "refreshToken", STR),
        field("session_id", "sessionId", STR),
        field("user", "user", Conv::Object(&USER)),
    ],
};

pub static SESSION: Shape = Shape {
    name: "Session",
    fields: &[
        field("id", "id", STR),
        nullable("device_label", "deviceLabel", STR),
        nullable("user_agent", "userAgent", STR),
        nullable("ip", "ip", STR),
        field("created_at", "createdAt", TIME),
        field("last_seen_at", "lastSeenAt", TIME),
        field("current", "current", Conv::Same(Scalar::Bool)),
    ],
};

const PAGE_ERRORS: &[u16] = &[422];

/// Every route, in the order of DESIGN §5.
pub static TABLE: &[RouteSpec] = &[
    // ---- projects ----------------------------------------------------------------------
    RouteSpec {
        method: Method::GET,
        path: "/projects",
        summary: "List projects the caller may read (public ones, plus their own private ones).",
        operation: concat!(
            "query ListProjects($first: Int!, $offset: Int!, $filter: ProjectFilter) { projects(first: $first, offset: $offset, filter: $filter) { totalCount nodes { ...P } } } ",
            "fragment P on Project { id ownerId name description visibility createdAt updatedAt version }"
        ),
        input: Input::List {
            filters: &[
                param(
                    "q",
                    "q",
                    Kind::Str,
                    "Case-insensitive substring of the name.",
                ),
                param(
                    "visibility",
                    "visibility",
                    Kind::Enum(VISIBILITY),
                    "Only projects with this visibility.",
                ),
                param(
                    "owner_id",
                    "ownerId",
                    Kind::Id,
                    "Only projects owned by this user.",
                ),
            ],
        },
        output: Output::Page {
            path: &["projects"],
            shape: &PROJECT,
        },
        success: StatusCode::OK,
        cache: Cache::Private,
        headers: NO_HEADERS,
        errors: PAGE_ERRORS,
    },
    RouteSpec {
        method: Method::POST,
        path: "/projects",
        summary: "Create a project owned by the caller.",
        operation: concat!(
            "mutation CreateProject($input: CreateProjectInput!, $key: String) { createProject(input: $input, idempotencyKey: $key) { project { ...P } } } ",
            "fragment P on Project { id ownerId name description visibility createdAt updatedAt version }"
        ),
        input: Input::Body {
            fields: &[
                body("name", "name", Kind::Str, true, "1–120 characters."),
                body(
                    "description",
                    "description",
                    Kind::Str,
                    false,
                    "Up to 5,000 characters. Default: empty.",
                ),
                body(
                    "visibility",
                    "visibility",
                    Kind::Enum(VISIBILITY),
                    false,
                    "Default: private.",
                ),
            ],
        },
        output: Output::Item {
            path: &["createProject", "project"],
            shape: &PROJECT,
            etag: Some("project"),
            location: Some("/projects"),
            null: NullMeans::NotFound,
        },
        success: StatusCode::CREATED,
        cache: Cache::NoStore,
        headers: Headers {
            idempotency_key: true,
            if_match: None,
        },
        errors: &[409, 422],
    },
    RouteSpec {
        method: Method::GET,
        path: "/projects/{id}",
        summary: "Fetch one project (404 when it does not exist or the caller may not read it).",
        operation: concat!(
            "query GetProject($id: ID!) { project(id: $id) { ...P } } ",
            "fragment P on Project { id ownerId name description visibility createdAt updatedAt version }"
        ),
        input: Input::Id,
        output: Output::Item {
            path: &["project"],
            shape: &PROJECT,
            etag: Some("project"),
            location: None,
            null: NullMeans::NotFound,
        },
        success: StatusCode::OK,
        cache: Cache::Private,
        headers: NO_HEADERS,
        errors: &[404],
    },
    RouteSpec {
        method: Method::PATCH,
        path: "/projects/{id}",
        summary: "Change a project (owner or admin). Omitted fields stay as they are.",
        operation: concat!(
            "mutation UpdateProject($input: UpdateProjectInput!, $version: Int, $key: String) { updateProject(input: $input, expectedVersion: $version, idempotencyKey: $key) { project { ...P } } } ",
            "fragment P on Project { id ownerId name description visibility createdAt updatedAt version }"
        ),
        input: Input::Body {
            fields: &[
                body("name", "name", Kind::Str, false, "1–120 characters."),
                body(
                    "description",
                    "description",
                    Kind::Str,
                    false,
                    "Up to 5,000 characters.",
                ),
                body(
                    "visibility",
                    "visibility",
                    Kind::Enum(VISIBILITY),
                    false,
                    "public or private.",
                ),
            ],
        },
        output: Output::Item {
            path: &["updateProject", "project"],
            shape: &PROJECT,
            etag: Some("project"),
            location: None,
            null: NullMeans::NotFound,
        },
        success: StatusCode::OK,
        cache: Cache::NoStore,
        headers: Headers {
            idempotency_key: true,
            if_match: Some("project"),
        },
        errors: &[403, 404, 409, 412, 422, 428],
    },
    RouteSpec {
        method: Method::DELETE,
        path: "/projects/{id}",
        summary: "Delete a project (owner or admin).",
        operation: "mutation DeleteProject($input: DeleteProjectInput!, $version: Int) { deleteProject(input: $input, expectedVersion: $version) { deletedId } }",
        input: Input::IdInput,
        output: Output::Empty,
        success: StatusCode::NO_CONTENT,
        cache: Cache::NoStore,
        headers: Headers {
            idempotency_key: false,
            if_match: Some("project"),
        },
        errors: &[403, 404, 412, 428],
    },
    // ---- support tickets ---------------------------------------------------------------
    RouteSpec {
        method: Method::GET,
        path: "/support/tickets",
        summary: "List the caller's support tickets (staff and admins: all). Requires sign-in.",
        operation: concat!(
            "query ListTickets($first: Int!, $offset: Int!, $filter: SupportTicketFilter) { supportTickets(first: $first, offset: $offset, filter: $filter) { totalCount nodes { ...T } } } ",
            "fragment T on SupportTicket { id requesterId projectId subject body status priority assigneeId createdAt updatedAt version }"
        ),
        input: Input::List {
            filters: &[
                param(
                    "status",
                    "status",
                    Kind::Enum(TICKET_STATUS),
                    "Only tickets in this status.",
                ),
                param(
                    "priority",
                    "priority",
                    Kind::Enum(TICKET_PRIORITY),
                    "Only tickets with this priority.",
                ),
                param(
                    "project_id",
                    "projectId",
                    Kind::Id,
                    "Only tickets about this project.",
                ),
            ],
        },
        output: Output::Page {
            path: &["supportTickets"],
            shape: &TICKET,
        },
        success: StatusCode::OK,
        cache: Cache::Private,
        headers: NO_HEADERS,
        errors: PAGE_ERRORS,
    },
    RouteSpec {
        method: Method::POST,
        path: "/support/tickets",
        summary: "Open a support ticket as the caller.",
        operation: concat!(
            "mutation CreateTicket($input: CreateSupportTicketInput!, $key: String) { createSupportTicket(input: $input, idempotencyKey: $key) { ticket { ...T } } } ",
            "fragment T on SupportTicket { id requesterId projectId subject body status priority assigneeId createdAt updatedAt version }"
        ),
        input: Input::Body {
            fields: &[
                body(
                    "subject",
                    "subject",
                    Kind::Str,
                    true,
                    "One line, 1–200 characters.",
                ),
                body("body", "body", Kind::Str, true, "1–20,000 characters."),
                body(
                    "priority",
                    "priority",
                    Kind::Enum(TICKET_PRIORITY),
                    false,
                    "Default: normal.",
                ),
                body(
                    "project_id",
                    "projectId",
                    Kind::Id,
                    false,
                    "A project the caller can read.",
                ),
            ],
        },
        output: Output::Item {
            path: &["createSupportTicket", "ticket"],
            shape: &TICKET,
            etag: Some("ticket"),
            location: Some("/support/tickets"),
            null: NullMeans::NotFound,
        },
        success: StatusCode::CREATED,
        cache: Cache::NoStore,
        headers: Headers {
            idempotency_key: true,
            if_match: None,
        },
        errors: &[409, 422],
    },
    RouteSpec {
        method: Method::GET,
        path: "/support/tickets/{id}",
        summary: "Fetch one ticket (its requester, staff and admins; 404 for anyone else).",
        operation: concat!(
            "query GetTicket($id: ID!) { supportTicket(id: $id) { ...T } } ",
            "fragment T on SupportTicket { id requesterId projectId subject body status priority assigneeId createdAt updatedAt version }"
        ),
        input: Input::Id,
        output: Output::Item {
            path: &["supportTicket"],
            shape: &TICKET,
            etag: Some("ticket"),
            location: None,
            null: NullMeans::NotFound,
        },
        success: StatusCode::OK,
        cache: Cache::Private,
        headers: NO_HEADERS,
        errors: &[401, 404],
    },
    RouteSpec {
        method: Method::PATCH,
        path: "/support/tickets/{id}",
        summary: "Change a ticket: staff any field; the requester subject/body while open, or close it.",
        operation: concat!(
            "mutation UpdateTicket($input: UpdateSupportTicketInput!, $version: Int, $key: String) { updateSupportTicket(input: $input, expectedVersion: $version, idempotencyKey: $key) { ticket { ...T } } } ",
            "fragment T on SupportTicket { id requesterId projectId subject body status priority assigneeId createdAt updatedAt version }"
        ),
        input: Input::Body {
            fields: &[
                body(
                    "status",
                    "status",
                    Kind::Enum(TICKET_STATUS),
                    false,
                    "The new status.",
                ),
                body(
                    "priority",
                    "priority",
                    Kind::Enum(TICKET_PRIORITY),
                    false,
                    "The new priority (staff only).",
                ),
                nullable_body(
                    "assignee_id",
                    "assigneeId",
                    Kind::Id,
                    "A staff member or admin; null unassigns (staff only).",
                ),
                body(
                    "subject",
                    "subject",
                    Kind::Str,
                    false,
                    "One line, 1–200 characters.",
                ),
                body("body", "body", Kind::Str, false, "1–20,000 characters."),
            ],
        },
        output: Output::Item {
            path: &["updateSupportTicket", "ticket"],
            shape: &TICKET,
            etag: Some("ticket"),
            location: None,
            null: NullMeans::NotFound,
        },
        success: StatusCode::OK,
        cache: Cache::NoStore,
        headers: Headers {
            idempotency_key: true,
            if_match: Some("ticket"),
        },
        errors: &[403, 404, 409, 412, 422, 428],
    },
    // ---- community posts ---------------------------------------------------------------
    RouteSpec {
        method: Method::GET,
        path: "/community/posts",
        summary: "List community posts, newest first.",
        operation: concat!(
            "query ListPosts($first: Int!, $offset: Int!, $filter: CommunityPostFilter) { communityPosts(first: $first, offset: $offset, filter: $filter) { totalCount nodes { ...C } } } ",
            "fragment C on CommunityPost { id authorId projectId title body tags createdAt updatedAt version }"
        ),
        input: Input::List {
            filters: &[
                param("tag", "tag", Kind::Str, "Only posts carrying this tag."),
                param(
                    "project_id",
                    "projectId",
                    Kind::Id,
                    "Only posts about this project.",
                ),
                param(
                    "author_id",
                    "authorId",
                    Kind::Id,
                    "Only posts written by this user.",
                ),
            ],
        },
        output: Output::Page {
            path: &["communityPosts"],
            shape: &POST,
        },
        success: StatusCode::OK,
        cache: Cache::Public(15),
        headers: NO_HEADERS,
        errors: PAGE_ERRORS,
    },
    RouteSpec {
        method: Method::POST,
        path: "/community/posts",
        summary: "Write a community post as the caller.",
        operation: concat!(
            "mutation CreatePost($input: CreateCommunityPostInput!, $key: String) { createCommunityPost(input: $input, idempotencyKey: $key) { communityPost { ...C } } } ",
            "fragment C on CommunityPost { id authorId projectId title body tags createdAt updatedAt version }"
        ),
        input: Input::Body {
            fields: &[
                body(
                    "title",
                    "title",
                    Kind::Str,
                    true,
                    "1–200 characters, one line.",
                ),
                body("body", "body", Kind::Str, true, "1–20,000 characters."),
                body(
                    "tags",
                    "tags",
                    Kind::StrList,
                    false,
                    "Up to 10 lowercase slugs. Default: [].",
                ),
                body(
                    "project_id",
                    "projectId",
                    Kind::Id,
                    false,
                    "The project the post is about.",
                ),
            ],
        },
        output: Output::Item {
            path: &["createCommunityPost", "communityPost"],
            shape: &POST,
            etag: Some("post"),
            location: Some("/community/posts"),
            null: NullMeans::NotFound,
        },
        success: StatusCode::CREATED,
        cache: Cache::NoStore,
        headers: Headers {
            idempotency_key: true,
            if_match: None,
        },
        errors: &[409, 422],
    },
    // ---- status ------------------------------------------------------------------------
    RouteSpec {
        method: Method::GET,
        path: "/community/posts/{id}",
        summary: "Fetch one community post.",
        operation: concat!(
            "query GetPost($id: ID!) { communityPost(id: $id) { ...C } } ",
            "fragment C on CommunityPost { id authorId projectId title body tags createdAt updatedAt version }"
        ),
        input: Input::Id,
        output: Output::Item {
            path: &["communityPost"],
            shape: &POST,
            etag: Some("post"),
            location: None,
            null: NullMeans::NotFound,
        },
        success: StatusCode::OK,
        cache: Cache::Public(15),
        headers: NO_HEADERS,
        errors: &[404],
    },
    RouteSpec {
        method: Method::GET,
        path: "/status",
        summary: "Overall and per-service status.",
        operation: "query Status { status { overall services { service status message since updatedAt } updatedAt } }",
        input: Input::None,
        output: Output::Item {
            path: &["status"],
            shape: &STATUS,
            etag: None,
            location: None,
            null: NullMeans::NotFound,
        },
        success: StatusCode::OK,
        cache: Cache::Public(15),
        headers: NO_HEADERS,
        errors: &[],
    },
    RouteSpec {
        method: Method::GET,
        path: "/status/events",
        summary: "The history of status events, newest first.",
        operation: concat!(
            "query StatusEvents($first: Int!, $offset: Int!, $filter: StatusEventFilter) { statusEvents(first: $first, offset: $offset, filter: $filter) { totalCount nodes { ...E } } } ",
            "fragment E on StatusEvent { id service status message createdById createdAt }"
        ),
        input: Input::List {
            filters: &[param(
                "service",
                "service",
                Kind::Str,
                "Only events of this service.",
            )],
        },
        output: Output::Page {
            path: &["statusEvents"],
            shape: &STATUS_EVENT,
        },
        success: StatusCode::OK,
        cache: Cache::Public(15),
        headers: NO_HEADERS,
        errors: PAGE_ERRORS,
    },
    RouteSpec {
        method: Method::POST,
        path: "/status/events",
        summary: "Record a service's status (staff and admins).",
        operation: concat!(
            "mutation CreateStatusEvent($input: CreateStatusEventInput!, $key: String) { createStatusEvent(input: $input, idempotencyKey: $key) { statusEvent { ...E } } } ",
            "fragment E on StatusEvent { id service status message createdById createdAt }"
        ),
        input: Input::Body {
            fields: &[
                body(
                    "service",
                    "service",
                    Kind::Str,
                    true,
                    "A lowercase slug, 1–64 characters.",
                ),
                body(
                    "status",
                    "status",
                    Kind::Enum(SERVICE_STATUS),
                    true,
                    "The service's status from now on.",
                ),
                body(
                    "message",
                    "message",
                    Kind::Str,
                    false,
                    "Up to 2,000 characters.",
                ),
            ],
        },
        output: Output::Item {
            path: &["createStatusEvent", "statusEvent"],
            shape: &STATUS_EVENT,
            etag: None,
            location: Some("/status/events"),
            null: NullMeans::NotFound,
        },
        success: StatusCode::CREATED,
        cache: Cache::NoStore,
        headers: Headers {
            idempotency_key: true,
            if_match: None,
        },
        errors: &[403, 409, 422],
    },
    // ---- accounts ----------------------------------------------------------------------
    RouteSpec {
        method: Method::GET,
        path: "/status/events/{id}",
        summary: "Fetch one status event.",
        operation: concat!(
            "query GetStatusEvent($id: ID!) { statusEvent(id: $id) { ...E } } ",
            "fragment E on StatusEvent { id service status message createdById createdAt }"
        ),
        input: Input::Id,
        output: Output::Item {
            path: &["statusEvent"],
            shape: &STATUS_EVENT,
            etag: None,
            location: None,
            null: NullMeans::NotFound,
        },
        success: StatusCode::OK,
        cache: Cache::Public(15),
        headers: NO_HEADERS,
        errors: &[404],
    },
    RouteSpec {
        method: Method::POST,
        path: "/auth/register",
        summary: "Create an account (role user).",
        operation: concat!(
            "mutation Register($input: RegisterInput!) { register(input: $input) { user { ...U } } } ",
            "fragment U on User { id email displayName role createdAt }"
        ),
        input: Input::Body {
            fields: &[
                body(
                    "email",
                    "email",
                    Kind::Str,
                    true,
                    "Compared case-insensitively, stored lowercased.",
                ),
                body("password", "password", Kind::Str, true, "8–128 characters."),
                body(
                    "display_name",
                    "displayName",
                    Kind::Str,
                    true,
                    "1–100 characters.",
                ),
            ],
        },
        output: Output::Item {
            path: &["register", "user"],
            shape: &USER,
            etag: None,
            location: None,
            null: NullMeans::NotFound,
        },
        success: StatusCode::CREATED,
        cache: Cache::NoStore,
        headers: NO_HEADERS,
        errors: &[409, 422],
    },
    RouteSpec {
        method: Method::POST,
        path: "/auth/login",
        summary: "Sign in; returns a short-lived bearer access token and a refresh token (browsers: the HttpOnly refresh cookie).",
        operation: concat!(
            "mutation Login($input: LoginInput!) { login(input: $input) { accessToken tokenType expiresIn refreshToken sessionId user { ...U } } } ",
            "fragment U on User { id email displayName role createdAt }"
        ),
        input: Input::Body {
            fields: &[
                body(
                    "email",
                    "email",
                    Kind::Str,
                    true,
                    "The account's email address.",
                ),
                body(
                    "password",
                    "password",
                    Kind::Str,
                    true,
                    "The account's password.",
                ),
                body(
                    "totp_code",
                    "totpCode",
                    Kind::Str,
                    false,
                    "A 6–8 digit TOTP code (accounts with two-factor authentication).",
                ),
                body(
                    "device",
                    "device",
                    Kind::Str,
                    false,
                    "A label for this device's session.",
                ),
            ],
        },
        output: Output::Item {
            path: &["login"],
            shape: &TOKENS,
            etag: None,
            location: None,
            null: NullMeans::NotFound,
        },
        success: StatusCode::OK,
        cache: Cache::NoStore,
        headers: NO_HEADERS,
        errors: &[422],
    },
    RouteSpec {
        method: Method::GET,
        path: "/auth/me",
        summary: "The signed-in user (401 when anonymous).",
        operation: concat!(
            "query Me { viewer { ...U } } ",
            "fragment U on User { id email displayName role createdAt }"
        ),
        input: Input::None,
        output: Output::Item {
            path: &["viewer"],
            shape: &USER,
            etag: None,
            location: None,
            null: NullMeans::Unauthenticated,
        },
        success: StatusCode::OK,
        cache: Cache::Private,
        headers: NO_HEADERS,
        errors: &[],
    },
    RouteSpec {
        method: Method::POST,
        path: "/auth/refresh",
        summary: "Exchange a refresh token (body, or the browser's refresh cookie with an empty JSON body `{}`) for new tokens; each refresh token works once, and presenting a used one ends its session.",
        operation: concat!(
            "mutation Refresh($input: RefreshTokenInput!) { refreshToken(input: $input) { accessToken tokenType expiresIn refreshToken sessionId user { ...U } } } ",
            "fragment U on User { id email displayName role createdAt }"
        ),
        input: Input::Body {
            fields: &[body(
                "refresh_token",
                "refreshToken",
                Kind::Str,
                false,
                "The refresh token from sign-in or the previous refresh; omit it to use the refresh cookie.",
            )],
        },
        output: Output::Item {
            path: &["refreshToken"],
            shape: &TOKENS,
            etag: None,
            location: None,
            null: NullMeans::NotFound,
        },
        success: StatusCode::OK,
        cache: Cache::NoStore,
        headers: NO_HEADERS,
        errors: &[403, 422],
    },
    RouteSpec {
        method: Method::GET,
        path: "/auth/sessions",
        summary: "The caller's open sessions (signed-in devices), newest first; `current` marks this request's.",
        operation: "query Sessions($first: Int!, $offset: Int!) { sessions(first: $first, offset: $offset) { totalCount nodes { id deviceLabel userAgent ip createdAt lastSeenAt current } } }",
        input: Input::List { filters: &[] },
        output: Output::Page {
            path: &["sessions"],
            shape: &SESSION,
        },
        success: StatusCode::OK,
        cache: Cache::Private,
        headers: NO_HEADERS,
        errors: PAGE_ERRORS,
    },
    RouteSpec {
        method: Method::DELETE,
        path: "/auth/sessions/{id}",
        summary: "End one of the caller's sessions (404 for anyone else's).",
        operation: "mutation RevokeSession($input: RevokeSessionInput!) { revokeSession(input: $input) { sessionId } }",
        input: Input::IdInput,
        output: Output::Empty,
        success: StatusCode::NO_CONTENT,
        cache: Cache::NoStore,
        headers: NO_HEADERS,
        errors: &[404],
    },
    RouteSpec {
        method: Method::DELETE,
        path: "/auth/sessions",
        summary: "End every session of the caller except the current one.",
        operation: "mutation RevokeOtherSessions { revokeOtherSessions { revokedCount } }",
        input: Input::None,
        output: Output::Empty,
        success: StatusCode::NO_CONTENT,
        cache: Cache::NoStore,
        headers: NO_HEADERS,
        errors: &[],
    },
    RouteSpec {
        method: Method::POST,
        path: "/auth/logout",
        summary: "Sign out: end the caller's session and clear the refresh cookie.",
        operation: "mutation Logout { logout { revoked } }",
        input: Input::None,
        output: Output::Empty,
        success: StatusCode::NO_CONTENT,
        cache: Cache::NoStore,
        headers: NO_HEADERS,
        errors: &[],
    },
];

/// The auth routes that use the browser's refresh-token cookie (`super::cookie`).
pub static COOKIE_ROUTES: &[(&str, CookieUse)] = &[
    ("/auth/login", CookieUse::Issue),
    ("/auth/refresh", CookieUse::Rotate),
    ("/auth/logout", CookieUse::Clear),
];

/// How `route` uses the refresh cookie, if at all.
pub fn cookie_use(route: &RouteSpec) -> Option<CookieUse> {
    COOKIE_ROUTES
        .iter()
        .find(|(path, _)| *path == route.path)
        .map(|(_, usage)| *usage)
}

// The fragments above are spelled out in each operation so that every entry reads on its own;
// these constants keep them checked against each other (see the tests in `super`).
pub const FRAGMENTS: &[&str] = &[
    PROJECT_FIELDS,
    TICKET_FIELDS,
    POST_FIELDS,
    STATUS_EVENT_FIELDS,
    USER_FIELDS,
];
