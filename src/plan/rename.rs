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

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::Step;
use crate::model::{Catalog, Model, ObjectId, TypeKind};
use crate::source::{Problem, RenameDirective, RenameTarget};
use crate::sql::{Ident, QualName};

/// One rename, by the names at the moment it runs (a column of a renamed table is renamed
/// on the table's new name).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Rename {
    Table {
        from: QualName,
        to: String,
    },
    View {
        from: QualName,
        to: String,
    },
    MaterializedView {
        from: QualName,
        to: String,
    },
    Sequence {
        from: QualName,
        to: String,
    },
    Index {
        from: QualName,
        to: String,
    },
    Type {
        from: QualName,
        to: String,
    },
    Domain {
        from: QualName,
        to: String,
    },
    Column {
        table: QualName,
        from: String,
        to: String,
    },
    Constraint {
        table: QualName,
        from: String,
        to: String,
    },
    EnumValue {
        #[serde(rename = "type")]
        type_name: QualName,
        from: String,
        to: String,
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
            Rename::Table { from, to } => ObjectId::Table(from.sibling(to)),
            Rename::View { from, to } | Rename::MaterializedView { from, to } => {
                ObjectId::View(from.sibling(to))
            }
            Rename::Sequence { from, to } => ObjectId::Sequence(from.sibling(to)),
            Rename::Index { from, to } => ObjectId::Index(from.sibling(to)),
            Rename::Type { from, to } | Rename::Domain { from, to } => {
                ObjectId::Type(from.sibling(to))
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
        return Ok((
            crate::diff::ordered(current, desired, true)?,
            crate::diff::ordered(desired, current, false)?,
        ));
    };
    let from = &renaming.catalog;
    let k = renaming.renames.len();
    let (steps, edges) = crate::diff::ordered(from, desired, true)?;
    let models = [&current.model, &desired.model];
    let mut forward: Vec<Step> = renaming.renames.iter().map(|r| r.step(models)).collect();
    let mut forward_edges: Vec<(usize, usize)> = (1..k).map(|j| (j - 1, j)).collect();
    forward_edges.extend((0..steps.len()).map(|i| (k - 1, k + i)));
    forward_edges.extend(edges.into_iter().map(|(a, b)| (a + k, b + k)));
    forward.extend(steps);
    let (mut back, mut back_edges) = crate::diff::ordered(desired, from, false)?;
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
                    (kind, from.clone(), String::new()),
                    (kind, new.clone(), String::new()),
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
type Name = (&'static str, QualName, String);

/// Every name a rename can change, in one set.
fn names(model: &Model) -> BTreeSet<Name> {
    let mut out = BTreeSet::new();
    for (name, table) in &model.tables {
        out.insert(("relation", name.clone(), String::new()));
        for (c, column) in &table.columns {
            out.insert(("column", name.clone(), c.clone()));
            if let Some(identity) = &column.identity {
                out.insert(("relation", identity.sequence.clone(), String::new()));
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
        out.insert(("relation", name.clone(), String::new()));
    }
    for (name, ty) in &model.types {
        out.insert(("type", name.clone(), String::new()));
        if let TypeKind::Enum { labels } = &ty.kind {
            for l in labels {
                out.insert(("value", name.clone(), l.clone()));
            }
        }
    }
    out
}

/// What the directives ask of `current` on the way to `desired`: the renames to plan, in
/// the order they run (tables, views, sequences, indexes and types first, then columns,
/// constraints and enum values, then the names that follow them).
pub fn resolve(
    directives: &[RenameDirective],
    current: &Model,
    desired: &Model,
) -> Result<Vec<Rename>, Problem> {
    let mut objects: Vec<Rename> = Vec::new();
    let mut parts: Vec<Rename> = Vec::new();
    let mut seen: BTreeSet<String> = BTreeSet::new();
    // What a name of the schema was called in the database (tables and types renamed).
    for pass in [false, true] {
        for d in directives {
            let is_object = matches!(
                d.target,
                RenameTarget::Relation { .. } | RenameTarget::Type { .. }
            );
            if is_object == pass {
                continue;
            }
            let found = if pass {
                resolve_part(d, current, desired, &objects)?
            } else {
                resolve_object(d, current, desired)?
            };
            let Some(rename) = found else { continue };
            let old_key = format!(
                "from {:?} {}",
                rename.reversed().renamed(),
                rename_target(&rename.reversed())
            );
            let new_key = format!("to {:?} {}", rename.renamed(), rename_target(&rename));
            if !seen.insert(old_key) | !seen.insert(new_key) {
                return Err(d.problem(format!(
                    "strata:renamed-from: another directive renames {} too, or renames to \
                     the same name",
                    old_of(&rename)
                )));
            }
            if pass {
                parts.push(rename);
            } else {
                objects.push(rename);
            }
        }
    }
    let mut implied = implied(current, desired, &objects, &parts);
    implied.retain(|i| {
        !objects
            .iter()
            .chain(&parts)
            .any(|r| r.renamed() == i.renamed() || r.reversed().renamed() == i.reversed().renamed())
    });
    objects.extend(parts);
    objects.extend(implied);
    Ok(objects)
}

/// What a rename makes, with an enum value's label (its object is the type).
fn rename_target(rename: &Rename) -> &str {
    match rename {
        Rename::EnumValue { to, .. } => to,
        _ => "",
    }
}

/// The old name of a rename, for messages.
fn old_of(rename: &Rename) -> String {
    match rename.reversed().renamed() {
        ObjectId::Column(t, c) => format!("column {t}.{}", Ident(&c)),
        ObjectId::Constraint(t, c) => format!("constraint {} on {t}", Ident(&c)),
        ObjectId::Type(t) => match rename {
            Rename::EnumValue {
                type_name, from, ..
            } => {
                format!("value {} of {type_name}", crate::sql::Literal(from))
            }
            _ => format!("type {t}"),
        },
        other => other.to_string(),
    }
}

/// Which kind of relation `name` is in `model`, if any (the relation namespace: tables,
/// views, sequences, indexes and the indexes of constraints).
fn relation_kind(model: &Model, name: &QualName) -> Option<&'static str> {
    if model.tables.contains_key(name) {
        return Some("table");
    }
    if let Some(v) = model.views.get(name) {
        return Some(if v.materialized {
            "materialized view"
        } else {
            "view"
        });
    }
    if model.sequences.contains_key(name) {
        return Some("sequence");
    }
    if model.indexes.contains_key(name) {
        return Some("index");
    }
    if model.foreign_tables.contains_key(name) {
        return Some("foreign table");
    }
    let constraint_index = model.tables.iter().any(|(t, table)| {
        t.schema == name.schema
            && table
                .constraints
                .get(&name.name)
                .is_some_and(|c| c.index.is_some())
    });
    constraint_index.then_some("index")
}

fn old_qualified(d: &RenameDirective, new: &QualName) -> Result<QualName, Problem> {
    match d.from.as_slice() {
        [name] => Ok(new.sibling(name.clone())),
        [schema, name] if *schema == new.schema => Ok(new.sibling(name.clone())),
        [schema, _] => Err(d.problem(format!(
            "strata:renamed-from: {new} is in schema {}, the old name in {}: a rename keeps \
             the schema (moving an object to another schema is not a rename)",
            Ident(&new.schema),
            Ident(schema)
        ))),
        _ => Err(d.problem("strata:renamed-from: no old name")),
    }
}

fn conflict(d: &RenameDirective, old: &str, new: &str) -> Problem {
    d.problem(format!(
        "strata:renamed-from: the database has both {old} and {new}, so {old} cannot be \
         renamed to {new}: drop or rename one of them first, or remove the directive \
         (nothing was planned)"
    ))
}

fn also_defined(d: &RenameDirective, old: &str) -> Problem {
    d.problem(format!(
        "strata:renamed-from: the schema still defines {old}: an object cannot be both \
         renamed and kept"
    ))
}

/// A table, view, sequence, index or type directive.
fn resolve_object(
    d: &RenameDirective,
    current: &Model,
    desired: &Model,
) -> Result<Option<Rename>, Problem> {
    match &d.target {
        RenameTarget::Relation { kind, name } => {
            // An index is in its table's schema, whatever CREATE INDEX wrote.
            let new = if *kind == "index" {
                let found: Vec<&QualName> = desired
                    .indexes
                    .keys()
                    .filter(|k| k.name == name.name)
                    .collect();
                match found.as_slice() {
                    [one] => (*one).clone(),
                    _ => name.clone(),
                }
            } else {
                name.clone()
            };
            let old = old_qualified(d, &new)?;
            let wanted = relation_kind(desired, &new);
            if wanted.is_none() {
                return Err(d.problem(format!(
                    "strata:renamed-from: the schema defines no {kind} {new}"
                )));
            }
            if let Some(k) = relation_kind(desired, &old) {
                return Err(also_defined(d, &format!("{k} {old}")));
            }
            let Some(was) = relation_kind(current, &old) else {
                return Ok(None);
            };
            if was == "index" && !current.indexes.contains_key(&old) {
                return Err(d.problem(format!(
                    "strata:renamed-from: {old} is the index of a constraint in the database: \
                     rename the constraint (a directive on its CONSTRAINT line)"
                )));
            }
            if relation_kind(current, &new).is_some() {
                return Err(conflict(d, &old.to_string(), &new.to_string()));
            }
            if Some(was) != wanted {
                return Err(d.problem(format!(
                    "strata:renamed-from: {old} is a {was} in the database and {new} a {} in \
                     the schema: only an object of the same kind can be renamed",
                    wanted.unwrap_or(kind)
                )));
            }
            let to = new.name.clone();
            Ok(Some(match was {
                "table" => Rename::Table { from: old, to },
                "view" => Rename::View { from: old, to },
                "materialized view" => Rename::MaterializedView { from: old, to },
                "sequence" => Rename::Sequence { from: old, to },
                "index" => Rename::Index { from: old, to },
                other => {
                    return Err(d.problem(format!(
                        "strata:renamed-from: a {other} cannot be renamed by strata"
                    )));
                }
            }))
        }
        RenameTarget::Type { name } => {
            let old = old_qualified(d, name)?;
            let Some(wanted) = desired.types.get(name) else {
                return Err(d.problem(format!(
                    "strata:renamed-from: the schema defines no type {name}"
                )));
            };
            if desired.types.contains_key(&old) {
                return Err(also_defined(d, &format!("type {old}")));
            }
            let Some(was) = current.types.get(&old) else {
                return Ok(None);
            };
            if current.types.contains_key(name) {
                return Err(conflict(d, &old.to_string(), &name.to_string()));
            }
            if std::mem::discriminant(&was.kind) != std::mem::discriminant(&wanted.kind) {
                return Err(d.problem(format!(
                    "strata:renamed-from: type {old} in the database and {name} in the schema \
                     are different kinds of type: only a type of the same kind can be renamed"
                )));
            }
            let to = name.name.clone();
            Ok(Some(if matches!(was.kind, TypeKind::Domain { .. }) {
                Rename::Domain { from: old, to }
            } else {
                Rename::Type { from: old, to }
            }))
        }
        _ => Ok(None),
    }
}

/// What a table or type of the schema is called in the database, given the renames of
/// tables and types.
fn was_called(objects: &[Rename], name: &QualName) -> QualName {
    for r in objects {
        if let Some((_, from, to)) = r.object()
            && from.schema == name.schema
            && to == name.name
        {
            return from.clone();
        }
    }
    name.clone()
}

/// A column, constraint or enum value directive.
fn resolve_part(
    d: &RenameDirective,
    current: &Model,
    desired: &Model,
    objects: &[Rename],
) -> Result<Option<Rename>, Problem> {
    let [old] = d.from.as_slice() else {
        return Err(d.problem(
            "strata:renamed-from: a column, constraint or value is renamed within its table \
             or type: give the old name alone",
        ));
    };
    match &d.target {
        RenameTarget::Column { table, column } => {
            let Some(wanted) = desired.tables.get(table) else {
                return Err(d.problem(format!("strata:renamed-from: no table {table}")));
            };
            if wanted.columns.contains_key(old) {
                return Err(also_defined(d, &format!("column {table}.{}", Ident(old))));
            }
            let Some(was) = current.tables.get(&was_called(objects, table)) else {
                return Ok(None);
            };
            if !was.columns.contains_key(old) {
                return Ok(None);
            }
            if was.columns.contains_key(column) {
                return Err(conflict(
                    d,
                    &format!("column {}", Ident(old)),
                    &format!("column {}", Ident(column)),
                ));
            }
            Ok(Some(Rename::Column {
                table: table.clone(),
                from: old.clone(),
                to: column.clone(),
            }))
        }
        RenameTarget::Constraint { table, name } => {
            let Some(wanted) = desired.tables.get(table) else {
                return Err(d.problem(format!("strata:renamed-from: no table {table}")));
            };
            if !wanted.constraints.contains_key(name) {
                return Err(d.problem(format!(
                    "strata:renamed-from: table {table} has no constraint {}",
                    Ident(name)
                )));
            }
            if wanted.constraints.contains_key(old) {
                return Err(also_defined(d, &format!("constraint {}", Ident(old))));
            }
            let Some(was) = current.tables.get(&was_called(objects, table)) else {
                return Ok(None);
            };
            if !was.constraints.contains_key(old) {
                return Ok(None);
            }
            if was.constraints.contains_key(name) {
                return Err(conflict(
                    d,
                    &format!("constraint {}", Ident(old)),
                    &format!("constraint {}", Ident(name)),
                ));
            }
            Ok(Some(Rename::Constraint {
                table: table.clone(),
                from: old.clone(),
                to: name.clone(),
            }))
        }
        RenameTarget::EnumValue { type_name, label } => {
            let labels = |m: &Model, t: &QualName| match m.types.get(t).map(|t| &t.kind) {
                Some(TypeKind::Enum { labels }) => Some(labels.clone()),
                _ => None,
            };
            let Some(wanted) = labels(desired, type_name) else {
                return Err(d.problem(format!(
                    "strata:renamed-from: the schema defines no enum type {type_name}"
                )));
            };
            if wanted.contains(old) {
                return Err(also_defined(
                    d,
                    &format!("value {} of {type_name}", crate::sql::Literal(old)),
                ));
            }
            let Some(was) = labels(current, &was_called(objects, type_name)) else {
                return Ok(None);
            };
            if !was.contains(old) {
                return Ok(None);
            }
            if was.contains(label) {
                return Err(conflict(
                    d,
                    &format!("value {}", crate::sql::Literal(old)),
                    &format!("value {}", crate::sql::Literal(label)),
                ));
            }
            Ok(Some(Rename::EnumValue {
                type_name: type_name.clone(),
                from: old.clone(),
                to: label.clone(),
            }))
        }
        _ => Ok(None),
    }
}

/// The constraints, indexes and sequences whose names follow a table's or column's rename:
/// a name made from the old table name (`people_pkey`, `people_id_seq`) or from the table
/// and the old column name (`persons_email_key`), where the schema has the name made from
/// the new ones and not the old name, and the database does not have the new name.
fn implied(current: &Model, desired: &Model, objects: &[Rename], parts: &[Rename]) -> Vec<Rename> {
    let mut out = Vec::new();
    let old_tables: BTreeSet<QualName> = objects
        .iter()
        .filter_map(|r| match r {
            Rename::Table { from, .. } => Some(from.clone()),
            _ => None,
        })
        .chain(parts.iter().filter_map(|r| match r {
            Rename::Column { table, .. } => Some(was_called(objects, table)),
            _ => None,
        }))
        .collect();
    for old_table in &old_tables {
        let Some(table) = current.tables.get(old_table) else {
            continue;
        };
        let new_table = objects
            .iter()
            .find_map(|r| match r {
                Rename::Table { from, to } if from == old_table => Some(from.sibling(to)),
                _ => None,
            })
            .unwrap_or_else(|| old_table.clone());
        let Some(wanted) = desired.tables.get(&new_table) else {
            continue;
        };
        let columns: Vec<(&String, &String)> = parts
            .iter()
            .filter_map(|r| match r {
                Rename::Column { table, from, to } if *table == new_table => Some((from, to)),
                _ => None,
            })
            .collect();
        let follow = |name: &str| -> String {
            let mut name = match name.strip_prefix(&format!("{}_", old_table.name)) {
                Some(rest) => format!("{}_{rest}", new_table.name),
                None => name.to_owned(),
            };
            for (from, to) in &columns {
                let old = format!("{}_{from}_", new_table.name);
                let old_end = format!("{}_{from}", new_table.name);
                if name.contains(&old) {
                    name = name.replacen(&old, &format!("{}_{to}_", new_table.name), 1);
                } else if name == old_end {
                    name = format!("{}_{to}", new_table.name);
                }
            }
            name
        };
        for name in table.constraints.keys() {
            let to = follow(name);
            if to != *name
                && wanted.constraints.contains_key(&to)
                && !wanted.constraints.contains_key(name)
                && !table.constraints.contains_key(&to)
            {
                out.push(Rename::Constraint {
                    table: new_table.clone(),
                    from: name.clone(),
                    to,
                });
            }
        }
        for (name, index) in &current.indexes {
            if index.table != *old_table {
                continue;
            }
            let to = name.sibling(follow(&name.name));
            if to != *name
                && desired
                    .indexes
                    .get(&to)
                    .is_some_and(|i| i.table == new_table)
                && !desired.indexes.contains_key(name)
                && relation_kind(current, &to).is_none()
            {
                out.push(Rename::Index {
                    from: name.clone(),
                    to: to.name,
                });
            }
        }
        // Sequences the table's columns own (serial) or use as identity.
        let mut sequences: Vec<QualName> = current
            .sequences
            .iter()
            .filter(|(_, s)| s.owned_by.as_ref().is_some_and(|o| o.table == *old_table))
            .map(|(n, _)| n.clone())
            .collect();
        sequences.extend(
            table
                .columns
                .values()
                .filter_map(|c| c.identity.as_ref().map(|i| i.sequence.clone())),
        );
        let desired_sequences: BTreeSet<QualName> = desired
            .sequences
            .keys()
            .cloned()
            .chain(
                wanted
                    .columns
                    .values()
                    .filter_map(|c| c.identity.as_ref().map(|i| i.sequence.clone())),
            )
            .collect();
        for name in sequences {
            let to = name.sibling(follow(&name.name));
            if to != name
                && desired_sequences.contains(&to)
                && !desired_sequences.contains(&name)
                && relation_kind(current, &to).is_none()
            {
                out.push(Rename::Sequence {
                    from: name.clone(),
                    to: to.name,
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{Schema, SourceFile};

    /// A model with tables given as (name, columns, constraints).
    fn model(tables: &[(&str, &[&str], &[&str])]) -> Model {
        let mut m = Model::default();
        for (name, columns, constraints) in tables {
            let mut t = crate::model::Table::default();
            for c in *columns {
                t.columns.insert(
                    (*c).to_owned(),
                    crate::model::Column {
                        data_type: "integer".to_owned(),
                        collation: None,
                        not_null: false,
                        default: None,
                        identity: None,
                        generated: None,
                        comment: None,
                        grants: Default::default(),
                        using: Default::default(),
                    },
                );
            }
            for c in *constraints {
                t.constraints.insert(
                    (*c).to_owned(),
                    crate::model::Constraint {
                        kind: crate::model::ConstraintKind::Unique,
                        definition: String::new(),
                        validated: true,
                        deferrable: false,
                        references: None,
                        index: Some(String::new()),
                        comment: None,
                        detail: Default::default(),
                    },
                );
            }
            m.tables.insert(QualName::new("public", *name), t);
        }
        m
    }

    fn directives(text: &str) -> Vec<RenameDirective> {
        Schema::from_files(vec![SourceFile::new("s.sql", text)])
            .unwrap()
            .renames()
            .unwrap()
    }

    const SCHEMA: &str = "-- strata:renamed-from people\nCREATE TABLE persons (\n  \
                          -- strata:renamed-from mail\n  email int\n);\n";

    #[test]
    fn renames_apply_while_the_old_name_is_there_and_take_derived_names_along() {
        let current = model(&[(
            "people",
            &["mail"],
            &["people_mail_key", "people_pkey", "other"],
        )]);
        let desired = model(&[(
            "persons",
            &["email"],
            &["persons_email_key", "persons_pkey", "other"],
        )]);
        let got = resolve(&directives(SCHEMA), &current, &desired).unwrap();
        let t = QualName::new("public", "persons");
        assert_eq!(
            got,
            vec![
                Rename::Table {
                    from: QualName::new("public", "people"),
                    to: "persons".to_owned()
                },
                Rename::Column {
                    table: t.clone(),
                    from: "mail".to_owned(),
                    to: "email".to_owned()
                },
                Rename::Constraint {
                    table: t.clone(),
                    from: "people_mail_key".to_owned(),
                    to: "persons_email_key".to_owned()
                },
                Rename::Constraint {
                    table: t,
                    from: "people_pkey".to_owned(),
                    to: "persons_pkey".to_owned()
                },
            ]
        );
        assert_eq!(
            got[1].sql(),
            "ALTER TABLE public.persons RENAME COLUMN mail TO email;"
        );
        assert_eq!(
            got[1].reversed().sql(),
            "ALTER TABLE public.persons RENAME COLUMN email TO mail;"
        );
        // Once done, the directives are ignored.
        assert_eq!(
            resolve(&directives(SCHEMA), &desired, &desired).unwrap(),
            Vec::new()
        );
    }

    #[test]
    fn a_rename_the_database_contradicts_is_refused_at_the_directive() {
        let both = model(&[("people", &["mail"], &[]), ("persons", &["email"], &[])]);
        let desired = model(&[("persons", &["email"], &[])]);
        let problem = resolve(&directives(SCHEMA), &both, &desired).unwrap_err();
        assert_eq!(problem.line, 1);
        assert!(problem.message.contains("has both"), "{problem}");
        let columns = model(&[("persons", &["mail", "email"], &[])]);
        let problem = resolve(&directives(SCHEMA), &columns, &desired).unwrap_err();
        assert_eq!(problem.line, 3);
        assert!(problem.message.contains("has both"), "{problem}");
        let kept = model(&[("persons", &["email"], &[]), ("people", &[], &[])]);
        let problem = resolve(&directives(SCHEMA), &both, &kept).unwrap_err();
        assert!(problem.message.contains("still defines"), "{problem}");
    }

    #[test]
    fn a_recorded_renamed_state_must_be_what_the_renames_make() {
        let source = model(&[("people", &["mail"], &[])]);
        let target = model(&[("persons", &["email"], &[])]);
        let renames = vec![
            Rename::Table {
                from: QualName::new("public", "people"),
                to: "persons".to_owned(),
            },
            Rename::Column {
                table: QualName::new("public", "persons"),
                from: "mail".to_owned(),
                to: "email".to_owned(),
            },
        ];
        let renaming = |tables: &[(&str, &[&str], &[&str])]| Renaming {
            renames: renames.clone(),
            catalog: Catalog {
                model: model(tables),
                ..Catalog::default()
            },
        };
        assert!(
            mismatches(&source, &renaming(&[("persons", &["email"], &[])]), &target).is_empty()
        );
        let wrong = mismatches(
            &source,
            &renaming(&[("persons", &["email", "x"], &[])]),
            &target,
        );
        assert_eq!(
            wrong,
            vec!["its renamed state has column x of public.persons, which the renames do not make"]
        );
        let wrong = mismatches(&source, &renaming(&[("people", &["email"], &[])]), &target);
        assert!(
            wrong
                .iter()
                .any(|w| w.contains("lacks relation public.persons")),
            "{wrong:?}"
        );
        // A swap through a temporary name is not a rename from source to target.
        let both = model(&[("a", &["x"], &[]), ("b", &["y"], &[])]);
        let swap = Renaming {
            renames: vec![
                Rename::Table {
                    from: QualName::new("public", "a"),
                    to: "tmp".to_owned(),
                },
                Rename::Table {
                    from: QualName::new("public", "b"),
                    to: "a".to_owned(),
                },
                Rename::Table {
                    from: QualName::new("public", "tmp"),
                    to: "b".to_owned(),
                },
            ],
            catalog: Catalog {
                model: model(&[("a", &["y"], &[]), ("b", &["x"], &[])]),
                ..Catalog::default()
            },
        };
        let wrong = mismatches(&both, &swap, &both);
        assert!(
            wrong[0].contains("not a rename from its source"),
            "{wrong:?}"
        );
        let other = model(&[("folks", &["mail"], &[])]);
        let wrong = mismatches(&other, &renaming(&[("persons", &["email"], &[])]), &target);
        assert!(wrong[0].contains("does not have"), "{wrong:?}");
    }

    #[test]
    fn enum_values_rename_with_quotes() {
        let mut current = Model::default();
        let mut desired = Model::default();
        let ty = |labels: &[&str]| crate::model::TypeDef {
            kind: TypeKind::Enum {
                labels: labels.iter().map(|l| (*l).to_owned()).collect(),
            },
            comment: None,
            grants: Default::default(),
        };
        let name = QualName::new("public", "mood");
        current.types.insert(name.clone(), ty(&["it's", "sad"]));
        desired.types.insert(name.clone(), ty(&["it is", "sad"]));
        let d = directives(
            "CREATE TYPE mood AS ENUM (\n  'it is', -- strata:renamed-from 'it''s'\n  'sad'\n);\n",
        );
        let got = resolve(&d, &current, &desired).unwrap();
        assert_eq!(
            got[0].sql(),
            "ALTER TYPE public.mood RENAME VALUE 'it''s' TO 'it is';"
        );
    }
}
