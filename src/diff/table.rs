//! Tables: what is decided for them and their parts, and the table-level steps (create,
//! drop, partitioning, persistence, storage options, row-level security, comment,
//! privileges). Columns, constraints, triggers and policies have their own files.

use super::{Action, Decision, Differ, Name};
use crate::ddl::{self, Target};
use crate::error::{Error, Result};
use crate::model::{Column, ObjectId, Table};
use crate::plan::{Effect, Step};
use crate::sql::QualName;

pub(super) fn decide(d: &mut Differ) -> Result<()> {
    d.decide_map(
        &d.cur.tables,
        &d.des.tables,
        |n| ObjectId::Table(n.clone()),
        |_, _| false,
    );
    // Foreign keys between two dropped tables are dropped first, else neither table could go.
    for (name, old) in &d.cur.tables {
        if d.des.tables.contains_key(name) {
            continue;
        }
        for (c, constraint) in &old.constraints {
            let other_dropped = constraint
                .references
                .as_ref()
                .is_some_and(|r| r != name && !d.des.tables.contains_key(r));
            if other_dropped {
                d.set(
                    ObjectId::Constraint(name.clone(), c.clone()),
                    Decision::Drop,
                );
            }
        }
    }
    for (name, new) in &d.des.tables {
        let Some(old) = d.cur.tables.get(name) else {
            // A new table: its separately created parts are new too.
            for (c, constraint) in &new.constraints {
                if !ddl::is_inline_constraint(constraint) {
                    d.set(
                        ObjectId::Constraint(name.clone(), c.clone()),
                        Decision::Create,
                    );
                }
            }
            for t in new.triggers.keys() {
                d.set(ObjectId::Trigger(name.clone(), t.clone()), Decision::Create);
            }
            for p in new.policies.keys() {
                d.set(ObjectId::Policy(name.clone(), p.clone()), Decision::Create);
            }
            continue;
        };
        // A partition's columns are its parent's (the model leaves them out); a table that
        // becomes or stops being a partition keeps the columns it has.
        if old.partition_of.is_none() && new.partition_of.is_none() {
            decide_columns(d, name, old, new)?;
        }
        d.decide_map(
            &old.constraints,
            &new.constraints,
            |c| ObjectId::Constraint(name.clone(), c.clone()),
            |a, b| {
                a.kind != b.kind
                    || a.definition != b.definition
                    || a.deferrable != b.deferrable
                    || (a.validated && !b.validated)
            },
        );
        d.decide_map(
            &old.triggers,
            &new.triggers,
            |t| ObjectId::Trigger(name.clone(), t.clone()),
            |a, b| a.definition != b.definition,
        );
        d.decide_map(
            &old.policies,
            &new.policies,
            |p| ObjectId::Policy(name.clone(), p.clone()),
            |a, b| {
                let mut a = a.clone();
                a.comment.clone_from(&b.comment);
                &a != b
            },
        );
    }
    Ok(())
}

fn decide_columns(d: &mut Differ, name: &QualName, old: &Table, new: &Table) -> Result<()> {
    d.decide_map(
        &old.columns,
        &new.columns,
        |c| ObjectId::Column(name.clone(), c.clone()),
        |a, b| b.generated.is_some() && a.generated != b.generated,
    );
    // A column the table declares and inherits stays when its parent drops it (it is there
    // already), and merges with a parent's new one of the same name (it is not dropped).
    for c in old.merged.0.keys() {
        if new.columns.contains_key(c) && !old.columns.contains_key(c) {
            d.set(ObjectId::Column(name.clone(), c.clone()), Decision::Keep);
        }
    }
    for c in new.merged.0.keys() {
        if old.columns.contains_key(c) && !new.columns.contains_key(c) {
            d.set(ObjectId::Column(name.clone(), c.clone()), Decision::Keep);
        }
    }
    for (column, b) in &new.columns {
        let Some(a) = old.columns.get(column) else {
            continue;
        };
        let id = ObjectId::Column(name.clone(), column.clone());
        if d.decision(&id) == Decision::Replace {
            continue;
        }
        if a.data_type != b.data_type || a.collation != b.collation {
            d.disrupt(id);
        }
        if a.data_type != b.data_type
            && b.using.0.is_none()
            && d.strict
            && !super::column::Types::of(d).castable(&a.data_type, &b.data_type)
        {
            let col = crate::sql::Ident(column);
            return Err(Error::Unsupported {
                object: format!("column {name}.{col}"),
                reason: format!(
                    "no cast converts {} to {}: say how in the schema file, with a comment \
                     on the column's line in CREATE TABLE {name}, e.g. `{col} {}, -- \
                     strata:using <expression of the old {col}>` (docs/schema-files.md)",
                    a.data_type, b.data_type, b.data_type
                ),
            });
        }
        let default = ObjectId::ColumnDefault(name.clone(), column.clone());
        match (&a.default, &b.default) {
            (None, Some(_)) => d.set(default, Decision::Create),
            (Some(_), None) => d.set(default, Decision::Drop),
            (Some(x), Some(y)) if x != y => d.set(default, Decision::Alter),
            _ => {}
        }
    }
    Ok(())
}

/// Statements that give a new table its flags, comments and privileges.
fn decorations(model: &crate::model::Model, name: &QualName, table: &Table) -> Vec<String> {
    let target = Target::Table(name);
    let mut sql = Vec::new();
    if table.row_security {
        sql.push(ddl::row_security(name, true));
    }
    if table.force_row_security {
        sql.push(ddl::force_row_security(name, true));
    }
    sql.extend(ddl::comment_change(target, None, table.comment.as_deref()));
    sql.extend(ddl::grant_changes(
        target,
        None,
        &super::creation_grants(model, target),
        &table.grants,
    ));
    for (constraint, c) in table.constraints.iter() {
        if ddl::is_inline_constraint(c) {
            let target = Target::Constraint(name, constraint);
            sql.extend(ddl::comment_change(target, None, c.comment.as_deref()));
        }
    }
    for (column, c) in table.ordered_columns() {
        sql.extend(column_decorations(name, column, c, None));
    }
    sql
}

/// Comment and privilege changes of a column (from nothing when `old` is `None`).
pub(super) fn column_decorations(
    table: &QualName,
    name: &str,
    new: &Column,
    old: Option<&Column>,
) -> Vec<String> {
    let target = Target::Column(table, name);
    let empty = crate::model::Grants::new();
    let mut sql: Vec<String> = ddl::comment_change(
        target,
        old.and_then(|o| o.comment.as_deref()),
        new.comment.as_deref(),
    )
    .into_iter()
    .collect();
    sql.extend(ddl::grant_changes(
        Target::Table(table),
        Some(name),
        old.map_or(&empty, |o| &o.grants),
        &new.grants,
    ));
    sql
}

/// The names a table takes: its own (a relation) and its row type's.
pub(super) fn table_names(name: &QualName, table: &Table) -> Vec<Name> {
    let mut names = vec![Name::Relation(name.clone()), Name::Type(name.clone())];
    for column in table.columns.values() {
        if let Some(identity) = &column.identity {
            names.push(Name::Relation(identity.sequence.clone()));
        }
    }
    for (c, constraint) in &table.constraints {
        if constraint.index.is_some() {
            names.push(Name::Relation(name.sibling(c.clone())));
        }
    }
    names
}

pub(super) fn emit(d: &mut Differ) {
    for (name, table) in &d.des.tables {
        let id = ObjectId::Table(name.clone());
        match d.decision(&id) {
            Decision::Create | Decision::Replace => {
                let mut sql = vec![ddl::create_table(name, table)];
                sql.extend(decorations(d.des, name, table));
                let what = if table.partition_of.is_some() {
                    "partition"
                } else {
                    "table"
                };
                let step = Step::new(format!("create {what} {name}"), ddl::join(sql));
                let mut node = Differ::node(id, Action::Create, step);
                node.claims = table_names(name, table);
                d.push(node);
            }
            Decision::Alter => {
                let Some(old) = d.cur.tables.get(name) else {
                    continue;
                };
                emit_alter(d, name, old, table);
            }
            _ => {}
        }
    }
    for (name, table) in &d.cur.tables {
        let id = ObjectId::Table(name.clone());
        if d.decision(&id) == Decision::Drop {
            let step = Step::new(format!("drop table {name}"), ddl::drop_table(name))
                .effect(Effect::DestroysData);
            let mut node = Differ::node(id, Action::Drop, step);
            node.frees = table_names(name, table);
            d.push_drop(node);
        }
    }
}

fn emit_alter(d: &mut Differ, name: &QualName, old: &Table, new: &Table) {
    let id = ObjectId::Table(name.clone());
    if old.partition_of != new.partition_of {
        let mut forward = Vec::new();
        let mut back = Vec::new();
        if let Some(p) = &old.partition_of {
            forward.push(ddl::detach_partition(&p.parent, name));
            back.push(ddl::attach_partition(&p.parent, name, &p.bound));
        }
        if let Some(p) = &new.partition_of {
            forward.push(ddl::attach_partition(&p.parent, name, &p.bound));
            back.insert(0, ddl::detach_partition(&p.parent, name));
        }
        let mut step = Step::new(
            format!("change the partitioning of {name}"),
            ddl::join(forward),
        );
        // Attaching scans the table for rows outside the partition's bound; detaching from
        // a parent a foreign key references looks for rows that still refer to the
        // partition's rows.
        let referenced = |parent: &QualName| {
            d.cur.tables.values().any(|t| {
                t.constraints
                    .values()
                    .any(|c| c.references.as_ref() == Some(parent))
            })
        };
        let detach_checks = old
            .partition_of
            .as_ref()
            .is_some_and(|p| referenced(&p.parent));
        if new.partition_of.is_some() || detach_checks {
            step = step.effect(Effect::ScansTable);
        }
        d.push(Differ::node(id.clone(), Action::Alter, step));
    }
    if old.unlogged != new.unlogged {
        let step = Step::new(
            format!(
                "make table {name} {}",
                if new.unlogged { "unlogged" } else { "logged" }
            ),
            ddl::set_logged(name, new.unlogged),
        )
        .effect(Effect::RewritesTable);
        d.push(Differ::node(id.clone(), Action::Alter, step));
    }
    let forward = table_changes(name, old, new);
    if !forward.is_empty() {
        let step = Step::new(
            format!("alter table {name} (options, row security, comment, privileges)"),
            ddl::join(forward),
        );
        d.push(Differ::node(id, Action::Alter, step));
    }
}

fn table_changes(name: &QualName, from: &Table, to: &Table) -> Vec<String> {
    let target = Target::Table(name);
    let mut sql = ddl::option_changes("TABLE", name, &from.options, &to.options);
    if from.row_security != to.row_security {
        sql.push(ddl::row_security(name, to.row_security));
    }
    if from.force_row_security != to.force_row_security {
        sql.push(ddl::force_row_security(name, to.force_row_security));
    }
    sql.extend(ddl::comment_change(
        target,
        from.comment.as_deref(),
        to.comment.as_deref(),
    ));
    sql.extend(ddl::grant_changes(target, None, &from.grants, &to.grants));
    sql
}

/// Table changes that come after the table's indexes exist: `REPLICA IDENTITY` (which may
/// name one of them).
pub(super) fn emit_late(d: &mut Differ) {
    for (name, new) in &d.des.tables {
        let old = d.cur.tables.get(name);
        let was = old.and_then(|t| t.replica_identity.as_ref());
        let created = d.is_new_table(name);
        let unchanged = if created {
            new.replica_identity.is_none()
        } else {
            old.is_none() || was == new.replica_identity.as_ref()
        };
        if unchanged {
            continue;
        }
        let step = Step::new(
            format!("set the replica identity of {name}"),
            ddl::replica_identity(name, new.replica_identity.as_ref()),
        );
        let mut node = Differ::node(ObjectId::ReplicaIdentity(name.clone()), Action::Alter, step);
        node.needs.push(ObjectId::Table(name.clone()));
        if let Some(crate::model::ReplicaIdentity::Index(index)) = &new.replica_identity {
            node.needs
                .push(ObjectId::Index(name.sibling(index.clone())));
        }
        if let Some(crate::model::ReplicaIdentity::Index(index)) = was {
            node.before_drop_of
                .push(ObjectId::Index(name.sibling(index.clone())));
        }
        d.push(node);
    }
}
