//! What the directives ask of the current state: the renames, checked against both states,
//! and the constraints, indexes and sequences whose default names follow them.

use std::collections::BTreeSet;

use super::Rename;
use crate::model::{Model, ObjectId, TypeKind};
use crate::source::{Problem, RenameDirective, RenameTarget};
use crate::sql::{Ident, Name as SqlName, QualName};

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
            if wanted.columns.contains_key(old.as_str()) {
                return Err(also_defined(d, &format!("column {table}.{}", Ident(old))));
            }
            let Some(was) = current.tables.get(&was_called(objects, table)) else {
                return Ok(None);
            };
            if !was.columns.contains_key(old.as_str()) {
                return Ok(None);
            }
            if was.columns.contains_key(column.as_str()) {
                return Err(conflict(
                    d,
                    &format!("column {}", Ident(old)),
                    &format!("column {}", Ident(column)),
                ));
            }
            Ok(Some(Rename::Column {
                table: table.clone(),
                from: old.as_str().into(),
                to: column.as_str().into(),
            }))
        }
        RenameTarget::Constraint { table, name } => {
            let Some(wanted) = desired.tables.get(table) else {
                return Err(d.problem(format!("strata:renamed-from: no table {table}")));
            };
            if !wanted.constraints.contains_key(name.as_str()) {
                return Err(d.problem(format!(
                    "strata:renamed-from: table {table} has no constraint {}",
                    Ident(name)
                )));
            }
            if wanted.constraints.contains_key(old.as_str()) {
                return Err(also_defined(d, &format!("constraint {}", Ident(old))));
            }
            let Some(was) = current.tables.get(&was_called(objects, table)) else {
                return Ok(None);
            };
            if !was.constraints.contains_key(old.as_str()) {
                return Ok(None);
            }
            if was.constraints.contains_key(name.as_str()) {
                return Err(conflict(
                    d,
                    &format!("constraint {}", Ident(old)),
                    &format!("constraint {}", Ident(name)),
                ));
            }
            Ok(Some(Rename::Constraint {
                table: table.clone(),
                from: old.as_str().into(),
                to: name.as_str().into(),
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
                from: old.as_str().into(),
                to: label.as_str().into(),
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
                Rename::Table { from, to } if from == old_table => Some(from.sibling(to.clone())),
                _ => None,
            })
            .unwrap_or_else(|| old_table.clone());
        let Some(wanted) = desired.tables.get(&new_table) else {
            continue;
        };
        let columns: Vec<(&SqlName, &SqlName)> = parts
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
                && wanted.constraints.contains_key(to.as_str())
                && !wanted.constraints.contains_key(name)
                && !table.constraints.contains_key(to.as_str())
            {
                out.push(Rename::Constraint {
                    table: new_table.clone(),
                    from: name.clone(),
                    to: to.into(),
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
