//! Pre-flight checks: conditions on the rows that a step needs, recorded with the step so
//! that `apply` and `revert` can test them all before the first step changes anything. A
//! step that would fail halfway through a plan (`SET NOT NULL` over NULLs, a unique index
//! over duplicates, a foreign key over orphans, removing an enum value still in use, a
//! narrowing type change over values that do not fit) is found up front instead.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::sql::{Ident, QualName};

/// A column that holds values of an enum type (or arrays of them).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnumColumn {
    pub table: QualName,
    pub column: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub array: bool,
}

/// One condition on the data, as data: the query that tests it is generated at run time
/// from these fields (names are quoted; key expressions and predicates are SQL that
/// PostgreSQL printed for the desired state).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Check {
    /// No row has NULL in the column (before `SET NOT NULL`).
    NotNull { table: QualName, column: String },
    /// The table has no rows (before adding a `NOT NULL` column without a default).
    NoRows { table: QualName, column: String },
    /// No two rows share the key (before a unique index or constraint is built).
    Unique {
        table: QualName,
        /// Key columns or expressions, as SQL.
        keys: Vec<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        predicate: Option<String>,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        nulls_not_distinct: bool,
    },
    /// Every row whose key has no NULL has its referenced row (before a foreign key).
    References {
        table: QualName,
        columns: Vec<String>,
        referenced: QualName,
        referenced_columns: Vec<String>,
        /// `MATCH FULL`: a key with some but not all columns NULL fails too.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        match_full: bool,
    },
    /// Every row satisfies a check constraint's expression (before it is validated).
    Satisfies { table: QualName, expression: String },
    /// No row uses the enum labels a rebuild removes.
    LabelsUnused {
        #[serde(rename = "type")]
        type_name: QualName,
        labels: Vec<String>,
        columns: Vec<EnumColumn>,
    },
    /// Every value of the column converts to the new type without an error.
    Converts {
        table: QualName,
        column: String,
        to: String,
        /// A type the value passes through first (`text` for enums).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        via: Option<String>,
        /// The conversion raises when a value is longer than this (character types).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_length: Option<u32>,
    },
    /// A role the plan grants to or names in a policy exists.
    Role { name: String },
}

impl Check {
    /// The table the check reads, if it reads one.
    pub fn table(&self) -> Option<&QualName> {
        match self {
            Check::NotNull { table, .. }
            | Check::NoRows { table, .. }
            | Check::Unique { table, .. }
            | Check::References { table, .. }
            | Check::Satisfies { table, .. }
            | Check::Converts { table, .. } => Some(table),
            Check::LabelsUnused { .. } | Check::Role { .. } => None,
        }
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Check::NotNull { table, column } => {
                write!(f, "no NULL in {table}.{}", Ident(column))
            }
            Check::NoRows { table, column } => write!(
                f,
                "{table} has no rows (column {} is added NOT NULL without a default)",
                Ident(column)
            ),
            Check::Unique {
                table,
                keys,
                predicate,
                ..
            } => {
                write!(f, "no duplicate ({}) in {table}", keys.join(", "))?;
                if let Some(p) = predicate {
                    write!(f, " WHERE {p}")?;
                }
                Ok(())
            }
            Check::References {
                table,
                columns,
                referenced,
                referenced_columns,
                ..
            } => write!(
                f,
                "every {table} ({}) has its {referenced} ({})",
                idents(columns),
                idents(referenced_columns)
            ),
            Check::Satisfies { table, expression } => {
                write!(f, "every row of {table} satisfies CHECK ({expression})")
            }
            Check::LabelsUnused {
                type_name, labels, ..
            } => write!(
                f,
                "no row uses {} of enum {type_name}",
                labels
                    .iter()
                    .map(|l| format!("'{l}'"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Check::Converts {
                table, column, to, ..
            } => write!(f, "every value of {table}.{} fits {to}", Ident(column)),
            Check::Role { name } => write!(f, "role {} exists", Ident(name)),
        }
    }
}

fn idents(names: &[String]) -> String {
    names
        .iter()
        .map(|n| Ident(n).to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
