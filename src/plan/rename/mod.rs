//! Renames: what the schema's `-- strata:renamed-from` directives mean against the current
//! state ([`resolve`]), as steps that come before every other step of a plan.
//!
//! A directive applies while the database has the old name and not the new one; once the
//! old name is gone it is ignored (so it can stay in the file). Both names present is a
//! conflict, and an error. A table or column rename takes along the constraints, indexes
//! and sequences named after it the way PostgreSQL names them (`people_pkey` becomes
//! `persons_pkey`) when the schema has them under the name that follows the rename.
//!
//! The state after the renames is not worked out here: PostgreSQL rewrites what refers to
//! a renamed object (view definitions, foreign keys, defaults), so the planner diffs from a
//! state read back from a database the renames ran on ([`Renaming`]).

mod resolve;
#[cfg(test)]
mod tests;

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::Step;
use crate::model::{Catalog, Model, ObjectId, TypeKind};
use crate::sql::{Ident, Name as SqlName, QualName};

pub use resolve::resolve;

/// One rename, by the names at the moment it runs (a column of a renamed table is renamed
/// on the table's new name).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Rename {
    Table {
        from: QualName,
        to: SqlName,
    },
    View {
        from: QualName,
        to: SqlName,
    },
    MaterializedView {
        from: QualName,
        to: SqlName,
    },
    Sequence {
        from: QualName,
        to: SqlName,
    },
    Index {
        from: QualName,
        to: SqlName,
    },
    Type {
        from: QualName,
        to: SqlName,
    },
    Domain {
        from: QualName,
        to: SqlName,
    },
    Column {
        table: QualName,
        from: SqlName,
        to: SqlName,
    },
    Constraint {
        table: QualName,
        from: SqlName,
        to: SqlName,
    },
    EnumValue {
        #[serde(rename = "type")]
        type_name: QualName,
        from: SqlName,
        to: SqlName,
    },
}

impl Rename {
    /// The same rename the other way (for the way back).
    pub fn reversed(&self) -> Rename {
        let back = |from: &QualName, to: &str| (from.sibling(to), from.name.clone());
        match self {
            Rename::Table { from, to } => {
                let (from, to) = back(from, to);
                Rename::Table { from, to }
            }
            Rename::View { from, to } => {
                let (from, to) = back(from, to);
                Rename::View { from, to }
            }
            Rename::MaterializedView { from, to } => {
                let (from, to) = back(from, to);
                Rename::MaterializedView { from, to }
            }
            Rename::Sequence { from, to } => {
                let (from, to) = back(from, to);
                Rename::Sequence { from, to }
            }
            Rename::Index { from, to } => {
                let (from, to) = back(from, to);
                Rename::Index { from, to }
            }
            Rename::Type { from, to } => {
                let (from, to) = back(from, to);
                Rename::Type { from, to }
            }
            Rename::Domain { from, to } => {
                let (from, to) = back(from, to);
                Rename::Domain { from, to }
            }
            Rename::Column { table, from, to } => Rename::Column {
                table: table.clone(),
                from: to.clone(),
                to: from.clone(),
            },
            Rename::Constraint { table, from, to } => Rename::Constraint {
                table: table.clone(),
                from: to.clone(),
                to: from.clone(),
            },
            Rename::EnumValue {
                type_name,
                from,
                to,
            } => Rename::EnumValue {
                type_name: type_name.clone(),
                from: to.clone(),
                to: from.clone(),
            },
        }
    }

    /// The relation or type renamed, its statement's kind word, and its new name.
    fn object(&self) -> Option<(&'static str, &QualName, &str)> {
        match self {
            Rename::Table { from, to } => Some(("TABLE", from, to)),
            Rename::View { from, to } => Some(("VIEW", from, to)),
            Rename::MaterializedView { from, to } => Some(("MATERIALIZED VIEW", from, to)),
            Rename::Sequence { from, to } => Some(("SEQUENCE", from, to)),
            Rename::Index { from, to } => Some(("INDEX", from, to)),
            Rename::Type { from, to } => Some(("TYPE", from, to)),
            Rename::Domain { from, to } => Some(("DOMAIN", from, to)),
            _ => None,
        }
    }

    pub fn sql(&self) -> String {
        if let Some((kind, from, to)) = self.object() {
            return crate::ddl::rename_object(kind, from, to);
        }
        match self {
            Rename::Column { table, from, to } => crate::ddl::rename_column(table, from, to),
            Rename::Constraint { table, from, to } => {
                crate::ddl::rename_constraint(table, from, to)
            }
            Rename::EnumValue {
                type_name,
                from,
                to,
            } => crate::ddl::rename_enum_value(type_name, from, to),
            _ => String::new(),
        }
    }

    pub fn summary(&self) -> String {
        if let Some((kind, from, to)) = self.object() {
            return format!("rename {} {from} to {}", kind.to_lowercase(), Ident(to));
        }
        match self {
            Rename::Column { table, from, to } => {
                format!("rename column {table}.{} to {}", Ident(from), Ident(to))
            }
            Rename::Constraint { table, from, to } => format!(
                "rename constraint {} on {table} to {}",
                Ident(from),
                Ident(to)
            ),
            Rename::EnumValue {
                type_name,
                from,
                to,
            } => format!(
                "rename value {} of type {type_name} to {}",
                crate::sql::Literal(from),
                crate::sql::Literal(to)
            ),
            _ => String::new(),
        }
    }

    /// The object as it is called after the rename.
    pub fn renamed(&self) -> ObjectId {
        match self {
            Rename::Table { from, to } => ObjectId::Table(from.sibling(to.clone())),
            Rename::View { from, to } | Rename::MaterializedView { from, to } => {
                ObjectId::View(from.sibling(to.clone()))
            }
            Rename::Sequence { from, to } => ObjectId::Sequence(from.sibling(to.clone())),
            Rename::Index { from, to } => ObjectId::Index(from.sibling(to.clone())),
            Rename::Type { from, to } | Rename::Domain { from, to } => {
                ObjectId::Type(from.sibling(to.clone()))
            }
            Rename::Column { table, to, .. } => ObjectId::Column(table.clone(), to.clone()),
            Rename::Constraint { table, to, .. } => ObjectId::Constraint(table.clone(), to.clone()),
            Rename::EnumValue { type_name, .. } => ObjectId::Type(type_name.clone()),
        }
    }

    /// The lock the rename takes: `ALTER INDEX ... RENAME` takes SHARE UPDATE EXCLUSIVE,
    /// other relations and their parts ACCESS EXCLUSIVE, and so does a composite type (its
    /// row type is a relation); other types and enum values are not relations. `models`:
    /// where the type may be found (either side of the plan).
    fn lock(&self, models: [&Model; 2]) -> Option<super::Lock> {
        use super::Lock;
        match self {
            Rename::Index { .. } => Some(Lock::ShareUpdateExclusive),
            Rename::Table { .. }
            | Rename::View { .. }
            | Rename::MaterializedView { .. }
            | Rename::Sequence { .. }
            | Rename::Column { .. }
            | Rename::Constraint { .. } => Some(Lock::AccessExclusive),
            Rename::Type { from, .. } => models
                .iter()
                .filter_map(|m| m.types.get(from))
                .any(|t| matches!(t.kind, TypeKind::Composite { .. }))
                .then_some(Lock::AccessExclusive),
            Rename::Domain { .. } | Rename::EnumValue { .. } => None,
        }
    }

    /// The plan step: no hazard (a rename moves no rows and scans nothing).
    pub fn step(&self, models: [&Model; 2]) -> Step {
        let mut step = Step::new(self.summary(), self.sql()).locks(self.lock(models));
        step.object = Some(self.renamed());
        step.action = Some(super::Action::Alter);
        step.assessed()
    }
}

/// The renames a plan starts with, and the state they lead to (read back from a database
/// they ran on): the plan's other steps are planned from that state.
#[derive(Clone, Debug)]
pub struct Renaming {
    pub renames: Vec<Rename>,
    pub catalog: Catalog,
}

/// The steps from `current` to `desired` and back, each with the edges between their
/// positions (see [`crate::diff::ordered`]): with renames, they come first (each after the
/// one before it and before every other step), and on the way back last, undone in reverse.
pub(crate) fn ordered(
    current: &Catalog,
    renaming: Option<&Renaming>,
    desired: &Catalog,
) -> crate::Result<(crate::diff::Ordered, crate::diff::Ordered)> {
    let Some(renaming) = renaming.filter(|r| !r.renames.is_empty()) else {
        let (forward, back) = both_ways(|| crate::diff::ordered(current, desired, true), &|| {
            crate::diff::ordered(desired, current, false)
        });
        return Ok((forward?, back?));
    };
    let from = &renaming.catalog;
    let k = renaming.renames.len();
    let (forward, back) = both_ways(|| crate::diff::ordered(from, desired, true), &|| {
        crate::diff::ordered(desired, from, false)
    });
    let (steps, edges) = forward?;
    let models = [&current.model, &desired.model];
    let mut forward: Vec<Step> = renaming.renames.iter().map(|r| r.step(models)).collect();
    let mut forward_edges: Vec<(usize, usize)> = (1..k).map(|j| (j - 1, j)).collect();
    forward_edges.extend((0..steps.len()).map(|i| (k - 1, k + i)));
    forward_edges.extend(edges.into_iter().map(|(a, b)| (a + k, b + k)));
    forward.extend(steps);
    let (mut back, mut back_edges) = back?;
    let n = back.len();
    back_edges.extend((0..n).map(|i| (i, n)));
    back_edges.extend((1..k).map(|j| (n + j - 1, n + j)));
    back.extend(
        renaming
            .renames
            .iter()
            .rev()
            .map(|r| r.reversed().step(models)),
    );
    Ok(((forward, forward_edges), (back, back_edges)))
}

/// `forward` here and `back` on another thread, at the same time: the two directions of a
/// plan are independent (at 2,000 tables from an empty database, 0.37 s one after the
/// other).
fn both_ways<T: Send>(forward: impl FnOnce() -> T, back: &(impl Fn() -> T + Sync)) -> (T, T) {
    crate::parallel::two_at_once("strata-plan", forward, back)
}

/// Whether the renamed state recorded in a plan names what the renames make of `source`:
/// the same tables, columns, constraints, indexes, views, sequences, types and enum values,
/// under the new names. What is wrong, one line each (a plan file is untrusted input).
pub fn mismatches(source: &Model, renaming: &Renaming, target: &Model) -> Vec<String> {
    let mut expected = names(source);
    let goal = names(target);
    // As `resolve` makes them: from a name the target no longer has to one it has, and
    // that the state before does not (no swaps through a temporary name, no chains).
    let allowed = |expected: &BTreeSet<Name>, old: &Name, new: &Name| -> Option<String> {
        let show = |(kind, owner, name): &Name| {
            if name.is_empty() {
                format!("{kind} {owner}")
            } else {
                format!("{kind} {} of {owner}", Ident(name))
            }
        };
        if !expected.contains(old) {
            Some(format!(
                "it renames {}, which its source state does not have",
                show(old)
            ))
        } else if expected.contains(new) {
            Some(format!(
                "it renames {} to {}, which is taken",
                show(old),
                show(new)
            ))
        } else if goal.contains(old) || !goal.contains(new) {
            Some(format!(
                "it renames {} to {}, which is not a rename from its source to its target",
                show(old),
                show(new)
            ))
        } else {
            None
        }
    };
    for r in &renaming.renames {
        let (kind, owner, old, new) = match r {
            Rename::Column { table, from, to } => ("column", table, from, to),
            Rename::Constraint { table, from, to } => ("constraint", table, from, to),
            Rename::EnumValue {
                type_name,
                from,
                to,
            } => ("value", type_name, from, to),
            _ => {
                let Some((_, from, to)) = r.object() else {
                    continue;
                };
                let kind = if matches!(r, Rename::Type { .. } | Rename::Domain { .. }) {
                    "type"
                } else {
                    "relation"
                };
                let new = from.sibling(to);
                let (was, will) = (
                    (kind, from.clone(), SqlName::default()),
                    (kind, new.clone(), SqlName::default()),
                );
                if let Some(wrong) = allowed(&expected, &was, &will) {
                    return vec![wrong];
                }
                expected.remove(&was);
                expected.insert(will);
                // What belongs to it goes with it.
                let moved: Vec<Name> = expected
                    .iter()
                    .filter(|(k, o, n)| !n.is_empty() && *k != "relation" && o == from)
                    .cloned()
                    .collect();
                for (k, _, n) in moved {
                    expected.remove(&(k, from.clone(), n.clone()));
                    expected.insert((k, new.clone(), n));
                }
                continue;
            }
        };
        let (was, will) = (
            (kind, owner.clone(), old.clone()),
            (kind, owner.clone(), new.clone()),
        );
        if let Some(wrong) = allowed(&expected, &was, &will) {
            return vec![wrong];
        }
        expected.remove(&was);
        expected.insert(will);
    }
    let recorded = names(&renaming.catalog.model);
    let show = |(kind, owner, name): &Name| {
        if name.is_empty() {
            format!("{kind} {owner}")
        } else {
            format!("{kind} {} of {owner}", Ident(name))
        }
    };
    let mut out = Vec::new();
    for missing in expected.difference(&recorded) {
        out.push(format!("its renamed state lacks {}", show(missing)));
    }
    for extra in recorded.difference(&expected) {
        out.push(format!(
            "its renamed state has {}, which the renames do not make",
            show(extra)
        ));
    }
    out
}

/// A name a rename can change: kind, owner (the object itself for relations and types),
/// and the name within the owner (empty for relations and types).
type Name = (&'static str, QualName, SqlName);

/// Every name a rename can change, in one set.
fn names(model: &Model) -> BTreeSet<Name> {
    let mut out = BTreeSet::new();
    for (name, table) in &model.tables {
        out.insert(("relation", name.clone(), SqlName::default()));
        for (c, column) in &table.columns {
            out.insert(("column", name.clone(), c.clone()));
            if let Some(identity) = &column.identity {
                out.insert(("relation", identity.sequence.clone(), SqlName::default()));
            }
        }
        for c in table.constraints.keys() {
            out.insert(("constraint", name.clone(), c.clone()));
        }
    }
    for name in model
        .views
        .keys()
        .chain(model.sequences.keys())
        .chain(model.indexes.keys())
    {
        out.insert(("relation", name.clone(), SqlName::default()));
    }
    for (name, ty) in &model.types {
        out.insert(("type", name.clone(), SqlName::default()));
        if let TypeKind::Enum { labels } = &ty.kind {
            for l in labels {
                out.insert(("value", name.clone(), l.as_str().into()));
            }
        }
    }
    out
}
