//! Objects strata manages by their whole definition: collations, extended statistics and
//! aggregates. Created from it, dropped, and dropped and created again when the definition
//! changes; their comment (and an aggregate's privileges) change in place.

use std::collections::BTreeMap;

use super::{Action, Decision, Differ};
use crate::ddl::{self, Target};
use crate::model::{Aggregate, Collation, FunctionId, ObjectId, Statistics};
use crate::plan::Step;
use crate::sql::QualName;

pub(super) fn decide(d: &mut Differ) {
    d.decide_map(
        &d.cur.collations,
        &d.des.collations,
        |n| ObjectId::Collation(n.clone()),
        |a, b| {
            Collation {
                comment: None,
                ..a.clone()
            } != Collation {
                comment: None,
                ..b.clone()
            }
        },
    );
    d.decide_map(
        &d.cur.statistics,
        &d.des.statistics,
        |n| ObjectId::Statistics(n.clone()),
        |a, b| a.definition != b.definition,
    );
    d.decide_map(
        &d.cur.aggregates,
        &d.des.aggregates,
        |id| ObjectId::Aggregate(id.clone()),
        |a, b| a.options != b.options,
    );
}

/// One kind: how to create, drop and change in place.
struct Kind<'a, K, V> {
    word: &'static str,
    cur: &'a BTreeMap<K, V>,
    des: &'a BTreeMap<K, V>,
    id: fn(&K) -> ObjectId,
    create: fn(&K, &V) -> String,
    drop: fn(&K) -> String,
    alter: fn(&K, &V, &V) -> Vec<String>,
}

fn emit_kind<K: Ord + std::fmt::Display, V>(d: &mut Differ, kind: Kind<'_, K, V>) {
    for (key, value) in kind.cur {
        let id = (kind.id)(key);
        if matches!(d.decision(&id), Decision::Drop | Decision::Replace) {
            let step = Step::new(format!("drop {} {key}", kind.word), (kind.drop)(key))
                .reverse((kind.create)(key, value));
            d.push_drop(Differ::node(id, Action::Drop, step));
        }
    }
    for (key, value) in kind.des {
        let id = (kind.id)(key);
        match d.decision(&id) {
            Decision::Create | Decision::Replace => {
                let step = Step::new(
                    format!("create {} {key}", kind.word),
                    (kind.create)(key, value),
                )
                .reverse((kind.drop)(key));
                d.push(Differ::node(id, Action::Create, step));
            }
            Decision::Alter => {
                let Some(old) = kind.cur.get(key) else {
                    continue;
                };
                let forward = (kind.alter)(key, old, value);
                if forward.is_empty() {
                    continue;
                }
                let step = Step::new(format!("alter {} {key}", kind.word), ddl::join(forward))
                    .reverse(ddl::join((kind.alter)(key, value, old)));
                d.push(Differ::node(id, Action::Alter, step));
            }
            _ => {}
        }
    }
}

fn alter_collation(name: &QualName, from: &Collation, to: &Collation) -> Vec<String> {
    ddl::comment_change(
        Target::Collation(name),
        from.comment.as_deref(),
        to.comment.as_deref(),
    )
    .into_iter()
    .collect()
}

fn alter_statistics(name: &QualName, from: &Statistics, to: &Statistics) -> Vec<String> {
    let mut sql = Vec::new();
    if from.target != to.target {
        sql.push(format!(
            "ALTER STATISTICS {name} SET STATISTICS {};",
            to.target.map_or("-1".to_owned(), |t| t.to_string())
        ));
    }
    sql.extend(ddl::comment_change(
        Target::Statistics(name),
        from.comment.as_deref(),
        to.comment.as_deref(),
    ));
    sql
}

fn alter_aggregate(id: &FunctionId, from: &Aggregate, to: &Aggregate) -> Vec<String> {
    let target = Target::Aggregate(id);
    let mut sql: Vec<String> =
        ddl::comment_change(target, from.comment.as_deref(), to.comment.as_deref())
            .into_iter()
            .collect();
    sql.extend(ddl::grant_changes(target, None, &from.grants, &to.grants));
    sql
}

pub(super) fn emit(d: &mut Differ) {
    let (cur, des) = (d.cur, d.des);
    emit_kind(
        d,
        Kind {
            word: "collation",
            cur: &cur.collations,
            des: &des.collations,
            id: |n| ObjectId::Collation(n.clone()),
            create: ddl::create_collation,
            drop: ddl::drop_collation,
            alter: alter_collation,
        },
    );
    emit_kind(
        d,
        Kind {
            word: "statistics",
            cur: &cur.statistics,
            des: &des.statistics,
            id: |n| ObjectId::Statistics(n.clone()),
            create: ddl::create_statistics,
            drop: ddl::drop_statistics,
            alter: alter_statistics,
        },
    );
    emit_kind(
        d,
        Kind {
            word: "aggregate",
            cur: &cur.aggregates,
            des: &des.aggregates,
            id: |id| ObjectId::Aggregate(id.clone()),
            create: ddl::create_aggregate,
            drop: ddl::drop_aggregate,
            alter: alter_aggregate,
        },
    );
}
