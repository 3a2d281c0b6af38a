//! Generated DDL, all of it. Names go through [`Ident`]/[`QualName`], strings through
//! [`Literal`]; expressions and definitions come from PostgreSQL's own deparsers
//! (`pg_get_expr`, `pg_get_constraintdef`, ...) and are used as printed.
//!
//! Every function returns complete statements, each ending with `;`, one per line group.

mod foreign;
mod objects;
mod rename;
mod sequence;
mod table;
mod types;

use std::collections::BTreeMap;
use std::fmt;

use crate::model::{
    Extension, Function, FunctionId, Grant, Grants, RoutineKind, TriggerEnabled, TypeDef, TypeKind,
    View,
};
use crate::sql::{Ident, Literal, QualName};

pub use foreign::*;
pub use objects::*;
pub use rename::*;
pub use sequence::*;
pub use table::*;
pub use types::*;

/// What a `COMMENT ON` or `GRANT ... ON` statement names.
#[derive(Clone, Copy, Debug)]
pub enum Target<'a> {
    Schema(&'a str),
    Table(&'a QualName),
    View(&'a QualName, bool),
    Sequence(&'a QualName),
    Index(&'a QualName),
    Type(&'a QualName, bool),
    Function(&'a FunctionId, RoutineKind),
    Column(&'a QualName, &'a str),
    Constraint(&'a QualName, &'a str),
    Trigger(&'a QualName, &'a str),
    Policy(&'a QualName, &'a str),
    Rule(&'a QualName, &'a str),
    Collation(&'a QualName),
    Statistics(&'a QualName),
    Aggregate(&'a FunctionId),
    ForeignServer(&'a str),
    ForeignTable(&'a QualName),
}

impl fmt::Display for Target<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Schema(n) => write!(f, "SCHEMA {}", Ident(n)),
            Target::Table(n) => write!(f, "TABLE {n}"),
            Target::View(n, true) => write!(f, "MATERIALIZED VIEW {n}"),
            Target::View(n, false) => write!(f, "VIEW {n}"),
            Target::Sequence(n) => write!(f, "SEQUENCE {n}"),
            Target::Index(n) => write!(f, "INDEX {n}"),
            Target::Type(n, true) => write!(f, "DOMAIN {n}"),
            Target::Type(n, false) => write!(f, "TYPE {n}"),
            Target::Function(id, RoutineKind::Function) => write!(f, "FUNCTION {id}"),
            Target::Function(id, RoutineKind::Procedure) => write!(f, "PROCEDURE {id}"),
            Target::Column(t, c) => write!(f, "COLUMN {t}.{}", Ident(c)),
            Target::Constraint(t, n) => write!(f, "CONSTRAINT {} ON {t}", Ident(n)),
            Target::Trigger(t, n) => write!(f, "TRIGGER {} ON {t}", Ident(n)),
            Target::Policy(t, n) => write!(f, "POLICY {} ON {t}", Ident(n)),
            Target::Rule(t, n) => write!(f, "RULE {} ON {t}", Ident(n)),
            Target::Collation(n) => write!(f, "COLLATION {n}"),
            Target::Statistics(n) => write!(f, "STATISTICS {n}"),
            Target::Aggregate(id) => write!(f, "AGGREGATE {id}"),
            Target::ForeignServer(n) => write!(f, "SERVER {}", Ident(n)),
            Target::ForeignTable(n) => write!(f, "FOREIGN TABLE {n}"),
        }
    }
}

/// Creates a role the schema declares when the server lacks it (roles are cluster-wide: it
/// may exist already), and records it in `strata.roles`.
pub fn create_role(name: &str) -> String {
    format!(
        "DO $strata$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = {lit}) THEN \
         CREATE ROLE {ident} NOLOGIN; END IF; END $strata$;\n\
         INSERT INTO strata.roles (rolname) VALUES ({lit}) ON CONFLICT DO NOTHING;",
        lit = Literal(name),
        ident = Ident(name)
    )
}

/// Forgets a role the schema no longer declares: the role stays (other databases of the
/// server may use it).
pub fn forget_role(name: &str) -> String {
    format!(
        "DELETE FROM strata.roles WHERE rolname = {};",
        Literal(name)
    )
}

/// `COMMENT ON ... IS ...;`
pub fn comment(target: Target<'_>, text: Option<&str>) -> String {
    match text {
        Some(text) => format!("COMMENT ON {target} IS {};", Literal(text)),
        None => format!("COMMENT ON {target} IS NULL;"),
    }
}

/// The comment statement needed to go from one comment to another, if any.
pub fn comment_change(target: Target<'_>, from: Option<&str>, to: Option<&str>) -> Option<String> {
    (from != to).then(|| comment(target, to))
}

fn grantee(name: &str) -> String {
    if name == "PUBLIC" {
        "PUBLIC".to_owned()
    } else {
        Ident(name).to_string()
    }
}

/// The privileges an object has when created, besides its owner's: `EXECUTE` to `PUBLIC`
/// on functions, `USAGE` to `PUBLIC` on types, nothing on the rest.
pub fn default_grants(target: Target<'_>) -> Grants {
    let public = |privilege: &str| Grant {
        grantee: "PUBLIC".into(),
        privilege: privilege.into(),
        grantable: false,
    };
    match target {
        Target::Function(..) | Target::Aggregate(_) => [public("EXECUTE")].into(),
        Target::Type(..) => [public("USAGE")].into(),
        _ => Grants::new(),
    }
}

/// `GRANT`/`REVOKE` statements turning one set of privileges into another. For a column,
/// `target` is the table and `column` names the column.
pub fn grant_changes(
    target: Target<'_>,
    column: Option<&str>,
    from: &Grants,
    to: &Grants,
) -> Vec<String> {
    let on = match target {
        Target::View(n, _) => format!("TABLE {n}"),
        Target::Type(n, _) => format!("TYPE {n}"),
        Target::Aggregate(id) => format!("FUNCTION {id}"),
        Target::ForeignServer(n) => format!("FOREIGN SERVER {}", Ident(n)),
        Target::ForeignTable(n) => format!("TABLE {n}"),
        other => other.to_string(),
    };
    let cols = column.map_or(String::new(), |c| format!(" ({})", Ident(c)));
    grant_statements(&on, &cols, from, to)
}

/// `ALTER DEFAULT PRIVILEGES [FOR ROLE r] [IN SCHEMA s]` statements turning one set of
/// default privileges on a kind of object (`TABLES`, `FUNCTIONS`, ...) into another.
pub fn default_privilege_changes(
    role: Option<&str>,
    schema: Option<&str>,
    on: &str,
    from: &Grants,
    to: &Grants,
) -> Vec<String> {
    let mut prefix = "ALTER DEFAULT PRIVILEGES".to_owned();
    if let Some(role) = role {
        prefix.push_str(&format!(" FOR ROLE {}", Ident(role)));
    }
    if let Some(schema) = schema {
        prefix.push_str(&format!(" IN SCHEMA {}", Ident(schema)));
    }
    grant_statements(&on.to_uppercase(), "", from, to)
        .into_iter()
        .map(|s| format!("{prefix} {s}"))
        .collect()
}

fn grant_statements(on: &str, cols: &str, from: &Grants, to: &Grants) -> Vec<String> {
    let key = |g: &Grant| (g.grantee.clone(), g.privilege.clone());
    let from_map: BTreeMap<_, bool> = from.iter().map(|g| (key(g), g.grantable)).collect();
    let to_map: BTreeMap<_, bool> = to.iter().map(|g| (key(g), g.grantable)).collect();
    let mut out = Vec::new();
    for ((who, privilege), grantable) in &from_map {
        match to_map.get(&(who.clone(), privilege.clone())) {
            None => out.push(format!(
                "REVOKE {privilege}{cols} ON {on} FROM {};",
                grantee(who)
            )),
            Some(false) if *grantable => out.push(format!(
                "REVOKE GRANT OPTION FOR {privilege}{cols} ON {on} FROM {};",
                grantee(who)
            )),
            _ => {}
        }
    }
    for ((who, privilege), grantable) in &to_map {
        let had = from_map.get(&(who.clone(), privilege.clone()));
        if had.is_none() || (*grantable && had == Some(&false)) {
            let option = if *grantable { " WITH GRANT OPTION" } else { "" };
            out.push(format!(
                "GRANT {privilege}{cols} ON {on} TO {}{option};",
                grantee(who)
            ));
        }
    }
    out
}

pub fn create_collation(name: &QualName, c: &crate::model::Collation) -> String {
    let mut options = vec![format!("provider = {}", c.provider)];
    if let Some(locale) = &c.locale {
        options.push(format!("locale = {}", Literal(locale)));
    }
    if let Some(v) = &c.lc_collate {
        options.push(format!("lc_collate = {}", Literal(v)));
    }
    if let Some(v) = &c.lc_ctype {
        options.push(format!("lc_ctype = {}", Literal(v)));
    }
    if !c.deterministic {
        options.push("deterministic = false".to_owned());
    }
    if let Some(rules) = &c.rules {
        options.push(format!("rules = {}", Literal(rules)));
    }
    let mut sql = vec![format!("CREATE COLLATION {name} ({});", options.join(", "))];
    sql.extend(comment_change(
        Target::Collation(name),
        None,
        c.comment.as_deref(),
    ));
    join(sql)
}

pub fn drop_collation(name: &QualName) -> String {
    format!("DROP COLLATION {name};")
}

pub fn create_statistics(name: &QualName, s: &crate::model::Statistics) -> String {
    let mut sql = vec![format!(
        "{};",
        s.definition.trim_end().trim_end_matches(';')
    )];
    if let Some(target) = s.target {
        sql.push(format!("ALTER STATISTICS {name} SET STATISTICS {target};"));
    }
    sql.extend(comment_change(
        Target::Statistics(name),
        None,
        s.comment.as_deref(),
    ));
    join(sql)
}

pub fn drop_statistics(name: &QualName) -> String {
    format!("DROP STATISTICS {name};")
}

pub fn create_aggregate(id: &FunctionId, a: &crate::model::Aggregate) -> String {
    let options: Vec<String> = a
        .options
        .iter()
        .map(|(k, v)| format!("{k} = {v}"))
        .collect();
    let target = Target::Aggregate(id);
    let mut sql = vec![format!(
        "CREATE AGGREGATE {} ({}) ({});",
        id.name,
        id.args,
        options.join(", ")
    )];
    sql.extend(comment_change(target, None, a.comment.as_deref()));
    sql.extend(grant_changes(
        target,
        None,
        &default_grants(target),
        &a.grants,
    ));
    join(sql)
}

pub fn drop_aggregate(id: &FunctionId) -> String {
    format!("DROP AGGREGATE {id};")
}

pub fn create_schema(name: &str) -> String {
    format!("CREATE SCHEMA {};", Ident(name))
}

pub fn drop_schema(name: &str) -> String {
    format!("DROP SCHEMA {};", Ident(name))
}

pub fn create_extension(name: &str, ext: &Extension) -> String {
    format!(
        "CREATE EXTENSION IF NOT EXISTS {} WITH SCHEMA {} VERSION {};",
        Ident(name),
        Ident(&ext.schema),
        Literal(&ext.version)
    )
}

pub fn drop_extension(name: &str) -> String {
    format!("DROP EXTENSION {};", Ident(name))
}

pub fn alter_extension(name: &str, from: &Extension, to: &Extension) -> Vec<String> {
    let mut out = Vec::new();
    if from.schema != to.schema {
        out.push(format!(
            "ALTER EXTENSION {} SET SCHEMA {};",
            Ident(name),
            Ident(&to.schema)
        ));
    }
    if from.version != to.version {
        out.push(format!(
            "ALTER EXTENSION {} UPDATE TO {};",
            Ident(name),
            Literal(&to.version)
        ));
    }
    out
}

/// The `CREATE TYPE`/`CREATE DOMAIN` statement of a type.
pub fn create_type(name: &QualName, def: &TypeDef) -> String {
    match &def.kind {
        TypeKind::Enum { labels } => {
            let labels: Vec<String> = labels.iter().map(|l| Literal(l).to_string()).collect();
            format!("CREATE TYPE {name} AS ENUM ({});", labels.join(", "))
        }
        TypeKind::Domain {
            base,
            collation,
            default,
            not_null,
            checks,
        } => {
            let mut sql = format!("CREATE DOMAIN {name} AS {base}");
            if let Some(c) = collation {
                sql.push_str(&format!(" COLLATE {c}"));
            }
            if let Some(d) = default {
                sql.push_str(&format!(" DEFAULT {d}"));
            }
            if *not_null {
                sql.push_str(" NOT NULL");
            }
            for (check_name, check) in checks.iter().filter(|(_, c)| c.validated) {
                sql.push_str(&format!(
                    " CONSTRAINT {} {}",
                    Ident(check_name),
                    check.definition
                ));
            }
            sql.push(';');
            for (check_name, check) in checks.iter().filter(|(_, c)| !c.validated) {
                sql.push_str(&format!(
                    "\nALTER DOMAIN {name} ADD CONSTRAINT {} {} NOT VALID;",
                    Ident(check_name),
                    check.definition
                ));
            }
            sql
        }
        TypeKind::Range {
            subtype,
            subtype_opclass,
            collation,
            canonical,
            subtype_diff,
            multirange,
        } => {
            let mut options = vec![format!("subtype = {subtype}")];
            if let Some(o) = subtype_opclass {
                options.push(format!("subtype_opclass = {o}"));
            }
            if let Some(c) = collation {
                options.push(format!("collation = {c}"));
            }
            if let Some(f) = canonical {
                options.push(format!("canonical = {f}"));
            }
            if let Some(f) = subtype_diff {
                options.push(format!("subtype_diff = {f}"));
            }
            if let Some(m) = multirange {
                options.push(format!("multirange_type_name = {m}"));
            }
            format!("CREATE TYPE {name} AS RANGE ({});", options.join(", "))
        }
        TypeKind::Composite { attributes } => {
            let attrs: Vec<String> = attributes
                .iter()
                .map(|a| {
                    let mut s = format!("{} {}", Ident(&a.name), a.data_type);
                    if let Some(c) = &a.collation {
                        s.push_str(&format!(" COLLATE {c}"));
                    }
                    s
                })
                .collect();
            format!("CREATE TYPE {name} AS ({});", attrs.join(", "))
        }
    }
}

pub fn drop_type(name: &QualName, domain: bool) -> String {
    if domain {
        format!("DROP DOMAIN {name};")
    } else {
        format!("DROP TYPE {name};")
    }
}

/// A function's `CREATE OR REPLACE` statement, as PostgreSQL prints it.
pub fn create_function(function: &Function) -> String {
    let def = function.definition.trim_end();
    if def.ends_with(';') {
        def.to_owned()
    } else {
        format!("{def};")
    }
}

pub fn drop_function(id: &FunctionId, kind: RoutineKind) -> String {
    match kind {
        RoutineKind::Function => format!("DROP FUNCTION {id};"),
        RoutineKind::Procedure => format!("DROP PROCEDURE {id};"),
    }
}

fn with_options(options: &[String]) -> String {
    if options.is_empty() {
        String::new()
    } else {
        format!(" WITH ({})", options.join(", "))
    }
}

/// `CREATE [OR REPLACE] [MATERIALIZED] VIEW`.
pub fn create_view(name: &QualName, view: &View, or_replace: bool) -> String {
    let body = view.definition.trim_end().trim_end_matches(';');
    if view.materialized {
        format!(
            "CREATE MATERIALIZED VIEW {name}{} AS\n{body}\nWITH {}DATA;",
            with_options(&view.options),
            if view.unpopulated { "NO " } else { "" }
        )
    } else {
        let replace = if or_replace { "OR REPLACE " } else { "" };
        format!(
            "CREATE {replace}VIEW {name}{} AS\n{body};",
            with_options(&view.options)
        )
    }
}

/// `REFRESH MATERIALIZED VIEW`, filling it or (`with_data` false) emptying it.
pub fn refresh_view(name: &QualName, with_data: bool) -> String {
    format!(
        "REFRESH MATERIALIZED VIEW {name}{};",
        if with_data { "" } else { " WITH NO DATA" }
    )
}

/// A rule's `pg_get_ruledef` statement, its enable state and comment.
pub fn create_rule(
    relation: &QualName,
    name: &str,
    rule: &crate::model::Rule,
    view: bool,
) -> String {
    let mut sql = vec![format!(
        "{};",
        rule.definition.trim_end().trim_end_matches(';')
    )];
    if rule.enabled != TriggerEnabled::Origin {
        sql.push(rule_enabled(relation, name, rule.enabled));
    }
    sql.extend(comment_change(
        Target::Rule(relation, name),
        None,
        rule.comment.as_deref(),
    ));
    let _ = view;
    join(sql)
}

pub fn rule_enabled(relation: &QualName, name: &str, enabled: TriggerEnabled) -> String {
    let how = match enabled {
        TriggerEnabled::Origin => "ENABLE",
        TriggerEnabled::Disabled => "DISABLE",
        TriggerEnabled::Replica => "ENABLE REPLICA",
        TriggerEnabled::Always => "ENABLE ALWAYS",
    };
    format!("ALTER TABLE {relation} {how} RULE {};", Ident(name))
}

pub fn drop_rule(relation: &QualName, name: &str) -> String {
    format!("DROP RULE {} ON {relation};", Ident(name))
}

/// `ALTER TABLE ... REPLICA IDENTITY`.
pub fn replica_identity(
    table: &QualName,
    identity: Option<&crate::model::ReplicaIdentity>,
) -> String {
    use crate::model::ReplicaIdentity;
    let what = match identity {
        None => "DEFAULT".to_owned(),
        Some(ReplicaIdentity::Full) => "FULL".to_owned(),
        Some(ReplicaIdentity::Nothing) => "NOTHING".to_owned(),
        Some(ReplicaIdentity::Index(index)) => format!("USING INDEX {}", Ident(index)),
    };
    format!("ALTER TABLE {table} REPLICA IDENTITY {what};")
}

pub fn drop_view(name: &QualName, materialized: bool) -> String {
    if materialized {
        format!("DROP MATERIALIZED VIEW {name};")
    } else {
        format!("DROP VIEW {name};")
    }
}

/// The key of a `key=value` storage option.
pub fn option_key(option: &str) -> &str {
    option.split_once('=').map_or(option, |(k, _)| k)
}

/// `ALTER ... SET (...)` / `RESET (...)` turning one option list into another.
pub fn option_changes(kind: &str, name: &QualName, from: &[String], to: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    let reset: Vec<&str> = from
        .iter()
        .map(|o| option_key(o))
        .filter(|k| !to.iter().any(|o| option_key(o) == *k))
        .collect();
    if !reset.is_empty() {
        out.push(format!("ALTER {kind} {name} RESET ({});", reset.join(", ")));
    }
    let set: Vec<&str> = to
        .iter()
        .filter(|o| !from.contains(o))
        .map(String::as_str)
        .collect();
    if !set.is_empty() {
        out.push(format!("ALTER {kind} {name} SET ({});", set.join(", ")));
    }
    out
}

pub fn create_index(
    name: &QualName,
    table: &QualName,
    unique: bool,
    definition: &str,
    concurrently: bool,
) -> String {
    format!(
        "CREATE {}INDEX {}{} ON {table} {definition};",
        if unique { "UNIQUE " } else { "" },
        if concurrently { "CONCURRENTLY " } else { "" },
        Ident(&name.name)
    )
}

/// Dropping an index; concurrently (a lone step) with `IF EXISTS`, so that a rerun after
/// the drop committed but before its completion was recorded succeeds.
pub fn drop_index(name: &QualName, concurrently: bool) -> String {
    format!(
        "DROP INDEX {}{name};",
        if concurrently {
            "CONCURRENTLY IF EXISTS "
        } else {
            ""
        }
    )
}

/// Where `ADD VALUE` puts a new enum value.
pub enum EnumPlace<'a> {
    Before(&'a str),
    After(&'a str),
    End,
}

/// `ALTER TYPE ... ADD VALUE IF NOT EXISTS` (repeatable: a rerun adds nothing).
pub fn add_enum_value(name: &QualName, label: &str, place: EnumPlace<'_>) -> String {
    match place {
        EnumPlace::Before(next) => format!(
            "ALTER TYPE {name} ADD VALUE IF NOT EXISTS {} BEFORE {};",
            Literal(label),
            Literal(next)
        ),
        EnumPlace::After(prev) => format!(
            "ALTER TYPE {name} ADD VALUE IF NOT EXISTS {} AFTER {};",
            Literal(label),
            Literal(prev)
        ),
        EnumPlace::End => format!(
            "ALTER TYPE {name} ADD VALUE IF NOT EXISTS {};",
            Literal(label)
        ),
    }
}

pub fn rename_index(from: &QualName, to: &str) -> String {
    format!("ALTER INDEX {from} RENAME TO {};", Ident(to))
}

/// Joins statements with newlines.
pub fn join(statements: impl IntoIterator<Item = String>) -> String {
    statements
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

/// A name derived from a hash of `seed`, for temporary objects: deterministic, so the same
/// plan always uses the same names, and short enough for PostgreSQL's 63-byte limit.
pub fn temp_name(prefix: &str, seed: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = hex::encode(Sha256::digest(seed.as_bytes()));
    format!("strata_{prefix}_{}", &digest[..12])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(who: &str, privilege: &str, grantable: bool) -> Grant {
        Grant {
            grantee: who.into(),
            privilege: privilege.into(),
            grantable,
        }
    }

    #[test]
    fn grant_changes_cover_add_remove_and_option() {
        let t = QualName::new("public", "t");
        let from: Grants = [
            grant("PUBLIC", "SELECT", false),
            grant("app", "UPDATE", true),
        ]
        .into();
        let to: Grants = [
            grant("app", "UPDATE", false),
            grant("Reader", "SELECT", true),
        ]
        .into();
        let sql = grant_changes(Target::Table(&t), None, &from, &to);
        assert_eq!(
            sql,
            [
                "REVOKE SELECT ON TABLE public.t FROM PUBLIC;",
                "REVOKE GRANT OPTION FOR UPDATE ON TABLE public.t FROM app;",
                "GRANT SELECT ON TABLE public.t TO \"Reader\" WITH GRANT OPTION;",
            ]
        );
        assert!(grant_changes(Target::Table(&t), None, &to, &to).is_empty());
    }

    #[test]
    fn temp_names_are_deterministic_and_short() {
        let a = temp_name("idx", "public.jobs_vehicle_idx USING btree (a)");
        assert_eq!(
            a,
            temp_name("idx", "public.jobs_vehicle_idx USING btree (a)")
        );
        assert_ne!(a, temp_name("idx", "other"));
        assert!(a.len() <= 63);
    }

    #[test]
    fn option_changes_reset_and_set() {
        let v = QualName::new("public", "v");
        let sql = option_changes(
            "VIEW",
            &v,
            &["security_barrier=true".into(), "check_option=local".into()],
            &["check_option=cascaded".into()],
        );
        assert_eq!(
            sql,
            [
                "ALTER VIEW public.v RESET (security_barrier);",
                "ALTER VIEW public.v SET (check_option=cascaded);"
            ]
        );
    }
}
