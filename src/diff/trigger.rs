//! Triggers and row-level security policies.

use super::{Action, Decision, Differ};
use crate::ddl::{self, Target};
use crate::model::{ObjectId, Policy, Trigger};
use crate::plan::Step;
use crate::sql::{Ident, QualName};

fn create_trigger_sql(table: &QualName, name: &str, t: &Trigger) -> String {
    let mut sql = vec![ddl::create_trigger(table, name, &t.definition, t.enabled)];
    sql.extend(ddl::comment_change(
        Target::Trigger(table, name),
        None,
        t.comment.as_deref(),
    ));
    ddl::join(sql)
}

fn alter_trigger_sql(table: &QualName, name: &str, from: &Trigger, to: &Trigger) -> Vec<String> {
    let mut sql = Vec::new();
    if from.enabled != to.enabled {
        sql.push(ddl::trigger_enabled(table, name, to.enabled));
    }
    sql.extend(ddl::comment_change(
        Target::Trigger(table, name),
        from.comment.as_deref(),
        to.comment.as_deref(),
    ));
    sql
}

fn create_policy_sql(table: &QualName, name: &str, p: &Policy) -> String {
    let mut sql = vec![ddl::create_policy(table, name, p)];
    sql.extend(ddl::comment_change(
        Target::Policy(table, name),
        None,
        p.comment.as_deref(),
    ));
    ddl::join(sql)
}

/// The triggers of tables and views, by relation.
fn triggers(
    model: &crate::model::Model,
) -> Vec<(
    &QualName,
    &std::collections::BTreeMap<crate::sql::Name, Trigger>,
)> {
    model
        .tables
        .iter()
        .map(|(n, t)| (n, &t.triggers))
        .chain(model.views.iter().map(|(n, v)| (n, &v.triggers)))
        .collect()
}

pub(super) fn decide(d: &mut Differ) {
    let cur: std::collections::BTreeMap<(QualName, crate::sql::Name), &Trigger> = triggers(d.cur)
        .into_iter()
        .filter(|(n, _)| d.cur.views.contains_key(*n))
        .flat_map(|(n, ts)| ts.iter().map(move |(t, x)| ((n.clone(), t.clone()), x)))
        .collect();
    let des: std::collections::BTreeMap<(QualName, crate::sql::Name), &Trigger> = triggers(d.des)
        .into_iter()
        .filter(|(n, _)| d.des.views.contains_key(*n))
        .flat_map(|(n, ts)| ts.iter().map(move |(t, x)| ((n.clone(), t.clone()), x)))
        .collect();
    // Triggers of views (those of tables are decided with their table).
    d.decide_map(
        &cur,
        &des,
        |(relation, name)| ObjectId::Trigger(relation.clone(), name.as_str().into()),
        |a, b| a.definition != b.definition,
    );
}

pub(super) fn emit(d: &mut Differ) {
    for (table, triggers) in triggers(d.cur) {
        for name in triggers.keys() {
            let id = ObjectId::Trigger(table.clone(), name.as_str().into());
            if matches!(d.decision(&id), Decision::Drop | Decision::Replace) {
                let step = Step::new(
                    format!("drop trigger {} on {table}", Ident(name)),
                    ddl::drop_trigger(table, name),
                );
                d.push_drop(Differ::node(id, Action::Drop, step));
            }
        }
    }
    for (table, t) in &d.cur.tables {
        for name in t.policies.keys() {
            let id = ObjectId::Policy(table.clone(), name.clone());
            if matches!(d.decision(&id), Decision::Drop | Decision::Replace) {
                let step = Step::new(
                    format!("drop policy {} on {table}", Ident(name)),
                    ddl::drop_policy(table, name),
                );
                d.push_drop(Differ::node(id, Action::Drop, step));
            }
        }
    }
    for (table, triggers) in triggers(d.des) {
        let old = d
            .cur
            .tables
            .get(table)
            .map(|t| &t.triggers)
            .or_else(|| d.cur.views.get(table).map(|v| &v.triggers));
        for (name, trigger) in triggers {
            let id = ObjectId::Trigger(table.clone(), name.as_str().into());
            match d.decision(&id) {
                Decision::Create | Decision::Replace => {
                    let step = Step::new(
                        format!("create trigger {} on {table}", Ident(name)),
                        create_trigger_sql(table, name, trigger),
                    );
                    d.push(Differ::node(id, Action::Create, step));
                }
                Decision::Alter => {
                    let Some(before) = old.and_then(|o| o.get(name.as_str())) else {
                        continue;
                    };
                    let step = Step::new(
                        format!("alter trigger {} on {table}", Ident(name)),
                        ddl::join(alter_trigger_sql(table, name, before, trigger)),
                    );
                    d.push(Differ::node(id, Action::Alter, step));
                }
                _ => {}
            }
        }
    }
    for (table, t) in &d.des.tables {
        let old = d.cur.tables.get(table);
        for (name, policy) in &t.policies {
            let id = ObjectId::Policy(table.clone(), name.clone());
            match d.decision(&id) {
                Decision::Create | Decision::Replace => {
                    let step = Step::new(
                        format!("create policy {} on {table}", Ident(name)),
                        create_policy_sql(table, name, policy),
                    );
                    d.push(Differ::node(id, Action::Create, step));
                }
                Decision::Alter => {
                    let Some(before) = old.and_then(|o| o.policies.get(name)) else {
                        continue;
                    };
                    let target = Target::Policy(table, name);
                    let forward = ddl::comment_change(
                        target,
                        before.comment.as_deref(),
                        policy.comment.as_deref(),
                    );
                    let step = Step::new(
                        format!("comment on policy {} on {table}", Ident(name)),
                        forward.unwrap_or_default(),
                    );
                    d.push(Differ::node(id, Action::Alter, step));
                }
                _ => {}
            }
        }
    }
}
