//! What async-graphql lacks, run by [`super::hooks::Hooks`]: a cap on aliases per document,
//! which otherwise let one request multiply work (`a1: projects … a500: projects`) under the
//! complexity limit's per-field accounting; and an `extensions.code` on every error.

use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{ErrorExtensions, Response, ServerError, ServerResult};

fn count(set: &SelectionSet) -> usize {
    set.items
        .iter()
        .map(|s| match &s.node {
            Selection::Field(f) => {
                usize::from(f.node.alias.is_some()) + count(&f.node.selection_set.node)
            }
            Selection::InlineFragment(f) => count(&f.node.selection_set.node),
            Selection::FragmentSpread(_) => 0,
        })
        .sum()
}

pub fn aliases(doc: &ExecutableDocument) -> usize {
    let operations: usize = doc
        .operations
        .iter()
        .map(|(_, op)| count(&op.node.selection_set.node))
        .sum();
    let fragments: usize = doc
        .fragments
        .values()
        .map(|f| count(&f.node.selection_set.node))
        .sum();
    operations + fragments
}

/// Refuses a parsed document with more than `max` aliases (`graphql_max_aliases`).
pub fn check_aliases(doc: &ExecutableDocument, max: usize) -> ServerResult<()> {
    let n = aliases(doc);
    if n > max {
        crate::security::Threat::GraphqlLimit.record();
        let err = crate::error::Error::BadRequest(format!(
            "the query uses {n} aliases; at most {max} are allowed"
        ));
        let extended = err.extend();
        return Err(ServerError {
            message: extended.message,
            source: None,
            locations: vec![],
            path: vec![],
            extensions: extended.extensions,
        });
    }
    Ok(())
}

// Every error gets an `extensions.code`: async-graphql's own parse, validation and limit
// errors carry none. Those are the client's (`BAD_USER_INPUT`); an uncoded error raised while
// executing is argument coercion (the client's) or an internal fault (logged, made opaque).

fn with_code(mut err: ServerError, code: &str) -> ServerError {
    let ext = err.extensions.get_or_insert_with(Default::default);
    if ext.get("code").is_none() {
        ext.set("code", code);
    }
    err
}

fn has_code(err: &ServerError) -> bool {
    err.extensions
        .as_ref()
        .is_some_and(|e| e.get("code").is_some())
}

/// A parse error is the client's.
pub fn parse_error(err: ServerError) -> ServerError {
    with_code(err, "BAD_USER_INPUT")
}

/// Validation errors are the client's.
pub fn validation_errors(errs: Vec<ServerError>) -> Vec<ServerError> {
    // async-graphql reports its depth and complexity limits as validation errors.
    if errs.iter().any(|e| {
        e.message.starts_with("Query is nested too deep")
            || e.message.starts_with("Query is too complex")
    }) {
        crate::security::Threat::GraphqlLimit.record();
    }
    errs.into_iter()
        .map(|e| with_code(e, "BAD_USER_INPUT"))
        .collect()
}

/// Codes the errors an execution left uncoded.
pub fn code_errors(response: &mut Response) {
    for err in &mut response.errors {
        if has_code(err) {
            continue;
        }
        let client = [
            "Invalid value for argument",
            "Failed to parse",
            "Expected input type",
        ]
        .iter()
        .any(|p| err.message.starts_with(p));
        if client {
            *err = with_code(err.clone(), "BAD_USER_INPUT");
        } else {
            tracing::error!(error = %err.message, path = ?err.path, "uncoded GraphQL error");
            err.message = "internal server error".into();
            *err = with_code(err.clone(), "INTERNAL_SERVER_ERROR");
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn counts_aliases_in_operations_and_fragments() {
        let doc = async_graphql::parser::parse_query(
            "query { a: viewer { id } b: viewer { x: id } ...F } fragment F on QueryRoot { c: viewer { id } }",
        )
        .unwrap();
        assert_eq!(super::aliases(&doc), 4);
    }
}
