//! The route table of `/api/v1` (docs/api.md): one declarative entry per route. Nothing here
//! decides anything: each route is a persisted GraphQL operation and a mapping.

use http::StatusCode;

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

// Each operation selects its type's fields through one fragment, spelled once here.
macro_rules! project_fields {
    () => {
        "fragment P on Project { id ownerId name description visibility createdAt updatedAt version }"
    };
}
macro_rules! ticket_fields {
    () => {
        "fragment T on SupportTicket { id requesterId projectId subject body status priority assigneeId createdAt updatedAt version }"
    };
}
macro_rules! post_fields {
    () => {
        "fragment C on CommunityPost { id authorId projectId title body tags createdAt updatedAt version }"
    };
}
macro_rules! status_event_fields {
    () => {
        "fragment E on StatusEvent { id service status message createdById createdAt }"
    };
}
macro_rules! user_fields {
    () => {
        "fragment U on User { id email displayName role createdAt }"
    };
}

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
const PROJECT_FIELDS: &str = project_fields!();

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
const TICKET_FIELDS: &str = ticket_fields!();

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
const POST_FIELDS: &str = post_fields!();

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
const STATUS_EVENT_FIELDS: &str = status_event_fields!();

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
const USER_FIELDS: &str = user_fields!();

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

pub static TWO_FACTOR_SETUP: Shape = Shape {
    name: "TwoFactorSetup",
    fields: &[
        field("secret", "secret", STR),
        field("otpauth_uri", "otpauthUri", STR),
        field("qr_code", "qrCode", STR),
    ],
};

pub static RECOVERY_CODES: Shape = Shape {
    name: "RecoveryCodes",
    fields: &[field("recovery_codes", "recoveryCodes", Conv::Strings)],
};

pub static TWO_FACTOR_STATE: Shape = Shape {
    name: "TwoFactorState",
    fields: &[field(
        "two_factor_enabled",
        "twoFactorEnabled",
        Conv::Same(Scalar::Bool),
    )],
};

pub static ADMIN_USER: Shape = Shape {
    name: "AdministeredUser",
    fields: &[
        field("id", "id", STR),
        nullable("email", "email", STR),
        field("display_name", "displayName", STR),
        field("role", "role", Conv::Lower(ROLE)),
        field("created_at", "createdAt", TIME),
        nullable("disabled", "disabled", Conv::Same(Scalar::Bool)),
        nullable("email_verified", "emailVerified", Conv::Same(Scalar::Bool)),
        nullable(
            "two_factor_enabled",
            "twoFactorEnabled",
            Conv::Same(Scalar::Bool),
        ),
    ],
};
macro_rules! admin_user_fields {
    () => {
        "fragment A on User { id email displayName role createdAt disabled emailVerified twoFactorEnabled }"
    };
}
const ADMIN_USER_FIELDS: &str = admin_user_fields!();

pub static AUDIT_EVENT: Shape = Shape {
    name: "AuditEvent",
    fields: &[
        field("id", "id", STR),
        field("at", "at", TIME),
        nullable("actor_id", "actorId", STR),
        field("action", "action", STR),
        nullable("target", "target", STR),
        nullable("ip", "ip", STR),
        nullable("request_id", "requestId", STR),
        nullable("details", "details", STR),
    ],
};

/// Every route, grouped by resource.
pub static TABLE: &[RouteSpec] = &[
    // ---- projects ----------------------------------------------------------------------
    RouteSpec::list(
        "/projects",
        "List projects the caller may read (public ones, plus their own private ones).",
        &[
            param("q", "q", Kind::Str, "Case-insensitive substring of the name."),
            param("visibility", "visibility", Kind::Enum(VISIBILITY), "Only projects with this visibility."),
            param("owner_id", "ownerId", Kind::Id, "Only projects owned by this user."),
        ],
    )
    .run(concat!(
        "query ListProjects($first: Int!, $offset: Int!, $filter: ProjectFilter) { projects(first: $first, offset: $offset, filter: $filter) { totalCount nodes { ...P } } } ",
        project_fields!()
    ))
    .page(&["projects"], &PROJECT),
    RouteSpec::create(
        "/projects",
        "Create a project owned by the caller.",
        &[
            body("name", "name", Kind::Str, true, "1–120 characters."),
            body("description", "description", Kind::Str, false, "Up to 5,000 characters. Default: empty."),
            body("visibility", "visibility", Kind::Enum(VISIBILITY), false, "Default: private."),
        ],
    )
    .run(concat!(
        "mutation CreateProject($input: CreateProjectInput!, $key: String) { createProject(input: $input, idempotencyKey: $key) { project { ...P } } } ",
        project_fields!()
    ))
    .item(&["createProject", "project"], &PROJECT)
    .etag("project"),
    RouteSpec::fetch(
        "/projects/{id}",
        "Fetch one project (404 when it does not exist or the caller may not read it).",
    )
    .run(concat!("query GetProject($id: ID!) { project(id: $id) { ...P } } ", project_fields!()))
    .item(&["project"], &PROJECT)
    .etag("project"),
    RouteSpec::update(
        "/projects/{id}",
        "Change a project (owner or admin). Omitted fields stay as they are.",
        &[
            body("name", "name", Kind::Str, false, "1–120 characters."),
            body("description", "description", Kind::Str, false, "Up to 5,000 characters."),
            body("visibility", "visibility", Kind::Enum(VISIBILITY), false, "public or private."),
        ],
    )
    .run(concat!(
        "mutation UpdateProject($input: UpdateProjectInput!, $version: Int, $key: String) { updateProject(input: $input, expectedVersion: $version, idempotencyKey: $key) { project { ...P } } } ",
        project_fields!()
    ))
    .item(&["updateProject", "project"], &PROJECT)
    .etag("project"),
    RouteSpec::delete("/projects/{id}", "Delete a project (owner or admin).")
        .run("mutation DeleteProject($input: DeleteProjectInput!, $version: Int) { deleteProject(input: $input, expectedVersion: $version) { deletedId } }")
        .etag("project"),
    // ---- support tickets ---------------------------------------------------------------
    RouteSpec::list(
        "/support/tickets",
        "List the caller's support tickets (staff and admins: all). Requires sign-in.",
        &[
            param("status", "status", Kind::Enum(TICKET_STATUS), "Only tickets in this status."),
            param("priority", "priority", Kind::Enum(TICKET_PRIORITY), "Only tickets with this priority."),
            param("project_id", "projectId", Kind::Id, "Only tickets about this project."),
        ],
    )
    .run(concat!(
        "query ListTickets($first: Int!, $offset: Int!, $filter: SupportTicketFilter) { supportTickets(first: $first, offset: $offset, filter: $filter) { totalCount nodes { ...T } } } ",
        ticket_fields!()
    ))
    .page(&["supportTickets"], &TICKET),
    RouteSpec::create(
        "/support/tickets",
        "Open a support ticket as the caller.",
        &[
            body("subject", "subject", Kind::Str, true, "One line, 1–200 characters."),
            body("body", "body", Kind::Str, true, "1–20,000 characters."),
            body("priority", "priority", Kind::Enum(TICKET_PRIORITY), false, "Default: normal."),
            body("project_id", "projectId", Kind::Id, false, "A project the caller can read."),
        ],
    )
    .run(concat!(
        "mutation CreateTicket($input: CreateSupportTicketInput!, $key: String) { createSupportTicket(input: $input, idempotencyKey: $key) { ticket { ...T } } } ",
        ticket_fields!()
    ))
    .item(&["createSupportTicket", "ticket"], &TICKET)
    .etag("ticket"),
    RouteSpec::fetch(
        "/support/tickets/{id}",
        "Fetch one ticket (its requester, staff and admins; 404 for anyone else).",
    )
    .run(concat!("query GetTicket($id: ID!) { supportTicket(id: $id) { ...T } } ", ticket_fields!()))
    .item(&["supportTicket"], &TICKET)
    .etag("ticket")
    .errors(&[401, 404]),
    RouteSpec::update(
        "/support/tickets/{id}",
        "Change a ticket: staff any field; the requester subject/body while open, or close it.",
        &[
            body("status", "status", Kind::Enum(TICKET_STATUS), false, "The new status."),
            body("priority", "priority", Kind::Enum(TICKET_PRIORITY), false, "The new priority (staff only)."),
            nullable_body("assignee_id", "assigneeId", Kind::Id, "A staff member or admin; null unassigns (staff only)."),
            body("subject", "subject", Kind::Str, false, "One line, 1–200 characters."),
            body("body", "body", Kind::Str, false, "1–20,000 characters."),
        ],
    )
    .run(concat!(
        "mutation UpdateTicket($input: UpdateSupportTicketInput!, $version: Int, $key: String) { updateSupportTicket(input: $input, expectedVersion: $version, idempotencyKey: $key) { ticket { ...T } } } ",
        ticket_fields!()
    ))
    .item(&["updateSupportTicket", "ticket"], &TICKET)
    .etag("ticket"),
    // ---- community posts ---------------------------------------------------------------
    RouteSpec::list(
        "/community/posts",
        "List community posts, newest first.",
        &[
            param("tag", "tag", Kind::Str, "Only posts carrying this tag."),
            param("project_id", "projectId", Kind::Id, "Only posts about this project."),
            param("author_id", "authorId", Kind::Id, "Only posts written by this user."),
        ],
    )
    .run(concat!(
        "query ListPosts($first: Int!, $offset: Int!, $filter: CommunityPostFilter) { communityPosts(first: $first, offset: $offset, filter: $filter) { totalCount nodes { ...C } } } ",
        post_fields!()
    ))
    .page(&["communityPosts"], &POST)
    .cache(Cache::Public(15)),
    RouteSpec::create(
        "/community/posts",
        "Write a community post as the caller.",
        &[
            body("title", "title", Kind::Str, true, "1–200 characters, one line."),
            body("body", "body", Kind::Str, true, "1–20,000 characters."),
            body("tags", "tags", Kind::StrList, false, "Up to 10 lowercase slugs. Default: []."),
            body("project_id", "projectId", Kind::Id, false, "The project the post is about."),
        ],
    )
        .run(concat!(
            "mutation CreatePost($input: CreateCommunityPostInput!, $key: String) { createCommunityPost(input: $input, idempotencyKey: $key) { communityPost { ...C } } } ",
            post_fields!()
        ))
        .item(&["createCommunityPost", "communityPost"], &POST)
        .etag("post"),
    // ---- status ------------------------------------------------------------------------
    RouteSpec::fetch("/community/posts/{id}", "Fetch one community post.")
        .run(concat!("query GetPost($id: ID!) { communityPost(id: $id) { ...C } } ", post_fields!()))
        .item(&["communityPost"], &POST)
        .etag("post")
        .cache(Cache::Public(15)),
    RouteSpec::fetch("/status", "Overall and per-service status.")
        .run("query Status { status { overall services { service status message since updatedAt } updatedAt } }")
        .input(Input::None)
        .item(&["status"], &STATUS)
        .cache(Cache::Public(15))
        .errors(&[]),
    RouteSpec::list(
        "/status/events",
        "The history of status events, newest first.",
        &[param("service", "service", Kind::Str, "Only events of this service.")],
    )
    .run(concat!(
        "query StatusEvents($first: Int!, $offset: Int!, $filter: StatusEventFilter) { statusEvents(first: $first, offset: $offset, filter: $filter) { totalCount nodes { ...E } } } ",
        status_event_fields!()
    ))
    .page(&["statusEvents"], &STATUS_EVENT)
    .cache(Cache::Public(15)),
    RouteSpec::create(
        "/status/events",
        "Record a service's status (staff and admins).",
        &[
            body("service", "service", Kind::Str, true, "A lowercase slug, 1–64 characters."),
            body("status", "status", Kind::Enum(SERVICE_STATUS), true, "The service's status from now on."),
            body("message", "message", Kind::Str, false, "Up to 2,000 characters."),
        ],
    )
    .run(concat!(
        "mutation CreateStatusEvent($input: CreateStatusEventInput!, $key: String) { createStatusEvent(input: $input, idempotencyKey: $key) { statusEvent { ...E } } } ",
        status_event_fields!()
    ))
    .item(&["createStatusEvent", "statusEvent"], &STATUS_EVENT)
    .errors(&[403, 409, 422]),
    // ---- accounts ----------------------------------------------------------------------
    RouteSpec::fetch("/status/events/{id}", "Fetch one status event.")
        .run(concat!("query GetStatusEvent($id: ID!) { statusEvent(id: $id) { ...E } } ", status_event_fields!()))
        .item(&["statusEvent"], &STATUS_EVENT)
        .cache(Cache::Public(15)),
    RouteSpec::action(
        "/auth/register",
        "Create an account (role user).",
        &[
            body("email", "email", Kind::Str, true, "Compared case-insensitively, stored lowercased."),
            body("password", "password", Kind::Str, true, "8–128 characters."),
            body("display_name", "displayName", Kind::Str, true, "1–100 characters."),
        ],
    )
    .run(concat!("mutation Register($input: RegisterInput!) { register(input: $input) { user { ...U } } } ", user_fields!()))
    .item(&["register", "user"], &USER)
    .success(StatusCode::CREATED)
    .errors(&[409, 422]),
    RouteSpec::action(
        "/auth/login",
        "Sign in; returns a short-lived bearer access token and a refresh token (browsers: the HttpOnly refresh cookie).",
        &[
            body("email", "email", Kind::Str, true, "The account's email address."),
            body("password", "password", Kind::Str, true, "The account's password."),
            body("totp_code", "totpCode", Kind::Str, false, "A 6–8 digit TOTP code (accounts with two-factor authentication)."),
            body("device", "device", Kind::Str, false, "A label for this device's session."),
        ],
    )
    .run(concat!(
        "mutation Login($input: LoginInput!) { login(input: $input) { accessToken tokenType expiresIn refreshToken sessionId user { ...U } } } ",
        user_fields!()
    ))
    .item(&["login"], &TOKENS)
    .cookie(CookieUse::Issue),
    RouteSpec::fetch("/auth/me", "The signed-in user (401 when anonymous).")
        .run(concat!("query Me { viewer { ...U } } ", user_fields!()))
        .input(Input::None)
        .item(&["viewer"], &USER)
        .null_means(NullMeans::Unauthenticated)
        .errors(&[]),
    RouteSpec::action(
        "/auth/refresh",
        "Exchange a refresh token (body, or the browser's refresh cookie with an empty JSON body `{}`) for new tokens; each refresh token works once, and presenting a used one ends its session.",
        &[body(
            "refresh_token",
            "refreshToken",
            Kind::Str,
            false,
            "The refresh token from sign-in or the previous refresh; omit it to use the refresh cookie.",
        )],
    )
    .run(concat!(
        "mutation Refresh($input: RefreshTokenInput!) { refreshToken(input: $input) { accessToken tokenType expiresIn refreshToken sessionId user { ...U } } } ",
        user_fields!()
    ))
    .item(&["refreshToken"], &TOKENS)
    .errors(&[403, 422])
    .cookie(CookieUse::Rotate),
    RouteSpec::list(
        "/auth/sessions",
        "The caller's open sessions (signed-in devices), newest first; `current` marks this request's.",
        &[],
    )
    .run("query Sessions($first: Int!, $offset: Int!) { sessions(first: $first, offset: $offset) { totalCount nodes { id deviceLabel userAgent ip createdAt lastSeenAt current } } }")
    .page(&["sessions"], &SESSION),
    RouteSpec::delete(
        "/auth/sessions/{id}",
        "End one of the caller's sessions (404 for anyone else's).",
    )
    .run("mutation RevokeSession($input: RevokeSessionInput!) { revokeSession(input: $input) { sessionId } }")
    .unconditional()
    .errors(&[404]),
    RouteSpec::delete(
        "/auth/sessions",
        "End every session of the caller except the current one.",
    )
    .run("mutation RevokeOtherSessions { revokeOtherSessions { revokedCount } }")
    .input(Input::None)
    .unconditional()
    .errors(&[]),
    // ---- two-factor authentication ------------------------------------------------------
    RouteSpec::action(
        "/auth/2fa/setup",
        "Start enrolling an authenticator app: a new TOTP secret, its otpauth:// URI and a QR code (SVG data URI).",
        &[],
    )
    .run("mutation SetupTwoFactor { setupTwoFactor { secret otpauthUri qrCode } }")
    .input(Input::None)
    .item(&["setupTwoFactor"], &TWO_FACTOR_SETUP)
    .errors(&[409]),
    RouteSpec::action(
        "/auth/2fa/enable",
        "Confirm enrolment with a code from the app; answers ten one-time recovery codes (shown only now).",
        &[body("code", "code", Kind::Str, true, "The 6-digit code the app shows now.")],
    )
    .run("mutation EnableTwoFactor($input: TotpCodeInput!) { enableTwoFactor(input: $input) { recoveryCodes } }")
    .item(&["enableTwoFactor"], &RECOVERY_CODES)
    .errors(&[409, 422]),
    RouteSpec::action(
        "/auth/2fa/disable",
        "Turn two-factor authentication off with the password and a TOTP or recovery code.",
        &[
            body("password", "password", Kind::Str, true, "The account's password."),
            body("code", "code", Kind::Str, true, "A current TOTP code or an unused recovery code."),
        ],
    )
    .run("mutation DisableTwoFactor($input: DisableTwoFactorInput!) { disableTwoFactor(input: $input) { twoFactorEnabled } }")
    .item(&["disableTwoFactor"], &TWO_FACTOR_STATE)
    .errors(&[409, 422]),
    RouteSpec::action(
        "/auth/2fa/recovery-codes",
        "New recovery codes for a current TOTP code; the old ones stop working.",
        &[body("code", "code", Kind::Str, true, "The 6-digit code the app shows now.")],
    )
    .run("mutation RegenerateRecoveryCodes($input: TotpCodeInput!) { regenerateRecoveryCodes(input: $input) { recoveryCodes } }")
    .item(&["regenerateRecoveryCodes"], &RECOVERY_CODES)
    .errors(&[409, 422]),
    RouteSpec::action(
        "/auth/2fa/verify",
        "Second step of a two-factor sign-in: the `challenge` of the login's 401 and a TOTP or recovery code; answers tokens like /auth/login.",
        &[
            body("challenge", "challenge", Kind::Str, true, "The `challenge` member of the login's 401 (valid 5 minutes, once)."),
            body("code", "code", Kind::Str, true, "A current TOTP code or an unused recovery code."),
            body("device", "device", Kind::Str, false, "A label for this device's session."),
        ],
    )
    .run(concat!(
        "mutation CompleteLogin($input: CompleteLoginInput!) { completeLogin(input: $input) { accessToken tokenType expiresIn refreshToken sessionId user { ...U } } } ",
        user_fields!()
    ))
    .item(&["completeLogin"], &TOKENS)
    .cookie(CookieUse::Issue),
    // ---- password and email ------------------------------------------------------------
    RouteSpec::action(
        "/auth/password/change",
        "Change the caller's password; their other sessions end.",
        &[
            body("current_password", "currentPassword", Kind::Str, true, "The password now."),
            body("new_password", "newPassword", Kind::Str, true, "8–128 characters."),
        ],
    )
    .run("mutation ChangePassword($input: ChangePasswordInput!) { changePassword(input: $input) { revokedSessionCount } }")
    .success(StatusCode::NO_CONTENT),
    RouteSpec::action(
        "/auth/password/reset-request",
        "Mail a password-reset link (valid one hour, once) if the address has an account; the answer is 204 either way.",
        &[body("email", "email", Kind::Str, true, "The account's email address.")],
    )
    .run("mutation RequestPasswordReset($input: RequestPasswordResetInput!) { requestPasswordReset(input: $input) { accepted } }")
    .success(StatusCode::NO_CONTENT),
    RouteSpec::action(
        "/auth/password/reset",
        "Set a new password with the token of a reset link; every session of the account ends.",
        &[
            body("token", "token", Kind::Str, true, "The `token` of the link in the reset mail."),
            body("new_password", "newPassword", Kind::Str, true, "8–128 characters."),
        ],
    )
    .run("mutation ResetPassword($input: ResetPasswordInput!) { resetPassword(input: $input) { accepted } }")
    .success(StatusCode::NO_CONTENT),
    RouteSpec::action(
        "/auth/email/verify-request",
        "Mail the caller a new email-verification link (valid 24 hours, once).",
        &[],
    )
    .run("mutation RequestEmailVerification { requestEmailVerification { accepted } }")
    .input(Input::None)
    .success(StatusCode::NO_CONTENT)
    .errors(&[409]),
    RouteSpec::action(
        "/auth/email/verify",
        "Confirm the email address with the token of a verification link.",
        &[body("token", "token", Kind::Str, true, "The `token` of the link in the verification mail.")],
    )
    .run("mutation VerifyEmail($input: VerifyEmailInput!) { verifyEmail(input: $input) { accepted } }")
    .success(StatusCode::NO_CONTENT),
    // ---- administration (admins) -------------------------------------------------------
    RouteSpec::list(
        "/admin/audit-events",
        "The audit log, newest first (admins only).",
        &[
            param("actor_id", "actorId", Kind::Id, "Only events caused by this user."),
            param("action", "action", Kind::Str, "An action (`login.failed`), or a family with a trailing dot (`2fa.`)."),
            param("target", "target", Kind::Str, "Only events about this target (`user:<id>`, `session:<id>`, ...)."),
            param("since", "since", Kind::Str, "From this RFC 3339 instant (inclusive)."),
            param("until", "until", Kind::Str, "Before this RFC 3339 instant (exclusive)."),
        ],
    )
    .run("query AuditEvents($first: Int!, $offset: Int!, $filter: AuditEventFilter) { auditEvents(first: $first, offset: $offset, filter: $filter) { totalCount nodes { id at actorId action target ip requestId details } } }")
    .page(&["auditEvents"], &AUDIT_EVENT)
    .errors(&[403, 422]),
    RouteSpec::action(
        "/admin/users/{id}/role",
        "Give an account another role (admins; not their own).",
        &[body("role", "role", Kind::Enum(ROLE), true, "user, staff or admin.")],
    )
    .run(concat!(
        "mutation SetUserRole($input: SetUserRoleInput!) { setUserRole(input: $input) { user { ...A } } } ",
        admin_user_fields!()
    ))
    .item(&["setUserRole", "user"], &ADMIN_USER)
    .errors(&[403, 404, 409, 422]),
    RouteSpec::action(
        "/admin/users/{id}/disable",
        "Disable an account (admins; not their own): its sessions end and it cannot sign in.",
        &[],
    )
    .run(concat!(
        "mutation DisableUser($input: UserIdInput!) { disableUser(input: $input) { user { ...A } } } ",
        admin_user_fields!()
    ))
    .input(Input::IdInput)
    .item(&["disableUser", "user"], &ADMIN_USER)
    .errors(&[403, 404, 409]),
    RouteSpec::action(
        "/admin/users/{id}/enable",
        "Re-enable a disabled account (admins).",
        &[],
    )
    .run(concat!(
        "mutation EnableUser($input: UserIdInput!) { enableUser(input: $input) { user { ...A } } } ",
        admin_user_fields!()
    ))
    .input(Input::IdInput)
    .item(&["enableUser", "user"], &ADMIN_USER)
    .errors(&[403, 404, 409]),
    RouteSpec::delete(
        "/admin/users/{id}",
        "Delete an account with its projects, tickets, posts and sessions (admins; not their own).",
    )
    .run("mutation DeleteUser($input: UserIdInput!) { deleteUser(input: $input) { deletedId } }")
    .unconditional()
    .errors(&[403, 404, 409]),
    RouteSpec::delete(
        "/admin/users/{id}/sessions",
        "End every session of an account (admins).",
    )
    .run("mutation RevokeUserSessions($input: UserIdInput!) { revokeUserSessions(input: $input) { revokedCount } }")
    .unconditional()
    .errors(&[403, 404]),
    RouteSpec::action(
        "/auth/logout",
        "Sign out: end the caller's session and clear the refresh cookie.",
        &[],
    )
    .run("mutation Logout { logout { revoked } }")
    .input(Input::None)
    .success(StatusCode::NO_CONTENT)
    .errors(&[])
    .cookie(CookieUse::Clear),
];

/// The REST shape of the resource whose ETags are of `kind` (`"project"`), as the table's
/// routes that answer it with that ETag shape it: what a 412 on a write to it carries as
/// `current`.
pub fn shape_of(kind: &str) -> Option<&'static Shape> {
    TABLE.iter().find_map(|route| match route.output {
        Output::Item {
            shape,
            etag: Some(etag),
            ..
        } if etag == kind => Some(shape),
        _ => None,
    })
}

// Every operation's fragment, for the tests in `super` that check each is used whole.
pub const FRAGMENTS: &[&str] = &[
    PROJECT_FIELDS,
    TICKET_FIELDS,
    POST_FIELDS,
    STATUS_EVENT_FIELDS,
    USER_FIELDS,
    ADMIN_USER_FIELDS,
];
