//! Object identities, and the dependencies between them.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::{FunctionId, Model};
use crate::sql::{Ident, Name, QualName};

/// The identity of anything a plan step can create, change or drop.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectId {
    Schema(Name),
    Extension(Name),
    Type(QualName),
    Sequence(QualName),
    /// The `OWNED BY` link of a sequence, separate from the sequence because it is set
    /// after the owning column exists, while the column's default needs the sequence first.
    SequenceOwner(QualName),
    Function(FunctionId),
    Table(QualName),
    Column(QualName, Name),
    ColumnDefault(QualName, Name),
    Constraint(QualName, Name),
    Trigger(QualName, Name),
    Policy(QualName, Name),
    /// A rewrite rule of a table or view.
    Rule(QualName, Name),
    Collation(QualName),
    Statistics(QualName),
    Aggregate(FunctionId),
    /// A table's `REPLICA IDENTITY` setting (apart from the table, since it may name an
    /// index created after the table).
    ReplicaIdentity(QualName),
    /// What a table sets itself on the columns it inherits (defaults, `NOT NULL`,
    /// comments, privileges).
    InheritedColumns(QualName),
    /// The rows of a table rebuilt with them (copied from the old table).
    TableRows(QualName),
    /// `ALTER DEFAULT PRIVILEGES` for a role, schema and kind of object (by
    /// [`super::DefaultPrivileges::key`]).
    DefaultPrivileges(Name),
    Publication(Name),
    ForeignServer(Name),
    ForeignTable(QualName),
    /// A role the schema declares.
    Role(Name),
    /// An operator: its name and operand types (`NONE` for a missing one).
    Operator(FunctionId),
    /// A cast, by `source AS target`.
    Cast(Name),
    View(QualName),
    Index(QualName),
}

impl ObjectId {
    /// Whether `self` is a part of `whole`: its parent, or its parent's parent ...
    /// (as [`ObjectId::parent`] goes up, without making each parent on the way).
    pub fn is_part_of(&self, whole: &ObjectId) -> bool {
        match (self, whole) {
            (
                ObjectId::Column(t, _)
                | ObjectId::Constraint(t, _)
                | ObjectId::Trigger(t, _)
                | ObjectId::Policy(t, _)
                | ObjectId::ColumnDefault(t, _),
                ObjectId::Table(w),
            ) => t == w,
            (ObjectId::ColumnDefault(t, c), ObjectId::Column(wt, wc)) => t == wt && c == wc,
            _ => false,
        }
    }

    /// The table or view an object is part of, if it is part of one.
    pub fn parent(&self) -> Option<ObjectId> {
        match self {
            ObjectId::Column(t, _)
            | ObjectId::Constraint(t, _)
            | ObjectId::Trigger(t, _)
            | ObjectId::Policy(t, _) => Some(ObjectId::Table(t.clone())),
            ObjectId::ColumnDefault(t, c) => Some(ObjectId::Column(t.clone(), c.clone())),
            _ => None,
        }
    }

    /// A short word for the kind, as used in summaries and errors.
    pub fn kind(&self) -> &'static str {
        match self {
            ObjectId::Schema(_) => "schema",
            ObjectId::Extension(_) => "extension",
            ObjectId::Type(_) => "type",
            ObjectId::Sequence(_) => "sequence",
            ObjectId::SequenceOwner(_) => "sequence ownership",
            ObjectId::Function(_) => "function",
            ObjectId::Table(_) => "table",
            ObjectId::Column(..) => "column",
            ObjectId::ColumnDefault(..) => "default",
            ObjectId::Constraint(..) => "constraint",
            ObjectId::Trigger(..) => "trigger",
            ObjectId::Policy(..) => "policy",
            ObjectId::Rule(..) => "rule",
            ObjectId::Collation(_) => "collation",
            ObjectId::Statistics(_) => "statistics",
            ObjectId::Aggregate(_) => "aggregate",
            ObjectId::ReplicaIdentity(_) => "replica identity",
            ObjectId::InheritedColumns(_) => "inherited column settings",
            ObjectId::TableRows(_) => "rows",
            ObjectId::DefaultPrivileges(_) => "default privileges",
            ObjectId::Publication(_) => "publication",
            ObjectId::ForeignServer(_) => "foreign server",
            ObjectId::ForeignTable(_) => "foreign table",
            ObjectId::Role(_) => "role",
            ObjectId::Operator(_) => "operator",
            ObjectId::Cast(_) => "cast",
            ObjectId::View(_) => "view",
            ObjectId::Index(_) => "index",
        }
    }
}

impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ObjectId::Schema(n)
            | ObjectId::Extension(n)
            | ObjectId::Publication(n)
            | ObjectId::ForeignServer(n)
            | ObjectId::Role(n) => {
                write!(f, "{} {}", self.kind(), Ident(n))
            }
            ObjectId::Type(n)
            | ObjectId::Sequence(n)
            | ObjectId::SequenceOwner(n)
            | ObjectId::Table(n)
            | ObjectId::View(n)
            | ObjectId::Index(n)
            | ObjectId::Collation(n)
            | ObjectId::Statistics(n)
            | ObjectId::ForeignTable(n)
            | ObjectId::ReplicaIdentity(n) => write!(f, "{} {n}", self.kind()),
            ObjectId::InheritedColumns(n) => write!(f, "what {n} sets on inherited columns"),
            ObjectId::TableRows(n) => write!(f, "rows of {n}"),
            ObjectId::DefaultPrivileges(key) => {
                write!(f, "{}", super::DefaultPrivileges::describe(key))
            }
            ObjectId::Aggregate(id) => write!(f, "aggregate {id}"),
            ObjectId::Operator(id) => write!(
                f,
                "operator {}.{} ({})",
                Ident(&id.name.schema),
                id.name.name,
                id.args
            ),
            ObjectId::Cast(key) => write!(f, "cast ({key})"),
            ObjectId::Function(id) => write!(f, "function {id}"),
            ObjectId::Column(t, c) | ObjectId::ColumnDefault(t, c) => {
                write!(f, "{} {t}.{}", self.kind(), Ident(c))
            }
            ObjectId::Constraint(t, n)
            | ObjectId::Trigger(t, n)
            | ObjectId::Policy(t, n)
            | ObjectId::Rule(t, n) => {
                write!(f, "{} {} on {t}", self.kind(), Ident(n))
            }
        }
    }
}

/// `dependent` cannot exist without `referenced` (a `pg_depend` row, or a structural fact
/// such as a column belonging to its table).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Dep {
    pub dependent: ObjectId,
    pub referenced: ObjectId,
}

/// A set of dependencies, in order and without repeats, in one vector: the form a
/// catalog keeps them in. (A `BTreeSet` was made from the same sorted vector, which the
/// tree's nodes then held again: both were alive at once, at 2,000 tables about 12 MB
/// each.) Serialised as the set was: a list in order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Deps(Vec<Dep>);

impl Deps {
    /// `deps` in any order, repeats allowed. (A stable sort: runs already in order, as
    /// [`normalise_deps`] makes, are merged rather than sorted afresh.)
    pub fn from_vec(mut deps: Vec<Dep>) -> Self {
        deps.sort();
        deps.dedup();
        deps.shrink_to_fit();
        Self(deps)
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Dep> {
        self.0.iter()
    }

    /// The dependencies of `dependent`, in order of what they reference.
    pub fn of(&self, dependent: &ObjectId) -> &[Dep] {
        let start = self.0.partition_point(|d| d.dependent < *dependent);
        let len = self.0[start..].partition_point(|d| d.dependent == *dependent);
        &self.0[start..start + len]
    }

    /// Keeps the dependencies for which `keep` holds (in order still).
    pub fn retain(&mut self, keep: impl FnMut(&Dep) -> bool) {
        self.0.retain(keep);
    }
}

impl FromIterator<Dep> for Deps {
    fn from_iter<I: IntoIterator<Item = Dep>>(iter: I) -> Self {
        Self::from_vec(iter.into_iter().collect())
    }
}

impl Extend<Dep> for Deps {
    fn extend<I: IntoIterator<Item = Dep>>(&mut self, iter: I) {
        let mut deps = std::mem::take(&mut self.0);
        deps.extend(iter);
        *self = Self::from_vec(deps);
    }
}

impl<'a> IntoIterator for &'a Deps {
    type Item = &'a Dep;
    type IntoIter = std::slice::Iter<'a, Dep>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl IntoIterator for Deps {
    type Item = Dep;
    type IntoIter = std::vec::IntoIter<Dep>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'de> Deserialize<'de> for Deps {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Vec::<Dep>::deserialize(d).map(Self::from_vec)
    }
}

/// Keeps the dependencies between modelled objects, turns a sequence's dependency on its
/// owning column into its [`ObjectId::SequenceOwner`]'s, and adds the structural ones
/// (parts on their whole, objects on their schema, partitions on their parent).
/// (`raw` in any order, repeats allowed: the set is built once, at the end, from all of
/// them sorted, which takes a fraction of the comparisons of inserting them one by one.
/// A large list is shared between two threads where the machine has two cores: at 5,000
/// tables this was a fifth of `strata inspect`'s own work, done after the catalog's
/// queries, while the server has nothing left to do; `strata inspect` does it in one
/// piece on a thread of its own while it decides its steps.)
pub fn normalise_deps(model: &Model, raw: impl IntoIterator<Item = Dep>) -> Deps {
    let raw: Vec<Dep> = raw.into_iter().collect();
    let split = raw.len() >= 20_000;
    normalise(model, raw, split)
}

/// [`normalise_deps`], on two threads (where the machine has two cores) with `split`.
pub(crate) fn normalise(model: &Model, mut raw: Vec<Dep>, split: bool) -> Deps {
    // A list sorted in place (unstable: equal ones are the same), without repeats, and
    // then the structural ones pushed after it in the same vector: they come in runs (a kind of object at a time, in
    // the model's order), which the set's stable sort merges with the list (sorting them
    // afresh with the others was two fifths of this at 2,000 tables, 18-24 ms of 45-59).
    // Made in a list of their own and sorted there, then made into a tree from the whole
    // vector, they held two more copies of themselves at once: with both gone, the peak
    // RSS of `strata inspect` at 2,000 tables went from 56.5-63.1 to 55.3-55.8 MiB.
    let sorted = |mut deps: Vec<Dep>| {
        deps.sort_unstable();
        deps.dedup();
        deps
    };
    let all = if split {
        // The structural ones and a quarter of `raw` here, the rest on the other thread
        // (the two take about as long); the rest waits where this thread can take it
        // back if no thread starts.
        let rest = std::sync::Mutex::new(Some(raw.split_off(raw.len() / 4)));
        let other = || {
            let part = rest
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .take();
            sorted(kept(model, part.unwrap_or_default()))
        };
        let here = || {
            let mut deps = sorted(kept(model, raw));
            structural(model, &mut deps);
            deps
        };
        let (mut all, mut theirs) = crate::parallel::two_at_once("strata-deps", here, &other);
        all.append(&mut theirs);
        all
    } else {
        let mut all = sorted(kept(model, raw));
        structural(model, &mut all);
        all
    };
    // Sorted runs in one vector, which the set's stable sort merges.
    Deps::from_vec(all)
}

/// The dependencies of `raw` that [`normalise_deps`] keeps, as it keeps them. (Each end is
/// looked up in the model once: whether it has it and, for a column, which table owns it.)
fn kept(model: &Model, raw: Vec<Dep>) -> Vec<Dep> {
    // What uses an inherited column also depends on the table it reads the column
    // through: a second dependency, for few of them.
    let mut through_tables = Vec::new();
    // Collected in place, in the list's own memory (a second list of the same size was
    // most of what a read holds at its peak).
    let mut deps: Vec<Dep> = raw
        .into_iter()
        .filter_map(|Dep { dependent, referenced }| {
            let dependent = match dependent {
                ObjectId::Sequence(seq)
                    if model.sequences.get(&seq).is_some_and(|s| {
                        s.owned_by.as_ref().is_some_and(|o| {
                            matches!(&referenced, ObjectId::Column(t, c) if *t == o.table && *c == o.column)
                        })
                    }) =>
                {
                    ObjectId::SequenceOwner(seq)
                }
                other => other,
            };
            // A whole depending on its own part is an artefact (a partition key's column).
            if referenced.is_part_of(&dependent) || dependent.is_part_of(&referenced) {
                return None;
            }
            let referenced = owned(model, referenced);
            let (dependent, _) = owned(model, dependent)?;
            if let Some((_, Some(through))) = &referenced {
                let table = ObjectId::Table(through.clone());
                if dependent != table {
                    through_tables.push(Dep {
                        dependent: dependent.clone(),
                        referenced: table,
                    });
                }
            }
            Some(Dep {
                dependent,
                referenced: referenced?.0,
            })
        })
        .collect();
    deps.append(&mut through_tables);
    deps
}

/// `id` as the dependencies name it, looked up in the model once: `None` for an object the
/// model does not have. A column a table inherits is its ancestor's (what uses it depends
/// on that one: a type change there reaches it), with the table it was named through.
fn owned(model: &Model, id: ObjectId) -> Option<(ObjectId, Option<QualName>)> {
    match id {
        ObjectId::Column(t, c) => {
            let owner = model.column_owner(&t, &c)?;
            Some(match owner != &t {
                true => (ObjectId::Column(owner.clone(), c), Some(t)),
                false => (ObjectId::Column(t, c), None),
            })
        }
        other => model.contains(&other).then_some((other, None)),
    }
}

/// The structural dependencies of `model` (see [`normalise_deps`]), pushed on `deps`.
fn structural(model: &Model, deps: &mut Vec<Dep>) {
    let mut add = |dependent: ObjectId, referenced: ObjectId| {
        deps.push(Dep {
            dependent,
            referenced,
        });
    };
    for (name, ext) in &model.extensions {
        if model.schemas.contains_key(&ext.schema) {
            add(
                ObjectId::Extension(name.clone()),
                ObjectId::Schema(ext.schema.clone()),
            );
        }
    }
    for name in model.types.keys() {
        add(
            ObjectId::Type(name.clone()),
            ObjectId::Schema(name.schema.clone()),
        );
    }
    for name in model.sequences.keys() {
        add(
            ObjectId::Sequence(name.clone()),
            ObjectId::Schema(name.schema.clone()),
        );
    }
    for (name, seq) in &model.sequences {
        if let Some(owner) = &seq.owned_by {
            add(
                ObjectId::SequenceOwner(name.clone()),
                ObjectId::Sequence(name.clone()),
            );
            add(
                ObjectId::SequenceOwner(name.clone()),
                ObjectId::Column(owner.table.clone(), owner.column.clone()),
            );
        }
    }
    for id in model.functions.keys() {
        add(
            ObjectId::Function(id.clone()),
            ObjectId::Schema(id.name.schema.clone()),
        );
    }
    for id in model.aggregates.keys() {
        add(
            ObjectId::Aggregate(id.clone()),
            ObjectId::Schema(id.name.schema.clone()),
        );
    }
    for name in model.collations.keys() {
        add(
            ObjectId::Collation(name.clone()),
            ObjectId::Schema(name.schema.clone()),
        );
    }
    for name in model.statistics.keys() {
        add(
            ObjectId::Statistics(name.clone()),
            ObjectId::Schema(name.schema.clone()),
        );
    }
    // A kind at a time, each in the tables' order: runs of sorted dependencies.
    for (name, table) in &model.tables {
        let tid = ObjectId::Table(name.clone());
        add(tid.clone(), ObjectId::Schema(name.schema.clone()));
        for parent in table.parents() {
            add(tid.clone(), ObjectId::Table(parent.clone()));
        }
    }
    // The parts of a table that are on the table itself, a kind at a time.
    type Part = fn(QualName, Name) -> ObjectId;
    type Names = for<'t> fn(&'t super::Table) -> Box<dyn Iterator<Item = &'t Name> + 't>;
    let parts: [(Part, Names); 4] = [
        (ObjectId::Column, |t| Box::new(t.columns.keys())),
        (ObjectId::Constraint, |t| Box::new(t.constraints.keys())),
        (ObjectId::Trigger, |t| Box::new(t.triggers.keys())),
        (ObjectId::Policy, |t| Box::new(t.policies.keys())),
    ];
    for (part, names) in parts {
        for (name, table) in &model.tables {
            for n in names(table) {
                add(part(name.clone(), n.clone()), ObjectId::Table(name.clone()));
            }
        }
    }
    for (name, table) in &model.tables {
        for (column, c) in &table.columns {
            if c.default.is_some() {
                add(
                    ObjectId::ColumnDefault(name.clone(), column.clone()),
                    ObjectId::Column(name.clone(), column.clone()),
                );
            }
        }
    }
    for name in model.views.keys() {
        add(
            ObjectId::View(name.clone()),
            ObjectId::Schema(name.schema.clone()),
        );
    }
    for (name, index) in &model.indexes {
        let on = if model.views.contains_key(&index.table) {
            ObjectId::View(index.table.clone())
        } else {
            ObjectId::Table(index.table.clone())
        };
        add(ObjectId::Index(name.clone()), on);
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use proptest::prelude::*;

    use super::{Dep, Deps, ObjectId};
    use crate::sql::QualName;

    /// What `kept` keeps: a column a table inherits named as its ancestor's, with a second
    /// dependency on the table it was named through (but not the table's own on itself);
    /// a whole on its own part left out, and anything the model lacks.
    #[test]
    fn kept_names_inherited_columns_by_their_owner_and_drops_what_the_model_lacks() {
        let (p, c) = (QualName::new("s", "p"), QualName::new("s", "c"));
        let mut model = crate::model::Model::default();
        let mut parent = crate::model::Table::default();
        parent
            .columns
            .insert("a".into(), crate::model::text_column(None));
        let mut child = crate::model::Table::default();
        child
            .columns
            .insert("b".into(), crate::model::text_column(None));
        child.inherits.push(p.clone());
        model.tables.insert(p.clone(), parent);
        model.tables.insert(c.clone(), child);
        let col = |t: &QualName, n: &str| ObjectId::Column(t.clone(), n.into());
        let dep = |dependent, referenced| Dep {
            dependent,
            referenced,
        };
        let raw = vec![
            dep(col(&c, "b"), col(&c, "a")),
            dep(ObjectId::Table(c.clone()), col(&c, "a")),
            dep(col(&c, "b"), ObjectId::Table(QualName::new("s", "gone"))),
            dep(col(&c, "zz"), col(&p, "a")),
            dep(ObjectId::Table(p.clone()), ObjectId::Schema("s".into())),
        ];
        let mut kept = super::kept(&model, raw);
        kept.sort();
        let mut expected = vec![
            dep(col(&c, "b"), col(&p, "a")),
            dep(col(&c, "b"), ObjectId::Table(c.clone())),
        ];
        expected.sort();
        assert_eq!(kept, expected);
    }

    /// `is_part_of` answers as walking up `parent` does, for every pair of a sample.
    #[test]
    fn is_part_of_is_the_parent_chain() {
        let t = QualName::new("s", "t");
        let u = QualName::new("s", "u");
        let ids = [
            ObjectId::Table(t.clone()),
            ObjectId::Table(u.clone()),
            ObjectId::View(t.clone()),
            ObjectId::Column(t.clone(), "a".into()),
            ObjectId::Column(t.clone(), "b".into()),
            ObjectId::Column(u.clone(), "a".into()),
            ObjectId::ColumnDefault(t.clone(), "a".into()),
            ObjectId::ColumnDefault(u.clone(), "a".into()),
            ObjectId::Constraint(t.clone(), "a".into()),
            ObjectId::Trigger(t.clone(), "a".into()),
            ObjectId::Policy(u.clone(), "a".into()),
            ObjectId::Rule(t.clone(), "a".into()),
            ObjectId::Index(t.clone()),
            ObjectId::Schema("s".into()),
        ];
        let mut parts = 0;
        for a in &ids {
            for b in &ids {
                let mut walked = false;
                let mut parent = a.parent();
                while let Some(p) = parent {
                    walked |= &p == b;
                    parent = p.parent();
                }
                assert_eq!(a.is_part_of(b), walked, "{a:?} of {b:?}");
                parts += usize::from(walked);
            }
        }
        assert_eq!(parts, 10);
    }

    // [`Deps`] against the `BTreeSet` it replaced, on lists with repeats in any order.

    fn id() -> impl Strategy<Value = ObjectId> {
        (0u8..4, 0u8..3, 0u8..3).prop_map(|(kind, t, c)| {
            let table = QualName::new("s", format!("t{t}"));
            match kind {
                0 => ObjectId::Schema(format!("s{t}").into()),
                1 => ObjectId::Table(table),
                2 => ObjectId::Column(table, format!("c{c}").into()),
                _ => ObjectId::Index(QualName::new("s", format!("i{c}"))),
            }
        })
    }

    fn deps() -> impl Strategy<Value = Vec<Dep>> {
        prop::collection::vec(
            (id(), id()).prop_map(|(dependent, referenced)| Dep {
                dependent,
                referenced,
            }),
            0..60,
        )
    }

    proptest! {
        /// The same items in the same order as the set, a dependent's dependencies as the set's range gives them, and the same JSON
        /// (stored catalogs written before read back the same); `extend` and `retain` keep
        /// it the set's equal.
        #[test]
        fn deps_are_the_set_they_replaced(a in deps(), b in deps(), probe in deps()) {
            let set: BTreeSet<Dep> = a.iter().cloned().collect();
            let mut deps = Deps::from_vec(a.clone());
            prop_assert!(deps.iter().eq(set.iter()));
            prop_assert_eq!(
                serde_json::to_string(&deps).unwrap(),
                serde_json::to_string(&set).unwrap()
            );
            let back: Deps = serde_json::from_str(&serde_json::to_string(&a).unwrap()).unwrap();
            prop_assert_eq!(&back, &deps);
            for p in probe.iter().chain(&a) {
                let of: Vec<&Dep> = set.iter().filter(|d| d.dependent == p.dependent).collect();
                prop_assert!(deps.of(&p.dependent).iter().eq(of));
            }
            let mut set = set;
            set.extend(b.iter().cloned());
            deps.extend(b.iter().cloned());
            prop_assert!(deps.iter().eq(set.iter()));
            set.retain(|d| !matches!(d.referenced, ObjectId::Table(_)));
            deps.retain(|d| !matches!(d.referenced, ObjectId::Table(_)));
            prop_assert!(deps.iter().eq(set.iter()));
        }
    }
}
