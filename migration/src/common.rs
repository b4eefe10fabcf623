//! Small column helpers shared by the migrations.

use sea_orm_migration::prelude::*;

/// Width of the string columns that hold enum-like values.
pub const ENUM_LEN: u32 = 32;

/// `version integer NOT NULL DEFAULT 1` (optimistic concurrency / ETags).
pub fn version<T: IntoIden>(col: T) -> ColumnDef {
    ColumnDef::new(col).integer().not_null().default(1).take()
}

/// An enum-like string column: `varchar(32) NOT NULL`, with a named
/// `CHECK (col IN (...))` constraint and an optional default.
pub fn enum_string<T>(
    col: T,
    check_name: &'static str,
    values: &[&str],
    default: Option<&str>,
) -> ColumnDef
where
    T: IntoIden,
{
    let col = col.into_iden();
    let mut def = ColumnDef::new(col.clone());
    def.string_len(ENUM_LEN).not_null().check((
        check_name,
        Expr::col(col).is_in(values.iter().map(|v| (*v).to_owned())),
    ));
    if let Some(default) = default {
        def.default(default.to_owned());
    }
    def
}

/// Shorthand for a named index on `table`; add columns with `.col(..)`.
pub fn index<T: IntoIden>(name: &str, table: T) -> IndexCreateStatement {
    Index::create().name(name).table(table).take()
}

/// `(column, DESC)` for index definitions.
pub fn desc<T: IntoIden>(col: T) -> (T, IndexOrder) {
    (col, IndexOrder::Desc)
}
