//! Objects managed by their definition as a whole (and default privileges): foreign
//! servers and tables, operators, casts, publications, collations, extended statistics,
//! aggregates.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::Grants;
use crate::sql::QualName;

/// `CREATE SERVER name [TYPE t] [VERSION v] FOREIGN DATA WRAPPER w OPTIONS (...)`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForeignServer {
    pub wrapper: String,
    #[serde(rename = "type")]
    pub server_type: Option<String>,
    pub version: Option<String>,
    /// `key=value`, as the catalog keeps them.
    pub options: Vec<String>,
    pub comment: Option<String>,
    pub grants: Grants,
}

/// `CREATE FOREIGN TABLE name (columns, checks) SERVER s OPTIONS (...)`. Its rows are the
/// server's: dropping and creating it again loses nothing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForeignTable {
    pub server: String,
    /// `key=value`, as the catalog keeps them.
    pub options: Vec<String>,
    pub columns: Vec<ForeignColumn>,
    pub checks: Vec<ForeignCheck>,
    pub comment: Option<String>,
    pub grants: Grants,
}

impl ForeignTable {
    /// The same table without what changes in place (table options, comments, privileges).
    pub fn shape(&self) -> ForeignTable {
        ForeignTable {
            options: Vec::new(),
            comment: None,
            grants: Grants::new(),
            columns: self
                .columns
                .iter()
                .map(|c| ForeignColumn {
                    comment: None,
                    grants: Grants::new(),
                    ..c.clone()
                })
                .collect(),
            ..self.clone()
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForeignColumn {
    pub name: String,
    #[serde(rename = "type")]
    pub data_type: String,
    pub options: Vec<String>,
    /// The collation when not the type's default (quoted, qualified).
    pub collation: Option<String>,
    pub not_null: bool,
    pub default: Option<String>,
    /// `GENERATED ALWAYS AS (expression) STORED`: the expression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generated: Option<String>,
    pub comment: Option<String>,
    pub grants: Grants,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForeignCheck {
    pub name: String,
    pub definition: String,
}

/// `CREATE OPERATOR name (options)`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Operator {
    /// `FUNCTION = f, LEFTARG = t, ...` as `CREATE OPERATOR` takes them.
    pub options: String,
    pub comment: Option<String>,
}

/// `CREATE CAST (source AS target) method [AS ASSIGNMENT | AS IMPLICIT]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cast {
    /// `WITH FUNCTION f(args)`, `WITHOUT FUNCTION` or `WITH INOUT`.
    pub method: String,
    /// `explicit`, `assignment` or `implicit`.
    pub context: String,
    pub comment: Option<String>,
}

/// `CREATE PUBLICATION name [FOR ALL TABLES | FOR TABLE ...] WITH (...)`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Publication {
    pub all_tables: bool,
    pub tables: BTreeSet<QualName>,
    /// The operations it publishes: `insert`, `update`, `delete`, `truncate`.
    pub publish: Vec<String>,
    pub via_root: bool,
    pub comment: Option<String>,
}

/// The privileges objects of a kind get when a role creates them (`ALTER DEFAULT
/// PRIVILEGES [FOR ROLE r] [IN SCHEMA s] GRANT ... ON TABLES TO ...`), besides their
/// owner's. Everywhere (no schema), they replace the built-in defaults (`EXECUTE` to
/// `PUBLIC` on functions, `USAGE` on types); in a schema, they add to them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DefaultPrivileges {
    /// The creating role; none for the role strata connects as.
    pub role: Option<String>,
    pub schema: Option<String>,
    /// `tables`, `sequences`, `functions`, `types` or `schemas`.
    pub on: String,
    pub grants: Grants,
}

impl DefaultPrivileges {
    /// `role|schema|kind`, empty for none.
    pub fn key(&self) -> crate::sql::Name {
        compact_str::format_compact!(
            "{}|{}|{}",
            self.role.as_deref().unwrap_or(""),
            self.schema.as_deref().unwrap_or(""),
            self.on
        )
    }

    /// How a key reads in messages.
    pub fn describe(key: &str) -> String {
        let mut parts = key.splitn(3, '|');
        let role = parts.next().unwrap_or("");
        let schema = parts.next().unwrap_or("");
        let on = parts.next().unwrap_or("");
        let mut out = format!("default privileges on {on}");
        if !role.is_empty() {
            out.push_str(&format!(" for role {}", crate::sql::Ident(role)));
        }
        if !schema.is_empty() {
            out.push_str(&format!(" in schema {}", crate::sql::Ident(schema)));
        }
        out
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Collation {
    /// `libc`, `icu` or `builtin`.
    pub provider: String,
    /// The locale of an ICU or builtin collation.
    pub locale: Option<String>,
    pub lc_collate: Option<String>,
    pub lc_ctype: Option<String>,
    pub deterministic: bool,
    /// ICU tailoring rules (PostgreSQL 16+).
    pub rules: Option<String>,
    pub comment: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Statistics {
    /// `pg_get_statisticsobjdef`: a complete `CREATE STATISTICS` statement.
    pub definition: String,
    /// `ALTER STATISTICS ... SET STATISTICS`, when set.
    pub target: Option<i32>,
    pub comment: Option<String>,
}

/// An aggregate function: its `CREATE AGGREGATE` options as SQL (`sfunc`,
/// `stype`, `initcond`, ...), in their canonical order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Aggregate {
    pub options: Vec<(String, String)>,
    pub comment: Option<String>,
    pub grants: Grants,
}
