//! The pure core: two catalogs in, an ordered plan out. No I/O, no clock, no randomness.
//!
//! 1. *Decide*, per object: keep, create, drop, alter in place, or replace (drop and
//!    create), by comparing the two models kind by kind (one file per kind).
//! 2. *Close*: an object that is dropped, replaced or changed in a way its dependents cannot
//!    survive (a column's type, an enum losing a value) takes its dependents with it: they
//!    are dropped before and recreated after, transitively, using the current side's
//!    `pg_depend`.
//! 3. *Emit* plan nodes (a step each) and order them with edges from both sides'
//!    dependencies: dependents are dropped before what they depend on, dependencies are
//!    created before what uses them, a name is freed before it is taken.

mod column;
mod constraint;
mod conversion;
mod function;
mod index;
mod inherit;
mod locks;
mod objects;
mod privileges;
mod rule;
mod schema;
mod sequence;
mod table;
mod trigger;
mod types;
mod view;

use std::collections::{BTreeMap, BTreeSet};

use foldhash::HashMap as FastMap;

use crate::error::Result;
use crate::model::{Catalog, Deps, Model, ObjectId};
use crate::plan::{Step, graph};
use crate::sql::QualName;

/// What happens to an object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Decision {
    Keep,
    Create,
    Drop,
    /// Changed in place.
    Alter,
    /// Dropped and created again (changed in a way that cannot be done in place, or taken
    /// along by something it depends on).
    Replace,
}

pub(crate) use crate::plan::Action;

/// A name in one of PostgreSQL's per-schema namespaces. A node that frees a name runs
/// before a node that takes it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Name {
    /// Tables, views, sequences, indexes share one namespace.
    Relation(QualName),
    Type(QualName),
}

pub(crate) struct Node {
    pub object: ObjectId,
    pub action: Action,
    /// Other objects this node changes (the columns an enum rebuild converts).
    pub also: Vec<ObjectId>,
    pub frees: Vec<Name>,
    pub claims: Vec<Name>,
    /// Objects whose alterations must come before this node (columns leaving a type
    /// before the type is rebuilt).
    pub after_alters: Vec<ObjectId>,
    /// Objects whose creation (and alterations) must come before this node (the index a
    /// table's replica identity uses).
    pub needs: Vec<ObjectId>,
    /// Objects whose drop must come after this node (an index a table stops using as its
    /// replica identity).
    pub before_drop_of: Vec<ObjectId>,
    /// Objects whose nodes, whatever they do, must all come before this one (the old
    /// version of a type built on another is dropped before that one's).
    pub after: Vec<ObjectId>,
    /// Boxed: a plan of a whole database has tens of thousands of nodes, and the steps
    /// leave them one by one once ordered.
    pub step: Box<Step>,
}

impl Node {
    pub fn also(mut self, objects: impl IntoIterator<Item = ObjectId>) -> Self {
        self.also.extend(objects);
        self
    }

    pub fn frees(mut self, name: Name) -> Self {
        self.frees.push(name);
        self
    }

    pub fn claims(mut self, name: Name) -> Self {
        self.claims.push(name);
        self
    }
}

/// Why an object's dependents are examined by the closure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cause {
    /// It is dropped (or replaced).
    Teardown,
    /// It stays but changes under its dependents (a column's type).
    Disrupt,
}

pub(crate) struct Differ<'a> {
    pub cur: &'a Model,
    pub des: &'a Model,
    cur_deps: &'a Deps,
    des_deps: &'a Deps,
    decisions: BTreeMap<ObjectId, Decision>,
    /// Objects that stay but change under their dependents.
    disrupted: BTreeSet<ObjectId>,
    nodes: Vec<Node>,
    /// Tables rebuilt with their rows, each with the root of the tree rebuilt with it.
    rebuilt: BTreeMap<QualName, QualName>,
    /// Rebuilt roots whose rows are copied, with the sequence ownerships set after.
    copied: Vec<(QualName, Vec<ObjectId>)>,
    /// Types swapped (renamed aside and created again) because a type they are built on
    /// is, each with the types it is built on.
    swapped_with: BTreeMap<QualName, Vec<QualName>>,
    /// Collations swapped because columns use them.
    collation_swaps: Vec<QualName>,
    /// The casts the server has (see [`Catalog::casts`]).
    pub casts: &'a BTreeSet<(String, String)>,
    /// Whether a type change no cast can make is an error (planning forward from schema
    /// files) or planned as a cast that fails when it runs (a way back, marked lossy).
    pub strict: bool,
}

impl<'a> Differ<'a> {
    fn new(cur: &'a Catalog, des: &'a Catalog, strict: bool) -> Self {
        Self {
            cur: &cur.model,
            des: &des.model,
            cur_deps: &cur.deps,
            des_deps: &des.deps,
            decisions: BTreeMap::new(),
            disrupted: BTreeSet::new(),
            nodes: Vec::new(),
            rebuilt: BTreeMap::new(),
            copied: Vec::new(),
            swapped_with: BTreeMap::new(),
            collation_swaps: Vec::new(),
            casts: if des.casts.is_empty() {
                &cur.casts
            } else {
                &des.casts
            },
            strict,
        }
    }

    pub fn decision(&self, id: &ObjectId) -> Decision {
        self.decisions.get(id).copied().unwrap_or(Decision::Keep)
    }

    pub fn set(&mut self, id: ObjectId, decision: Decision) {
        if decision == Decision::Keep {
            self.decisions.remove(&id);
        } else {
            self.decisions.insert(id, decision);
        }
    }

    /// Marks an object whose dependents must leave before it changes.
    pub fn disrupt(&mut self, id: ObjectId) {
        self.disrupted.insert(id);
    }

    /// Decides for every key of two maps: create, drop, replace (when `replace` says the
    /// change cannot be made in place), alter, or keep.
    pub fn decide_map<K: Ord, V: PartialEq>(
        &mut self,
        cur: &BTreeMap<K, V>,
        des: &BTreeMap<K, V>,
        id: impl Fn(&K) -> ObjectId,
        replace: impl Fn(&V, &V) -> bool,
    ) {
        for (key, value) in cur {
            match des.get(key) {
                None => self.set(id(key), Decision::Drop),
                Some(new) if new != value => {
                    let d = if replace(value, new) {
                        Decision::Replace
                    } else {
                        Decision::Alter
                    };
                    self.set(id(key), d);
                }
                Some(_) => {}
            }
        }
        for key in des.keys().filter(|k| !cur.contains_key(k)) {
            self.set(id(key), Decision::Create);
        }
    }

    /// Whether the table is created by this plan, new or rebuilt (so nobody uses it yet).
    pub fn is_new_table(&self, table: &QualName) -> bool {
        matches!(
            self.decision(&ObjectId::Table(table.clone())),
            Decision::Create | Decision::Replace
        )
    }

    /// Whether the table is there before and after the plan, the same table.
    pub fn existing(&self, table: &QualName) -> bool {
        self.cur.tables.contains_key(table)
            && self.des.tables.contains_key(table)
            && !self.is_new_table(table)
    }

    /// Whether the table is rebuilt with its rows (its columns are not changed one by one).
    pub fn is_rebuilt(&self, table: &QualName) -> bool {
        self.rebuilt.contains_key(table)
    }

    /// What drops this object along with itself, if this plan drops that: a table its
    /// parts, a column its default and the indexes and constraints on it, a table or
    /// column the sequence it owns.
    pub fn dropped_with(&self, id: &ObjectId) -> Option<ObjectId> {
        let gone = |o: &ObjectId| matches!(self.decision(o), Decision::Drop | Decision::Replace);
        match id {
            // Rules and triggers of a view go with the view.
            ObjectId::Rule(t, _) | ObjectId::Trigger(t, _) if self.cur.views.contains_key(t) => {
                let view = ObjectId::View(t.clone());
                gone(&view).then_some(view)
            }
            ObjectId::Rule(t, _) => {
                let table = ObjectId::Table(t.clone());
                gone(&table).then_some(table)
            }
            // Statistics go with the table (or a column) they are on.
            ObjectId::Statistics(_) => {
                self.cur_deps
                    .of(id)
                    .iter()
                    .find_map(|d| match &d.referenced {
                        ObjectId::Table(t) | ObjectId::Column(t, _) => {
                            let table = ObjectId::Table(t.clone());
                            if gone(&table) {
                                Some(table)
                            } else if gone(&d.referenced) {
                                Some(d.referenced.clone())
                            } else {
                                None
                            }
                        }
                        _ => None,
                    })
            }
            ObjectId::Column(t, _)
            | ObjectId::Trigger(t, _)
            | ObjectId::Policy(t, _)
            | ObjectId::Constraint(t, _) => {
                let table = ObjectId::Table(t.clone());
                if gone(&table) {
                    // ... unless it was decided separately (a foreign key to another
                    // dropped table).
                    if matches!(id, ObjectId::Constraint(..))
                        && self.decision(id) == Decision::Drop
                        && !self.rebuilt.contains_key(t)
                    {
                        return None;
                    }
                    return Some(table);
                }
                if matches!(id, ObjectId::Constraint(..)) && !self.des.contains(id) {
                    return self.dropped_column_of(id, t);
                }
                None
            }
            ObjectId::ColumnDefault(t, c) => {
                let column = ObjectId::Column(t.clone(), c.clone());
                if gone(&column) {
                    return Some(column);
                }
                self.dropped_with(&column)
            }
            ObjectId::Index(name) => {
                let index = self.cur.indexes.get(name)?;
                let on = if self.cur.views.contains_key(&index.table) {
                    ObjectId::View(index.table.clone())
                } else {
                    ObjectId::Table(index.table.clone())
                };
                if gone(&on) {
                    return Some(on);
                }
                if !self.des.indexes.contains_key(name) {
                    return self.dropped_column_of(id, &index.table);
                }
                None
            }
            ObjectId::Sequence(name) | ObjectId::SequenceOwner(name) => {
                if matches!(id, ObjectId::SequenceOwner(_)) {
                    let seq = ObjectId::Sequence(name.clone());
                    if gone(&seq) {
                        return Some(seq);
                    }
                }
                if self.des.sequences.contains_key(name) && matches!(id, ObjectId::Sequence(_)) {
                    return None;
                }
                let owner = self.cur.sequences.get(name)?.owned_by.as_ref()?;
                let column = ObjectId::Column(owner.table.clone(), owner.column.clone());
                let table = ObjectId::Table(owner.table.clone());
                if gone(&table) {
                    Some(table)
                } else if gone(&column) {
                    Some(column)
                } else {
                    None
                }
            }
            ObjectId::Table(name) => {
                // A table rebuilt with another is moved aside and dropped with it.
                if let Some(root) = self.rebuilt.get(name)
                    && root != name
                {
                    return Some(ObjectId::Table(root.clone()));
                }
                let parent = &self.cur.tables.get(name)?.partition_of.as_ref()?.parent;
                let parent = ObjectId::Table(parent.clone());
                (!self.des.tables.contains_key(name) && gone(&parent)).then_some(parent)
            }
            _ => None,
        }
    }

    /// A column of `table` that this plan drops and that `id` depends on (dropping the
    /// column drops the index or constraint with it).
    fn dropped_column_of(&self, id: &ObjectId, table: &QualName) -> Option<ObjectId> {
        self.cur_deps
            .of(id)
            .iter()
            .map(|d| &d.referenced)
            .find(|r| {
                matches!(r, ObjectId::Column(t, _) if t == table)
                    && matches!(self.decision(r), Decision::Drop | Decision::Replace)
            })
            .cloned()
    }

    pub fn push(&mut self, node: Node) {
        self.nodes.push(node);
    }

    pub fn node(object: ObjectId, action: Action, step: Step) -> Node {
        Node {
            object,
            action,
            also: Vec::new(),
            frees: Vec::new(),
            claims: Vec::new(),
            after_alters: Vec::new(),
            needs: Vec::new(),
            before_drop_of: Vec::new(),
            after: Vec::new(),
            step: Box::new(step),
        }
    }

    /// Adds a node unless the object goes away with something else this plan drops.
    pub fn push_drop(&mut self, node: Node) {
        if self.dropped_with(&node.object).is_none() {
            self.nodes.push(node);
        }
    }

    /// Rebuilds, transitively, what depends on objects that are dropped, replaced or
    /// disrupted (see the module documentation).
    fn close_rebuilds(&mut self) {
        let mut dependents: BTreeMap<&ObjectId, Vec<&ObjectId>> = BTreeMap::new();
        for dep in self.cur_deps {
            dependents
                .entry(&dep.referenced)
                .or_default()
                .push(&dep.dependent);
        }
        let mut work: Vec<(ObjectId, Cause)> = self
            .decisions
            .iter()
            .filter(|(_, d)| matches!(d, Decision::Drop | Decision::Replace))
            .map(|(id, _)| (id.clone(), Cause::Teardown))
            .chain(self.disrupted.iter().map(|id| (id.clone(), Cause::Disrupt)))
            .collect();
        while let Some((x, cause)) = work.pop() {
            for y in dependents.get(&x).into_iter().flatten() {
                let y = (*y).clone();
                if matches!(self.decision(&y), Decision::Drop | Decision::Replace)
                    || !self.des.contains(&y)
                {
                    continue;
                }
                match self.rebuild_policy(&y, &x, cause) {
                    Some(Cause::Teardown) => {
                        self.set(y.clone(), Decision::Replace);
                        work.push((y, Cause::Teardown));
                    }
                    Some(Cause::Disrupt) if self.disrupted.insert(y.clone()) => {
                        work.push((y, Cause::Disrupt));
                    }
                    Some(Cause::Disrupt) => {}
                    None => {}
                }
            }
        }
    }

    /// What happens to `y`, which depends on `x`, when `x` is torn down or disrupted:
    /// rebuilt (`Teardown`), disrupted in turn, or nothing.
    fn rebuild_policy(&self, y: &ObjectId, x: &ObjectId, cause: Cause) -> Option<Cause> {
        let x_is_column = matches!(x, ObjectId::Column(..));
        match y {
            // PostgreSQL rebuilds indexes and constraints itself when a column's type changes.
            ObjectId::Index(_) | ObjectId::Constraint(..)
                if cause == Cause::Disrupt && x_is_column =>
            {
                None
            }
            ObjectId::View(_)
            | ObjectId::Index(_)
            | ObjectId::Constraint(..)
            | ObjectId::Trigger(..)
            | ObjectId::Policy(..)
            | ObjectId::Rule(..)
            | ObjectId::Statistics(_)
            | ObjectId::Aggregate(_)
            | ObjectId::Operator(_)
            | ObjectId::Cast(_)
            | ObjectId::ForeignTable(_)
            | ObjectId::ColumnDefault(..)
            | ObjectId::Function(_) => Some(Cause::Teardown),
            ObjectId::Column(t, c) => {
                let generated = self
                    .des
                    .tables
                    .get(t)
                    .and_then(|t| t.columns.get(c))
                    .is_some_and(|c| c.generated.is_some());
                if generated && (cause == Cause::Teardown || x_is_column) {
                    Some(Cause::Teardown)
                } else if cause == Cause::Disrupt && matches!(x, ObjectId::Type(_)) {
                    Some(Cause::Disrupt)
                } else {
                    None
                }
            }
            _ => None,
        }
    }

    /// The dependency edges between nodes (see the module documentation).
    fn edges(&self) -> Vec<(usize, usize)> {
        // Hashed: looked up for every dependency of both sides (at 5,000 tables the
        // ordered maps' comparisons were nearly a tenth of strata's CPU in `strata
        // inspect`), with a fast hash, not std's SipHash (which made this step take
        // 20 ms instead of 12 at 2,000 tables), and room for every node from the start.
        // The edges come out in an order of the hash, which nothing depends on:
        // `graph::order` and `ordered` sort them.
        let mut own: FastMap<&ObjectId, Vec<usize>> = FastMap::default();
        own.reserve(self.nodes.len());
        let mut also: FastMap<&ObjectId, Vec<usize>> = FastMap::default();
        for (i, node) in self.nodes.iter().enumerate() {
            own.entry(&node.object).or_default().push(i);
            for other in &node.also {
                also.entry(other).or_default().push(i);
            }
        }
        let action = |i: usize| self.nodes[i].action;
        let teardown = |x: &ObjectId| -> Vec<usize> {
            let mut x = x.clone();
            loop {
                let nodes: Vec<usize> = own
                    .get(&x)
                    .into_iter()
                    .flatten()
                    .copied()
                    .filter(|&i| action(i) == Action::Drop)
                    .collect();
                if !nodes.is_empty() {
                    return nodes;
                }
                match self.dropped_with(&x) {
                    Some(p) => x = p,
                    None => return Vec::new(),
                }
            }
        };
        let establish = |x: &ObjectId| -> Vec<usize> {
            let direct: Vec<usize> = own
                .get(x)
                .into_iter()
                .flatten()
                .chain(also.get(x).into_iter().flatten())
                .copied()
                .filter(|&i| action(i) != Action::Drop)
                .collect();
            if !direct.is_empty() {
                return direct;
            }
            // Created as part of its parent (a column in CREATE TABLE).
            let mut parent = x.parent();
            while let Some(p) = parent {
                let created: Vec<usize> = own
                    .get(&p)
                    .into_iter()
                    .flatten()
                    .copied()
                    .filter(|&i| action(i) == Action::Create)
                    .collect();
                if !created.is_empty() {
                    return created;
                }
                if own.contains_key(&p) {
                    return Vec::new();
                }
                parent = p.parent();
            }
            Vec::new()
        };
        let alters = |x: &ObjectId, with_also: bool| -> Vec<usize> {
            own.get(x)
                .into_iter()
                .flatten()
                .chain(also.get(x).into_iter().flatten().filter(|_| with_also))
                .copied()
                .filter(|&i| action(i) == Action::Alter)
                .collect()
        };
        let mut edges = Vec::new();
        for dep in self.cur_deps {
            let (y, x) = (&dep.dependent, &dep.referenced);
            let y_down = teardown(y);
            let x_down = teardown(x);
            for &u in &y_down {
                for &t in x_down.iter().chain(alters(x, true).iter()) {
                    edges.push((u, t));
                }
            }
            // A table or column adjusts away from what it depends on before that goes.
            if matches!(
                y,
                ObjectId::Column(..)
                    | ObjectId::Table(_)
                    | ObjectId::Type(_)
                    | ObjectId::Sequence(_)
                    | ObjectId::SequenceOwner(_)
            ) {
                for a in alters(y, false) {
                    for &t in &x_down {
                        edges.push((a, t));
                    }
                }
            }
        }
        for dep in self.des_deps {
            let before = establish(&dep.referenced);
            for v in establish(&dep.dependent) {
                for &u in &before {
                    edges.push((u, v));
                }
            }
        }
        for nodes in own.values() {
            let (down, up): (Vec<usize>, Vec<usize>) =
                nodes.iter().partition(|&&i| action(i) == Action::Drop);
            for &d in &down {
                for &u in &up {
                    edges.push((d, u));
                }
            }
            for pair in up.windows(2) {
                edges.push((pair[0], pair[1]));
            }
        }
        for (i, node) in self.nodes.iter().enumerate() {
            for x in &node.after_alters {
                for a in alters(x, false) {
                    edges.push((a, i));
                }
            }
            for x in &node.needs {
                for u in establish(x) {
                    edges.push((u, i));
                }
            }
            for x in &node.before_drop_of {
                for t in teardown(x) {
                    edges.push((i, t));
                }
            }
            for x in &node.after {
                for &u in own.get(x).into_iter().flatten() {
                    edges.push((u, i));
                }
            }
        }
        let mut freed: BTreeMap<&Name, Vec<usize>> = BTreeMap::new();
        for (i, node) in self.nodes.iter().enumerate() {
            for name in &node.frees {
                freed.entry(name).or_default().push(i);
            }
        }
        for (i, node) in self.nodes.iter().enumerate() {
            for name in &node.claims {
                for &f in freed.get(name).into_iter().flatten() {
                    edges.push((f, i));
                }
            }
        }
        edges
    }
}

#[cfg(test)]
mod proptests;

/// The privileges an object gets when a plan creates it, besides its owner's: the
/// built-in defaults, or the default privileges of `model` for the connecting role (they
/// change before anything is created).
pub(crate) fn creation_grants(
    model: &Model,
    target: crate::ddl::Target<'_>,
) -> crate::model::Grants {
    use crate::ddl::Target;
    let builtin = crate::ddl::default_grants(target);
    let (on, schema) = match target {
        Target::Table(n) | Target::View(n, _) => ("tables", Some(&n.schema)),
        Target::Sequence(n) => ("sequences", Some(&n.schema)),
        Target::Function(id, _) | Target::Aggregate(id) => ("functions", Some(&id.name.schema)),
        Target::Type(n, _) => ("types", Some(&n.schema)),
        Target::Schema(_) => ("schemas", None),
        _ => return builtin,
    };
    let mut grants = model
        .default_privileges
        .get(format!("||{on}").as_str())
        .map_or(builtin, |p| p.grants.clone());
    if let Some(p) =
        schema.and_then(|s| model.default_privileges.get(format!("|{s}|{on}").as_str()))
    {
        grants.extend(p.grants.iter().cloned());
    }
    grants
}

/// The ordered steps from `current` to `desired`.
pub(crate) fn steps(current: &Catalog, desired: &Catalog) -> Result<Vec<Step>> {
    Ok(ordered(current, desired, true)?.0)
}

/// Steps in order, and the edges between them as pairs of positions.
pub(crate) type Ordered = (Vec<Step>, Vec<(usize, usize)>);

/// The ordered steps, with the dependency edges between them as pairs of positions in
/// that order (each pair must be increasing). With `strict`, a column type change that no
/// cast makes and no `strata:using` directive explains is an error; without (a way back),
/// it is planned as a cast, marked lossy.
pub(crate) fn ordered(current: &Catalog, desired: &Catalog, strict: bool) -> Result<Ordered> {
    ordered_with(current, desired, strict, None::<fn() -> Deps>)
}

/// The ordered steps from `current` to `desired` whose dependencies (`desired.deps`, left
/// empty) come from `late`, called once the steps are written and their order is next:
/// deciding and writing the steps reads only the models and the current side's
/// dependencies, so the desired side's can be made meanwhile.
pub(crate) fn steps_late(
    current: &Catalog,
    desired: &Catalog,
    late: impl FnOnce() -> Deps,
) -> Result<Vec<Step>> {
    Ok(ordered_with(current, desired, true, Some(late))?.0)
}

fn ordered_with(
    current: &Catalog,
    desired: &Catalog,
    strict: bool,
    late: Option<impl FnOnce() -> Deps>,
) -> Result<Ordered> {
    // (declared before the differ that borrows it)
    let late_deps: Deps;
    let mut d = Differ::new(current, desired, strict);
    schema::decide(&mut d);
    types::decide(&mut d)?;
    sequence::decide(&mut d);
    function::decide(&mut d);
    table::decide(&mut d)?;
    index::decide(&mut d);
    view::decide(&mut d);
    trigger::decide(&mut d);
    rule::decide(&mut d);
    objects::decide(&mut d);
    privileges::decide(&mut d);
    privileges::decide_publications(&mut d);
    privileges::decide_roles(&mut d);
    inherit::decide(&mut d);
    d.close_rebuilds();

    schema::emit(&mut d);
    types::emit(&mut d);
    sequence::emit(&mut d);
    table::emit(&mut d);
    inherit::emit(&mut d);
    column::emit(&mut d);
    inherit::emit_inherited_columns(&mut d);
    constraint::emit(&mut d);
    index::emit(&mut d);
    // Functions after the tables and views their bodies may use (bodies are not tracked by
    // pg_depend; what is tracked, a default or a view calling one, still orders them first).
    function::emit(&mut d);
    view::emit(&mut d);
    trigger::emit(&mut d);
    rule::emit(&mut d);
    objects::emit(&mut d);
    table::emit_late(&mut d);
    sequence::emit_owners(&mut d);
    privileges::emit(&mut d);
    privileges::emit_publications(&mut d);
    inherit::order_after_copy(&mut d);
    privileges::order_creations(&mut d);
    privileges::emit_roles(&mut d);

    if let Some(late) = late {
        late_deps = late();
        d.des_deps = &late_deps;
    }
    let edges = d.edges();
    let nodes = &d.nodes;
    let rank = |i: usize| {
        let n = &nodes[i];
        if !n.step.transactional {
            2
        } else if n.action == Action::Drop {
            0
        } else {
            1
        }
    };
    let describe = |i: usize| nodes[i].step.summary.clone();
    let order = graph::order(nodes.len(), &edges, rank, describe)?;
    let mut position = vec![0; order.len()];
    for (pos, &node) in order.iter().enumerate() {
        position[node] = pos;
    }
    let mut edges: Vec<(usize, usize)> = edges
        .into_iter()
        .filter(|(a, b)| a != b)
        .map(|(a, b)| (position[a], position[b]))
        .collect();
    edges.sort_unstable();
    edges.dedup();
    let mut locks: Vec<Option<crate::plan::Lock>> = d
        .nodes
        .iter()
        .map(|n| locks::typical(&d, &n.object, n.action))
        .collect();
    // What the decisions took is let go before the steps are made; the nodes go into their
    // order in place (each swapped to its position), then out of their boxes one by one: no
    // second copy of the plan.
    let mut nodes = std::mem::take(&mut d.nodes);
    drop(d);
    for i in 0..nodes.len() {
        while position[i] != i {
            let j = position[i];
            nodes.swap(i, j);
            locks.swap(i, j);
            position.swap(i, j);
        }
    }
    let steps = nodes
        .into_iter()
        .zip(locks)
        .map(|(n, lock)| {
            let mut step = *n.step;
            step.object = Some(n.object);
            step.action = Some(n.action);
            if !step.lock_given {
                step.lock = lock;
            }
            step.assessed()
        })
        .collect();
    Ok((steps, edges))
}
