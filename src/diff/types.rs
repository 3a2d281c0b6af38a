//! Enums, domains and composite types.
//!
//! In place where PostgreSQL allows it (`ADD VALUE`, `ALTER DOMAIN`, `ALTER TYPE ...
//! ATTRIBUTE`); otherwise a *swap*: the old type is renamed aside, the new one created, the
//! columns using it converted through `text`, the old one dropped.

use super::{Action, Decision, Differ, Name};
use crate::ddl::{self, Target};
use crate::error::Result;
use crate::model::{ObjectId, TypeDef, TypeKind};
use crate::plan::check::EnumColumn;
use crate::plan::{Check, Effect, Lock, Step};
use crate::sql::{Literal, QualName};

pub(super) fn decide(d: &mut Differ) -> Result<()> {
    d.decide_map(
        &d.cur.types,
        &d.des.types,
        |n| ObjectId::Type(n.clone()),
        |_, _| false,
    );
    let swaps: Vec<QualName> = d
        .cur
        .types
        .iter()
        .filter(|(name, old)| {
            d.des
                .types
                .get(*name)
                .is_some_and(|new| needs_swap(old, new))
        })
        .map(|(name, _)| name.clone())
        .collect();
    for name in &swaps {
        d.disrupt(ObjectId::Type(name.clone()));
    }
    // Domains and composite types built on a swapped type are swapped with it: PostgreSQL
    // cannot point them at the new one.
    let mut swapped: Vec<QualName> = swaps;
    let mut i = 0;
    while i < swapped.len() {
        let base = swapped[i].clone();
        for (name, def) in &d.cur.types {
            let unchanged = d.des.types.get(name) == Some(def);
            if !unchanged || swapped.contains(name) || !built_on(def, &base) {
                continue;
            }
            d.swapped_with
                .entry(name.clone())
                .or_default()
                .push(base.clone());
            swapped.push(name.clone());
        }
        i += 1;
    }
    let dependents: Vec<QualName> = d.swapped_with.keys().cloned().collect();
    for name in dependents {
        d.set(ObjectId::Type(name.clone()), Decision::Alter);
        d.disrupt(ObjectId::Type(name));
    }
    Ok(())
}

/// Whether a domain's base type or one of a composite type's attributes is `base` (or an
/// array of it).
fn built_on(def: &TypeDef, base: &QualName) -> bool {
    let scalar = base.to_string();
    let array = format!("{scalar}[]");
    let is = |t: &str| t == scalar || t == array;
    match &def.kind {
        TypeKind::Domain { base, .. } => is(base),
        TypeKind::Composite { attributes } => attributes.iter().any(|a| is(&a.data_type)),
        _ => false,
    }
}

/// The name a type takes while it is swapped (stable for the same type).
fn aside_name(name: &QualName, def: &TypeDef) -> QualName {
    name.sibling(ddl::temp_name(
        "old",
        &format!("{name} {}", ddl::create_type(name, def)),
    ))
}

fn is_subsequence(small: &[String], big: &[String]) -> bool {
    let mut it = big.iter();
    small.iter().all(|s| it.any(|b| b == s))
}

/// The in-place `ALTER TYPE` statements for a composite type, if the change can be made in
/// place (attributes dropped, added at the end, or changed in type).
fn composite_changes(name: &QualName, from: &TypeKind, to: &TypeKind) -> Option<Vec<String>> {
    let (TypeKind::Composite { attributes: old }, TypeKind::Composite { attributes: new }) =
        (from, to)
    else {
        return None;
    };
    let kept: Vec<_> = old
        .iter()
        .filter(|a| new.iter().any(|n| n.name == a.name))
        .collect();
    let added: Vec<_> = new
        .iter()
        .filter(|n| !old.iter().any(|a| a.name == n.name))
        .collect();
    let result: Vec<&str> = kept
        .iter()
        .chain(added.iter())
        .map(|a| a.name.as_str())
        .collect();
    let wanted: Vec<&str> = new.iter().map(|a| a.name.as_str()).collect();
    if result != wanted {
        return None;
    }
    let mut actions = Vec::new();
    for a in old.iter().filter(|a| !new.iter().any(|n| n.name == a.name)) {
        actions.push(ddl::drop_attribute(&a.name));
    }
    for a in &kept {
        let Some(n) = new.iter().find(|n| n.name == a.name) else {
            continue;
        };
        if n.data_type != a.data_type || n.collation != a.collation {
            actions.push(ddl::alter_attribute_type(n));
        }
    }
    for n in &added {
        actions.push(ddl::add_attribute(n));
    }
    Some(if actions.is_empty() {
        Vec::new()
    } else {
        vec![ddl::alter_type(name, &actions)]
    })
}

/// Whether going from `old` to `new` needs the type swapped rather than altered.
pub(super) fn needs_swap(old: &TypeDef, new: &TypeDef) -> bool {
    match (&old.kind, &new.kind) {
        (TypeKind::Enum { labels: a }, TypeKind::Enum { labels: b }) => !is_subsequence(a, b),
        (
            TypeKind::Domain {
                base: a,
                collation: ca,
                ..
            },
            TypeKind::Domain {
                base: b,
                collation: cb,
                ..
            },
        ) => a != b || ca != cb,
        (TypeKind::Composite { .. }, TypeKind::Composite { .. }) => {
            composite_changes(&QualName::new("", ""), &old.kind, &new.kind).is_none()
        }
        _ => true,
    }
}

fn is_domain(def: &TypeDef) -> bool {
    matches!(def.kind, TypeKind::Domain { .. })
}

fn is_composite(def: &TypeDef) -> bool {
    matches!(def.kind, TypeKind::Composite { .. })
}

/// `CREATE TYPE` plus its comment and privileges.
fn create_sql(model: &crate::model::Model, name: &QualName, def: &TypeDef) -> String {
    let target = Target::Type(name, is_domain(def));
    let mut sql = vec![ddl::create_type(name, def)];
    sql.extend(ddl::comment_change(target, None, def.comment.as_deref()));
    sql.extend(ddl::grant_changes(
        target,
        None,
        &super::creation_grants(model, target),
        &def.grants,
    ));
    ddl::join(sql)
}

/// The columns whose type is `name` or an array of it, in both models (the columns a swap
/// converts), and those that use it now but change to another type or go away (they must
/// leave before the swap).
fn columns_using(
    d: &Differ,
    name: &QualName,
) -> (Vec<(QualName, crate::sql::Name, bool)>, Vec<ObjectId>) {
    let scalar = name.to_string();
    let array = format!("{scalar}[]");
    let mut keep = Vec::new();
    let mut leave = Vec::new();
    for (table, t) in &d.cur.tables {
        for (column, c) in &t.columns {
            if c.data_type != scalar && c.data_type != array {
                continue;
            }
            let desired = d.des.tables.get(table).and_then(|t| t.columns.get(column));
            if desired.is_some_and(|n| n.data_type == c.data_type) {
                keep.push((table.clone(), column.clone(), c.data_type == array));
            } else {
                leave.push(ObjectId::Column(table.clone(), column.clone()));
            }
        }
    }
    (keep, leave)
}

/// Rename `name` aside, create it as `to`, convert `columns`, drop the old one. With
/// `assign`, columns convert by assignment (a domain whose base type gets a shorter
/// length limit: an explicit cast would truncate, assignment raises); otherwise through
/// `text`.
fn swap_sql(
    model: &crate::model::Model,
    name: &QualName,
    from: &TypeDef,
    to: &TypeDef,
    columns: &[(QualName, crate::sql::Name, bool)],
    assign: bool,
) -> (String, String, QualName) {
    let aside = aside_name(name, from).name;
    let mut sql = vec![ddl::rename_type(name, &aside)];
    // A range's multirange keeps its name when the range is renamed: it moves aside too.
    if let TypeKind::Range {
        multirange: Some(multi),
        ..
    } = &from.kind
    {
        sql.push(ddl::rename_type(multi, &format!("{aside}_multirange")));
        // Its constructor without arguments would clash with the new one's.
        sql.push(ddl::rename_multirange_constructor(
            multi,
            &format!("{aside}_multirange"),
        ));
    }
    sql.push(create_sql(model, name, to));
    for (table, column, array) in columns {
        let (via, target) = if *array {
            ("text[]".to_owned(), format!("{name}[]"))
        } else {
            ("text".to_owned(), name.to_string())
        };
        sql.push(ddl::convert_column(
            table,
            column,
            &target,
            (!assign).then_some(via.as_str()),
        ));
    }
    let drop_old = ddl::drop_type(&name.sibling(aside.clone()), is_domain(from));
    (ddl::join(sql), drop_old, name.sibling(aside))
}

/// The values to add, each with its `ADD VALUE IF NOT EXISTS` statement (placed relative
/// to one already there; a rerun after one committed but before it was recorded adds
/// nothing).
fn added_values(name: &QualName, old: &[String], new: &[String]) -> Vec<(String, String)> {
    let mut present: Vec<&String> = old.iter().collect();
    let mut out = Vec::new();
    for (i, label) in new.iter().enumerate() {
        if present.contains(&label) {
            continue;
        }
        let before_me = new[..i].iter().rev().find(|l| present.contains(l));
        let after_me = new[i + 1..].iter().find(|l| present.contains(l));
        let (place, at) = match (before_me, after_me) {
            (Some(prev), _) => (
                ddl::EnumPlace::After(prev),
                present
                    .iter()
                    .position(|l| *l == prev)
                    .map_or(present.len(), |p| p + 1),
            ),
            (None, Some(next)) => (
                ddl::EnumPlace::Before(next),
                present.iter().position(|l| *l == next).unwrap_or(0),
            ),
            (None, None) => (ddl::EnumPlace::End, present.len()),
        };
        out.push((label.clone(), ddl::add_enum_value(name, label, place)));
        present.insert(at, label);
    }
    out
}

/// In-place changes of a domain.
fn domain_changes(name: &QualName, from: &TypeKind, to: &TypeKind) -> (Vec<String>, Vec<String>) {
    let (
        TypeKind::Domain {
            default: d1,
            not_null: n1,
            checks: c1,
            ..
        },
        TypeKind::Domain {
            default: d2,
            not_null: n2,
            checks: c2,
            ..
        },
    ) = (from, to)
    else {
        return (Vec::new(), Vec::new());
    };
    let mut now = Vec::new();
    let mut validate = Vec::new();
    if d1 != d2 {
        now.push(ddl::domain_default(name, d2.as_deref()));
    }
    if n1 != n2 {
        now.push(ddl::domain_not_null(name, *n2));
    }
    for (check, old) in c1 {
        if c2
            .get(check)
            .is_none_or(|new| new.definition != old.definition)
        {
            now.push(ddl::domain_drop_check(name, check));
        }
    }
    for (check, new) in c2 {
        match c1.get(check) {
            Some(old) if old.definition == new.definition => {
                if new.validated && !old.validated {
                    validate.push(ddl::domain_validate_check(name, check));
                } else if !new.validated && old.validated {
                    now.push(ddl::domain_drop_check(name, check));
                    now.push(ddl::domain_add_check(name, check, &new.definition));
                }
            }
            _ => {
                now.push(ddl::domain_add_check(name, check, &new.definition));
                if new.validated {
                    validate.push(ddl::domain_validate_check(name, check));
                }
            }
        }
    }
    (now, validate)
}

fn meta_changes(name: &QualName, from: &TypeDef, to: &TypeDef) -> Vec<String> {
    let target = Target::Type(name, is_domain(to));
    let mut sql: Vec<String> =
        ddl::comment_change(target, from.comment.as_deref(), to.comment.as_deref())
            .into_iter()
            .collect();
    sql.extend(ddl::grant_changes(target, None, &from.grants, &to.grants));
    sql
}

pub(super) fn emit(d: &mut Differ) {
    for (name, def) in &d.des.types {
        let id = ObjectId::Type(name.clone());
        match d.decision(&id) {
            Decision::Create => {
                let step = Step::new(format!("create type {name}"), create_sql(d.des, name, def));
                let node = Differ::node(id, Action::Create, step).claims(Name::Type(name.clone()));
                d.push(node);
            }
            Decision::Alter => {
                let Some(old) = d.cur.types.get(name) else {
                    continue;
                };
                emit_alter(d, name, old, def);
            }
            _ => {}
        }
    }
    for (name, def) in &d.cur.types {
        let id = ObjectId::Type(name.clone());
        if d.decision(&id) == Decision::Drop {
            let step = Step::new(
                format!("drop type {name}"),
                ddl::drop_type(name, is_domain(def)),
            )
            .effect(Effect::DropsDefinition)
            // A composite type is a relation too (its row type's `pg_class` entry).
            .locks(is_composite(def).then_some(Lock::AccessExclusive));
            let node = Differ::node(id, Action::Drop, step).frees(Name::Type(name.clone()));
            d.push_drop(node);
        }
    }
}

fn emit_alter(d: &mut Differ, name: &QualName, old: &TypeDef, new: &TypeDef) {
    let id = ObjectId::Type(name.clone());
    if needs_swap(old, new) || d.swapped_with.contains_key(name) {
        let (columns, leaving) = columns_using(d, name);
        let also: Vec<ObjectId> = columns
            .iter()
            .map(|(t, c, _)| ObjectId::Column(t.clone(), c.as_str().into()))
            .collect();
        // A domain's values convert as its base type's do.
        let types = super::column::Types::of(d);
        let bases = match (&old.kind, &new.kind) {
            (TypeKind::Domain { base: a, .. }, TypeKind::Domain { base: b, .. }) => {
                Some((a.clone(), b.clone()))
            }
            _ => None,
        };
        let assign = |from: &str, to: &str| types.needs_assignment(from, to);
        let forward = bases.as_ref().is_some_and(|(a, b)| assign(a, b));
        let conversion = bases.as_ref().map(|(a, b)| types.classify(a, b));
        let (convert, drop_old, aside) = swap_sql(d.des, name, old, new, &columns, forward);
        let mut summary = format!(
            "rebuild type {name} and convert the {} column(s) using it",
            columns.len()
        );
        if let Some(super::conversion::Conversion::Lossy(why)) = conversion
            && !columns.is_empty()
        {
            summary.push_str(&format!(" (lossy: {why})"));
        }
        let mut step = Step::new(summary, convert);
        if !columns.is_empty() {
            step = step
                .effect(Effect::RewritesTable)
                .locks(Some(Lock::AccessExclusive));
            match conversion {
                Some(super::conversion::Conversion::Lossy(_)) => {
                    step = step.effect(Effect::DestroysData);
                }
                Some(super::conversion::Conversion::Checked { max_length }) => {
                    // Checked before the new type exists: against its base type.
                    let base = bases.as_ref().map(|(_, b)| b.clone()).unwrap_or_default();
                    for (table, column, array) in &columns {
                        step = step.check(Check::Converts {
                            table: table.clone(),
                            column: column.to_string(),
                            to: if *array {
                                format!("{base}[]")
                            } else {
                                base.clone()
                            },
                            via: None,
                            max_length,
                        });
                    }
                }
                _ => {}
            }
        }
        if let (TypeKind::Enum { labels: a }, TypeKind::Enum { labels: b }) = (&old.kind, &new.kind)
            && a.iter().any(|l| !b.contains(l))
        {
            step = step.effect(Effect::DropsDefinition);
            if !columns.is_empty() {
                step = step.check(Check::LabelsUnused {
                    type_name: name.clone(),
                    labels: a.iter().filter(|l| !b.contains(l)).cloned().collect(),
                    columns: columns
                        .iter()
                        .map(|(table, column, array)| EnumColumn {
                            table: table.clone(),
                            column: column.to_string(),
                            array: *array,
                        })
                        .collect(),
                });
            }
        }
        d.push(Differ::node(id.clone(), Action::Alter, step).also(also));
        // The old type (renamed aside) goes after the conversion, once every column that
        // changes to another type has left it.
        let drop_step = Step::new(format!("drop the old version of type {name}"), drop_old)
            .locks(is_composite(old).then_some(Lock::AccessExclusive));
        let mut node = Differ::node(ObjectId::Type(aside), Action::Drop, drop_step);
        node.after_alters = leaving;
        node.after_alters.push(id);
        // Types built on this one go first (their old versions use the old one), and the
        // types this one is built on are swapped before it.
        for (dependent, bases) in &d.swapped_with {
            if bases.contains(name)
                && let Some(def) = d.cur.types.get(dependent)
            {
                node.after.push(ObjectId::Type(aside_name(dependent, def)));
            }
        }
        d.push(node);
        return;
    }
    match (&old.kind, &new.kind) {
        (TypeKind::Enum { labels: a }, TypeKind::Enum { labels: b }) if a != b => {
            for (label, sql) in added_values(name, a, b) {
                let step = Step::new(format!("add value {} to enum {name}", Literal(&label)), sql)
                    .alone()
                    // `IF NOT EXISTS`: a rerun after it committed does nothing.
                    .rerunnable();
                d.push(Differ::node(id.clone(), Action::Alter, step));
            }
        }
        (TypeKind::Domain { .. }, TypeKind::Domain { .. }) => {
            let (now, validate) = domain_changes(name, &old.kind, &new.kind);
            if !now.is_empty() {
                let mut step = Step::new(format!("alter domain {name}"), ddl::join(now.clone()));
                let sets_not_null = matches!(
                    (&old.kind, &new.kind),
                    (
                        TypeKind::Domain {
                            not_null: false,
                            ..
                        },
                        TypeKind::Domain { not_null: true, .. }
                    )
                );
                if sets_not_null {
                    // Every column of the domain is checked, under SHARE on its table.
                    step = step.effect(Effect::ScansTable).locks(Some(Lock::Share));
                }
                d.push(Differ::node(id.clone(), Action::Alter, step));
            }
            for sql in validate {
                let step = Step::new(format!("validate a check of domain {name}"), sql)
                    .validating()
                    // Unlike a table's constraint, a domain's is validated under SHARE on
                    // every table with a column of the domain.
                    .locks(Some(Lock::Share));
                d.push(Differ::node(id.clone(), Action::Alter, step));
            }
        }
        (TypeKind::Composite { .. }, TypeKind::Composite { .. }) => {
            let forward = composite_changes(name, &old.kind, &new.kind).unwrap_or_default();
            if !forward.is_empty() {
                let step = Step::new(format!("alter composite type {name}"), ddl::join(forward))
                    .locks(Some(Lock::AccessExclusive));
                d.push(Differ::node(id.clone(), Action::Alter, step));
            }
        }
        _ => {}
    }
    let meta = meta_changes(name, old, new);
    if !meta.is_empty() {
        let step = Step::new(
            format!("change comment or privileges of type {name}"),
            ddl::join(meta),
        );
        d.push(Differ::node(id, Action::Alter, step));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn values_are_placed_relative_to_existing_ones() {
        let name = QualName::new("public", "job_state");
        let sql = added_values(
            &name,
            &labels(&["queued", "done"]),
            &labels(&["new", "queued", "running", "done", "failed"]),
        );
        let sql: Vec<String> = sql.into_iter().map(|(_, sql)| sql).collect();
        assert_eq!(
            sql,
            [
                "ALTER TYPE public.job_state ADD VALUE IF NOT EXISTS 'new' BEFORE 'queued';",
                "ALTER TYPE public.job_state ADD VALUE IF NOT EXISTS 'running' AFTER 'queued';",
                "ALTER TYPE public.job_state ADD VALUE IF NOT EXISTS 'failed' AFTER 'done';",
            ]
        );
    }

    #[test]
    fn reordering_or_removing_labels_needs_a_swap() {
        assert!(is_subsequence(
            &labels(&["a", "c"]),
            &labels(&["a", "b", "c"])
        ));
        assert!(!is_subsequence(
            &labels(&["c", "a"]),
            &labels(&["a", "b", "c"])
        ));
        assert!(!is_subsequence(&labels(&["a", "x"]), &labels(&["a", "b"])));
    }
}
