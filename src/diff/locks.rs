//! The lock a step takes on relations that exist before the plan starts, by the object it
//! acts on and what it does to it: the rule for steps whose site did not set it (see
//! [`crate::plan::Step::locks`]). PostgreSQL's documentation (13.3, "Explicit Locking", and
//! each command's page) says which lock a command takes; the engine cases compare every
//! step's declared lock with `pg_locks` while it runs.

use super::{Action, Decision, Differ};
use crate::model::{ConstraintKind, ObjectId};
use crate::plan::Lock;
use crate::sql::QualName;

/// The strongest lock the step that does `action` to `object` takes on a relation that
/// exists before the plan.
pub(super) fn typical(d: &Differ, object: &ObjectId, action: Action) -> Option<Lock> {
    use ObjectId as O;
    let on = |table: &QualName, lock: Lock| existed(d, table, action).then_some(lock);
    match object {
        O::Table(t) | O::ForeignTable(t) => match action {
            Action::Create => created_table(d, t),
            _ => on(t, Lock::AccessExclusive),
        },
        O::Column(t, _)
        | O::ColumnDefault(t, _)
        | O::Policy(t, _)
        | O::Rule(t, _)
        | O::ReplicaIdentity(t)
        | O::InheritedColumns(t) => on(t, Lock::AccessExclusive),
        // The rows of a table rebuilt with them are copied out of the table it replaces.
        O::TableRows(t) => existed(d, t, Action::Drop).then_some(Lock::AccessExclusive),
        O::Constraint(t, name) => {
            let c = d
                .des
                .tables
                .get(t)
                .and_then(|t| t.constraints.get(name))
                .filter(|_| action != Action::Drop)
                .or_else(|| d.cur.tables.get(t).and_then(|t| t.constraints.get(name)));
            match c {
                // A foreign key takes SHARE ROW EXCLUSIVE on both its tables (dropping
                // one, ACCESS EXCLUSIVE).
                Some(c) if c.kind == ConstraintKind::ForeignKey && action != Action::Drop => {
                    let referenced = c.references.as_ref().is_some_and(|r| existed(d, r, action));
                    (existed(d, t, action) || referenced).then_some(Lock::ShareRowExclusive)
                }
                _ => on(t, Lock::AccessExclusive),
            }
        }
        O::Trigger(t, _) => match action {
            Action::Create => on(t, Lock::ShareRowExclusive),
            _ => on(t, Lock::AccessExclusive),
        },
        O::View(v) if existed(d, v, action) => Some(Lock::AccessExclusive),
        O::View(_) | O::Function(_) if action != Action::Drop => {
            reads_existing(d, object, action).then_some(Lock::AccessShare)
        }
        O::Sequence(s) => match action {
            Action::Create => None,
            Action::Drop => on(s, Lock::AccessExclusive),
            Action::Alter => on(s, Lock::ShareRowExclusive),
        },
        // `OWNED BY` also reads the owning table (ACCESS SHARE).
        O::SequenceOwner(s) => on(s, Lock::ShareRowExclusive).or_else(|| {
            let owner = d.des.sequences.get(s).and_then(|s| s.owned_by.as_ref())?;
            existed(d, &owner.table, Action::Alter).then_some(Lock::AccessShare)
        }),
        // An update script, or a drop of an extension that owns tables, may take any lock
        // on the extension's relations: the strongest is declared.
        O::Extension(_) if action != Action::Create => Some(Lock::AccessExclusive),
        O::Index(i) => {
            let index = match action {
                Action::Drop => d.cur.indexes.get(i),
                _ => d.des.indexes.get(i).or_else(|| d.cur.indexes.get(i)),
            }?;
            match action {
                Action::Create => on(&index.table, Lock::Share),
                Action::Drop => on(&index.table, Lock::AccessExclusive),
                Action::Alter => on(&index.table, Lock::ShareUpdateExclusive),
            }
        }
        // On the table they are on.
        O::Statistics(_) => reads_existing(d, object, action).then_some(Lock::ShareUpdateExclusive),
        // On the tables it publishes (or did).
        O::Publication(p) => {
            let tables = |m: &crate::model::Model| {
                m.publications
                    .get(p)
                    .is_some_and(|p| p.tables.iter().any(|t| existed(d, t, Action::Alter)))
            };
            (action != Action::Drop && (tables(d.cur) || tables(d.des)))
                .then_some(Lock::ShareUpdateExclusive)
        }
        O::Function(_) | O::View(_) => None,
        O::Schema(_)
        | O::Extension(_)
        | O::Type(_)
        | O::Collation(_)
        | O::Aggregate(_)
        | O::DefaultPrivileges(_)
        | O::ForeignServer(_)
        | O::Role(_)
        | O::Operator(_)
        | O::Cast(_) => None,
    }
}

/// Whether the relation exists before the plan and the step acts on that relation (not
/// on one created in its place).
fn existed(d: &Differ, relation: &QualName, action: Action) -> bool {
    let ids = [
        ObjectId::Table(relation.clone()),
        ObjectId::View(relation.clone()),
        ObjectId::Sequence(relation.clone()),
        ObjectId::ForeignTable(relation.clone()),
    ];
    let before = d.cur.tables.contains_key(relation)
        || d.cur.views.contains_key(relation)
        || d.cur.sequences.contains_key(relation)
        || d.cur.foreign_tables.contains_key(relation);
    before
        && (action == Action::Drop
            || !ids
                .iter()
                .any(|id| matches!(d.decision(id), Decision::Create | Decision::Replace)))
}

/// A new table locks its parents: a partition's parent ACCESS EXCLUSIVE, an inheritance
/// parent SHARE UPDATE EXCLUSIVE.
fn created_table(d: &Differ, table: &QualName) -> Option<Lock> {
    let t = d.des.tables.get(table)?;
    let parent = t
        .partition_of
        .as_ref()
        .filter(|p| existed(d, &p.parent, Action::Alter))
        .map(|_| Lock::AccessExclusive);
    let inherits = t
        .inherits
        .iter()
        .any(|p| existed(d, p, Action::Alter))
        .then_some(Lock::ShareUpdateExclusive);
    parent.max(inherits)
}

/// Whether the object depends on a relation (or a part of one) that exists before the
/// plan (in the desired state; for a drop, in the current one): creating it reads that
/// relation's definition. A materialized view runs its query when created: it reads
/// through the views it selects from, new ones too, down to their tables.
fn reads_existing(d: &Differ, object: &ObjectId, action: Action) -> bool {
    let deps = if action == Action::Drop {
        d.cur_deps
    } else {
        d.des_deps
    };
    let through_views = matches!(object, ObjectId::View(v)
        if d.des.views.get(v).is_some_and(|v| v.materialized && !v.unpopulated));
    let mut seen = std::collections::BTreeSet::new();
    let mut todo = vec![object.clone()];
    while let Some(next) = todo.pop() {
        if !seen.insert(next.clone()) {
            continue;
        }
        for dep in deps.of(&next) {
            match &dep.referenced {
                ObjectId::Table(t)
                | ObjectId::View(t)
                | ObjectId::Sequence(t)
                | ObjectId::ForeignTable(t)
                | ObjectId::Column(t, _)
                    if existed(d, t, Action::Alter) =>
                {
                    return true;
                }
                ObjectId::View(v) | ObjectId::Column(v, _)
                    if through_views && d.des.views.contains_key(v) =>
                {
                    todo.push(ObjectId::View(v.clone()));
                }
                _ => {}
            }
        }
    }
    false
}
