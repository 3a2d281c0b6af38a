//! One function per object kind: its rows into the model.

use std::collections::BTreeMap;

use super::*;

/// Schemas.
pub(super) fn schemas(model: &mut Model, rows: Vec<SchemaRow>) -> Result<()> {
    for row in rows {
        let schema = Schema {
            comment: row.comment,
            grants: row.grants,
        };
        model.schemas.insert(row.name, schema);
    }
    Ok(())
}

/// Extensions.
pub(super) fn extensions(model: &mut Model, rows: Vec<ExtensionRow>) -> Result<()> {
    for row in rows {
        let ext = Extension {
            schema: row.schema,
            version: row.version,
        };
        model.extensions.insert(row.name, ext);
    }
    Ok(())
}

/// Types: enums, domains, composites, ranges.
pub(super) fn types(model: &mut Model, rows: Vec<TypeRow>) -> Result<()> {
    for row in rows {
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
                        name: a.name.into(),
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
    Ok(())
}

/// Sequences.
pub(super) fn sequences(model: &mut Model, rows: Vec<SequenceRow>) -> Result<()> {
    for row in rows {
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
    Ok(())
}

/// Functions and procedures.
pub(super) fn functions(model: &mut Model, rows: Vec<FunctionRow>) -> Result<()> {
    for row in rows {
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
    Ok(())
}

/// Tables (their columns and parts come after).
pub(super) fn tables(model: &mut Model, rows: Vec<TableRow>) -> Result<()> {
    for row in rows {
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
    Ok(())
}

/// Columns, in order, onto their tables (what a table sets itself on an inherited one
/// apart).
pub(super) fn columns(model: &mut Model, mut rows: Vec<ColumnRow>) -> Result<()> {
    rows.sort_by_key(|c| c.position);
    for row in rows {
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
            identity: row.identity.map(|i| {
                Box::new(Identity {
                    always: i.always,
                    sequence: i.sequence.into(),
                    options: i.options,
                })
            }),
            generated: row.generated,
            comment: row.comment,
            grants: row.grants,
            using: NotCompared(None),
        };
        table.column_order.0.push(row.name.clone());
        table.columns.insert(row.name, column);
    }
    Ok(())
}

/// Constraints, onto their tables.
pub(super) fn constraints(model: &mut Model, rows: Vec<ConstraintRow>) -> Result<()> {
    for row in rows {
        let table_name = QualName::new(row.schema, row.table);
        let kind = match row.kind.as_str() {
            "p" => ConstraintKind::PrimaryKey,
            "u" => ConstraintKind::Unique,
            "f" => ConstraintKind::ForeignKey,
            "c" => ConstraintKind::Check,
            "x" => ConstraintKind::Exclude,
            _ => continue,
        };
        let Some(table) = model.tables.get_mut(&table_name) else {
            continue;
        };
        // (Only pre-flight checks use the expression: a definition of another shape, from
        // a later PostgreSQL, leaves the check without one rather than the read failing.)
        let expression = match kind {
            ConstraintKind::Check => {
                let expression = check_expression(&row.definition);
                if expression.is_none() {
                    tracing::warn!(
                        "check constraint {} of {table_name}: no expression read from its \
                         definition {}; its pre-flight check is left out",
                        crate::sql::Ident(&row.name),
                        row.definition
                    );
                }
                expression.map(str::to_owned)
            }
            _ => None,
        };
        let constraint = Constraint {
            kind,
            definition: row.definition,
            validated: row.validated,
            deferrable: row.deferrable,
            references: row.references.map(Into::into),
            // Set from the index's row (`indexes`).
            index: None,
            comment: row.comment,
            detail: NotCompared(Box::new(KeyDetail {
                keys: row.keys.unwrap_or_default(),
                referenced_keys: row.referenced_keys.unwrap_or_default(),
                expression,
                nulls_not_distinct: row.nulls_not_distinct,
                match_full: row.match_full,
            })),
        };
        table.constraints.insert(row.name, constraint);
    }
    Ok(())
}

/// A check constraint's expression, from its definition as `pg_get_constraintdef` writes
/// it: `CHECK (<expression>)`, then ` NO INHERIT` and ` NOT ENFORCED` (PostgreSQL 18) as
/// the constraint has them (the query takes ` NOT VALID` off). The expression is the text
/// `pg_get_expr` writes for it (both deparse it alike, with the same flags), read without
/// deparsing every check a second time on the server.
fn check_expression(definition: &str) -> Option<&str> {
    let mut rest = definition.strip_prefix("CHECK (")?;
    while let Some(shorter) = [" NOT ENFORCED", " NO INHERIT"]
        .iter()
        .find_map(|suffix| rest.strip_suffix(suffix))
    {
        rest = shorter;
    }
    rest.strip_suffix(')')
}

/// Indexes; an index that backs a constraint gives the constraint its definition (after
/// `constraints`).
pub(super) fn indexes(model: &mut Model, rows: Vec<IndexRow>) -> Result<()> {
    for row in rows {
        if let Some(constraint) = row.constraint {
            let table = QualName::from(row.table);
            let Some(definition) = row.definition else {
                return Err(unsupported(
                    ObjectId::Constraint(table, constraint),
                    "cannot read the definition of its index",
                ));
            };
            if let Some(c) = model
                .tables
                .get_mut(&table)
                .and_then(|t| t.constraints.get_mut(&constraint))
            {
                c.index = Some(definition);
            }
            continue;
        }
        let name = QualName::new(row.schema, row.name);
        let Some(definition) = row.definition else {
            return Err(unsupported(
                format!("index {name}"),
                &format!(
                    "cannot read its definition: {}",
                    row.raw_definition.unwrap_or_default()
                ),
            ));
        };
        let index = Index {
            table: row.table.into(),
            unique: row.unique,
            definition,
            valid: row.valid,
            comment: row.comment,
            detail: NotCompared(Box::new(KeyDetail {
                keys: row.keys.unwrap_or_default(),
                referenced_keys: Vec::new(),
                expression: row.predicate,
                nulls_not_distinct: row.nulls_not_distinct,
                match_full: false,
            })),
        };
        model.indexes.insert(name, index);
    }
    // A key, unique or exclusion constraint whose index the read did not see.
    for (table_name, table) in &model.tables {
        for (name, c) in &table.constraints {
            let indexed = !matches!(c.kind, ConstraintKind::ForeignKey | ConstraintKind::Check);
            if indexed && c.index.is_none() {
                return Err(unsupported(
                    ObjectId::Constraint(table_name.clone(), name.clone()),
                    "cannot read the definition of its index",
                ));
            }
        }
    }
    Ok(())
}

/// Views and materialized views.
pub(super) fn views(model: &mut Model, rows: Vec<ViewRow>) -> Result<()> {
    for row in rows {
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
    Ok(())
}

/// Triggers, onto their tables or views.
pub(super) fn triggers(model: &mut Model, rows: Vec<TriggerRow>) -> Result<()> {
    for row in rows {
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
    Ok(())
}

/// Collations.
pub(super) fn collations(model: &mut Model, rows: Vec<CollationRow>) -> Result<()> {
    for row in rows {
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
    Ok(())
}

/// Extended statistics.
pub(super) fn statistics(model: &mut Model, rows: Vec<StatisticsRow>) -> Result<()> {
    for row in rows {
        model.statistics.insert(
            QualName::new(row.schema, row.name),
            Statistics {
                definition: row.definition,
                target: row.target,
                comment: row.comment,
            },
        );
    }
    Ok(())
}

/// Aggregates (normal ones; others are refused).
pub(super) fn aggregates(model: &mut Model, rows: Vec<AggregateRow>) -> Result<()> {
    for row in rows {
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
    Ok(())
}

/// Rewrite rules, onto their tables or views.
pub(super) fn rules(model: &mut Model, rows: Vec<RuleRow>) -> Result<()> {
    for row in rows {
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
    Ok(())
}

/// Row-level security policies, onto their tables.
pub(super) fn policies(model: &mut Model, rows: Vec<PolicyRow>) -> Result<()> {
    for row in rows {
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
    Ok(())
}

/// Default privileges.
pub(super) fn default_privileges(model: &mut Model, rows: Vec<DefaultPrivileges>) -> Result<()> {
    for p in rows {
        model.default_privileges.insert(p.key(), p);
    }
    Ok(())
}

/// Publications; those with row filters, column lists or schemas are returned as
/// objects strata does not manage.
pub(super) fn publications(model: &mut Model, rows: Vec<PublicationRow>) -> Result<Vec<Unmanaged>> {
    let mut filtered = Vec::new();
    for row in rows {
        if row.filtered {
            filtered.push(Unmanaged {
                object: format!(
                    "publication {} (with row filters, column lists or schemas)",
                    crate::sql::Ident(&row.name)
                ),
                name: row.name.to_string(),
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
    Ok(filtered)
}

/// Operators.
pub(super) fn operators(model: &mut Model, rows: Vec<OperatorRow>) -> Result<()> {
    for row in rows {
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
    Ok(())
}

/// Foreign servers.
pub(super) fn foreign_servers(model: &mut Model, rows: Vec<ForeignServerRow>) -> Result<()> {
    for row in rows {
        model.foreign_servers.insert(row.name, row.server);
    }
    Ok(())
}

/// Foreign tables.
pub(super) fn foreign_tables(model: &mut Model, rows: Vec<ForeignTableRow>) -> Result<()> {
    for row in rows {
        model
            .foreign_tables
            .insert(QualName::new(row.schema, row.name), row.table);
    }
    Ok(())
}

/// Casts.
pub(super) fn user_casts(model: &mut Model, rows: Vec<CastRow>) -> Result<()> {
    for row in rows {
        model.user_casts.insert(
            compact_str::format_compact!("{} AS {}", row.source, row.target),
            Cast {
                method: row.method,
                context: row.context,
                comment: row.comment,
            },
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check_expression;

    #[test]
    fn a_checks_expression_is_what_its_definition_wraps() {
        assert_eq!(
            check_expression("CHECK ((length(name) < 200))"),
            Some("(length(name) < 200)")
        );
        assert_eq!(check_expression("CHECK (ok)"), Some("ok"));
        assert_eq!(
            check_expression("CHECK ((a > 0)) NO INHERIT"),
            Some("(a > 0)")
        );
        assert_eq!(
            check_expression("CHECK ((a > 0)) NO INHERIT NOT ENFORCED"),
            Some("(a > 0)")
        );
        // Suffixes only where the definition ends: inside the expression they stay.
        assert_eq!(
            check_expression("CHECK ((t <> 'x) NO INHERIT'::text))"),
            Some("(t <> 'x) NO INHERIT'::text)")
        );
        assert_eq!(check_expression("NOT NULL a"), None);
        assert_eq!(check_expression("CHECK (a) DEFERRABLE"), None);
    }
}
