//! Reads the catalog queries' rows (plain columns or JSON documents, `plain`) into their
//! row types and turns them into a [`Catalog`].

use std::collections::BTreeMap;

use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::RawCatalog;
use crate::error::{Error, Result, Unmanaged};
use crate::model::{
    Aggregate, Attribute, Cast, Catalog, Collation, Column, ColumnRef, Constraint, ConstraintKind,
    DefaultPrivileges, DomainCheck, Extension, ForeignServer, ForeignTable, Function, FunctionId,
    Grants, Identity, Index, InheritedColumn, KeyDetail, Model, NotCompared, ObjectId, Operator,
    PartitionOf, Policy, Publication, ReplicaIdentity, RoutineKind, Rule, Schema, Sequence,
    SequenceOptions, Statistics, Table, Trigger, TriggerEnabled, TypeDef, TypeKind, View,
    ViewColumn,
};
use crate::sql::{Name as SqlName, QualName};

mod kinds;
pub(super) mod plain;

#[derive(Deserialize)]
struct Name {
    schema: SqlName,
    name: SqlName,
}

impl From<Name> for QualName {
    fn from(n: Name) -> Self {
        QualName::new(n.schema, n.name)
    }
}

#[derive(Deserialize)]
struct SchemaRow {
    name: SqlName,
    comment: Option<String>,
    grants: Grants,
}

#[derive(Deserialize)]
struct ExtensionRow {
    name: SqlName,
    schema: SqlName,
    version: String,
}

#[derive(Deserialize)]
struct TypeRow {
    schema: String,
    name: SqlName,
    kind: String,
    labels: Option<Vec<String>>,
    base: Option<String>,
    collation: Option<Name>,
    default: Option<String>,
    not_null: bool,
    checks: Option<BTreeMap<String, DomainCheck>>,
    attributes: Option<Vec<AttributeRow>>,
    range: Option<RangeRow>,
    comment: Option<String>,
    grants: Grants,
}

#[derive(Deserialize)]
struct RangeRow {
    subtype: String,
    subtype_opclass: Option<String>,
    collation: Option<Name>,
    canonical: Option<String>,
    subtype_diff: Option<String>,
    multirange: Option<Name>,
}

#[derive(Deserialize)]
struct AttributeRow {
    name: SqlName,
    data_type: String,
    collation: Option<Name>,
}

#[derive(Deserialize)]
struct SequenceRow {
    schema: String,
    name: SqlName,
    options: SequenceOptions,
    owned_by: Option<OwnedByRow>,
    comment: Option<String>,
    grants: Grants,
}

#[derive(Deserialize)]
struct OwnedByRow {
    table: Name,
    column: SqlName,
}

#[derive(Deserialize)]
struct FunctionRow {
    schema: String,
    name: SqlName,
    args: String,
    kind: RoutineKind,
    definition: String,
    arguments: String,
    result: Option<String>,
    volatile: bool,
    comment: Option<String>,
    grants: Grants,
}

#[derive(Deserialize)]
struct TableRow {
    schema: SqlName,
    name: SqlName,
    partitioned_by: Option<String>,
    parent: Option<Name>,
    inherits: Vec<Name>,
    replica_identity: SqlName,
    replica_index: Option<String>,
    bound: Option<String>,
    unlogged: bool,
    row_security: bool,
    force_row_security: bool,
    options: Vec<String>,
    comment: Option<String>,
    grants: Grants,
}

#[derive(Deserialize)]
struct ColumnRow {
    schema: SqlName,
    table: SqlName,
    name: SqlName,
    position: i32,
    #[serde(rename = "type")]
    data_type: String,
    collation: Option<Name>,
    not_null: bool,
    default: Option<String>,
    generated: Option<String>,
    identity: Option<IdentityRow>,
    #[serde(default)]
    inherited: bool,
    #[serde(default)]
    local: bool,
    parent: Option<ParentColumnRow>,
    comment: Option<String>,
    grants: Grants,
}

#[derive(Deserialize)]
struct ParentColumnRow {
    default: Option<String>,
    not_null: bool,
}

#[derive(Deserialize)]
struct IdentityRow {
    always: bool,
    sequence: Name,
    options: SequenceOptions,
}

#[derive(Deserialize)]
struct ConstraintRow {
    schema: SqlName,
    table: SqlName,
    name: SqlName,
    kind: SqlName,
    definition: String,
    validated: bool,
    deferrable: bool,
    references: Option<Name>,
    comment: Option<String>,
    keys: Option<Vec<String>>,
    referenced_keys: Option<Vec<String>>,
    #[serde(default)]
    nulls_not_distinct: bool,
    #[serde(default)]
    match_full: bool,
}

#[derive(Deserialize)]
struct IndexRow {
    schema: SqlName,
    name: SqlName,
    table: Name,
    /// The primary key, unique or exclusion constraint the index backs.
    constraint: Option<SqlName>,
    unique: bool,
    valid: bool,
    definition: Option<String>,
    /// pg_get_indexdef's text, read only where the definition was not built from the
    /// catalog.
    raw_definition: Option<String>,
    comment: Option<String>,
    keys: Option<Vec<String>>,
    predicate: Option<String>,
    #[serde(default)]
    nulls_not_distinct: bool,
}

#[derive(Deserialize)]
struct ViewRow {
    schema: SqlName,
    name: SqlName,
    materialized: bool,
    definition: String,
    options: Vec<String>,
    columns: Vec<ViewColumn>,
    column_comments: BTreeMap<String, String>,
    comment: Option<String>,
    grants: Grants,
    unpopulated: bool,
}

#[derive(Deserialize)]
struct TriggerRow {
    schema: SqlName,
    table: SqlName,
    name: SqlName,
    definition: String,
    enabled: SqlName,
    comment: Option<String>,
}

#[derive(Deserialize)]
struct CollationRow {
    schema: String,
    name: SqlName,
    provider: String,
    deterministic: bool,
    lc_collate: Option<String>,
    lc_ctype: Option<String>,
    locale: Option<String>,
    rules: Option<String>,
    comment: Option<String>,
}

#[derive(Deserialize)]
struct StatisticsRow {
    schema: String,
    name: SqlName,
    definition: String,
    target: Option<i32>,
    comment: Option<String>,
}

#[derive(Deserialize)]
struct AggregateRow {
    schema: String,
    name: SqlName,
    args: String,
    kind: String,
    options: Vec<(String, String)>,
    comment: Option<String>,
    grants: Grants,
}

#[derive(Deserialize)]
struct RuleRow {
    schema: String,
    relation: String,
    name: SqlName,
    definition: String,
    enabled: String,
    comment: Option<String>,
}

fn enabled_of(code: &str) -> TriggerEnabled {
    match code {
        "D" => TriggerEnabled::Disabled,
        "R" => TriggerEnabled::Replica,
        "A" => TriggerEnabled::Always,
        _ => TriggerEnabled::Origin,
    }
}

#[derive(Deserialize)]
struct PolicyRow {
    schema: String,
    table: String,
    name: SqlName,
    permissive: bool,
    command: String,
    roles: Vec<String>,
    using: Option<String>,
    with_check: Option<String>,
    comment: Option<String>,
}

/// `[kind, schema, name, sub]` as the dependencies query names an object.
pub(super) type DepEnd = (SqlName, Option<SqlName>, SqlName, Option<SqlName>);

/// One query's rows, read into its row type as they arrive (while the other queries
/// still run, and without their text waiting in memory for the last one).
pub(super) trait Sink: Send {
    fn push(&mut self, row: &tokio_postgres::Row) -> Result<()>;
    fn finish(self: Box<Self>) -> Box<dyn std::any::Any + Send>;
}

struct Rows<T> {
    query: &'static str,
    rows: Vec<T>,
}

impl<T: DeserializeOwned + Send + 'static> Sink for Rows<T> {
    fn push(&mut self, row: &tokio_postgres::Row) -> Result<()> {
        self.rows.push(plain::from_row(self.query, row)?);
        Ok(())
    }

    fn finish(self: Box<Self>) -> Box<dyn std::any::Any + Send> {
        Box::new(self.rows)
    }
}

fn rows<T: DeserializeOwned + Send + 'static>(query: &'static str) -> Box<dyn Sink> {
    Box::new(Rows::<T> {
        query,
        rows: Vec::new(),
    })
}

/// The sink of a catalog query's rows (of [`super::QUERIES`]; `None` for another name).
pub(super) fn sink(query: &'static str) -> Option<Box<dyn Sink>> {
    Some(match query {
        "schemas" => rows::<SchemaRow>(query),
        "extensions" => rows::<ExtensionRow>(query),
        "types" => rows::<TypeRow>(query),
        "sequences" => rows::<SequenceRow>(query),
        "functions" => rows::<FunctionRow>(query),
        "tables" => rows::<TableRow>(query),
        "columns" => rows::<ColumnRow>(query),
        "constraints" => rows::<ConstraintRow>(query),
        "indexes" => rows::<IndexRow>(query),
        "views" => rows::<ViewRow>(query),
        "triggers" => rows::<TriggerRow>(query),
        "policies" => rows::<PolicyRow>(query),
        "rules" => rows::<RuleRow>(query),
        "collations" => rows::<CollationRow>(query),
        "statistics" => rows::<StatisticsRow>(query),
        "aggregates" => rows::<AggregateRow>(query),
        "default_privileges" => rows::<DefaultPrivileges>(query),
        "publications" => rows::<PublicationRow>(query),
        "operators" => rows::<OperatorRow>(query),
        "user_casts" => rows::<CastRow>(query),
        "foreign_servers" => rows::<ForeignServerRow>(query),
        "foreign_tables" => rows::<ForeignTableRow>(query),
        "inventory" => rows::<super::inventory::InventoryRow>(query),
        "casts" => rows::<(String, String)>(query),
        _ => return None,
    })
}

/// The rows a query's [`Sink`] read, as the row type its kind takes (none where the query
/// did not run).
pub(super) fn parse<T: 'static>(
    query: &'static str,
    rows: Option<Box<dyn std::any::Any + Send>>,
) -> Result<Vec<T>> {
    match rows.map(|rows| rows.downcast::<Vec<T>>()) {
        None => Ok(Vec::new()),
        Some(Ok(rows)) => Ok(*rows),
        Some(Err(_)) => Err(Error::Introspection {
            query,
            message: "rows read as another type than their kind takes".to_owned(),
        }),
    }
}

fn unsupported(object: impl ToString, reason: &str) -> Error {
    Error::Unsupported {
        object: object.to_string(),
        reason: reason.to_owned(),
    }
}

/// Builds the catalog from every query's rows.
pub(super) fn assemble(raw: RawCatalog, server_version: u32) -> Result<Catalog> {
    let (mut catalog, deps) = assemble_model(raw, server_version)?;
    catalog.deps = crate::model::normalise_deps(&catalog.model, deps);
    Ok(catalog)
}

/// Builds the catalog from every query's rows but for its dependencies (left empty), and
/// gives back the dependencies as read, for [`crate::model::normalise_deps`].
pub(super) fn assemble_model(
    raw: RawCatalog,
    server_version: u32,
) -> Result<(Catalog, Vec<crate::model::Dep>)> {
    let mut model = Model::default();
    let mut by_name: BTreeMap<&str, Box<dyn std::any::Any + Send>> = raw.rows.into_iter().collect();
    let mut take = |name: &'static str| by_name.remove(name);

    kinds::schemas(&mut model, parse("schemas", take("schemas"))?)?;
    kinds::extensions(&mut model, parse("extensions", take("extensions"))?)?;
    kinds::types(&mut model, parse("types", take("types"))?)?;
    kinds::sequences(&mut model, parse("sequences", take("sequences"))?)?;
    kinds::functions(&mut model, parse("functions", take("functions"))?)?;
    kinds::tables(&mut model, parse("tables", take("tables"))?)?;
    kinds::columns(&mut model, parse("columns", take("columns"))?)?;
    kinds::constraints(&mut model, parse("constraints", take("constraints"))?)?;
    kinds::indexes(&mut model, parse("indexes", take("indexes"))?)?;
    kinds::views(&mut model, parse("views", take("views"))?)?;
    kinds::triggers(&mut model, parse("triggers", take("triggers"))?)?;
    kinds::collations(&mut model, parse("collations", take("collations"))?)?;
    kinds::statistics(&mut model, parse("statistics", take("statistics"))?)?;
    kinds::aggregates(&mut model, parse("aggregates", take("aggregates"))?)?;
    kinds::rules(&mut model, parse("rules", take("rules"))?)?;
    kinds::policies(&mut model, parse("policies", take("policies"))?)?;
    kinds::default_privileges(
        &mut model,
        parse("default_privileges", take("default_privileges"))?,
    )?;
    let filtered = kinds::publications(&mut model, parse("publications", take("publications"))?)?;
    kinds::operators(&mut model, parse("operators", take("operators"))?)?;
    kinds::foreign_servers(
        &mut model,
        parse("foreign_servers", take("foreign_servers"))?,
    )?;
    kinds::foreign_tables(&mut model, parse("foreign_tables", take("foreign_tables"))?)?;
    kinds::user_casts(&mut model, parse("user_casts", take("user_casts"))?)?;
    let casts = parse::<(String, String)>("casts", take("casts"))?
        .into_iter()
        .collect();
    let unseen = super::inventory::unmanaged(&model, parse("inventory", take("inventory"))?);
    let unseen: Vec<Unmanaged> = filtered.into_iter().chain(unseen).collect();
    if !unseen.is_empty() {
        return Err(Error::Unmanaged(unseen));
    }
    let catalog = Catalog {
        model,
        deps: Default::default(),
        server_version,
        casts,
    };
    Ok((catalog, raw.deps))
}

/// The object a dependency's end names, if strata models its kind.
pub(super) fn object_id((kind, schema, name, sub): DepEnd) -> Option<ObjectId> {
    let qual = || QualName::new(schema.clone().unwrap_or_default(), name.clone());
    Some(match kind.as_str() {
        "schema" => ObjectId::Schema(name),
        "extension" => ObjectId::Extension(name),
        "table" => ObjectId::Table(qual()),
        "view" => ObjectId::View(qual()),
        "sequence" => ObjectId::Sequence(qual()),
        "type" => ObjectId::Type(qual()),
        "index" => ObjectId::Index(qual()),
        "function" => ObjectId::Function(FunctionId {
            name: qual(),
            args: sub?.into(),
        }),
        "column" => ObjectId::Column(qual(), sub?),
        "column_default" => ObjectId::ColumnDefault(qual(), sub?),
        "constraint" => ObjectId::Constraint(qual(), sub?),
        "trigger" => ObjectId::Trigger(qual(), sub?),
        "policy" => ObjectId::Policy(qual(), sub?),
        "rule" => ObjectId::Rule(qual(), sub?),
        "collation" => ObjectId::Collation(qual()),
        "foreign table" => ObjectId::ForeignTable(qual()),
        "foreign server" => ObjectId::ForeignServer(name),
        "operator" => ObjectId::Operator(FunctionId {
            name: qual(),
            args: sub?.into(),
        }),
        "cast" => ObjectId::Cast(name),
        "statistics" => ObjectId::Statistics(qual()),
        "aggregate" => ObjectId::Aggregate(FunctionId {
            name: qual(),
            args: sub?.into(),
        }),
        _ => return None,
    })
}

#[derive(Deserialize)]
struct OperatorRow {
    schema: String,
    name: SqlName,
    args: String,
    options: String,
    comment: Option<String>,
}

#[derive(Deserialize)]
struct ForeignServerRow {
    name: SqlName,
    #[serde(flatten)]
    server: ForeignServer,
}

#[derive(Deserialize)]
struct ForeignTableRow {
    schema: String,
    name: SqlName,
    #[serde(flatten)]
    table: ForeignTable,
}

#[derive(Deserialize)]
struct CastRow {
    source: String,
    target: String,
    method: String,
    context: String,
    comment: Option<String>,
}

#[derive(Deserialize)]
struct PublicationRow {
    name: SqlName,
    all_tables: bool,
    insert: bool,
    update: bool,
    delete: bool,
    truncate: bool,
    via_root: bool,
    tables: Vec<Name>,
    filtered: bool,
    comment: Option<String>,
}
