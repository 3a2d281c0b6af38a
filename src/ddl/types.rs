//! Altering types in place (composite attributes, domains) and the statements of a type
//! swap (renaming the old one aside, converting columns).

use crate::model::Attribute;
use crate::sql::{Ident, QualName};

/// `DROP ATTRIBUTE a`, an action of [`alter_type`].
pub fn drop_attribute(name: &str) -> String {
    format!("DROP ATTRIBUTE {}", Ident(name))
}

/// `ALTER ATTRIBUTE a TYPE t [COLLATE c]`, an action of [`alter_type`].
pub fn alter_attribute_type(attribute: &Attribute) -> String {
    let mut s = format!(
        "ALTER ATTRIBUTE {} TYPE {}",
        Ident(&attribute.name),
        attribute.data_type
    );
    if let Some(c) = &attribute.collation {
        s.push_str(&format!(" COLLATE {c}"));
    }
    s
}

/// `ADD ATTRIBUTE a t [COLLATE c]`, an action of [`alter_type`].
pub fn add_attribute(attribute: &Attribute) -> String {
    let mut s = format!(
        "ADD ATTRIBUTE {} {}",
        Ident(&attribute.name),
        attribute.data_type
    );
    if let Some(c) = &attribute.collation {
        s.push_str(&format!(" COLLATE {c}"));
    }
    s
}

/// `ALTER TYPE name action, action, ...`.
pub fn alter_type(name: &QualName, actions: &[String]) -> String {
    format!("ALTER TYPE {name} {};", actions.join(", "))
}

pub fn rename_type(name: &QualName, to: &str) -> String {
    format!("ALTER TYPE {name} RENAME TO {};", Ident(to))
}

/// Renames the constructor without arguments of a multirange type.
pub fn rename_multirange_constructor(multirange: &QualName, to: &str) -> String {
    format!("ALTER FUNCTION {multirange}() RENAME TO {};", Ident(to))
}

/// A column to another type: by assignment, or through `via` (`text`) with an explicit
/// cast.
pub fn convert_column(table: &QualName, column: &str, target: &str, via: Option<&str>) -> String {
    let col = Ident(column);
    match via {
        None => format!("ALTER TABLE {table} ALTER COLUMN {col} TYPE {target};"),
        Some(via) => format!(
            "ALTER TABLE {table} ALTER COLUMN {col} TYPE {target} USING {col}::{via}::{target};"
        ),
    }
}

pub fn domain_default(name: &QualName, default: Option<&str>) -> String {
    match default {
        Some(expr) => format!("ALTER DOMAIN {name} SET DEFAULT {expr};"),
        None => format!("ALTER DOMAIN {name} DROP DEFAULT;"),
    }
}

pub fn domain_not_null(name: &QualName, not_null: bool) -> String {
    format!(
        "ALTER DOMAIN {name} {} NOT NULL;",
        if not_null { "SET" } else { "DROP" }
    )
}

pub fn domain_drop_check(name: &QualName, check: &str) -> String {
    format!("ALTER DOMAIN {name} DROP CONSTRAINT {};", Ident(check))
}

/// Adds a check `NOT VALID` (validated apart, without blocking writes).
pub fn domain_add_check(name: &QualName, check: &str, definition: &str) -> String {
    format!(
        "ALTER DOMAIN {name} ADD CONSTRAINT {} {definition} NOT VALID;",
        Ident(check)
    )
}

pub fn domain_validate_check(name: &QualName, check: &str) -> String {
    format!("ALTER DOMAIN {name} VALIDATE CONSTRAINT {};", Ident(check))
}
