//! Sequences, and their `OWNED BY` links (set after the owning column exists).

use super::{Action, Decision, Differ, Name};
use crate::ddl::{self, Target};
use crate::model::{ObjectId, Sequence};
use crate::plan::{Effect, Step};
use crate::sql::QualName;

pub(super) fn decide(d: &mut Differ) {
    d.decide_map(
        &d.cur.sequences,
        &d.des.sequences,
        |n| ObjectId::Sequence(n.clone()),
        |_, _| false,
    );
    for (name, seq) in &d.des.sequences {
        let old_owner = d.cur.sequences.get(name).and_then(|s| s.owned_by.as_ref());
        if seq.owned_by.as_ref() != old_owner {
            let decision = if d.cur.sequences.contains_key(name) {
                Decision::Alter
            } else {
                Decision::Create
            };
            d.set(ObjectId::SequenceOwner(name.clone()), decision);
        }
    }
}

fn create_sql(model: &crate::model::Model, name: &QualName, seq: &Sequence) -> String {
    let target = Target::Sequence(name);
    let mut sql = vec![ddl::create_sequence(name, seq)];
    sql.extend(ddl::comment_change(target, None, seq.comment.as_deref()));
    sql.extend(ddl::grant_changes(
        target,
        None,
        &super::creation_grants(model, target),
        &seq.grants,
    ));
    ddl::join(sql)
}

fn alter_sql(name: &QualName, from: &Sequence, to: &Sequence) -> Vec<String> {
    let target = Target::Sequence(name);
    let mut sql: Vec<String> = ddl::alter_sequence(name, &from.options, &to.options)
        .into_iter()
        .collect();
    sql.extend(ddl::comment_change(
        target,
        from.comment.as_deref(),
        to.comment.as_deref(),
    ));
    sql.extend(ddl::grant_changes(target, None, &from.grants, &to.grants));
    sql
}

pub(super) fn emit(d: &mut Differ) {
    for (name, seq) in &d.des.sequences {
        let id = ObjectId::Sequence(name.clone());
        match d.decision(&id) {
            Decision::Create => {
                let step = Step::new(
                    format!("create sequence {name}"),
                    create_sql(d.des, name, seq),
                );
                d.push(Differ::node(id, Action::Create, step).claims(Name::Relation(name.clone())));
            }
            Decision::Alter => {
                let Some(old) = d.cur.sequences.get(name) else {
                    continue;
                };
                let forward = alter_sql(name, old, seq);
                if !forward.is_empty() {
                    let step = Step::new(format!("alter sequence {name}"), ddl::join(forward));
                    d.push(Differ::node(id, Action::Alter, step));
                }
            }
            _ => {}
        }
    }
    for name in d.cur.sequences.keys() {
        let id = ObjectId::Sequence(name.clone());
        if d.decision(&id) == Decision::Drop {
            let step = Step::new(format!("drop sequence {name}"), ddl::drop_sequence(name))
                .effect(Effect::DestroysData);
            let node = Differ::node(id, Action::Drop, step).frees(Name::Relation(name.clone()));
            d.push_drop(node);
        }
    }
}

/// `ALTER SEQUENCE ... OWNED BY` for new sequences and changed owners.
pub(super) fn emit_owners(d: &mut Differ) {
    for (name, seq) in &d.des.sequences {
        let id = ObjectId::SequenceOwner(name.clone());
        let decision = d.decision(&id);
        if !matches!(decision, Decision::Create | Decision::Alter) {
            continue;
        }
        let new = seq.owned_by.as_ref().map(|o| (&o.table, o.column.as_str()));
        let step = Step::new(
            format!("set owner of sequence {name}"),
            ddl::sequence_owned_by(name, new),
        );
        let action = if decision == Decision::Create {
            Action::Create
        } else {
            Action::Alter
        };
        d.push(Differ::node(id, action, step));
    }
}
