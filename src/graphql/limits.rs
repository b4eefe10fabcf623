//! Request-shape limits that async-graphql lacks: a cap on aliases per document, which
//! otherwise let one request multiply work (`a1: projects … a500: projects`) under the
//! complexity limit's per-field accounting.

use std::sync::Arc;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery, NextValidation,
};
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{
    ErrorExtensions, Response, ServerError, ServerResult, ValidationResult, Variables,
};

pub struct AliasLimit(pub usize);

impl ExtensionFactory for AliasLimit {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(AliasLimitExtension(self.0))
    }
}

struct AliasLimitExtension(usize);

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

#[async_graphql::async_trait::async_trait]
impl Extension for AliasLimitExtension {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let doc = next.run(ctx, query, variables).await?;
        let n = aliases(&doc);
        if n > self.0 {
            crate::security::Threat::GraphqlLimit.record();
            let err = crate::error::Error::BadRequest(format!(
                "the query uses {n} aliases; at most {} are allowed",
                self.0
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
        Ok(doc)
    }
}

/// Gives every error an `extensions.code`: async-graphql's own parse, validation and limit
/// errors carry none. Those are the client's (`BAD_USER_INPUT`); an uncoded error raised while
/// executing is argument coercion (the client's) or an internal fault (logged, made opaque).
pub struct ErrorCodes;

impl ExtensionFactory for ErrorCodes {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ErrorCodesExtension)
    }
}

struct ErrorCodesExtension;

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

#[async_graphql::async_trait::async_trait]
impl Extension for ErrorCodesExtension {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        next.run(ctx, query, variables)
            .await
            .map_err(|e| with_code(e, "BAD_USER_INPUT"))
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        next.run(ctx).await.map_err(|errs| {
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
        })
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let mut response = next.run(ctx, operation_name).await;
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
        response
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
