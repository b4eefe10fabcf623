//! Parsed documents by their text, for `POST`/`GET /graphql`: clients send the same few
//! documents over and over, and parsing one (pest) costs a large share of a small query's CPU.
//! A hit clones the parsed document (execution takes it by value and edits it); everything
//! after parsing (alias and depth limits, the complexity charge) still runs on every request,
//! and so does validation against the schema, except where [`Document::measured`] knows its
//! verdict already ([`super::hooks`]). Bounded in entries and in the size of what it keeps:
//! `lru` (async-graphql already builds it), under one mutex held only for the lookup.

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex, OnceLock};

use async_graphql::Request;
use async_graphql::parser::types::{
    BaseType, DocumentOperations, ExecutableDocument, OperationDefinition, Type,
};
use lru::LruCache;

/// Distinct documents kept; the least recently used goes first.
const ENTRIES: NonZeroUsize = NonZeroUsize::new(256).expect("non-zero");

/// Longer documents are parsed every time: a parsed document takes several times its text's
/// memory, and these bounds keep the whole cache to a few tens of MiB even when every entry is
/// a hostile client's largest allowed document.
pub const MAX_CACHED_BYTES: usize = 8 * 1024;

pub struct DocumentCache {
    entries: Mutex<LruCache<Box<str>, Arc<Document>>>,
}

/// One parsed document and what fully validating it once established.
pub struct Document {
    parsed: ExecutableDocument,
    /// Its complexity, once a request of it passed full validation, when that number and the
    /// validation's verdict cannot change with the variables (see [`Document::measured`]).
    measured: OnceLock<usize>,
    /// Whether the variables cannot change them: every variable is an `ID`, a `String` or a
    /// `Boolean` (lists and non-null included). Such values are checked in full before
    /// execution ([`crate::http`]'s variable coercion) and no complexity rule reads them (page
    /// sizes are `Int`s); a custom scalar's own parsing (`DateTime`) is a validation rule that
    /// reads the value, so such documents are validated every time.
    fixed: bool,
}

impl Document {
    fn new(parsed: ExecutableDocument) -> Self {
        let fixed = parsed.operations.iter().all(|(_, op)| {
            op.node
                .variable_definitions
                .iter()
                .all(|v| plain(&v.node.var_type.node))
        });
        Self {
            parsed,
            measured: OnceLock::new(),
            fixed,
        }
    }

    /// The complexity async-graphql computed when a request of this document passed full
    /// validation, if the document's verdict cannot depend on its variables: the rules are
    /// functions of the document, the schema (fixed for the process) and those variables.
    pub fn measured(&self) -> Option<usize> {
        self.measured.get().copied()
    }

    /// Notes that a request of this document passed full validation with this complexity.
    pub fn passed(&self, complexity: usize) {
        if self.fixed {
            let _ = self.measured.set(complexity);
        }
    }
}

/// The operation GraphQL's `GetOperation()` selects in `doc` for `asked`, with its name; `None`
/// when it selects none (execution then reports why).
pub fn select_operation<'a>(
    doc: &'a ExecutableDocument,
    asked: Option<&str>,
) -> Option<(Option<&'a str>, &'a OperationDefinition)> {
    match (&doc.operations, asked) {
        (DocumentOperations::Single(op), None) => Some((None, &op.node)),
        (DocumentOperations::Single(_), Some(_)) => None,
        (DocumentOperations::Multiple(ops), Some(asked)) => ops
            .get_key_value(asked)
            .map(|(name, op)| (Some(name.as_str()), &op.node)),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => ops
            .iter()
            .next()
            .map(|(name, op)| (Some(name.as_str()), &op.node)),
        (DocumentOperations::Multiple(_), None) => None,
    }
}

fn plain(ty: &Type) -> bool {
    match &ty.base {
        BaseType::Named(name) => matches!(name.as_str(), "ID" | "String" | "Boolean"),
        BaseType::List(item) => plain(item),
    }
}

impl Default for DocumentCache {
    fn default() -> Self {
        Self {
            entries: Mutex::new(LruCache::new(ENTRIES)),
        }
    }
}

impl DocumentCache {
    /// Gives `request` its parsed document: the cached one when this text was parsed before,
    /// otherwise parsed now and kept. A document that does not parse is not kept, and is left
    /// for execution to report like any other.
    pub fn attach(&self, request: &mut Request) -> Option<Arc<Document>> {
        if request.query.len() > MAX_CACHED_BYTES {
            return None;
        }
        let cached = self
            .entries
            .lock()
            .ok()
            .and_then(|mut entries| entries.get(request.query.as_str()).cloned());
        if let Some(doc) = cached {
            crate::metrics::document_cache(true);
            request.set_parsed_query(doc.parsed.clone());
            return Some(doc);
        }
        crate::metrics::document_cache(false);
        let doc = Arc::new(Document::new(request.parsed_query().ok()?.clone()));
        if let Ok(mut entries) = self.entries.lock() {
            entries.put(request.query.as_str().into(), doc.clone());
        }
        Some(doc)
    }

    /// What full validation established about the document with this text, if it is kept.
    pub fn measured(&self, text: &str) -> Option<usize> {
        let entries = self.entries.lock().ok()?;
        entries.peek(text)?.measured()
    }

    /// Documents kept now.
    pub fn len(&self) -> usize {
        self.entries.lock().map_or(0, |e| e.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_documents_whose_variables_cannot_change_the_verdict_keep_it() {
        let cache = DocumentCache::default();
        let kept = |text: &str| {
            let doc = cache.attach(&mut request(text)).expect("parses");
            doc.passed(7);
            doc.measured()
        };
        assert_eq!(kept("{ a }"), Some(7));
        assert_eq!(
            kept("query($id: ID!, $q: [String!], $b: Boolean) { a }"),
            Some(7)
        );
        assert_eq!(
            kept("query($n: Int) { a(first: $n) }"),
            None,
            "page sizes are Ints"
        );
        assert_eq!(kept("query($t: DateTime) { a(since: $t) }"), None);
        assert_eq!(kept("query($f: ProjectFilter) { a(filter: $f) }"), None);
    }

    fn request(query: &str) -> Request {
        Request::new(query)
    }

    #[test]
    fn the_same_text_is_parsed_once_and_each_request_gets_its_own_copy() {
        let cache = DocumentCache::default();
        let mut first = request("{ a b }");
        cache.attach(&mut first);
        let mut second = request("{ a b }");
        cache.attach(&mut second);
        assert_eq!(cache.len(), 1);
        let text = |r: &mut Request| format!("{:?}", r.parsed_query().ok());
        assert_eq!(text(&mut first), text(&mut second));
        assert!(text(&mut second).contains("\"b\""), "{}", text(&mut second));
    }

    #[test]
    fn unparsable_and_oversized_documents_are_not_kept() {
        let cache = DocumentCache::default();
        let mut broken = request("{ a ");
        cache.attach(&mut broken);
        assert!(
            broken.parsed_query().is_err(),
            "the syntax error still surfaces"
        );
        let big = format!("{{ {} }}", "a ".repeat(MAX_CACHED_BYTES));
        assert!(cache.attach(&mut request(&big)).is_none());
        assert!(cache.is_empty());
    }

    #[test]
    fn it_keeps_at_most_its_capacity() {
        let cache = DocumentCache::default();
        for n in 0..ENTRIES.get() + 10 {
            cache.attach(&mut request(&format!("{{ f{n} }}")));
        }
        assert_eq!(cache.len(), ENTRIES.get());
    }
}
