//! Foreign servers and foreign tables: `CREATE SERVER`, `CREATE FOREIGN TABLE`, their
//! options, comments and privileges.

use super::{Target, comment, comment_change, grant_changes, join};
use crate::model::{ForeignServer, ForeignTable, Grants};
use crate::sql::{Ident, Literal, QualName};

/// One `key=value` option as the catalog keeps it, split at the first `=`.
fn split_option(option: &str) -> (&str, &str) {
    option.split_once('=').unwrap_or((option, ""))
}

/// `OPTIONS (key 'value', ...)`, or nothing for no options.
fn options_clause(options: &[String]) -> String {
    if options.is_empty() {
        return String::new();
    }
    let list: Vec<String> = options
        .iter()
        .map(|o| {
            let (key, value) = split_option(o);
            format!("{} {}", Ident(key), Literal(value))
        })
        .collect();
    format!(" OPTIONS ({})", list.join(", "))
}

/// `OPTIONS (ADD ..., SET ..., DROP ...)` turning one option list into another, if they
/// differ.
pub fn options_change(from: &[String], to: &[String]) -> Option<String> {
    let old: Vec<(&str, &str)> = from.iter().map(|o| split_option(o)).collect();
    let new: Vec<(&str, &str)> = to.iter().map(|o| split_option(o)).collect();
    let mut parts = Vec::new();
    for (key, _) in &old {
        if !new.iter().any(|(k, _)| k == key) {
            parts.push(format!("DROP {}", Ident(key)));
        }
    }
    for (key, value) in &new {
        match old.iter().find(|(k, _)| k == key) {
            None => parts.push(format!("ADD {} {}", Ident(key), Literal(value))),
            Some((_, was)) if was != value => {
                parts.push(format!("SET {} {}", Ident(key), Literal(value)));
            }
            Some(_) => {}
        }
    }
    (!parts.is_empty()).then(|| format!("OPTIONS ({})", parts.join(", ")))
}

pub fn create_foreign_server(name: &str, server: &ForeignServer) -> String {
    let mut head = format!("CREATE SERVER {}", Ident(name));
    if let Some(t) = &server.server_type {
        head.push_str(&format!(" TYPE {}", Literal(t)));
    }
    if let Some(v) = &server.version {
        head.push_str(&format!(" VERSION {}", Literal(v)));
    }
    head.push_str(&format!(
        " FOREIGN DATA WRAPPER {}{};",
        Ident(&server.wrapper),
        options_clause(&server.options)
    ));
    let target = Target::ForeignServer(name);
    let mut sql = vec![head];
    if server.comment.is_some() {
        sql.push(comment(target, server.comment.as_deref()));
    }
    sql.extend(grant_changes(target, None, &Grants::new(), &server.grants));
    join(sql)
}

pub fn drop_foreign_server(name: &str) -> String {
    format!("DROP SERVER {};", Ident(name))
}

/// What changes on a server in place: version, options, comment, privileges (a new type,
/// wrapper or a version removed need the server made again).
pub fn alter_foreign_server(name: &str, from: &ForeignServer, to: &ForeignServer) -> Vec<String> {
    let mut sql = Vec::new();
    let mut clauses = Vec::new();
    if from.version != to.version
        && let Some(v) = &to.version
    {
        clauses.push(format!("VERSION {}", Literal(v)));
    }
    clauses.extend(options_change(&from.options, &to.options));
    if !clauses.is_empty() {
        sql.push(format!(
            "ALTER SERVER {} {};",
            Ident(name),
            clauses.join(" ")
        ));
    }
    let target = Target::ForeignServer(name);
    sql.extend(comment_change(
        target,
        from.comment.as_deref(),
        to.comment.as_deref(),
    ));
    sql.extend(grant_changes(target, None, &from.grants, &to.grants));
    sql
}

pub fn create_foreign_table(name: &QualName, table: &ForeignTable) -> String {
    let mut elements: Vec<String> = table
        .columns
        .iter()
        .map(|c| {
            let mut column = format!(
                "{} {}{}",
                Ident(&c.name),
                c.data_type,
                options_clause(&c.options)
            );
            if let Some(collation) = &c.collation {
                column.push_str(&format!(" COLLATE {collation}"));
            }
            if c.not_null {
                column.push_str(" NOT NULL");
            }
            if let Some(default) = &c.default {
                column.push_str(&format!(" DEFAULT {default}"));
            }
            if let Some(expression) = &c.generated {
                column.push_str(&format!(" GENERATED ALWAYS AS ({expression}) STORED"));
            }
            column
        })
        .collect();
    elements.extend(
        table
            .checks
            .iter()
            .map(|k| format!("CONSTRAINT {} {}", Ident(&k.name), k.definition)),
    );
    let mut sql = vec![format!(
        "CREATE FOREIGN TABLE {name} (\n    {}\n) SERVER {}{};",
        elements.join(",\n    "),
        Ident(&table.server),
        options_clause(&table.options)
    )];
    let bare = ForeignTable {
        options: table.options.clone(),
        ..table.shape()
    };
    sql.extend(alter_foreign_table(name, &bare, table));
    join(sql)
}

pub fn drop_foreign_table(name: &QualName) -> String {
    format!("DROP FOREIGN TABLE {name};")
}

/// What changes on a foreign table in place: its options, comments and privileges (the
/// columns, checks and server are the table's shape: a change there makes it again).
pub fn alter_foreign_table(name: &QualName, from: &ForeignTable, to: &ForeignTable) -> Vec<String> {
    let mut sql = Vec::new();
    if let Some(options) = options_change(&from.options, &to.options) {
        sql.push(format!("ALTER FOREIGN TABLE {name} {options};"));
    }
    let target = Target::ForeignTable(name);
    sql.extend(comment_change(
        target,
        from.comment.as_deref(),
        to.comment.as_deref(),
    ));
    sql.extend(grant_changes(target, None, &from.grants, &to.grants));
    for column in &to.columns {
        let old = from.columns.iter().find(|c| c.name == column.name);
        let (old_comment, old_grants) = old.map_or((None, Grants::new()), |c| {
            (c.comment.as_deref(), c.grants.clone())
        });
        sql.extend(comment_change(
            Target::Column(name, &column.name),
            old_comment,
            column.comment.as_deref(),
        ));
        sql.extend(grant_changes(
            Target::Table(name),
            Some(&column.name),
            &old_grants,
            &column.grants,
        ));
    }
    sql
}
