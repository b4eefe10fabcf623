//! The vocabulary of the route table: what a REST route is, declaratively.

use http::{Method, StatusCode};

/// One REST route of `/api/v1` (docs/api.md): a persisted GraphQL operation plus the mapping of the
/// HTTP request onto its variables and of its result back onto the REST response.
pub struct RouteSpec {
    pub method: Method,
    /// Path under `/api/v1`, axum 0.8 syntax (`/projects/{id}`).
    pub path: &'static str,
    /// One line for humans (docs, OpenAPI `summary`).
    pub summary: &'static str,
    /// The persisted GraphQL document: exactly one operation (fragments allowed).
    pub operation: &'static str,
    pub input: Input,
    pub output: Output,
    pub success: StatusCode,
    pub cache: Cache,
    /// Headers the route reads (for `If-Match`, `Idempotency-Key` handling).
    pub headers: Headers,
    /// Every error status the route can answer besides the common ones (400, 401, 405, 413,
    /// 415, 429, 503); used by the OpenAPI document.
    pub errors: &'static [u16],
    /// How the route uses the browser's refresh-token cookie, if at all.
    pub cookie: Option<CookieUse>,
}

#[derive(Clone, Copy)]
pub struct Headers {
    /// `Idempotency-Key` → `$key`.
    pub idempotency_key: bool,
    /// `If-Match` → `$version`, compared strongly against the ETag of this resource type
    /// (`"<type>-<id>-v<version>"`).
    pub if_match: Option<&'static str>,
}

/// A route that reads neither `Idempotency-Key` nor `If-Match`.
pub const NO_HEADERS: Headers = Headers {
    idempotency_key: false,
    if_match: None,
};

/// How the HTTP request becomes GraphQL variables.
pub enum Input {
    /// No variables.
    None,
    /// `?page=&page_size=` → `$first`, `$offset`; each filter parameter → a field of `$filter`.
    List { filters: &'static [Param] },
    /// The `{id}` path segment → `$id`.
    Id,
    /// The JSON body → `$input` (and the `{id}` segment, when the path has one, → `input.id`).
    Body { fields: &'static [BodyField] },
    /// The `{id}` path segment → `$input: { id }`.
    IdInput,
}

/// A query-string filter.
pub struct Param {
    pub name: &'static str,
    /// Field of the GraphQL `filter` input.
    pub gql: &'static str,
    pub kind: Kind,
    pub doc: &'static str,
}

/// A member of a JSON request body.
pub struct BodyField {
    pub name: &'static str,
    /// Field of the GraphQL input object.
    pub gql: &'static str,
    pub kind: Kind,
    /// Required and non-null; otherwise it may be omitted (and, on creates, null = omitted).
    pub required: bool,
    /// `null` is a value of its own (e.g. `assignee_id: null` unassigns), also on updates.
    pub nullable: bool,
    pub doc: &'static str,
}

#[derive(Clone, Copy)]
pub enum Kind {
    Str,
    /// An opaque id (a string).
    Id,
    /// One of these lowercase values; GraphQL spells them in SCREAMING_CASE.
    Enum(&'static [&'static str]),
    StrList,
}

/// How the GraphQL result becomes the REST response body.
pub enum Output {
    /// The object at `path` (below `data`), shaped; `null` → 404 (or 401 for `/auth/me`).
    Item {
        path: &'static [&'static str],
        shape: &'static Shape,
        /// Single resources with a version: the ETag is `"<etag>-<id>-v<version>"`.
        etag: Option<&'static str>,
        /// Create routes: `Location: /api/v1<location>/<id>`.
        location: Option<&'static str>,
        null: NullMeans,
    },
    /// A connection at `path`: `{ items, total, page, page_size, pages }`.
    Page {
        path: &'static [&'static str],
        shape: &'static Shape,
    },
    /// No body (204).
    Empty,
}

#[derive(Clone, Copy)]
pub enum NullMeans {
    NotFound,
    Unauthenticated,
}

/// A REST object: its members, in order, each taken from a GraphQL field.
pub struct Shape {
    pub name: &'static str,
    pub fields: &'static [Field],
}

pub struct Field {
    pub name: &'static str,
    pub gql: &'static str,
    pub conv: Conv,
    pub nullable: bool,
}

pub enum Conv {
    /// Strings, numbers and timestamps as they are.
    Same(Scalar),
    /// An enum value, lowercased.
    Lower(&'static [&'static str]),
    Object(&'static Shape),
    List(&'static Shape),
    Strings,
}

#[derive(Clone, Copy)]
pub enum Scalar {
    Str,
    Int,
    DateTime,
    Bool,
}

/// The `Cache-Control` policy of a successful read.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Cache {
    /// Not cacheable (writes, tokens).
    NoStore,
    /// `private, no-cache` and `Vary: Authorization`: the answer depends on the caller.
    Private,
    /// Public data: `public, max-age=N` for anonymous callers (`private, no-cache` with a token),
    /// always `Vary: Authorization`.
    Public(u32),
}

pub const fn field(name: &'static str, gql: &'static str, conv: Conv) -> Field {
    Field {
        name,
        gql,
        conv,
        nullable: false,
    }
}

pub const fn nullable(name: &'static str, gql: &'static str, conv: Conv) -> Field {
    Field {
        name,
        gql,
        conv,
        nullable: true,
    }
}

pub const fn body(
    name: &'static str,
    gql: &'static str,
    kind: Kind,
    required: bool,
    doc: &'static str,
) -> BodyField {
    BodyField {
        name,
        gql,
        kind,
        required,
        nullable: false,
        doc,
    }
}

/// An optional body member whose `null` means something (clears the value).
pub const fn nullable_body(
    name: &'static str,
    gql: &'static str,
    kind: Kind,
    doc: &'static str,
) -> BodyField {
    BodyField {
        nullable: true,
        ..body(name, gql, kind, false, doc)
    }
}

pub const fn param(name: &'static str, gql: &'static str, kind: Kind, doc: &'static str) -> Param {
    Param {
        name,
        gql,
        kind,
        doc,
    }
}

/// How an auth route uses the browser's refresh-token cookie (see `super::cookie`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CookieUse {
    /// Sign-in: a browser gets the new refresh token as the cookie instead of in the body.
    Issue,
    /// Refresh: the token may come from the cookie; a browser gets the next one the same way.
    Rotate,
    /// Sign-out: the cookie is cleared.
    Clear,
}

type At = &'static [&'static str];

/// The route kinds of the table: each sets what every route of its kind shares (method,
/// status, cache policy, headers, errors), so an entry states only what is its own.
impl RouteSpec {
    /// What a route of a kind starts from: its method, input and the errors of its kind; no
    /// output, 200, no caching, no headers.
    const fn base(
        method: Method,
        path: &'static str,
        summary: &'static str,
        input: Input,
        errors: &'static [u16],
    ) -> Self {
        Self {
            method,
            path,
            summary,
            operation: "",
            input,
            output: Output::Empty,
            success: StatusCode::OK,
            cache: Cache::NoStore,
            headers: NO_HEADERS,
            errors,
            cookie: None,
        }
    }

    /// `GET` of a page: `?page=&page_size=` plus `filters`.
    pub const fn list(
        path: &'static str,
        summary: &'static str,
        filters: &'static [Param],
    ) -> Self {
        let input = Input::List { filters };
        let mut route = Self::base(Method::GET, path, summary, input, &[422]);
        route.cache = Cache::Private;
        route
    }

    /// `GET` of one object by its `{id}`.
    pub const fn fetch(path: &'static str, summary: &'static str) -> Self {
        let mut route = Self::base(Method::GET, path, summary, Input::Id, &[404]);
        route.cache = Cache::Private;
        route
    }

    /// `POST` that creates: 201, `Location: /api/v1<path>/<id>`, retry-safe by
    /// `Idempotency-Key`.
    pub const fn create(
        path: &'static str,
        summary: &'static str,
        fields: &'static [BodyField],
    ) -> Self {
        let input = Input::Body { fields };
        let mut route = Self::base(Method::POST, path, summary, input, &[409, 422]);
        route.success = StatusCode::CREATED;
        route.headers.idempotency_key = true;
        route
    }

    /// `PATCH` of one versioned object: conditional on `If-Match` (see [`Self::etag`]),
    /// retry-safe by `Idempotency-Key`.
    pub const fn update(
        path: &'static str,
        summary: &'static str,
        fields: &'static [BodyField],
    ) -> Self {
        let input = Input::Body { fields };
        let errors = &[403, 404, 409, 412, 422, 428];
        let mut route = Self::base(Method::PATCH, path, summary, input, errors);
        route.headers = Headers {
            idempotency_key: true,
            if_match: Some(""),
        };
        route
    }

    /// `DELETE` of one versioned object: 204, conditional on `If-Match`.
    pub const fn delete(path: &'static str, summary: &'static str) -> Self {
        let errors = &[403, 404, 412, 428];
        let mut route = Self::base(Method::DELETE, path, summary, Input::IdInput, errors);
        route.success = StatusCode::NO_CONTENT;
        route.headers.if_match = Some("");
        route
    }

    /// `POST` of an action whose JSON body maps onto the operation's `$input`.
    pub const fn action(
        path: &'static str,
        summary: &'static str,
        fields: &'static [BodyField],
    ) -> Self {
        let input = Input::Body { fields };
        Self::base(Method::POST, path, summary, input, &[422])
    }

    /// The persisted GraphQL document.
    pub const fn run(mut self, operation: &'static str) -> Self {
        self.operation = operation;
        self
    }

    /// A page: the connection at `at`, each item shaped by `shape`.
    pub const fn page(mut self, at: At, shape: &'static Shape) -> Self {
        self.output = Output::Page { path: at, shape };
        self
    }

    /// One object at `at`, shaped by `shape`; `null` means 404. A create answers with its
    /// `Location` under the route's path.
    pub const fn item(mut self, at: At, shape: &'static Shape) -> Self {
        let location = match self.success.as_u16() {
            201 => Some(self.path),
            _ => None,
        };
        self.output = Output::Item {
            path: at,
            shape,
            etag: None,
            location,
            null: NullMeans::NotFound,
        };
        self
    }

    /// The resource type of the object's strong ETag (`"<kind>-<id>-v<version>"`), which
    /// `If-Match` is compared with on conditional routes.
    pub const fn etag(mut self, kind: &'static str) -> Self {
        if let Output::Item { etag, .. } = &mut self.output {
            *etag = Some(kind);
        }
        if self.headers.if_match.is_some() {
            self.headers.if_match = Some(kind);
        }
        self
    }

    /// A write that takes no `If-Match` (it changes no versioned resource).
    pub const fn unconditional(mut self) -> Self {
        self.headers = NO_HEADERS;
        self
    }

    /// What `null` at the object's place means.
    pub const fn null_means(mut self, means: NullMeans) -> Self {
        if let Output::Item { null, .. } = &mut self.output {
            *null = means;
        }
        self
    }

    pub const fn input(mut self, input: Input) -> Self {
        self.input = input;
        self
    }

    pub const fn cache(mut self, cache: Cache) -> Self {
        self.cache = cache;
        self
    }

    /// The error statuses the route can answer besides the common ones.
    pub const fn errors(mut self, errors: &'static [u16]) -> Self {
        self.errors = errors;
        self
    }

    pub const fn success(mut self, status: StatusCode) -> Self {
        self.success = status;
        self
    }

    pub const fn cookie(mut self, usage: CookieUse) -> Self {
        self.cookie = Some(usage);
        self
    }
}
