//! Rewrite rules of tables and views (`CREATE RULE`): created from their definition,
//! dropped and created again when it changes, enabled or disabled and commented in place.

use std::collections::BTreeMap;

use super::{Action, Decision, Differ};
use crate::ddl::{self, Target};
use crate::model::{Model, ObjectId, Rule};
use crate::plan::Step;
use crate::sql::{Ident, QualName};

/// Every rule of a model, by relation and name, and whether the relation is a view.
fn rules(model: &Model) -> BTreeMap<(QualName, crate::sql::Name), (&Rule, bool)> {
    let mut out = BTreeMap::new();
    for (name, table) in &model.tables {
        for (rule, r) in &table.rules {
            out.insert((name.clone(), rule.clone()), (r, false));
        }
    }
    for (name, view) in &model.views {
        for (rule, r) in &view.rules {
            out.insert((name.clone(), rule.clone()), (r, true));
        }
    }
    out
}

pub(super) fn decide(d: &mut Differ) {
    let (cur, des) = (rules(d.cur), rules(d.des));
    d.decide_map(
        &cur,
        &des,
        |(relation, name)| ObjectId::Rule(relation.clone(), name.as_str().into()),
        |(a, _), (b, _)| a.definition != b.definition,
    );
}

fn alter_sql(relation: &QualName, name: &str, from: &Rule, to: &Rule) -> Vec<String> {
    let mut sql = Vec::new();
    if from.enabled != to.enabled {
        sql.push(ddl::rule_enabled(relation, name, to.enabled));
    }
    sql.extend(ddl::comment_change(
        Target::Rule(relation, name),
        from.comment.as_deref(),
        to.comment.as_deref(),
    ));
    sql
}

pub(super) fn emit(d: &mut Differ) {
    let (cur, des) = (rules(d.cur), rules(d.des));
    for (relation, name) in cur.keys() {
        let id = ObjectId::Rule(relation.clone(), name.as_str().into());
        if matches!(d.decision(&id), Decision::Drop | Decision::Replace) {
            let step = Step::new(
                format!("drop rule {} on {relation}", Ident(name)),
                ddl::drop_rule(relation, name),
            );
            d.push_drop(Differ::node(id, Action::Drop, step));
        }
    }
    for ((relation, name), (rule, view)) in &des {
        let id = ObjectId::Rule(relation.clone(), name.as_str().into());
        match d.decision(&id) {
            Decision::Create | Decision::Replace => {
                let step = Step::new(
                    format!("create rule {} on {relation}", Ident(name)),
                    ddl::create_rule(relation, name, rule, *view),
                );
                d.push(Differ::node(id, Action::Create, step));
            }
            Decision::Alter => {
                let Some((before, _)) = cur.get(&(relation.clone(), name.clone())) else {
                    continue;
                };
                let step = Step::new(
                    format!("alter rule {} on {relation}", Ident(name)),
                    ddl::join(alter_sql(relation, name, before, rule)),
                );
                d.push(Differ::node(id, Action::Alter, step));
            }
            _ => {}
        }
    }
}
