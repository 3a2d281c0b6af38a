//! DDL for tables and what belongs to them: columns, constraints, triggers, policies.

use crate::model::{Column, Constraint, ConstraintKind, Identity, Policy, Table, TriggerEnabled};
use crate::sql::{Ident, Literal, QualName};

use super::sequence_options;

/// `GENERATED {ALWAYS|BY DEFAULT} AS IDENTITY (SEQUENCE NAME ... options)`.
pub fn identity_clause(identity: &Identity) -> String {
    let mut opts = vec![format!("SEQUENCE NAME {}", identity.sequence)];
    opts.extend(sequence_options(
        &identity.options,
        false,
        &identity.options.data_type,
    ));
    format!(
        "GENERATED {} AS IDENTITY ({})",
        if identity.always {
            "ALWAYS"
        } else {
            "BY DEFAULT"
        },
        opts.join(" ")
    )
}

/// A column as written in `CREATE TABLE` or `ADD COLUMN`.
pub fn column_definition(name: &str, column: &Column) -> String {
    let mut sql = format!("{} {}", Ident(name), column.data_type);
    if let Some(collation) = &column.collation {
        sql.push_str(&format!(" COLLATE {collation}"));
    }
    if let Some(expr) = &column.generated {
        sql.push_str(&format!(" GENERATED ALWAYS AS ({expr}) STORED"));
    }
    if let Some(identity) = &column.identity {
        sql.push(' ');
        sql.push_str(&identity_clause(identity));
    }
    if let Some(default) = &column.default {
        sql.push_str(&format!(" DEFAULT {default}"));
    }
    if column.not_null {
        sql.push_str(" NOT NULL");
    }
    sql
}

/// Whether a constraint can be written inside `CREATE TABLE` (foreign keys and constraints
/// that are not yet validated are added afterwards).
pub fn is_inline_constraint(constraint: &Constraint) -> bool {
    constraint.kind != ConstraintKind::ForeignKey && constraint.validated
}

/// `CREATE TABLE` with its columns and inline constraints (or `PARTITION OF`).
pub fn create_table(name: &QualName, table: &Table) -> String {
    let mut elements: Vec<String> = Vec::new();
    // Inherited columns it declares itself too (so they stay if a parent drops them).
    if table.partition_of.is_none() {
        elements.extend(
            table
                .merged
                .0
                .iter()
                .map(|(n, t)| format!("{} {t}", Ident(n))),
        );
    }
    if table.partition_of.is_none() {
        elements.extend(
            table
                .ordered_columns()
                .into_iter()
                .map(|(n, c)| column_definition(n, c)),
        );
    }
    elements.extend(
        table
            .constraints
            .iter()
            .filter(|(_, c)| is_inline_constraint(c))
            .map(|(n, c)| format!("CONSTRAINT {} {}", Ident(n), c.definition)),
    );
    let unlogged = if table.unlogged { "UNLOGGED " } else { "" };
    let body = if elements.is_empty() {
        String::new()
    } else {
        format!(" (\n    {}\n)", elements.join(",\n    "))
    };
    let mut sql = match &table.partition_of {
        Some(p) => format!(
            "CREATE {unlogged}TABLE {name} PARTITION OF {}{body} {}",
            p.parent, p.bound
        ),
        None if body.is_empty() => format!("CREATE {unlogged}TABLE {name} ()"),
        None => format!("CREATE {unlogged}TABLE {name}{body}"),
    };
    if table.partition_of.is_none() && !table.inherits.is_empty() {
        let parents: Vec<String> = table.inherits.iter().map(ToString::to_string).collect();
        sql.push_str(&format!(" INHERITS ({})", parents.join(", ")));
    }
    if let Some(key) = &table.partitioned_by {
        sql.push_str(&format!(" PARTITION BY {key}"));
    }
    if !table.options.is_empty() {
        sql.push_str(&format!(" WITH ({})", table.options.join(", ")));
    }
    sql.push(';');
    sql
}

pub fn drop_table(name: &QualName) -> String {
    format!("DROP TABLE {name};")
}

/// `DROP TABLE a, b, ...` (names already written as SQL).
pub fn drop_tables(names: &[String]) -> String {
    format!("DROP TABLE {};", names.join(", "))
}

pub fn rename_table(name: &QualName, to: &str) -> String {
    format!("ALTER TABLE {name} RENAME TO {};", Ident(to))
}

pub fn disable_row_security(table: &QualName) -> String {
    format!("ALTER TABLE {table} DISABLE ROW LEVEL SECURITY;")
}

/// Copies a table's rows into another (`names` the destination's columns, `values` the
/// expressions giving them, both written as SQL); `overriding` for identity columns.
pub fn copy_rows(
    dest: &QualName,
    names: &[String],
    values: &[String],
    overriding: bool,
    source: &QualName,
) -> String {
    format!(
        "INSERT INTO {dest} ({}){} SELECT {} FROM ONLY {source};",
        names.join(", "),
        if overriding {
            " OVERRIDING SYSTEM VALUE"
        } else {
            ""
        },
        values.join(", ")
    )
}

/// Renames aside the indexes (with the constraints they back) and identity sequences of
/// the tables in `olds` (an `ARRAY[...]::regclass[]` expression) to names made of their
/// oid, freeing their names for the tables built to replace them.
pub fn rename_index_and_identity_aside(olds: &str) -> String {
    format!(
        "DO $strata$
DECLARE
    o regclass;
BEGIN
    FOR o IN SELECT i.indexrelid::regclass FROM pg_index i WHERE i.indrelid = ANY ({olds})
    LOOP
        EXECUTE format('ALTER INDEX %s RENAME TO %I', o, 'strata_old_' || o::oid);
    END LOOP;
    FOR o IN SELECT d.objid::regclass FROM pg_depend d JOIN pg_class s ON s.oid = d.objid
             WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
               AND d.deptype = 'i' AND s.relkind = 'S' AND d.refobjid = ANY ({olds})
    LOOP
        EXECUTE format('ALTER SEQUENCE %s RENAME TO %I', o, 'strata_old_' || o::oid);
    END LOOP;
END
$strata$;"
    )
}

pub fn add_column(table: &QualName, name: &str, column: &Column) -> String {
    format!(
        "ALTER TABLE {table} ADD COLUMN {};",
        column_definition(name, column)
    )
}

pub fn drop_column(table: &QualName, name: &str) -> String {
    format!("ALTER TABLE {table} DROP COLUMN {};", Ident(name))
}

/// The `USING` cast of a column type change: `col::type`, or `col::via::type` for values
/// that have no direct cast (enums convert through `text`).
#[derive(Clone, Debug)]
pub struct Using {
    pub via: Option<&'static str>,
    /// An expression written in the schema file (`-- strata:using expr`) instead of a cast.
    pub expr: Option<String>,
}

/// `ALTER COLUMN ... TYPE`, with a `USING` cast when the type itself changes.
pub fn alter_column_type(
    table: &QualName,
    name: &str,
    column: &Column,
    using: Option<Using>,
) -> String {
    let mut sql = format!(
        "ALTER TABLE {table} ALTER COLUMN {} TYPE {}",
        Ident(name),
        column.data_type
    );
    if let Some(collation) = &column.collation {
        sql.push_str(&format!(" COLLATE {collation}"));
    }
    if let Some(Using {
        expr: Some(expr), ..
    }) = &using
    {
        sql.push_str(&format!(" USING ({expr});"));
        return sql;
    }
    if let Some(using) = using {
        sql.push_str(&format!(" USING {}", Ident(name)));
        if let Some(via) = using.via {
            sql.push_str(&format!("::{via}"));
        }
        sql.push_str(&format!("::{}", column.data_type));
    }
    sql.push(';');
    sql
}

pub fn set_default(table: &QualName, name: &str, default: Option<&str>) -> String {
    match default {
        Some(expr) => format!(
            "ALTER TABLE {table} ALTER COLUMN {} SET DEFAULT {expr};",
            Ident(name)
        ),
        None => format!(
            "ALTER TABLE {table} ALTER COLUMN {} DROP DEFAULT;",
            Ident(name)
        ),
    }
}

pub fn set_not_null(table: &QualName, name: &str, not_null: bool) -> String {
    format!(
        "ALTER TABLE {table} ALTER COLUMN {} {} NOT NULL;",
        Ident(name),
        if not_null { "SET" } else { "DROP" }
    )
}

pub fn drop_expression(table: &QualName, name: &str) -> String {
    format!(
        "ALTER TABLE {table} ALTER COLUMN {} DROP EXPRESSION;",
        Ident(name)
    )
}

pub fn add_identity(table: &QualName, name: &str, identity: &Identity) -> String {
    format!(
        "ALTER TABLE {table} ALTER COLUMN {} ADD {};",
        Ident(name),
        identity_clause(identity)
    )
}

/// Moves a new identity sequence past the values already in the column.
pub fn sync_identity(table: &QualName, name: &str, identity: &Identity) -> String {
    let seq = identity.sequence.to_string();
    format!(
        "SELECT setval({}::regclass, coalesce(max({col}), {start}), max({col}) IS NOT NULL) FROM {table};",
        Literal(&seq),
        col = Ident(name),
        start = identity.options.start
    )
}

pub fn drop_identity(table: &QualName, name: &str) -> String {
    format!(
        "ALTER TABLE {table} ALTER COLUMN {} DROP IDENTITY;",
        Ident(name)
    )
}

pub fn alter_identity(table: &QualName, name: &str, from: &Identity, to: &Identity) -> Vec<String> {
    let mut out = Vec::new();
    if from.sequence != to.sequence {
        out.push(format!(
            "ALTER SEQUENCE {} RENAME TO {};",
            from.sequence,
            Ident(&to.sequence.name)
        ));
    }
    let mut sets = Vec::new();
    if from.always != to.always {
        sets.push(format!(
            "SET GENERATED {}",
            if to.always { "ALWAYS" } else { "BY DEFAULT" }
        ));
    }
    for change in super::sequence_option_changes(&from.options, &to.options) {
        if !change.starts_with("AS ") {
            sets.push(format!("SET {change}"));
        }
    }
    if !sets.is_empty() {
        out.extend(super::move_into_bounds(
            &to.sequence,
            &from.options,
            &to.options,
        ));
        out.push(format!(
            "ALTER TABLE {table} ALTER COLUMN {} {};",
            Ident(name),
            sets.join(" ")
        ));
    }
    out
}

pub fn add_constraint(
    table: &QualName,
    name: &str,
    constraint: &Constraint,
    not_valid: bool,
) -> String {
    format!(
        "ALTER TABLE {table} ADD CONSTRAINT {} {}{};",
        Ident(name),
        constraint.definition,
        if not_valid { " NOT VALID" } else { "" }
    )
}

pub fn validate_constraint(table: &QualName, name: &str) -> String {
    format!("ALTER TABLE {table} VALIDATE CONSTRAINT {};", Ident(name))
}

pub fn drop_constraint(table: &QualName, name: &str) -> String {
    format!("ALTER TABLE {table} DROP CONSTRAINT {};", Ident(name))
}

pub fn drop_constraint_if_exists(table: &QualName, name: &str) -> String {
    format!(
        "ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {};",
        Ident(name)
    )
}

/// A temporary `CHECK (col IS NOT NULL)`, used to set `NOT NULL` without a long lock.
pub fn add_not_null_check(table: &QualName, check: &str, column: &str) -> String {
    format!(
        "ALTER TABLE {table} ADD CONSTRAINT {} CHECK ({} IS NOT NULL) NOT VALID;",
        Ident(check),
        Ident(column)
    )
}

pub fn add_constraint_using_index(table: &QualName, name: &str, kind: ConstraintKind) -> String {
    let what = if kind == ConstraintKind::PrimaryKey {
        "PRIMARY KEY"
    } else {
        "UNIQUE"
    };
    format!(
        "ALTER TABLE {table} ADD CONSTRAINT {} {what} USING INDEX {};",
        Ident(name),
        Ident(name)
    )
}

pub fn row_security(table: &QualName, enabled: bool) -> String {
    format!(
        "ALTER TABLE {table} {} ROW LEVEL SECURITY;",
        if enabled { "ENABLE" } else { "DISABLE" }
    )
}

pub fn force_row_security(table: &QualName, forced: bool) -> String {
    format!(
        "ALTER TABLE {table} {}FORCE ROW LEVEL SECURITY;",
        if forced { "" } else { "NO " }
    )
}

pub fn set_logged(table: &QualName, unlogged: bool) -> String {
    format!(
        "ALTER TABLE {table} SET {};",
        if unlogged { "UNLOGGED" } else { "LOGGED" }
    )
}

pub fn detach_partition(parent: &QualName, partition: &QualName) -> String {
    format!("ALTER TABLE {parent} DETACH PARTITION {partition};")
}

pub fn attach_partition(parent: &QualName, partition: &QualName, bound: &str) -> String {
    format!("ALTER TABLE {parent} ATTACH PARTITION {partition} {bound};")
}

/// A trigger's `CREATE TRIGGER` (as PostgreSQL prints it) and its enabled state.
pub fn create_trigger(
    table: &QualName,
    name: &str,
    definition: &str,
    enabled: TriggerEnabled,
) -> String {
    let mut sql = format!("{};", definition.trim_end().trim_end_matches(';'));
    if enabled != TriggerEnabled::Origin {
        sql.push('\n');
        sql.push_str(&trigger_enabled(table, name, enabled));
    }
    sql
}

pub fn trigger_enabled(table: &QualName, name: &str, enabled: TriggerEnabled) -> String {
    let what = match enabled {
        TriggerEnabled::Origin => "ENABLE",
        TriggerEnabled::Disabled => "DISABLE",
        TriggerEnabled::Replica => "ENABLE REPLICA",
        TriggerEnabled::Always => "ENABLE ALWAYS",
    };
    format!("ALTER TABLE {table} {what} TRIGGER {};", Ident(name))
}

pub fn drop_trigger(table: &QualName, name: &str) -> String {
    format!("DROP TRIGGER {} ON {table};", Ident(name))
}

pub fn create_policy(table: &QualName, name: &str, policy: &Policy) -> String {
    let roles: Vec<String> = policy
        .roles
        .iter()
        .map(|r| {
            if r == "PUBLIC" {
                "PUBLIC".to_owned()
            } else {
                Ident(r).to_string()
            }
        })
        .collect();
    let mut sql = format!(
        "CREATE POLICY {} ON {table} AS {} FOR {} TO {}",
        Ident(name),
        if policy.permissive {
            "PERMISSIVE"
        } else {
            "RESTRICTIVE"
        },
        policy.command,
        roles.join(", ")
    );
    if let Some(using) = &policy.using {
        sql.push_str(&format!(" USING ({using})"));
    }
    if let Some(check) = &policy.with_check {
        sql.push_str(&format!(" WITH CHECK ({check})"));
    }
    sql.push(';');
    sql
}

pub fn drop_policy(table: &QualName, name: &str) -> String {
    format!("DROP POLICY {} ON {table};", Ident(name))
}
