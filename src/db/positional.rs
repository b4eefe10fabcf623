//! Rows of the reads outside transactions ([`Db::one`](super::Db::one),
//! [`Db::all`](super::Db::all)) decoded by column position, the type of each column checked
//! once per result set.
//!
//! SeaORM's derived decoding looks every column up by name and has sqlx check its type, on
//! every row (its measured cost: docs/benchmarks.md, "What moved the numbers"). A result set's
//! columns and their types are the statement's, the same for all its rows, so the first row
//! proves them: its column names must be the decoder's, in order, and each value is decoded
//! with sqlx's type check; the rows after it skip both. SQLite types values, not columns, so
//! its rows keep the checked path. `tests/api/reads.rs` compares every row and column with
//! SeaORM's own decoding.

use chrono::{DateTime, Utc};
use sea_orm::sqlx::postgres::Postgres;
use sea_orm::sqlx::{Column as _, Decode, Row as _, Type};
use sea_orm::{DbErr, QueryResult, RuntimeErr, TryGetable};

/// A row type read by position from a select list that is exactly [`Positional::COLUMNS`].
pub trait Positional: Sized {
    /// The select list, in order.
    const COLUMNS: &'static [&'static str];
    /// Reads one value per column, in [`Positional::COLUMNS`] order.
    fn read(columns: &mut Columns<'_>) -> Result<Self, DbErr>;
}

/// The values of one row, taken in order.
pub struct Columns<'a> {
    row: &'a QueryResult,
    next: usize,
    /// Whether types are still to be checked (the result set's first row).
    checked: bool,
}

impl Columns<'_> {
    /// The next column's value.
    pub fn take<T: Field>(&mut self) -> Result<T, DbErr> {
        let index = self.next;
        self.next += 1;
        T::get(self.row, index, self.checked)
    }
}

/// A value a column decodes to.
pub trait Field: Sized {
    fn get(row: &QueryResult, index: usize, checked: bool) -> Result<Self, DbErr>;
}

/// The checked read on a result set's first row, the unchecked one after it.
fn decoded<T>(row: &QueryResult, index: usize, checked: bool) -> Result<T, DbErr>
where
    T: TryGetable + for<'r> Decode<'r, Postgres> + Type<Postgres>,
{
    match row.try_as_pg_row() {
        Some(pg) if checked => pg.try_get(index).map_err(sqlx_error),
        Some(pg) => pg.try_get_unchecked(index).map_err(sqlx_error),
        None => row.try_get_by_index(index),
    }
}

/// `Field` through sqlx's own decoding.
macro_rules! decoded_fields {
    ($($ty:ty),* $(,)?) => {
        $(
            impl Field for $ty {
                fn get(row: &QueryResult, index: usize, checked: bool) -> Result<Self, DbErr> {
                    decoded(row, index, checked)
                }
            }
        )*
    };
}

decoded_fields!(
    uuid::Uuid,
    Option<uuid::Uuid>,
    String,
    Option<String>,
    i32,
    Option<i32>,
    i64,
    Option<i64>,
    bool,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
);

/// `Field` for SeaORM string enums (`string_enum_fields!(Visibility, Role)`): the column's
/// text, then the enum's own conversion, as SeaORM decodes them.
macro_rules! string_enum_fields {
    ($($enum:ty),* $(,)?) => {
        $(
            impl $crate::db::positional::Field for $enum {
                fn get(
                    row: &sea_orm::QueryResult,
                    index: usize,
                    checked: bool,
                ) -> Result<Self, sea_orm::DbErr> {
                    let text = <String as $crate::db::positional::Field>::get(row, index, checked)?;
                    <$enum as sea_orm::ActiveEnum>::try_from_value(&text)
                }
            }
        )*
    };
}
pub(crate) use string_enum_fields;

/// `rows` decoded as `M`; the first row proves the select list (names and types).
pub fn decode_all<M: Positional>(rows: &[QueryResult]) -> Result<Vec<M>, DbErr> {
    let mut out = Vec::with_capacity(rows.len());
    for (n, row) in rows.iter().enumerate() {
        if n == 0 {
            check_names::<M>(row)?;
        }
        out.push(M::read(&mut Columns {
            row,
            next: 0,
            checked: n == 0,
        })?);
    }
    Ok(out)
}

/// One row decoded as `M`, names and types checked.
pub fn decode_one<M: Positional>(row: &QueryResult) -> Result<M, DbErr> {
    check_names::<M>(row)?;
    M::read(&mut Columns {
        row,
        next: 0,
        checked: true,
    })
}

/// A select list other than `M::COLUMNS` is a server bug (a query and its row type drifted
/// apart): it fails loudly instead of reading one column as another.
fn check_names<M: Positional>(row: &QueryResult) -> Result<(), DbErr> {
    let expected = M::COLUMNS.iter().copied();
    let same = if let Some(pg) = row.try_as_pg_row() {
        pg.columns().iter().map(|c| c.name()).eq(expected)
    } else if let Some(lite) = row.try_as_sqlite_row() {
        lite.columns().iter().map(|c| c.name()).eq(expected)
    } else {
        row.column_names().iter().map(String::as_str).eq(expected)
    };
    if same {
        return Ok(());
    }
    Err(DbErr::Type(format!(
        "{} reads the columns {:?}, the statement returned {:?}",
        std::any::type_name::<M>(),
        M::COLUMNS,
        row.column_names()
    )))
}

fn sqlx_error(err: sea_orm::sqlx::Error) -> DbErr {
    DbErr::Query(RuntimeErr::SqlxError(err.into()))
}
