//! The input bounds of the API contract, in one place: the domain enforces them, the GraphQL
//! schema's complexity rule and the REST shim's input mapping and OpenAPI document describe them.
//! Nothing here decides anything; it only names the numbers.

/// An inclusive length range, in characters.
#[derive(Clone, Copy, Debug)]
pub struct Len {
    pub min: usize,
    pub max: usize,
}

const fn len(min: usize, max: usize) -> Len {
    Len { min, max }
}

/// Items per page when `first`/`last`/`page_size` is not given, and the most a page holds.
pub const DEFAULT_PAGE_SIZE: i32 = 20;
pub const MAX_PAGE_SIZE: i32 = 100;

pub const PROJECT_NAME: Len = len(1, 120);
pub const PROJECT_DESCRIPTION: Len = len(0, 5_000);
/// Ticket subjects and post titles.
pub const TITLE: Len = len(1, 200);
/// Ticket and post bodies.
pub const BODY: Len = len(1, 20_000);
pub const STATUS_MESSAGE: Len = len(0, 2_000);
pub const SERVICE_NAME_MAX: usize = 64;
pub const MAX_TAGS: usize = 10;
pub const TAG_MAX: usize = 32;
pub const DISPLAY_NAME: Len = len(1, 100);
pub const PASSWORD: Len = len(8, 128);
pub const EMAIL_MAX: usize = 320;
