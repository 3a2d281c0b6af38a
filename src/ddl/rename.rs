//! Renames (`-- strata:renamed-from`).

use crate::sql::{Ident, Literal, QualName};

/// `ALTER <kind> from RENAME TO to` for a table, view, materialized view, sequence, index,
/// type or domain (`kind` as the statement names it: `TABLE`, `MATERIALIZED VIEW` ...).
pub fn rename_object(kind: &str, from: &QualName, to: &str) -> String {
    format!("ALTER {kind} {from} RENAME TO {};", Ident(to))
}

pub fn rename_column(table: &QualName, from: &str, to: &str) -> String {
    format!(
        "ALTER TABLE {table} RENAME COLUMN {} TO {};",
        Ident(from),
        Ident(to)
    )
}

pub fn rename_constraint(table: &QualName, from: &str, to: &str) -> String {
    format!(
        "ALTER TABLE {table} RENAME CONSTRAINT {} TO {};",
        Ident(from),
        Ident(to)
    )
}

pub fn rename_enum_value(type_name: &QualName, from: &str, to: &str) -> String {
    format!(
        "ALTER TYPE {type_name} RENAME VALUE {} TO {};",
        Literal(from),
        Literal(to)
    )
}
