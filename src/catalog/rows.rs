//! Turns the catalog queries' JSON rows into a [`Catalog`].

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::RawCatalog;
use crate::error::{Error, Result, Unmanaged};
use crate::model::{
    Aggregate, Attribute, Cast, Catalog, Collation, Column, ColumnRef, Constraint, ConstraintKind,
    DefaultPrivileges, Dep, DomainCheck, Extension, ForeignServer, ForeignTable, Function,
    FunctionId, Grants, Identity, Index, InheritedColumn, KeyDetail, Model, NotCompared, ObjectId,
    Operator, PartitionOf, Policy, Publication, ReplicaIdentity, RoutineKind, Rule, Schema,
    Sequence, SequenceOptions, Statistics, Table, Trigger, TriggerEnabled, TypeDef, TypeKind, View,
    ViewColumn,
};
use crate::sql::QualName;

#[derive(Deserialize)]
struct Name {
    schema: String,
    name: String,
}

impl From<Name> for QualName {
    fn from(n: Name) -> Self {
        QualName::new(n.schema, n.name)
    }
}

#[derive(Deserialize)]
struct SchemaRow {
    name: String,
    comment: Option<String>,
    grants: Grants,
}

#[derive(Deserialize)]
struct ExtensionRow {
    name: String,
    schema: String,
    version: String,
}

#[derive(Deserialize)]
struct TypeRow {
    schema: String,
    name: String,
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
    name: String,
    data_type: String,
    collation: Option<Name>,
}

#[derive(Deserialize)]
struct SequenceRow {
    schema: String,
    name: String,
    options: SequenceOptions,
    owned_by: Option<OwnedByRow>,
    comment: Option<String>,
    grants: Grants,
}

#[derive(Deserialize)]
struct OwnedByRow {
    table: Name,
    column: String,
}

#[derive(Deserialize)]
struct FunctionRow {
    schema: String,
    name: String,
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
    schema: String,
    name: String,
    partitioned_by: Option<String>,
    parent: Option<Name>,
    inherits: Vec<Name>,
    replica_identity: String,
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
    schema: String,
    table: String,
    name: String,
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
    schema: String,
    table: String,
    name: String,
    kind: String,
    definition: String,
    validated: bool,
    deferrable: bool,
    references: Option<Name>,
    index: Option<String>,
    comment: Option<String>,
    keys: Option<Vec<String>>,
    referenced_keys: Option<Vec<String>>,
    expression: Option<String>,
    #[serde(default)]
    nulls_not_distinct: bool,
    #[serde(default)]
    match_full: bool,
}

#[derive(Deserialize)]
struct IndexRow {
    schema: String,
    name: String,
    table: Name,
    unique: bool,
    valid: bool,
    definition: Option<String>,
    raw_definition: String,
    comment: Option<String>,
    keys: Option<Vec<String>>,
    predicate: Option<String>,
    #[serde(default)]
    nulls_not_distinct: bool,
}

#[derive(Deserialize)]
struct ViewRow {
    schema: String,
    name: String,
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
    schema: String,
    table: String,
    name: String,
    definition: String,
    enabled: String,
    comment: Option<String>,
}

#[derive(Deserialize)]
struct CollationRow {
    schema: String,
    name: String,
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
    name: String,
    definition: String,
    target: Option<i32>,
    comment: Option<String>,
}

#[derive(Deserialize)]
struct AggregateRow {
    schema: String,
    name: String,
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
    name: String,
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
    name: String,
    permissive: bool,
    command: String,
    roles: Vec<String>,
    using: Option<String>,
    with_check: Option<String>,
    comment: Option<String>,
}

/// `[kind, schema, name, sub]` as the dependencies query names an object.
type DepEnd = (String, Option<String>, String, Option<String>);

pub(super) fn parse<T: DeserializeOwned>(
    query: &'static str,
    docs: Vec<super::RawRow>,
) -> Result<Vec<T>> {
    docs.into_iter()
        .map(|doc| {
            serde_json::from_str(doc.get()).map_err(|e| Error::Introspection {
                query,
                message: format!("unexpected row shape: {e}"),
            })
        })
        .collect()
}

fn unsupported(object: impl ToString, reason: &str) -> Error {
    Error::Unsupported {
        object: object.to_string(),
        reason: reason.to_owned(),
    }
}

/// Builds the catalog from every query's rows.
pub(super) fn assemble(raw: RawCatalog, server_version: u32) -> Result<Catalog> {
    let mut model = Model::default();
    let mut by_name: BTreeMap<&str, Vec<super::RawRow>> = raw.into_iter().collect();
    let mut take = |name: &'static str| by_name.remove(name).unwrap_or_default();

    for row in parse::<SchemaRow>("schemas", take("schemas"))? {
        let schema = Schema {
            comment: row.comment,
            grants: row.grants,
        };
        model.schemas.insert(row.name, schema);
    }
    for row in parse::<ExtensionRow>("extensions", take("extensions"))? {
        let ext = Extension {
            schema: row.schema,
            version: row.version,
        };
        model.extensions.insert(row.name, ext);
    }
    for row in parse::<TypeRow>("types", take("types"))? {
        let name = QualName::new(row.schema, row.name);
        let kind = match row.kind.as_str() {
            "e" => TypeKind::Enum {
                labels: row.labels.unwrap_or_default(),
            },
            "d" => TypeKind::Domain {
                base: row.base.unwrap_or_default(),
                collation: row.collation.map(Into::into),
                default: row.default,
                not_null: row.not_null,
                checks: row.checks.unwrap_or_default(),
            },
            "c" => TypeKind::Composite {
                attributes: row
                    .attributes
                    .unwrap_or_default()
                    .into_iter()
                    .map(|a| Attribute {
                        name: a.name,
                        data_type: a.data_type,
                        collation: a.collation.map(Into::into),
                    })
                    .collect(),
            },
            "r" => {
                let Some(r) = row.range else {
                    return Err(unsupported(&name, "cannot read its range definition"));
                };
                TypeKind::Range {
                    subtype: r.subtype,
                    subtype_opclass: r.subtype_opclass,
                    collation: r.collation.map(Into::into),
                    canonical: r.canonical,
                    subtype_diff: r.subtype_diff,
                    multirange: r.multirange.map(Into::into),
                }
            }
            other => return Err(unsupported(&name, &format!("unknown type kind {other:?}"))),
        };
        let def = TypeDef {
            kind,
            comment: row.comment,
            grants: row.grants,
        };
        model.types.insert(name, def);
    }
    for row in parse::<SequenceRow>("sequences", take("sequences"))? {
        let seq = Sequence {
            options: row.options,
            owned_by: row.owned_by.map(|o| ColumnRef {
                table: o.table.into(),
                column: o.column,
            }),
            comment: row.comment,
            grants: row.grants,
        };
        model
            .sequences
            .insert(QualName::new(row.schema, row.name), seq);
    }
    for row in parse::<FunctionRow>("functions", take("functions"))? {
        let id = FunctionId {
            name: QualName::new(row.schema, row.name),
            args: row.args,
        };
        let function = Function {
            kind: row.kind,
            definition: row.definition,
            arguments: row.arguments,
            result: row.result,
            volatile: row.volatile,
            comment: row.comment,
            grants: row.grants,
        };
        model.functions.insert(id, function);
    }
    for row in parse::<TableRow>("tables", take("tables"))? {
        let name = QualName::new(row.schema, row.name);
        let replica_identity = match (row.replica_identity.as_str(), row.replica_index) {
            ("f", _) => Some(ReplicaIdentity::Full),
            ("n", _) => Some(ReplicaIdentity::Nothing),
            ("i", Some(index)) => Some(ReplicaIdentity::Index(index)),
            _ => None,
        };
        let partition_of = match (row.parent, row.bound) {
            (Some(parent), Some(bound)) => Some(PartitionOf {
                parent: parent.into(),
                bound,
            }),
            _ => None,
        };
        let table = Table {
            partitioned_by: row.partitioned_by,
            partition_of,
            unlogged: row.unlogged,
            row_security: row.row_security,
            force_row_security: row.force_row_security,
            options: row.options,
            comment: row.comment,
            grants: row.grants,
            replica_identity,
            inherits: row.inherits.into_iter().map(Into::into).collect(),
            ..Table::default()
        };
        model.tables.insert(name, table);
    }
    let mut columns = parse::<ColumnRow>("columns", take("columns"))?;
    columns.sort_by_key(|c| c.position);
    for row in columns {
        let table_name = QualName::new(row.schema, row.table);
        let Some(table) = model.tables.get_mut(&table_name) else {
            continue;
        };
        if row.inherited {
            if row.local {
                table
                    .merged
                    .0
                    .insert(row.name.clone(), row.data_type.clone());
            }
            // The parent's column: only what this table sets differently is its own.
            let (parent_default, parent_not_null) = row
                .parent
                .map(|p| (p.default, p.not_null))
                .unwrap_or_default();
            let own = InheritedColumn {
                default: row.default,
                not_null: row.not_null,
                comment: row.comment,
                grants: row.grants,
            };
            if own.default != parent_default
                || own.not_null != parent_not_null
                || own.comment.is_some()
                || !own.grants.is_empty()
            {
                table.inherited_columns.insert(row.name, own);
            }
            continue;
        }
        let column = Column {
            data_type: row.data_type,
            collation: row.collation.map(Into::into),
            not_null: row.not_null,
            default: row.default,
            identity: row.identity.map(|i| Identity {
                always: i.always,
                sequence: i.sequence.into(),
                options: i.options,
            }),
            generated: row.generated,
            comment: row.comment,
            grants: row.grants,
            using: NotCompared(None),
        };
        table.column_order.0.push(row.name.clone());
        table.columns.insert(row.name, column);
    }
    for row in parse::<ConstraintRow>("constraints", take("constraints"))? {
        let table_name = QualName::new(row.schema, row.table);
        let kind = match row.kind.as_str() {
            "p" => ConstraintKind::PrimaryKey,
            "u" => ConstraintKind::Unique,
            "f" => ConstraintKind::ForeignKey,
            "c" => ConstraintKind::Check,
            "x" => ConstraintKind::Exclude,
            _ => continue,
        };
        if kind != ConstraintKind::ForeignKey
            && kind != ConstraintKind::Check
            && row.index.is_none()
        {
            return Err(unsupported(
                ObjectId::Constraint(table_name, row.name),
                "cannot read the definition of its index",
            ));
        }
        let Some(table) = model.tables.get_mut(&table_name) else {
            continue;
        };
        let constraint = Constraint {
            kind,
            definition: row.definition,
            validated: row.validated,
            deferrable: row.deferrable,
            references: row.references.map(Into::into),
            index: row.index,
            comment: row.comment,
            detail: NotCompared(KeyDetail {
                keys: row.keys.unwrap_or_default(),
                referenced_keys: row.referenced_keys.unwrap_or_default(),
                expression: row.expression,
                nulls_not_distinct: row.nulls_not_distinct,
                match_full: row.match_full,
            }),
        };
        table.constraints.insert(row.name, constraint);
    }
    for row in parse::<IndexRow>("indexes", take("indexes"))? {
        let name = QualName::new(row.schema, row.name);
        let Some(definition) = row.definition else {
            return Err(unsupported(
                format!("index {name}"),
                &format!("cannot read its definition: {}", row.raw_definition),
            ));
        };
        let index = Index {
            table: row.table.into(),
            unique: row.unique,
            definition,
            valid: row.valid,
            comment: row.comment,
            detail: NotCompared(KeyDetail {
                keys: row.keys.unwrap_or_default(),
                referenced_keys: Vec::new(),
                expression: row.predicate,
                nulls_not_distinct: row.nulls_not_distinct,
                match_full: false,
            }),
        };
        model.indexes.insert(name, index);
    }
    for row in parse::<ViewRow>("views", take("views"))? {
        let view = View {
            materialized: row.materialized,
            definition: row.definition,
            options: row.options,
            columns: row.columns,
            column_comments: row.column_comments,
            comment: row.comment,
            grants: row.grants,
            unpopulated: row.unpopulated,
            rules: BTreeMap::new(),
            triggers: BTreeMap::new(),
        };
        model
            .views
            .insert(QualName::new(row.schema, row.name), view);
    }
    for row in parse::<TriggerRow>("triggers", take("triggers"))? {
        let table_name = QualName::new(row.schema, row.table);
        let enabled = match row.enabled.as_str() {
            "D" => TriggerEnabled::Disabled,
            "R" => TriggerEnabled::Replica,
            "A" => TriggerEnabled::Always,
            _ => TriggerEnabled::Origin,
        };
        let trigger = Trigger {
            definition: row.definition,
            enabled,
            comment: row.comment,
        };
        if let Some(table) = model.tables.get_mut(&table_name) {
            table.triggers.insert(row.name, trigger);
        } else if let Some(view) = model.views.get_mut(&table_name) {
            view.triggers.insert(row.name, trigger);
        }
    }
    for row in parse::<CollationRow>("collations", take("collations"))? {
        let name = QualName::new(row.schema, row.name);
        let provider = match row.provider.as_str() {
            "i" => "icu",
            "b" => "builtin",
            _ => "libc",
        };
        // Before PostgreSQL 15 an ICU collation kept its locale in collcollate.
        let (locale, lc_collate, lc_ctype) = if provider == "libc" {
            (None, row.lc_collate, row.lc_ctype)
        } else {
            (row.locale.or(row.lc_collate), None, None)
        };
        model.collations.insert(
            name,
            Collation {
                provider: provider.to_owned(),
                locale,
                lc_collate,
                lc_ctype,
                deterministic: row.deterministic,
                rules: row.rules,
                comment: row.comment,
            },
        );
    }
    for row in parse::<StatisticsRow>("statistics", take("statistics"))? {
        model.statistics.insert(
            QualName::new(row.schema, row.name),
            Statistics {
                definition: row.definition,
                target: row.target,
                comment: row.comment,
            },
        );
    }
    for row in parse::<AggregateRow>("aggregates", take("aggregates"))? {
        let id = FunctionId {
            name: QualName::new(row.schema, row.name),
            args: row.args,
        };
        if row.kind != "n" {
            return Err(unsupported(
                ObjectId::Aggregate(id),
                "is an ordered-set or hypothetical-set aggregate, which strata does not model",
            ));
        }
        model.aggregates.insert(
            id,
            Aggregate {
                options: row.options,
                comment: row.comment,
                grants: row.grants,
            },
        );
    }
    for row in parse::<RuleRow>("rules", take("rules"))? {
        let relation = QualName::new(row.schema, row.relation);
        let rule = Rule {
            definition: row.definition,
            enabled: enabled_of(&row.enabled),
            comment: row.comment,
        };
        if let Some(table) = model.tables.get_mut(&relation) {
            table.rules.insert(row.name, rule);
        } else if let Some(view) = model.views.get_mut(&relation) {
            view.rules.insert(row.name, rule);
        }
    }
    for row in parse::<PolicyRow>("policies", take("policies"))? {
        let table_name = QualName::new(row.schema, row.table);
        if let Some(table) = model.tables.get_mut(&table_name) {
            let policy = Policy {
                permissive: row.permissive,
                command: row.command,
                roles: row.roles,
                using: row.using,
                with_check: row.with_check,
                comment: row.comment,
            };
            table.policies.insert(row.name, policy);
        }
    }
    for p in parse::<DefaultPrivileges>("default_privileges", take("default_privileges"))? {
        model.default_privileges.insert(p.key(), p);
    }
    let mut filtered = Vec::new();
    for row in parse::<PublicationRow>("publications", take("publications"))? {
        if row.filtered {
            filtered.push(Unmanaged {
                object: format!(
                    "publication {} (with row filters, column lists or schemas)",
                    crate::sql::Ident(&row.name)
                ),
                name: row.name.clone(),
                latest: false,
                location: None,
            });
        }
        let publish = [
            ("insert", row.insert),
            ("update", row.update),
            ("delete", row.delete),
            ("truncate", row.truncate),
        ]
        .iter()
        .filter(|(_, on)| *on)
        .map(|(op, _)| (*op).to_owned())
        .collect();
        model.publications.insert(
            row.name,
            Publication {
                all_tables: row.all_tables,
                tables: row.tables.into_iter().map(Into::into).collect(),
                publish,
                via_root: row.via_root,
                comment: row.comment,
            },
        );
    }
    for row in parse::<OperatorRow>("operators", take("operators"))? {
        let id = FunctionId {
            name: QualName::new(row.schema, row.name),
            args: row.args,
        };
        model.operators.insert(
            id,
            Operator {
                options: row.options,
                comment: row.comment,
            },
        );
    }
    for row in parse::<ForeignServerRow>("foreign_servers", take("foreign_servers"))? {
        model.foreign_servers.insert(row.name, row.server);
    }
    for row in parse::<ForeignTableRow>("foreign_tables", take("foreign_tables"))? {
        model
            .foreign_tables
            .insert(QualName::new(row.schema, row.name), row.table);
    }
    for row in parse::<CastRow>("user_casts", take("user_casts"))? {
        model.user_casts.insert(
            format!("{} AS {}", row.source, row.target),
            Cast {
                method: row.method,
                context: row.context,
                comment: row.comment,
            },
        );
    }
    let mut deps = BTreeSet::new();
    for (from, to) in parse::<(DepEnd, DepEnd)>("dependencies", take("dependencies"))? {
        let (Some(dependent), Some(referenced)) = (object_id(from), object_id(to)) else {
            continue;
        };
        deps.insert(Dep {
            dependent,
            referenced,
        });
    }
    let deps = crate::model::normalise_deps(&model, deps);
    let casts = parse::<(String, String)>("casts", take("casts"))?
        .into_iter()
        .collect();
    let unseen = super::inventory::unseen(&model, take("inventory"))?;
    let unseen: Vec<Unmanaged> = filtered.into_iter().chain(unseen).collect();
    if !unseen.is_empty() {
        return Err(Error::Unmanaged(unseen));
    }
    Ok(Catalog {
        model,
        deps,
        server_version,
        casts,
    })
}

fn object_id((kind, schema, name, sub): DepEnd) -> Option<ObjectId> {
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
            args: sub?,
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
            args: sub?,
        }),
        "cast" => ObjectId::Cast(name),
        "statistics" => ObjectId::Statistics(qual()),
        "aggregate" => ObjectId::Aggregate(FunctionId {
            name: qual(),
            args: sub?,
        }),
        _ => return None,
    })
}

#[derive(Deserialize)]
struct OperatorRow {
    schema: String,
    name: String,
    args: String,
    options: String,
    comment: Option<String>,
}

#[derive(Deserialize)]
struct ForeignServerRow {
    name: String,
    #[serde(flatten)]
    server: ForeignServer,
}

#[derive(Deserialize)]
struct ForeignTableRow {
    schema: String,
    name: String,
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
    name: String,
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
