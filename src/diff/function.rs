//! Functions and procedures: `CREATE OR REPLACE` when the signature allows it, else drop and
//! create with what depends on them rebuilt.

use super::{Action, Decision, Differ};
use crate::ddl::{self, Target};
use crate::model::{Function, FunctionId, ObjectId};
use crate::plan::Step;

pub(super) fn decide(d: &mut Differ) {
    d.decide_map(
        &d.cur.functions,
        &d.des.functions,
        |id| ObjectId::Function(id.clone()),
        |a, b| a.kind != b.kind || a.result != b.result || a.arguments != b.arguments,
    );
}

fn create_sql(model: &crate::model::Model, id: &FunctionId, f: &Function) -> String {
    let target = Target::Function(id, f.kind);
    let mut sql = vec![ddl::create_function(f)];
    sql.extend(ddl::comment_change(target, None, f.comment.as_deref()));
    sql.extend(ddl::grant_changes(
        target,
        None,
        &super::creation_grants(model, target),
        &f.grants,
    ));
    ddl::join(sql)
}

fn alter_sql(id: &FunctionId, from: &Function, to: &Function) -> String {
    let target = Target::Function(id, to.kind);
    let mut sql = Vec::new();
    if from.definition != to.definition {
        sql.push(ddl::create_function(to));
    }
    sql.extend(ddl::comment_change(
        target,
        from.comment.as_deref(),
        to.comment.as_deref(),
    ));
    sql.extend(ddl::grant_changes(target, None, &from.grants, &to.grants));
    ddl::join(sql)
}

fn kind_word(f: &Function) -> &'static str {
    match f.kind {
        crate::model::RoutineKind::Function => "function",
        crate::model::RoutineKind::Procedure => "procedure",
    }
}

pub(super) fn emit(d: &mut Differ) {
    for (id, f) in &d.cur.functions {
        let oid = ObjectId::Function(id.clone());
        if matches!(d.decision(&oid), Decision::Drop | Decision::Replace) {
            let step = Step::new(
                format!("drop {} {id}", kind_word(f)),
                ddl::drop_function(id, f.kind),
            );
            d.push_drop(Differ::node(oid, Action::Drop, step));
        }
    }
    for (id, f) in &d.des.functions {
        let oid = ObjectId::Function(id.clone());
        match d.decision(&oid) {
            Decision::Create | Decision::Replace => {
                let step = Step::new(
                    format!("create {} {id}", kind_word(f)),
                    create_sql(d.des, id, f),
                );
                d.push(Differ::node(oid, Action::Create, step));
            }
            Decision::Alter => {
                let Some(old) = d.cur.functions.get(id) else {
                    continue;
                };
                let summary = if old.definition == f.definition {
                    format!("change comment or privileges of {} {id}", kind_word(f))
                } else {
                    format!("replace {} {id}", kind_word(f))
                };
                let step = Step::new(summary, alter_sql(id, old, f));
                d.push(Differ::node(oid, Action::Alter, step));
            }
            _ => {}
        }
    }
}
