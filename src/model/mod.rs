//! The schema model: plain data, ordered maps keyed by qualified name.
//!
//! Both sides of a diff are [`Catalog`]s read from `pg_catalog`; the [`Model`] part is what
//! counts for equality and the [`fingerprint`](Model::fingerprint), the dependency list is
//! what orders the plan. Column order is kept (to recreate tables the way they were written)
//! but never compared.

mod kinds;
pub mod merge;
mod object;
pub mod report;
mod stored;
pub mod stub;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::sql::{Name, QualName};

pub use kinds::{
    Aggregate, Cast, Collation, DefaultPrivileges, ForeignCheck, ForeignColumn, ForeignServer,
    ForeignTable, Operator, Publication, Statistics,
};
pub(crate) use object::normalise;
pub use object::{Dep, Deps, ObjectId, normalise_deps};
pub use stored::{StoredCatalog, StoredRef};

/// Everything strata manages in one database.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Model {
    pub schemas: BTreeMap<Name, Schema>,
    pub extensions: BTreeMap<Name, Extension>,
    pub types: BTreeMap<QualName, TypeDef>,
    pub sequences: BTreeMap<QualName, Sequence>,
    pub functions: BTreeMap<FunctionId, Function>,
    pub tables: BTreeMap<QualName, Table>,
    pub views: BTreeMap<QualName, View>,
    pub indexes: BTreeMap<QualName, Index>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub collations: BTreeMap<QualName, Collation>,
    /// Extended statistics (`CREATE STATISTICS`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub statistics: BTreeMap<QualName, Statistics>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub aggregates: BTreeMap<FunctionId, Aggregate>,
    /// `ALTER DEFAULT PRIVILEGES`, by [`DefaultPrivileges::key`].
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub default_privileges: BTreeMap<Name, DefaultPrivileges>,
    /// Operators, by name and operand types (`NONE` for a missing one).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub operators: BTreeMap<FunctionId, Operator>,
    /// Casts between types (`CREATE CAST`), by `source AS target`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub user_casts: BTreeMap<Name, Cast>,
    /// Publications (logical replication), by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub publications: BTreeMap<Name, Publication>,
    /// Roles the schema declares (`CREATE ROLE name [NOLOGIN]`): created by plans when the
    /// server lacks them, recorded in `strata.roles`; never dropped (roles are
    /// cluster-wide), only forgotten.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub declared_roles: BTreeSet<Name>,
    /// Foreign servers (`CREATE SERVER`), by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub foreign_servers: BTreeMap<Name, ForeignServer>,
    /// Foreign tables, by name (not partitions, not in an inheritance tree).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub foreign_tables: BTreeMap<QualName, ForeignTable>,
}

impl Model {
    /// The default and `NOT NULL` a column of `table` has, its own or, for a column it
    /// inherits, what it sets itself or else what its parents give it.
    pub fn column_settings(&self, table: &QualName, column: &str) -> Option<(Option<&str>, bool)> {
        let mut at = table;
        for _ in 0..64 {
            let t = self.tables.get(at)?;
            if let Some(c) = t.columns.get(column) {
                return Some((c.default.as_deref(), c.not_null));
            }
            if let Some(c) = t.inherited_columns.get(column) {
                return Some((c.default.as_deref(), c.not_null));
            }
            at = t
                .parents()
                .into_iter()
                .find(|p| self.has_column(p, column))?;
        }
        None
    }

    /// The table that declares a column `table` has: itself, or the ancestor it inherits
    /// the column from.
    pub fn column_owner<'a>(&'a self, table: &'a QualName, column: &str) -> Option<&'a QualName> {
        let mut at = table;
        for _ in 0..64 {
            let t = self.tables.get(at)?;
            if t.columns.contains_key(column) {
                return Some(at);
            }
            at = t
                .parents()
                .into_iter()
                .find(|p| self.has_column(p, column))?;
        }
        None
    }

    /// Whether `table` has the column, its own or inherited.
    pub fn has_column(&self, table: &QualName, column: &str) -> bool {
        self.all_columns(table).iter().any(|(n, _)| n == column)
    }

    /// Every column of a table in order, its own and the ones it inherits (parents' first,
    /// as PostgreSQL lays them out), with the table's own settings on inherited ones.
    pub fn all_columns(&self, table: &QualName) -> Vec<(Name, Column)> {
        self.all_columns_at(table, 0)
    }

    fn all_columns_at(&self, table: &QualName, depth: usize) -> Vec<(Name, Column)> {
        let Some(t) = self.tables.get(table) else {
            return Vec::new();
        };
        let mut out: Vec<(Name, Column)> = Vec::new();
        if depth < 64 {
            for parent in t.parents() {
                for (name, mut column) in self.all_columns_at(parent, depth + 1) {
                    if out.iter().any(|(n, _)| *n == name) {
                        continue;
                    }
                    // What the parent's identity and comment are stay the parent's.
                    column.identity = None;
                    column.comment = None;
                    column.grants = Grants::new();
                    if let Some(own) = t.inherited_columns.get(&name) {
                        column.default.clone_from(&own.default);
                        column.not_null = own.not_null;
                        column.comment.clone_from(&own.comment);
                        column.grants.clone_from(&own.grants);
                    }
                    out.push((name, column));
                }
            }
        }
        for (name, column) in t.ordered_columns() {
            if !out.iter().any(|(n, _)| n == name) {
                out.push((name.clone(), column.clone()));
            }
        }
        out
    }

    /// Tables that have columns from `table` (partitions and inheriting tables), directly.
    pub fn children(&self, table: &QualName) -> Vec<&QualName> {
        self.tables
            .iter()
            .filter(|(_, t)| t.parents().contains(&table))
            .map(|(n, _)| n)
            .collect()
    }
}

/// A model plus what the planner needs to order changes: the dependencies between objects
/// as `pg_depend` records them, and the server it was read from.
#[derive(Clone, Debug, Default)]
pub struct Catalog {
    pub model: Model,
    pub deps: Deps,
    /// `server_version_num` of the server the catalog was read from (0 when unknown).
    pub server_version: u32,
    /// The casts the server has, as (source, target) type names (empty when unknown).
    pub casts: BTreeSet<(String, String)>,
}

impl Catalog {
    pub fn major_version(&self) -> u32 {
        self.server_version / 10_000
    }
}

/// A privilege granted on an object to a role (or `PUBLIC`). The owner's own privileges
/// and the grantor are not part of the model: they differ between a shadow and a target.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Grant {
    pub grantee: String,
    pub privilege: String,
    #[serde(default)]
    pub grantable: bool,
}

pub type Grants = BTreeSet<Grant>;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schema {
    pub comment: Option<String>,
    pub grants: Grants,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extension {
    pub schema: Name,
    pub version: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TypeDef {
    pub kind: TypeKind,
    pub comment: Option<String>,
    pub grants: Grants,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TypeKind {
    Enum {
        labels: Vec<String>,
    },
    Domain {
        base: String,
        collation: Option<QualName>,
        default: Option<String>,
        not_null: bool,
        checks: BTreeMap<String, DomainCheck>,
    },
    Composite {
        attributes: Vec<Attribute>,
    },
    /// `CREATE TYPE ... AS RANGE`; its multirange type and constructor functions come with
    /// it.
    Range {
        subtype: String,
        subtype_opclass: Option<String>,
        collation: Option<QualName>,
        canonical: Option<String>,
        subtype_diff: Option<String>,
        multirange: Option<QualName>,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomainCheck {
    /// `CHECK (...)` as `pg_get_constraintdef` prints it, without `NOT VALID`.
    pub definition: String,
    pub validated: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attribute {
    pub name: String,
    pub data_type: String,
    pub collation: Option<QualName>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SequenceOptions {
    pub data_type: String,
    pub start: i64,
    pub increment: i64,
    pub min: i64,
    pub max: i64,
    pub cache: i64,
    pub cycle: bool,
}

impl SequenceOptions {
    /// The bounds PostgreSQL picks when none are given, for the type and direction.
    pub fn default_bounds(data_type: &str, increment: i64) -> (i64, i64) {
        let type_max = match data_type {
            "smallint" => i64::from(i16::MAX),
            "integer" => i64::from(i32::MAX),
            _ => i64::MAX,
        };
        let type_min = match data_type {
            "smallint" => i64::from(i16::MIN),
            "integer" => i64::from(i32::MIN),
            _ => i64::MIN,
        };
        if increment > 0 {
            (1, type_max)
        } else {
            (type_min, -1)
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sequence {
    pub options: SequenceOptions,
    pub owned_by: Option<ColumnRef>,
    pub comment: Option<String>,
    pub grants: Grants,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ColumnRef {
    pub table: QualName,
    pub column: Name,
}

/// A function or procedure's identity: name plus argument types, as
/// `pg_get_function_identity_arguments` prints them.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FunctionId {
    pub name: QualName,
    pub args: String,
}

impl fmt::Display for FunctionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}({})", self.name, self.args)
    }
}

impl Serialize for FunctionId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for FunctionId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        let parsed = text.split_once('(').and_then(|(name, rest)| {
            Some(FunctionId {
                name: QualName::parse(name)?,
                args: rest.strip_suffix(')')?.to_owned(),
            })
        });
        parsed.ok_or_else(|| serde::de::Error::custom(format!("not a function id: {text}")))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoutineKind {
    Function,
    Procedure,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Function {
    pub kind: RoutineKind,
    /// `pg_get_functiondef`: a complete `CREATE OR REPLACE` statement.
    pub definition: String,
    /// `pg_get_function_arguments`: names, types, modes and defaults.
    pub arguments: String,
    /// `pg_get_function_result` (none for procedures).
    pub result: Option<String>,
    pub volatile: bool,
    pub comment: Option<String>,
    pub grants: Grants,
}

/// A field that is carried along but takes no part in comparison or fingerprint.
#[derive(Clone, Debug, Default)]
pub struct NotCompared<T>(pub T);

impl<T> PartialEq for NotCompared<T> {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl<T> Eq for NotCompared<T> {}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Table {
    /// `PARTITION BY` clause (`RANGE (at)`) of a partitioned table.
    pub partitioned_by: Option<String>,
    pub partition_of: Option<PartitionOf>,
    pub unlogged: bool,
    pub columns: BTreeMap<Name, Column>,
    /// Column names in their defined order: used to write `CREATE TABLE`, never compared.
    #[serde(skip)]
    pub column_order: NotCompared<Vec<Name>>,
    pub constraints: BTreeMap<Name, Constraint>,
    pub triggers: BTreeMap<Name, Trigger>,
    pub policies: BTreeMap<Name, Policy>,
    pub row_security: bool,
    pub force_row_security: bool,
    /// Storage parameters (`fillfactor=70`).
    pub options: Vec<String>,
    pub comment: Option<String>,
    pub grants: Grants,
    /// `REPLICA IDENTITY` when not the default (the primary key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replica_identity: Option<ReplicaIdentity>,
    /// Rewrite rules (`CREATE RULE`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub rules: BTreeMap<Name, Rule>,
    /// Tables it inherits from (`INHERITS`), in order. Columns it inherits and does not
    /// declare itself are the parents' (left out of `columns`, as for partitions).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inherits: Vec<QualName>,
    /// What the table sets itself on columns it inherits (from `INHERITS` or as a
    /// partition): only columns where something differs from the parent's.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub inherited_columns: BTreeMap<Name, InheritedColumn>,
    /// Columns it inherits and also declares itself (`CREATE TABLE c (x int) INHERITS
    /// (p)` where `p` has `x`), with their type: they stay when the parent drops them.
    /// Not compared (nothing can change it but recreating the table).
    #[serde(skip)]
    pub merged: NotCompared<BTreeMap<Name, String>>,
}

/// A table's own settings on a column it inherits: a partition's `DEFAULT` or `NOT NULL`
/// (`PARTITION OF t (c DEFAULT 0)`), an inheriting table's `ALTER COLUMN ... SET DEFAULT`,
/// a comment or privileges on it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InheritedColumn {
    pub default: Option<String>,
    pub not_null: bool,
    pub comment: Option<String>,
    pub grants: Grants,
}

/// Which old values logical replication records for updates and deletes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplicaIdentity {
    Full,
    Nothing,
    /// The columns of this unique index (of the same table).
    Index(String),
}

/// A rewrite rule of a table or view.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    /// `pg_get_ruledef`: a complete `CREATE RULE` statement.
    pub definition: String,
    pub enabled: TriggerEnabled,
    pub comment: Option<String>,
}

impl Table {
    /// The tables this one has columns from: its partitioned parent or the tables it
    /// inherits from, in order.
    pub fn parents(&self) -> Vec<&QualName> {
        match &self.partition_of {
            Some(p) => vec![&p.parent],
            None => self.inherits.iter().collect(),
        }
    }

    /// Columns in their defined order (any column missing from the order list last).
    pub fn ordered_columns(&self) -> Vec<(&Name, &Column)> {
        let mut out: Vec<(&Name, &Column)> = self
            .column_order
            .0
            .iter()
            .filter_map(|name| self.columns.get_key_value(name))
            .collect();
        for (name, column) in &self.columns {
            if !self.column_order.0.contains(name) {
                out.push((name, column));
            }
        }
        out
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionOf {
    pub parent: QualName,
    /// `FOR VALUES ...` or `DEFAULT`.
    pub bound: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    pub data_type: String,
    pub collation: Option<QualName>,
    pub not_null: bool,
    pub default: Option<String>,
    /// Boxed, as few columns have one (a column's size counts thousands of times over).
    pub identity: Option<Box<Identity>>,
    /// Expression of a `GENERATED ALWAYS AS (...) STORED` column.
    pub generated: Option<String>,
    pub comment: Option<String>,
    pub grants: Grants,
    /// How to convert its values when its type changes and no cast does: the expression
    /// of a `-- strata:using <expr>` directive in the schema file (not part of the state).
    #[serde(skip)]
    pub using: NotCompared<Option<String>>,
}

/// A plain `text` column with `default`, for tests.
#[cfg(test)]
pub(crate) fn text_column(default: Option<&str>) -> Column {
    Column {
        data_type: "text".into(),
        collation: None,
        not_null: false,
        default: default.map(Into::into),
        identity: None,
        generated: None,
        comment: None,
        grants: Grants::new(),
        using: Default::default(),
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    pub always: bool,
    pub sequence: QualName,
    pub options: SequenceOptions,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConstraintKind {
    PrimaryKey,
    Unique,
    ForeignKey,
    Check,
    Exclude,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Constraint {
    pub kind: ConstraintKind,
    /// `pg_get_constraintdef`, without a trailing `NOT VALID`.
    pub definition: String,
    pub validated: bool,
    pub deferrable: bool,
    /// The referenced table of a foreign key.
    pub references: Option<QualName>,
    /// For constraints backed by an index: the index definition after `ON table`
    /// (`USING btree (a, b)`), used to build the index concurrently first.
    pub index: Option<String>,
    pub comment: Option<String>,
    /// Keys and expressions, for pre-flight checks (derived from the definition, so not
    /// compared).
    #[serde(skip)]
    pub detail: NotCompared<Box<KeyDetail>>,
}

/// What a constraint or index keys on, as the catalog prints it: what pre-flight checks
/// query. Derived from the definition.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct KeyDetail {
    /// Key columns (quoted) or expressions, in order.
    pub keys: Vec<String>,
    /// A foreign key's referenced columns (quoted).
    pub referenced_keys: Vec<String>,
    /// A partial index's predicate, or a check constraint's expression.
    pub expression: Option<String>,
    pub nulls_not_distinct: bool,
    /// A foreign key declared `MATCH FULL`.
    pub match_full: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TriggerEnabled {
    Origin,
    Disabled,
    Replica,
    Always,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trigger {
    /// `pg_get_triggerdef`: a complete `CREATE TRIGGER` statement.
    pub definition: String,
    pub enabled: TriggerEnabled,
    pub comment: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    pub permissive: bool,
    /// `ALL`, `SELECT`, `INSERT`, `UPDATE` or `DELETE`.
    pub command: String,
    /// Role names, sorted; `PUBLIC` for everyone.
    pub roles: Vec<String>,
    pub using: Option<String>,
    pub with_check: Option<String>,
    pub comment: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ViewColumn {
    pub name: String,
    pub data_type: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct View {
    pub materialized: bool,
    /// `pg_get_viewdef`, without the trailing semicolon.
    pub definition: String,
    pub options: Vec<String>,
    pub columns: Vec<ViewColumn>,
    pub column_comments: BTreeMap<String, String>,
    pub comment: Option<String>,
    pub grants: Grants,
    /// A materialized view created `WITH NO DATA` (and not refreshed since).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unpopulated: bool,
    /// Rewrite rules other than the view's own `_RETURN` rule.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub rules: BTreeMap<Name, Rule>,
    /// Triggers on the view (`INSTEAD OF`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub triggers: BTreeMap<Name, Trigger>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Index {
    /// The table or materialized view it indexes.
    pub table: QualName,
    pub unique: bool,
    /// `pg_get_indexdef` after `ON table `: `USING btree (a) WHERE ...`.
    pub definition: String,
    /// False for an index left invalid by a failed concurrent build.
    pub valid: bool,
    pub comment: Option<String>,
    /// Keys and predicate, for pre-flight checks (not compared).
    #[serde(skip)]
    pub detail: NotCompared<Box<KeyDetail>>,
}

/// The fingerprint format: `sha256:` and 64 hex digits.
pub const FINGERPRINT_PREFIX: &str = "sha256:";

impl Model {
    /// A canonical serialisation of the model: JSON with every map in key order.
    pub fn canonical_json(&self) -> String {
        // Serialising plain data with string keys into a String cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// sha256 over the canonical serialisation: equal exactly when the models are equal.
    pub fn fingerprint(&self) -> String {
        let digest = Sha256::digest(self.canonical_json().as_bytes());
        format!("{FINGERPRINT_PREFIX}{}", hex::encode(digest))
    }

    /// The roles the model names: grantees and the roles of policies (not `PUBLIC`).
    pub fn roles(&self) -> BTreeSet<String> {
        let mut grants: Vec<&Grants> = Vec::new();
        grants.extend(self.schemas.values().map(|s| &s.grants));
        grants.extend(self.types.values().map(|t| &t.grants));
        grants.extend(self.sequences.values().map(|s| &s.grants));
        grants.extend(self.functions.values().map(|f| &f.grants));
        grants.extend(self.views.values().map(|v| &v.grants));
        grants.extend(self.default_privileges.values().map(|p| &p.grants));
        let mut out = BTreeSet::new();
        out.extend(
            self.default_privileges
                .values()
                .filter_map(|p| p.role.clone()),
        );
        for table in self.tables.values() {
            grants.push(&table.grants);
            grants.extend(table.columns.values().map(|c| &c.grants));
            for policy in table.policies.values() {
                out.extend(policy.roles.iter().cloned());
            }
        }
        out.extend(
            grants
                .iter()
                .flat_map(|g| g.iter().map(|g| g.grantee.clone())),
        );
        out.retain(|r| !r.eq_ignore_ascii_case("public"));
        out
    }

    /// Whether the object exists in this model.
    pub fn contains(&self, id: &ObjectId) -> bool {
        match id {
            ObjectId::Schema(name) => self.schemas.contains_key(name),
            ObjectId::Extension(name) => self.extensions.contains_key(name),
            ObjectId::Type(name) => self.types.contains_key(name),
            ObjectId::Sequence(name) | ObjectId::SequenceOwner(name) => {
                self.sequences.contains_key(name)
            }
            ObjectId::Function(id) => self.functions.contains_key(id),
            ObjectId::Table(name) => self.tables.contains_key(name),
            ObjectId::Column(table, column) => self
                .tables
                .get(table)
                .is_some_and(|t| t.columns.contains_key(column)),
            ObjectId::ColumnDefault(table, column) => self
                .tables
                .get(table)
                .and_then(|t| t.columns.get(column))
                .is_some_and(|c| c.default.is_some()),
            ObjectId::Constraint(table, name) => self
                .tables
                .get(table)
                .is_some_and(|t| t.constraints.contains_key(name)),
            ObjectId::Trigger(relation, name) => {
                self.tables
                    .get(relation)
                    .is_some_and(|t| t.triggers.contains_key(name))
                    || self
                        .views
                        .get(relation)
                        .is_some_and(|v| v.triggers.contains_key(name))
            }
            ObjectId::Policy(table, name) => self
                .tables
                .get(table)
                .is_some_and(|t| t.policies.contains_key(name)),
            ObjectId::Rule(relation, name) => {
                self.tables
                    .get(relation)
                    .is_some_and(|t| t.rules.contains_key(name))
                    || self
                        .views
                        .get(relation)
                        .is_some_and(|v| v.rules.contains_key(name))
            }
            ObjectId::Collation(name) => self.collations.contains_key(name),
            ObjectId::Statistics(name) => self.statistics.contains_key(name),
            ObjectId::Aggregate(id) => self.aggregates.contains_key(id),
            ObjectId::ReplicaIdentity(name) => self
                .tables
                .get(name)
                .is_some_and(|t| t.replica_identity.is_some()),
            ObjectId::TableRows(name) => self.tables.contains_key(name),
            ObjectId::DefaultPrivileges(key) => self.default_privileges.contains_key(key),
            ObjectId::Publication(name) => self.publications.contains_key(name),
            ObjectId::ForeignServer(name) => self.foreign_servers.contains_key(name),
            ObjectId::Role(name) => self.declared_roles.contains(name),
            ObjectId::ForeignTable(name) => self.foreign_tables.contains_key(name),
            ObjectId::Operator(id) => self.operators.contains_key(id),
            ObjectId::Cast(key) => self.user_casts.contains_key(key),
            ObjectId::InheritedColumns(name) => self
                .tables
                .get(name)
                .is_some_and(|t| !t.inherited_columns.is_empty()),
            ObjectId::View(name) => self.views.contains_key(name),
            ObjectId::Index(name) => self.indexes.contains_key(name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_order_is_not_compared_but_kept() {
        let column = Column {
            data_type: "integer".into(),
            collation: None,
            not_null: false,
            default: None,
            identity: None,
            generated: None,
            comment: None,
            grants: Grants::new(),
            using: Default::default(),
        };
        let mut a = Table::default();
        a.columns.insert("x".into(), column.clone());
        a.columns.insert("y".into(), column);
        let mut b = a.clone();
        a.column_order.0 = vec!["x".into(), "y".into()];
        b.column_order.0 = vec!["y".into(), "x".into()];
        assert_eq!(a, b);
        let mut ma = Model::default();
        let mut mb = Model::default();
        ma.tables.insert(QualName::new("public", "t"), a.clone());
        mb.tables.insert(QualName::new("public", "t"), b);
        assert_eq!(ma.fingerprint(), mb.fingerprint());
        assert_eq!(a.ordered_columns()[0].0, "x");
    }

    #[test]
    fn fingerprint_changes_with_content() {
        let mut m = Model::default();
        let empty = m.fingerprint();
        assert!(empty.starts_with(FINGERPRINT_PREFIX));
        assert_eq!(empty.len(), FINGERPRINT_PREFIX.len() + 64);
        m.schemas.insert("app".into(), Schema::default());
        assert_ne!(m.fingerprint(), empty);
    }

    #[test]
    fn function_id_round_trips() {
        let id = FunctionId {
            name: QualName::new("public", "f"),
            args: "v text, n integer".into(),
        };
        let json = serde_json::to_string(&id).unwrap_or_default();
        let back: FunctionId = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back, id);
    }
}
