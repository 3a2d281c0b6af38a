//! Table constraints. On a table that already exists, constraints are added without long
//! exclusive locks where PostgreSQL allows it: foreign keys and checks `NOT VALID` and then
//! validated in their own transaction, primary keys and unique constraints over an index
//! built concurrently.

use super::{Action, Decision, Differ, Name, Node};
use crate::ddl;
use crate::ddl::Target;
use crate::model::{Constraint, ConstraintKind, ObjectId};
use crate::plan::{Check, Effect, Step};
use crate::sql::{Ident, QualName};

/// What the rows of an existing table must satisfy before the constraint is added or
/// validated: no duplicates (and no NULLs under a primary key), no orphans, the check.
fn preconditions(d: &Differ, table: &QualName, c: &Constraint) -> Vec<Check> {
    let detail = &c.detail.0;
    if detail.keys.is_empty() && detail.expression.is_none() {
        return Vec::new();
    }
    match c.kind {
        ConstraintKind::PrimaryKey | ConstraintKind::Unique => {
            let mut checks = vec![Check::Unique {
                table: table.clone(),
                keys: detail.keys.clone(),
                predicate: None,
                nulls_not_distinct: detail.nulls_not_distinct,
            }];
            if c.kind == ConstraintKind::PrimaryKey {
                let columns = d.cur.tables.get(table).map(|t| &t.columns);
                for key in &detail.keys {
                    let name = crate::sql::split_qualified(key)
                        .and_then(|mut p| p.pop())
                        .unwrap_or_else(|| key.clone());
                    let nullable = columns
                        .and_then(|cols| cols.get(name.as_str()))
                        .is_some_and(|col| !col.not_null);
                    if nullable {
                        checks.push(Check::NotNull {
                            table: table.clone(),
                            column: name,
                        });
                    }
                }
            }
            checks
        }
        ConstraintKind::ForeignKey => match &c.references {
            Some(referenced) if !detail.referenced_keys.is_empty() => vec![Check::References {
                table: table.clone(),
                columns: detail.keys.iter().map(|k| unquote(k)).collect(),
                referenced: referenced.clone(),
                referenced_columns: detail.referenced_keys.iter().map(|k| unquote(k)).collect(),
                match_full: detail.match_full,
            }],
            _ => Vec::new(),
        },
        ConstraintKind::Check => detail
            .expression
            .iter()
            .map(|e| Check::Satisfies {
                table: table.clone(),
                expression: e.clone(),
            })
            .collect(),
        ConstraintKind::Exclude => Vec::new(),
    }
}

/// A column name as the catalog quoted it, unquoted.
fn unquote(name: &str) -> String {
    crate::sql::split_qualified(name)
        .and_then(|mut p| p.pop())
        .unwrap_or_else(|| name.to_owned())
}

fn with_checks(step: Step, checks: &[Check]) -> Step {
    checks.iter().cloned().fold(step, Step::check)
}

pub(super) fn emit(d: &mut Differ) {
    for (table, new_table) in &d.des.tables {
        let old_table = d.cur.tables.get(table);
        for (name, c) in &new_table.constraints {
            let id = ObjectId::Constraint(table.clone(), name.clone());
            let old = old_table.and_then(|t| t.constraints.get(name));
            if d.is_rebuilt(table) && ddl::is_inline_constraint(c) {
                continue; // created with the rebuilt table
            }
            match d.decision(&id) {
                Decision::Create => add(d, table, name, c),
                Decision::Replace => {
                    if let Some(old) = old {
                        drop(d, table, name, old);
                    }
                    add(d, table, name, c);
                }
                Decision::Alter => {
                    if let Some(old) = old {
                        alter(d, table, name, old, c);
                    }
                }
                _ => {}
            }
        }
    }
    for (table, old_table) in &d.cur.tables {
        for (name, c) in &old_table.constraints {
            if d.decision(&ObjectId::Constraint(table.clone(), name.clone())) == Decision::Drop {
                drop(d, table, name, c);
            }
        }
    }
}

fn index_name(table: &QualName, name: &str, c: &Constraint) -> Vec<Name> {
    c.index
        .as_ref()
        .map(|_| Name::Relation(table.sibling(name)))
        .into_iter()
        .collect()
}

fn describe(c: &Constraint) -> &'static str {
    match c.kind {
        ConstraintKind::PrimaryKey => "primary key",
        ConstraintKind::Unique => "unique constraint",
        ConstraintKind::ForeignKey => "foreign key",
        ConstraintKind::Check => "check constraint",
        ConstraintKind::Exclude => "exclusion constraint",
    }
}

fn comment_sql(table: &QualName, name: &str, from: Option<&str>, to: Option<&str>) -> Vec<String> {
    ddl::comment_change(Target::Constraint(table, name), from, to)
        .into_iter()
        .collect()
}

fn add(d: &mut Differ, table: &QualName, name: &str, c: &Constraint) {
    let id = ObjectId::Constraint(table.clone(), name.into());
    let what = describe(c);
    let shown = format!("{what} {} on {table}", Ident(name));
    let comment = comment_sql(table, name, None, c.comment.as_deref());
    let new_table = d.is_new_table(table);
    let partitioned = d
        .des
        .tables
        .get(table)
        .is_some_and(|t| t.partitioned_by.is_some());
    let mut nodes: Vec<Node> = Vec::new();
    match c.kind {
        // PostgreSQL refuses a NOT VALID foreign key on a partitioned table.
        ConstraintKind::ForeignKey | ConstraintKind::Check
            if !new_table
                && c.validated
                && !(partitioned && c.kind == ConstraintKind::ForeignKey) =>
        {
            let mut sql = vec![ddl::add_constraint(table, name, c, true)];
            sql.extend(comment);
            nodes.push(Differ::node(
                id.clone(),
                Action::Create,
                Step::new(format!("add {shown} (NOT VALID)"), ddl::join(sql)),
            ));
            nodes.push(Differ::node(
                id,
                Action::Alter,
                with_checks(
                    Step::new(
                        format!("validate {shown} (without blocking writes)"),
                        ddl::validate_constraint(table, name),
                    )
                    .validating(),
                    &preconditions(d, table, c),
                ),
            ));
        }
        ConstraintKind::PrimaryKey | ConstraintKind::Unique
            if !new_table && !partitioned && !c.deferrable && c.index.is_some() =>
        {
            let Some(index) = &c.index else { return };
            nodes.push(
                Differ::node(
                    id.clone(),
                    Action::Create,
                    with_checks(
                        Step::new(
                            format!("build the index for {shown} concurrently"),
                            ddl::create_index(&table.sibling(name), table, true, index, true),
                        )
                        .builds(table.sibling(name)),
                        &preconditions(d, table, c),
                    ),
                )
                .claims(Name::Relation(table.sibling(name))),
            );
            let mut sql = vec![ddl::add_constraint_using_index(table, name, c.kind)];
            sql.extend(comment);
            nodes.push(Differ::node(
                id,
                Action::Alter,
                Step::new(format!("add {shown} using that index"), ddl::join(sql)),
            ));
        }
        _ => {
            let mut sql = vec![ddl::add_constraint(table, name, c, !c.validated)];
            sql.extend(comment);
            let mut step = Step::new(format!("add {shown}"), ddl::join(sql));
            if !new_table && c.validated {
                step = with_checks(step.effect(Effect::ScansTable), &preconditions(d, table, c));
            }
            let mut node = Differ::node(id, Action::Create, step);
            node.claims = index_name(table, name, c);
            nodes.push(node);
        }
    }
    for node in nodes {
        d.push(node);
    }
}

fn drop(d: &mut Differ, table: &QualName, name: &str, c: &Constraint) {
    let mut back = vec![ddl::add_constraint(table, name, c, !c.validated)];
    back.extend(comment_sql(table, name, None, c.comment.as_deref()));
    let mut step = Step::new(
        format!("drop {} {} on {table}", describe(c), Ident(name)),
        ddl::drop_constraint(table, name),
    );
    let replaced = d
        .des
        .tables
        .get(table)
        .is_some_and(|t| t.constraints.contains_key(name));
    if c.index.is_some() && !replaced {
        step = step.effect(Effect::DropsIndex);
    }
    let mut node = Differ::node(
        ObjectId::Constraint(table.clone(), name.into()),
        Action::Drop,
        step,
    );
    node.frees = index_name(table, name, c);
    d.push_drop(node);
}

fn alter(d: &mut Differ, table: &QualName, name: &str, old: &Constraint, new: &Constraint) {
    let id = ObjectId::Constraint(table.clone(), name.into());
    if new.validated && !old.validated {
        let step = with_checks(
            Step::new(
                format!("validate {} {} on {table}", describe(new), Ident(name)),
                ddl::validate_constraint(table, name),
            )
            .validating(),
            &preconditions(d, table, new),
        );
        d.push(Differ::node(id.clone(), Action::Alter, step));
    }
    let comment = comment_sql(table, name, old.comment.as_deref(), new.comment.as_deref());
    if !comment.is_empty() {
        let step = Step::new(
            format!("comment on {} {} on {table}", describe(new), Ident(name)),
            ddl::join(comment),
        );
        d.push(Differ::node(id, Action::Alter, step));
    }
}
