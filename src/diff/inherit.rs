//! Tables rebuilt with their rows, and what a table sets itself on the columns it
//! inherits.
//!
//! A table whose partitioning changes (plain to partitioned, back, or another key) or whose
//! parents change (`INHERITS`) cannot be altered into shape: it is rebuilt. The old table
//! and everything in its tree (partitions, inheriting tables) is renamed aside with its
//! indexes and identity sequences, the new tables are created under the real names, the
//! rows are copied into them, and the old tree is dropped, all in the plan's transaction.
//! What depends on the old tables (views, foreign keys to them, ...) is rebuilt around it
//! by the closure, and the new tables' triggers, rules, policies and constraints are
//! created after the rows are in.

use std::collections::BTreeSet;

use super::{Action, Decision, Differ, Name};
use crate::ddl::{self, Target};
use crate::model::{Model, ObjectId, Table};
use crate::plan::{Effect, Step};
use crate::sql::{Ident, Literal, QualName};

/// Whether a table on both sides must be rebuilt: its partitioning or its parents change.
fn needs_rebuild(old: &Table, new: &Table) -> bool {
    old.partitioned_by != new.partitioned_by || old.inherits != new.inherits
}

/// The name a rebuilt table takes while its rows are copied out (stable, so a plan is
/// derived the same way twice).
pub(super) fn aside(name: &QualName) -> QualName {
    let mut hash: u32 = 0x811c_9dc5;
    for b in name.to_string().bytes() {
        hash ^= u32::from(b);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    name.sibling(format!("strata_old_{hash:08x}"))
}

/// Decides the rebuilds: the tables whose partitioning or parents change, with the
/// current tables of their trees. Runs after every other kind has decided, and overrides
/// what was decided for the parts of rebuilt tables.
pub(super) fn decide(d: &mut Differ) {
    let depth = |m: &Model, n: &QualName| {
        let mut at = n;
        let mut depth = 0;
        while let Some(p) = m.tables.get(at).and_then(|t| t.parents().first().copied()) {
            depth += 1;
            if depth > 64 {
                break;
            }
            at = p;
        }
        depth
    };
    let mut roots: Vec<&QualName> = d
        .cur
        .tables
        .iter()
        .filter(|(n, old)| {
            d.des
                .tables
                .get(*n)
                .is_some_and(|new| needs_rebuild(old, new))
        })
        .map(|(n, _)| n)
        .collect();
    roots.sort_by_key(|n| depth(d.cur, n));
    for root in roots {
        if d.rebuilt.contains_key(root) {
            continue; // in the tree of a table rebuilt already
        }
        let mut members = vec![root.clone()];
        let mut i = 0;
        while i < members.len() {
            for child in d.cur.children(&members[i]) {
                if !members.contains(child) {
                    members.push(child.clone());
                }
            }
            i += 1;
        }
        for m in members {
            d.rebuilt.entry(m).or_insert_with(|| root.clone());
        }
    }
    let members: Vec<QualName> = d.rebuilt.keys().cloned().collect();
    for m in &members {
        let old = &d.cur.tables[m];
        let new = d.des.tables.get(m);
        let fate = |present: bool| {
            if present {
                Decision::Replace
            } else {
                Decision::Drop
            }
        };
        d.set(ObjectId::Table(m.clone()), fate(new.is_some()));
        for (c, column) in &old.columns {
            let kept = new.and_then(|t| t.columns.get(c));
            d.set(ObjectId::Column(m.clone(), c.clone()), fate(kept.is_some()));
            if column.default.is_some() {
                let kept = kept.is_some_and(|k| k.default.is_some());
                d.set(ObjectId::ColumnDefault(m.clone(), c.clone()), fate(kept));
            }
        }
        for c in old.constraints.keys() {
            d.set(ObjectId::Constraint(m.clone(), c.clone()), Decision::Drop);
        }
        for t in old.triggers.keys() {
            d.set(ObjectId::Trigger(m.clone(), t.clone()), Decision::Drop);
        }
        for p in old.policies.keys() {
            d.set(ObjectId::Policy(m.clone(), p.clone()), Decision::Drop);
        }
        for r in old.rules.keys() {
            d.set(ObjectId::Rule(m.clone(), r.clone()), Decision::Drop);
        }
        for (name, index) in &d.cur.indexes {
            if &index.table == m {
                d.set(ObjectId::Index(name.clone()), Decision::Drop);
            }
        }
        // What the new table has is created after it: its inline constraints with it.
        if let Some(new) = new {
            for (c, constraint) in &new.constraints {
                let id = ObjectId::Constraint(m.clone(), c.clone());
                if ddl::is_inline_constraint(constraint) {
                    d.set(id, Decision::Keep);
                } else {
                    d.set(id, Decision::Replace);
                }
            }
            for t in new.triggers.keys() {
                d.set(ObjectId::Trigger(m.clone(), t.clone()), Decision::Replace);
            }
            for p in new.policies.keys() {
                d.set(ObjectId::Policy(m.clone(), p.clone()), Decision::Replace);
            }
            for r in new.rules.keys() {
                d.set(ObjectId::Rule(m.clone(), r.clone()), Decision::Replace);
            }
        }
        for (name, index) in &d.des.indexes {
            if &index.table == m {
                d.set(ObjectId::Index(name.clone()), Decision::Replace);
            }
        }
    }
}

/// The desired table that rows of the current table `x` (a member of a rebuilt tree) go
/// to: itself when it stays a table of its own, else the top of its desired tree (rows are
/// routed to the right partition), else the rebuilt root.
fn destination(d: &Differ, x: &QualName, root: &QualName) -> QualName {
    let Some(t) = d.des.tables.get(x) else {
        return root.clone();
    };
    let mut at = x;
    let mut table = t;
    for _ in 0..64 {
        let Some(p) = &table.partition_of else {
            break;
        };
        match d.des.tables.get(&p.parent) {
            Some(parent) => {
                at = &p.parent;
                table = parent;
            }
            None => break,
        }
    }
    at.clone()
}

/// Emits, for each rebuilt tree, the step that moves the old tables aside (before the new
/// ones are created) and the step that copies the rows and drops the old tables.
pub(super) fn emit(d: &mut Differ) {
    let roots: BTreeSet<QualName> = d.rebuilt.values().cloned().collect();
    for root in roots {
        let members: Vec<QualName> = d
            .rebuilt
            .iter()
            .filter(|(_, r)| **r == root)
            .map(|(m, _)| m.clone())
            .collect();
        emit_aside(d, &root, &members);
        emit_copy(d, &root, &members);
    }
}

fn emit_aside(d: &mut Differ, root: &QualName, members: &[QualName]) {
    let mut sql: Vec<String> = members
        .iter()
        .map(|m| ddl::rename_table(m, &aside(m).name))
        .collect();
    let olds: Vec<String> = members
        .iter()
        .map(|m| Literal(&aside(m).to_string()).to_string())
        .collect();
    let olds = format!("ARRAY[{}]::regclass[]", olds.join(", "));
    // Their indexes (with the constraints they back) and identity sequences free their
    // names too: renamed to a name made of their oid.
    sql.push(ddl::rename_index_and_identity_aside(&olds));
    let step = Step::new(
        format!("move table {root} aside to rebuild it with its rows"),
        ddl::join(sql),
    )
    .effect(Effect::HoldsLockForCopy);
    let mut node = Differ::node(ObjectId::Table(root.clone()), Action::Drop, step);
    for m in members {
        let table = &d.cur.tables[m];
        node.frees.extend(super::table::table_names(m, table));
        for (name, index) in &d.cur.indexes {
            if &index.table == m {
                node.frees.push(Name::Relation(name.clone()));
            }
        }
    }
    d.push(node);
}

fn emit_copy(d: &mut Differ, root: &QualName, members: &[QualName]) {
    let mut sql = Vec::new();
    let mut lost = Vec::new();
    let mut needs = Vec::new();
    let mut forced = BTreeSet::new();
    let mut copies = Vec::new();
    let mut kept = Vec::new();
    for m in members {
        let old = &d.cur.tables[m];
        if old.partitioned_by.is_some() {
            continue; // holds no rows itself
        }
        let dest = destination(d, m, root);
        let Some(dest_table) = d.des.tables.get(&dest) else {
            continue;
        };
        needs.push(ObjectId::Table(dest.clone()));
        if dest_table.force_row_security {
            forced.insert(dest.clone());
        }
        let wanted = d.des.all_columns(&dest);
        let mut names = Vec::new();
        let mut values = Vec::new();
        for (c, column) in d.cur.all_columns(m) {
            match wanted.iter().find(|(n, _)| *n == c) {
                Some((_, w)) if w.generated.is_none() => {
                    // A column a parent gains or changes in this plan is there first; one
                    // the old table has from a parent that drops it goes only after.
                    if let Some(owner) = d.des.column_owner(&dest, &c) {
                        needs.push(ObjectId::Column(owner.clone(), c.clone()));
                    }
                    if let Some(owner) = d.cur.column_owner(m, &c)
                        && !d.rebuilt.contains_key(owner)
                    {
                        kept.push(ObjectId::Column(owner.clone(), c.clone()));
                    }
                    names.push(Ident(&c).to_string());
                    if w.data_type == column.data_type && w.collation == column.collation {
                        values.push(Ident(&c).to_string());
                    } else {
                        values.push(format!("{}::{}", Ident(&c), w.data_type));
                    }
                }
                Some(_) => {}
                None => lost.push(format!("{m}.{}", Ident(&c))),
            }
        }
        if old.row_security {
            sql.push(ddl::disable_row_security(&aside(m)));
        }
        if names.is_empty() {
            continue;
        }
        let overriding = wanted.iter().any(|(_, c)| c.identity.is_some());
        copies.push(ddl::copy_rows(
            &dest,
            &names,
            &values,
            overriding,
            &aside(m),
        ));
    }
    for t in &forced {
        sql.push(ddl::force_row_security(t, false));
    }
    sql.extend(copies);
    for t in &forced {
        sql.push(ddl::force_row_security(t, true));
    }
    // Identity sequences carry on where the old ones were.
    for m in members {
        let (Some(old), Some(new)) = (d.cur.tables.get(m), d.des.tables.get(m)) else {
            continue;
        };
        for (c, column) in &new.columns {
            let had = old.columns.get(c).is_some_and(|o| o.identity.is_some());
            if column.identity.is_some() && had {
                sql.push(format!(
                    "SELECT setval(pg_get_serial_sequence({}, {}), v) \
                     FROM pg_sequence_last_value(pg_get_serial_sequence({}, {})::regclass) AS v \
                     WHERE v IS NOT NULL;",
                    Literal(&m.to_string()),
                    Literal(c),
                    Literal(&aside(m).to_string()),
                    Literal(c),
                ));
            }
        }
    }
    let mut owners = Vec::new();
    for (name, seq) in &d.cur.sequences {
        let owned = seq
            .owned_by
            .as_ref()
            .is_some_and(|o| members.contains(&o.table));
        let Some(wanted) = d.des.sequences.get(name).filter(|_| owned) else {
            continue;
        };
        // A sequence an old table owns would go with it: it is owned by its desired column
        // (of a table this step has created) or let go, and owned later by another.
        let owner = wanted
            .owned_by
            .as_ref()
            .filter(|o| members.contains(&o.table) && d.des.tables.contains_key(&o.table))
            .map(|o| (&o.table, o.column.as_str()));
        sql.push(ddl::sequence_owned_by(name, owner));
        if owner.is_none() && wanted.owned_by.is_some() {
            owners.push(ObjectId::SequenceOwner(name.clone()));
        }
    }
    let olds: Vec<String> = members.iter().map(|m| aside(m).to_string()).collect();
    sql.push(ddl::drop_tables(&olds));
    let mut step = Step::new(
        format!("copy the rows of {root} into the rebuilt tables and drop the old ones"),
        ddl::join(sql),
    )
    .effect(Effect::RewritesTable);
    if !lost.is_empty() {
        step.summary
            .push_str(&format!(" (dropping {})", lost.join(", ")));
        step = step.effect(Effect::DestroysData);
    }
    let mut node = Differ::node(ObjectId::TableRows(root.clone()), Action::Alter, step);
    for m in members {
        if d.des.tables.contains_key(m) {
            node.needs.push(ObjectId::Table(m.clone()));
        }
    }
    node.needs.extend(needs);
    node.before_drop_of.extend(kept);
    d.push(node);
    d.copied.push((root.clone(), owners));
}

/// Orders after the copy of rows what must not see it or be checked against an empty
/// table: triggers, rules, policies and constraints of the rebuilt tables and their new
/// partitions, foreign keys to them, and sequences owned again by their columns.
pub(super) fn order_after_copy(d: &mut Differ) {
    let copied = std::mem::take(&mut d.copied);
    for (root, owners) in &copied {
        let tree: BTreeSet<QualName> = desired_tree(d.des, root);
        for node in &mut d.nodes {
            if node.action == Action::Drop {
                continue;
            }
            let after = match &node.object {
                ObjectId::Trigger(t, _)
                | ObjectId::Rule(t, _)
                | ObjectId::Policy(t, _)
                | ObjectId::ReplicaIdentity(t) => tree.contains(t),
                ObjectId::Constraint(t, c) => {
                    tree.contains(t)
                        || d.des
                            .tables
                            .get(t)
                            .and_then(|t| t.constraints.get(c))
                            .and_then(|c| c.references.as_ref())
                            .is_some_and(|r| tree.contains(r))
                }
                other => owners.contains(other),
            };
            if after {
                node.after_alters.push(ObjectId::TableRows(root.clone()));
            }
        }
    }
    d.copied = copied;
}

/// A desired table and every table below it (partitions, inheriting tables).
fn desired_tree(m: &Model, root: &QualName) -> BTreeSet<QualName> {
    let mut tree = BTreeSet::from([root.clone()]);
    let mut work = vec![root.clone()];
    while let Some(t) = work.pop() {
        for c in m.children(&t) {
            if tree.insert(c.clone()) {
                work.push(c.clone());
            }
        }
    }
    tree
}

/// What tables set themselves on columns they inherit: a step per table whose settings
/// change (or that is created, or rebuilt, with some).
pub(super) fn emit_inherited_columns(d: &mut Differ) {
    for (name, new) in &d.des.tables {
        let id = ObjectId::Table(name.clone());
        let created = matches!(d.decision(&id), Decision::Create | Decision::Replace);
        let old = if created {
            None
        } else {
            d.cur.tables.get(name)
        };
        let columns: BTreeSet<&crate::sql::Name> = new
            .inherited_columns
            .keys()
            .chain(old.into_iter().flat_map(|o| o.inherited_columns.keys()))
            .collect();
        let mut forward = Vec::new();
        let mut back = Vec::new();
        let mut needs = Vec::new();
        let exists = |t: &QualName| d.existing(t);
        for column in columns {
            let want = new.inherited_columns.get(column.as_str());
            let had = old.and_then(|o| o.inherited_columns.get(column.as_str()));
            if want == had {
                continue;
            }
            let Some((want_default, want_not_null)) = d.des.column_settings(name, column) else {
                continue; // no longer inherited: the parent drops it
            };
            // A table created here starts with what its parent has.
            let had_settings = if created {
                new.parents()
                    .into_iter()
                    .find(|p| d.des.has_column(p, column))
                    .and_then(|p| d.des.column_settings(p, column))
            } else {
                d.cur.column_settings(name, column)
            };
            if let Some(owner) = d.des.column_owner(name, column) {
                needs.push(ObjectId::Column(owner.clone(), column.as_str().into()));
            }
            let (had_default, had_not_null) = had_settings.unwrap_or((None, false));
            let empty = crate::model::Grants::new();
            let target = Target::Column(name, column);
            if want_default != had_default {
                forward.extend(set_default(d.des, name, column, want_default, &exists));
                back.extend(set_default(d.cur, name, column, had_default, &exists));
            }
            if want_not_null != had_not_null {
                forward.push(ddl::set_not_null(name, column, want_not_null));
                back.push(ddl::set_not_null(name, column, had_not_null));
            }
            forward.extend(ddl::comment_change(
                target,
                had.and_then(|h| h.comment.as_deref()),
                want.and_then(|w| w.comment.as_deref()),
            ));
            back.extend(ddl::comment_change(
                target,
                want.and_then(|w| w.comment.as_deref()),
                had.and_then(|h| h.comment.as_deref()),
            ));
            forward.extend(ddl::grant_changes(
                Target::Table(name),
                Some(column),
                had.map_or(&empty, |h| &h.grants),
                want.map_or(&empty, |w| &w.grants),
            ));
            back.extend(ddl::grant_changes(
                Target::Table(name),
                Some(column),
                want.map_or(&empty, |w| &w.grants),
                had.map_or(&empty, |h| &h.grants),
            ));
        }
        if forward.is_empty() {
            continue;
        }
        let step = Step::new(
            format!("set what {name} sets itself on columns it inherits"),
            ddl::join(forward),
        );
        let mut node = Differ::node(
            ObjectId::InheritedColumns(name.clone()),
            Action::Alter,
            step,
        );
        node.needs.push(id);
        node.needs.extend(needs);
        d.push(node);
    }
}

/// `SET DEFAULT` (or `DROP DEFAULT`) on a table's column, which PostgreSQL passes down to
/// the tables below it, then what those set themselves, again (in `model`).
pub(super) fn set_default(
    model: &Model,
    table: &QualName,
    column: &str,
    default: Option<&str>,
    exists: &dyn Fn(&QualName) -> bool,
) -> Vec<String> {
    let mut sql = vec![ddl::set_default(table, column, default)];
    sql.extend(reapply_below(model, table, column, exists));
    sql
}

/// The defaults that tables below `table` (those that `exists` when it runs) set
/// themselves on `column`, top down.
fn reapply_below(
    model: &Model,
    table: &QualName,
    column: &str,
    exists: &dyn Fn(&QualName) -> bool,
) -> Vec<String> {
    let mut sql = Vec::new();
    let mut work: Vec<&QualName> = model.children(table);
    let mut seen = BTreeSet::new();
    while let Some(t) = work.first().copied() {
        work.remove(0);
        if !seen.insert(t) {
            continue;
        }
        if let Some(own) = model
            .tables
            .get(t)
            .and_then(|x| x.inherited_columns.get(column))
            .filter(|_| exists(t))
        {
            sql.push(ddl::set_default(t, column, own.default.as_deref()));
        }
        work.extend(model.children(t));
    }
    sql
}
