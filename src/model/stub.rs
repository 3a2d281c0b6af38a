//! Stubs: the part of a cached catalog that a partial load needs around it (the warm edit
//! path, `db/warm_edit.rs`). Tables come without what could reach further (foreign keys,
//! checks, defaults, triggers, policies, rules, privileges, comments), so that a chain of
//! foreign keys does not pull in the whole schema; views, types, sequences and functions
//! come whole, with what they need in turn.

use std::collections::{BTreeSet, HashMap};

use super::{Catalog, ConstraintKind, Deps, Model, ObjectId};

/// At most how many objects are stubbed (beyond that, a full load is as good).
const MAX_STUBS: usize = 1000;

/// The object a part belongs to: a column's or constraint's table (or view), a sequence's
/// ownership's sequence; an object that is a whole is its own.
pub fn root(model: &Model, id: &ObjectId) -> ObjectId {
    match id {
        ObjectId::Column(t, _)
        | ObjectId::ColumnDefault(t, _)
        | ObjectId::Constraint(t, _)
        | ObjectId::Trigger(t, _)
        | ObjectId::Policy(t, _)
        | ObjectId::Rule(t, _)
        | ObjectId::ReplicaIdentity(t)
        | ObjectId::InheritedColumns(t)
        | ObjectId::TableRows(t) => {
            if model.views.contains_key(t) {
                ObjectId::View(t.clone())
            } else {
                ObjectId::Table(t.clone())
            }
        }
        ObjectId::SequenceOwner(s) => ObjectId::Sequence(s.clone()),
        other => other.clone(),
    }
}

/// The name of an object without its schema or arguments, as it is written unquoted.
pub fn bare(id: &ObjectId) -> Option<String> {
    let name = match id {
        ObjectId::Table(n)
        | ObjectId::View(n)
        | ObjectId::Index(n)
        | ObjectId::Sequence(n)
        | ObjectId::Type(n)
        | ObjectId::Collation(n)
        | ObjectId::Statistics(n)
        | ObjectId::ForeignTable(n) => &n.name,
        ObjectId::Function(f) | ObjectId::Aggregate(f) | ObjectId::Operator(f) => &f.name.name,
        ObjectId::Schema(n)
        | ObjectId::Extension(n)
        | ObjectId::Publication(n)
        | ObjectId::ForeignServer(n) => n,
        _ => return None,
    };
    Some(name.to_lowercase().to_string())
}

/// Whether a dependency's dependent is something a stub leaves out.
fn stripped(model: &Model, id: &ObjectId) -> bool {
    match id {
        ObjectId::Constraint(t, n) => !model
            .tables
            .get(t)
            .and_then(|t| t.constraints.get(n))
            .is_some_and(|c| matches!(c.kind, ConstraintKind::PrimaryKey | ConstraintKind::Unique)),
        ObjectId::ColumnDefault(..)
        | ObjectId::Trigger(..)
        | ObjectId::Policy(..)
        | ObjectId::Rule(..)
        | ObjectId::ReplicaIdentity(_)
        | ObjectId::InheritedColumns(_)
        | ObjectId::TableRows(_)
        | ObjectId::SequenceOwner(_) => true,
        _ => false,
    }
}

/// Every modelled object of `model` that a statement can name, with its id.
pub fn named(model: &Model) -> Vec<ObjectId> {
    let mut ids = Vec::new();
    ids.extend(model.tables.keys().cloned().map(ObjectId::Table));
    ids.extend(model.views.keys().cloned().map(ObjectId::View));
    ids.extend(model.indexes.keys().cloned().map(ObjectId::Index));
    ids.extend(model.sequences.keys().cloned().map(ObjectId::Sequence));
    ids.extend(model.types.keys().cloned().map(ObjectId::Type));
    ids.extend(model.functions.keys().cloned().map(ObjectId::Function));
    ids.extend(model.collations.keys().cloned().map(ObjectId::Collation));
    ids.extend(model.statistics.keys().cloned().map(ObjectId::Statistics));
    ids.extend(model.aggregates.keys().cloned().map(ObjectId::Aggregate));
    ids.extend(model.operators.keys().cloned().map(ObjectId::Operator));
    ids.extend(
        model
            .foreign_tables
            .keys()
            .cloned()
            .map(ObjectId::ForeignTable),
    );
    ids.extend(
        model
            .publications
            .keys()
            .cloned()
            .map(ObjectId::Publication),
    );
    ids.extend(
        model
            .foreign_servers
            .keys()
            .cloned()
            .map(ObjectId::ForeignServer),
    );
    ids
}

/// The stubs a partial load needs: the objects of `cached` whose names `mentioned`
/// accepts and that `loaded` (what the partial load creates itself) does not, with what
/// they need in turn. `Err` names what cannot be stubbed (an object the load creates,
/// an extension's, a kind stubs do not cover): then the whole state is loaded.
pub fn stubs(
    cached: &Catalog,
    mentioned: &dyn Fn(&str) -> bool,
    loaded: &dyn Fn(&ObjectId) -> bool,
) -> Result<(Catalog, BTreeSet<ObjectId>), String> {
    let model = &cached.model;
    let mut needs: HashMap<ObjectId, Vec<ObjectId>> = HashMap::new();
    for dep in &cached.deps {
        if stripped(model, &dep.dependent) {
            continue;
        }
        let (from, to) = (root(model, &dep.dependent), root(model, &dep.referenced));
        if from != to {
            needs.entry(from).or_default().push(to);
        }
    }
    let mut todo: Vec<ObjectId> = named(model)
        .into_iter()
        .filter(|id| bare(id).is_some_and(|b| mentioned(&b)) && !loaded(id))
        .collect();
    let mut roots: BTreeSet<ObjectId> = BTreeSet::new();
    while let Some(id) = todo.pop() {
        if roots.contains(&id) {
            continue;
        }
        if loaded(&id) {
            return Err(format!("a stub needs {id}, which the edited files create"));
        }
        match &id {
            ObjectId::Table(t) => {
                let table = model
                    .tables
                    .get(t)
                    .ok_or_else(|| format!("{id} is not in the cached state"))?;
                if !table.inherits.is_empty()
                    || table.partition_of.is_some()
                    || table.partitioned_by.is_some()
                {
                    return Err(format!("{id} has partitions or parents"));
                }
            }
            ObjectId::Extension(e) if e == "plpgsql" => continue,
            ObjectId::Role(_) => continue,
            ObjectId::Schema(s) if s == "public" => continue,
            ObjectId::View(_)
            | ObjectId::Index(_)
            | ObjectId::Sequence(_)
            | ObjectId::Type(_)
            | ObjectId::Function(_)
            | ObjectId::Schema(_) => {}
            other => return Err(format!("{other} cannot be stubbed")),
        }
        if let Some(more) = needs.get(&id) {
            todo.extend(more.iter().cloned());
        }
        roots.insert(id);
    }
    if roots.len() > MAX_STUBS {
        return Err(format!("{} stubs would be needed", roots.len()));
    }
    let mut sub = Model::default();
    for id in &roots {
        let missing = || format!("{id} is not in the cached state");
        match id {
            ObjectId::Table(n) => {
                let mut t = model.tables.get(n).ok_or_else(missing)?.clone();
                for c in t.columns.values_mut() {
                    c.default = None;
                    c.identity = None;
                    c.generated = None;
                    c.comment = None;
                    c.grants.clear();
                }
                t.constraints.retain(|_, c| {
                    matches!(c.kind, ConstraintKind::PrimaryKey | ConstraintKind::Unique)
                });
                t.triggers.clear();
                t.policies.clear();
                t.rules.clear();
                t.row_security = false;
                t.force_row_security = false;
                t.comment = None;
                t.grants.clear();
                t.replica_identity = None;
                sub.tables.insert(n.clone(), t);
            }
            ObjectId::View(n) => {
                let mut v = model.views.get(n).ok_or_else(missing)?.clone();
                v.comment = None;
                v.column_comments.clear();
                v.grants.clear();
                v.rules.clear();
                v.triggers.clear();
                sub.views.insert(n.clone(), v);
            }
            ObjectId::Index(n) => {
                let mut i = model.indexes.get(n).ok_or_else(missing)?.clone();
                i.comment = None;
                sub.indexes.insert(n.clone(), i);
            }
            ObjectId::Sequence(n) => {
                let mut s = model.sequences.get(n).ok_or_else(missing)?.clone();
                s.owned_by = None;
                s.comment = None;
                s.grants.clear();
                sub.sequences.insert(n.clone(), s);
            }
            ObjectId::Type(n) => {
                let mut t = model.types.get(n).ok_or_else(missing)?.clone();
                t.comment = None;
                t.grants.clear();
                sub.types.insert(n.clone(), t);
            }
            ObjectId::Function(f) => {
                let mut fun = model.functions.get(f).ok_or_else(missing)?.clone();
                fun.comment = None;
                fun.grants.clear();
                sub.functions.insert(f.clone(), fun);
            }
            ObjectId::Schema(s) => {
                let mut schema = model.schemas.get(s).ok_or_else(missing)?.clone();
                schema.comment = None;
                schema.grants.clear();
                sub.schemas.insert(s.clone(), schema);
            }
            _ => {}
        }
    }
    let deps: Deps = cached
        .deps
        .iter()
        .filter(|d| {
            !stripped(model, &d.dependent)
                && roots.contains(&root(model, &d.dependent))
                && roots.contains(&root(model, &d.referenced))
        })
        .cloned()
        .collect();
    let catalog = Catalog {
        model: sub,
        deps,
        server_version: cached.server_version,
        casts: cached.casts.clone(),
    };
    Ok((catalog, roots))
}
