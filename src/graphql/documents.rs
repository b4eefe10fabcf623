//! Parsed documents by their text, for `POST`/`GET /graphql`: clients send the same few
//! documents over and over, and parsing one (pest) costs a large share of a small query's CPU.
//! A hit clones the parsed document (execution takes it by value and edits it); everything
//! after parsing (alias and depth limits, validation against the schema, the complexity
//! charge) still runs on every request, so a cached document is judged exactly as a fresh one.
//! Bounded in entries and in the size of what it keeps: `lru` (async-graphql already builds
//! it), under one mutex held only for the lookup.

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};

use async_graphql::Request;
use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, OperationDefinition};
use lru::LruCache;

/// Distinct documents kept; the least recently used goes first.
const ENTRIES: NonZeroUsize = NonZeroUsize::new(256).expect("non-zero");

/// Longer documents are parsed every time: a parsed document takes several times its text's
/// memory, and these bounds keep the whole cache to a few tens of MiB even when every entry is
/// a hostile client's largest allowed document.
pub const MAX_CACHED_BYTES: usize = 8 * 1024;

pub struct DocumentCache {
    entries: Mutex<LruCache<Box<str>, Arc<ExecutableDocument>>>,
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
    /// for execution to report like any other. Whether the document is kept.
    pub fn attach(&self, request: &mut Request) -> bool {
        if request.query.len() > MAX_CACHED_BYTES {
            return false;
        }
        let cached = self
            .entries
            .lock()
            .ok()
            .and_then(|mut entries| entries.get(request.query.as_str()).cloned());
        if let Some(doc) = cached {
            crate::metrics::document_cache(true);
            request.set_parsed_query(ExecutableDocument::clone(&doc));
            return true;
        }
        crate::metrics::document_cache(false);
        let Ok(doc) = request.parsed_query() else {
            return false;
        };
        let doc = Arc::new(doc.clone());
        if let Ok(mut entries) = self.entries.lock() {
            entries.put(request.query.as_str().into(), doc);
        }
        true
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
        assert!(!cache.attach(&mut request(&big)));
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
