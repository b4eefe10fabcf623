//! Statements whose SQL text depends only on a small key (a resource, the kind of caller, the
//! backend): built once per key through SeaORM, then reused with each request's values put
//! in. Building them per request through sea-query was the largest avoidable cost of the
//! reads and lookups that use them (docs/benchmarks.md, sessions 9 and 13).

use std::convert::Infallible;
use std::sync::{PoisonError, RwLock};

use sea_orm::{Statement, Value};

/// A handful of keys at most, so a list scan beats hashing.
pub struct Templates<K>(RwLock<Vec<(K, Statement)>>);

impl<K: PartialEq + Copy> Default for Templates<K> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K: PartialEq + Copy> Templates<K> {
    pub const fn new() -> Self {
        Self(RwLock::new(Vec::new()))
    }

    /// The template for `key`, built by `build` the first time it is asked for.
    pub fn get_or_build<E>(
        &self,
        key: K,
        build: impl FnOnce() -> Result<Statement, E>,
    ) -> Result<Statement, E> {
        let cached = self
            .0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, stmt)| stmt.clone());
        if let Some(stmt) = cached {
            return Ok(stmt);
        }
        let stmt = build()?;
        let mut templates = self.0.write().unwrap_or_else(PoisonError::into_inner);
        if !templates.iter().any(|(k, _)| *k == key) {
            templates.push((key, stmt.clone()));
        }
        Ok(stmt)
    }

    /// [`Templates::get_or_build`] for a template whose building cannot fail.
    pub fn get(&self, key: K, build: impl FnOnce() -> Statement) -> Statement {
        let Ok(stmt) = self.get_or_build(key, || Ok::<_, Infallible>(build()));
        stmt
    }
}

/// `template` with each stand-in value (first of a pair) replaced by the request's (second).
/// Stand-ins are values no real request carries, chosen by each template's owner.
pub fn fill<const N: usize>(mut template: Statement, values: [(Value, Value); N]) -> Statement {
    for value in template.values.iter_mut().flat_map(|v| v.0.iter_mut()) {
        if let Some((_, real)) = values.iter().find(|(stand_in, _)| stand_in == value) {
            *value = real.clone();
        }
    }
    template
}
