//! Objects strata manages by their whole definition: collations, extended statistics,
//! aggregates, operators, casts, foreign servers and foreign tables. Created from it, dropped, and dropped and created again when the definition
//! changes; their comment (and an aggregate's privileges) change in place.

use std::collections::BTreeMap;

use super::{Action, Decision, Differ};
use crate::ddl::{
    self, alter_aggregate, alter_cast, alter_collation, alter_operator, alter_statistics,
    create_cast, create_operator, drop_cast, drop_operator,
};
use crate::model::{Collation, ObjectId};
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
    // A collation that columns use is swapped, not dropped: renamed aside, created again,
    // the columns moved to the new one, the old one dropped.
    let replaced: Vec<QualName> = d
        .cur
        .collations
        .keys()
        .filter(|n| d.decision(&ObjectId::Collation((*n).clone())) == Decision::Replace)
        .cloned()
        .collect();
    for name in replaced {
        let users = collation_users(d, &name);
        if users.is_empty() {
            continue;
        }
        d.set(ObjectId::Collation(name.clone()), Decision::Alter);
        for (table, column) in users {
            d.disrupt(ObjectId::Column(table, column));
        }
        d.collation_swaps.push(name);
    }
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
    d.decide_map(
        &d.cur.operators,
        &d.des.operators,
        |id| ObjectId::Operator(id.clone()),
        |a, b| a.options != b.options,
    );
    d.decide_map(
        &d.cur.user_casts,
        &d.des.user_casts,
        |key| ObjectId::Cast(key.clone()),
        |a, b| a.method != b.method || a.context != b.context,
    );
    // A foreign server is made again when its wrapper or type changes or it loses its
    // version (taking its foreign tables along); the rest changes in place.
    d.decide_map(
        &d.cur.foreign_servers,
        &d.des.foreign_servers,
        |n| ObjectId::ForeignServer(n.clone()),
        |a, b| {
            a.wrapper != b.wrapper
                || a.server_type != b.server_type
                || (a.version.is_some() && b.version.is_none())
        },
    );
    // A foreign table's rows are its server's: a new shape drops it and creates it again.
    d.decide_map(
        &d.cur.foreign_tables,
        &d.des.foreign_tables,
        |n| ObjectId::ForeignTable(n.clone()),
        |a, b| a.shape() != b.shape(),
    );
}

/// One kind: how to create, drop and change in place.
struct Kind<'a, K, V> {
    cur: &'a BTreeMap<K, V>,
    des: &'a BTreeMap<K, V>,
    id: fn(&K) -> ObjectId,
    create: fn(&K, &V) -> String,
    drop: fn(&K) -> String,
    alter: fn(&K, &V, &V) -> Vec<String>,
}

fn emit_kind<K: Ord + std::fmt::Display, V>(d: &mut Differ, kind: Kind<'_, K, V>) {
    for key in kind.cur.keys() {
        let id = (kind.id)(key);
        if matches!(d.decision(&id), Decision::Drop | Decision::Replace) {
            let step = Step::new(format!("drop {id}"), (kind.drop)(key));
            d.push_drop(Differ::node(id, Action::Drop, step));
        }
    }
    for (key, value) in kind.des {
        let id = (kind.id)(key);
        match d.decision(&id) {
            Decision::Create | Decision::Replace => {
                let step = Step::new(format!("create {id}"), (kind.create)(key, value));
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
                let step = Step::new(format!("alter {id}"), ddl::join(forward));
                d.push(Differ::node(id, Action::Alter, step));
            }
            _ => {}
        }
    }
}

/// The columns that use a collation now and keep it.
fn collation_users(d: &Differ, name: &QualName) -> Vec<(QualName, crate::sql::Name)> {
    let mut out = Vec::new();
    for (table, t) in &d.cur.tables {
        for (column, c) in &t.columns {
            let kept = d
                .des
                .tables
                .get(table)
                .and_then(|t| t.columns.get(column))
                .is_some_and(|n| n.collation.as_ref() == Some(name) && n.data_type == c.data_type);
            if c.collation.as_ref() == Some(name) && kept {
                out.push((table.clone(), column.clone()));
            }
        }
    }
    out
}

/// Rename a collation aside, create it anew, move the columns that use it, drop the old.
fn emit_collation_swap(d: &mut Differ, name: &QualName) {
    let (Some(old), Some(new)) = (d.cur.collations.get(name), d.des.collations.get(name)) else {
        return;
    };
    let users = collation_users(d, name);
    let aside = name.sibling(ddl::temp_name(
        "old",
        &format!("{name} {}", ddl::create_collation(name, old)),
    ));
    let mut sql = vec![
        ddl::rename_collation(name, &aside.name),
        ddl::create_collation(name, new),
    ];
    let mut also = Vec::new();
    for (table, column) in &users {
        if let Some(c) = d
            .des
            .tables
            .get(table)
            .and_then(|t| t.columns.get(column.as_str()))
        {
            sql.push(ddl::alter_column_type(table, column, c, None));
            also.push(ObjectId::Column(table.clone(), column.as_str().into()));
        }
    }
    let step = Step::new(
        format!(
            "rebuild collation {name} and move the {} column(s) using it",
            users.len()
        ),
        ddl::join(sql),
    )
    .effect(crate::plan::Effect::RewritesTable)
    .locks(Some(crate::plan::Lock::AccessExclusive));
    let id = ObjectId::Collation(name.clone());
    d.push(Differ::node(id.clone(), Action::Alter, step).also(also));
    let drop_step = Step::new(
        format!("drop the old version of collation {name}"),
        ddl::drop_collation(&aside),
    );
    let mut node = Differ::node(ObjectId::Collation(aside), Action::Drop, drop_step);
    node.after_alters.push(id);
    // Columns that leave the collation do so before the old one goes.
    for (table, t) in &d.cur.tables {
        for (column, c) in &t.columns {
            if c.collation.as_ref() == Some(name)
                && !users.contains(&(table.clone(), column.clone()))
            {
                node.after_alters
                    .push(ObjectId::Column(table.clone(), column.clone()));
            }
        }
    }
    d.push(node);
}

pub(super) fn emit(d: &mut Differ) {
    for name in d.collation_swaps.clone() {
        emit_collation_swap(d, &name);
    }
    let (cur, des) = (d.cur, d.des);
    emit_kind(
        d,
        Kind {
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
            cur: &cur.aggregates,
            des: &des.aggregates,
            id: |id| ObjectId::Aggregate(id.clone()),
            create: ddl::create_aggregate,
            drop: ddl::drop_aggregate,
            alter: alter_aggregate,
        },
    );
    emit_kind(
        d,
        Kind {
            cur: &cur.operators,
            des: &des.operators,
            id: |id| ObjectId::Operator(id.clone()),
            create: create_operator,
            drop: drop_operator,
            alter: alter_operator,
        },
    );
    emit_kind(
        d,
        Kind {
            cur: &cur.user_casts,
            des: &des.user_casts,
            id: |key| ObjectId::Cast(key.clone()),
            create: create_cast,
            drop: drop_cast,
            alter: alter_cast,
        },
    );
    emit_kind(
        d,
        Kind {
            cur: &cur.foreign_servers,
            des: &des.foreign_servers,
            id: |n| ObjectId::ForeignServer(n.clone()),
            create: |n, v| ddl::create_foreign_server(n, v),
            drop: |n| ddl::drop_foreign_server(n),
            alter: |n, a, b| ddl::alter_foreign_server(n, a, b),
        },
    );
    emit_kind(
        d,
        Kind {
            cur: &cur.foreign_tables,
            des: &des.foreign_tables,
            id: |n| ObjectId::ForeignTable(n.clone()),
            create: ddl::create_foreign_table,
            drop: ddl::drop_foreign_table,
            alter: ddl::alter_foreign_table,
        },
    );
}
