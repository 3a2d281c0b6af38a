//! Indexes that no constraint owns. On tables that already exist they are built and dropped
//! `CONCURRENTLY`; a changed definition is built under a temporary name first, so the table
//! is never without the index.

use super::{Action, Decision, Differ, Name};
use crate::ddl::{self, Target};
use crate::model::{Index, ObjectId};
use crate::plan::{Check, Effect, Lock, Step};
use crate::sql::QualName;

pub(super) fn decide(d: &mut Differ) {
    d.decide_map(
        &d.cur.indexes,
        &d.des.indexes,
        |n| ObjectId::Index(n.clone()),
        |a, b| a.table != b.table || !a.valid,
    );
}

/// Whether the index's table (or materialized view) exists before this plan and stays,
/// so building on it must not block writes.
fn on_existing(d: &Differ, index: &Index) -> bool {
    let on = if d.des.views.contains_key(&index.table) {
        ObjectId::View(index.table.clone())
    } else {
        ObjectId::Table(index.table.clone())
    };
    !matches!(d.decision(&on), Decision::Create | Decision::Replace)
}

fn partitioned(d: &Differ, index: &Index) -> bool {
    d.des
        .tables
        .get(&index.table)
        .or_else(|| d.cur.tables.get(&index.table))
        .is_some_and(|t| t.partitioned_by.is_some())
}

fn create_step(d: &Differ, name: &QualName, index: &Index, build_as: &QualName) -> Step {
    let existing = on_existing(d, index);
    let concurrently = existing && !partitioned(d, index);
    let mut sql = vec![ddl::create_index(
        build_as,
        &index.table,
        index.unique,
        &index.definition,
        concurrently,
    )];
    // A concurrent build must be the only statement of its query: its comment is a step
    // of its own (see `comment_after_build`).
    if build_as == name && !concurrently {
        sql.extend(ddl::comment_change(
            Target::Index(name),
            None,
            index.comment.as_deref(),
        ));
    }
    let what = if index.unique {
        "unique index"
    } else {
        "index"
    };
    let mut step = Step::new(
        format!(
            "create {what} {build_as} on {}{}",
            index.table,
            if concurrently { " concurrently" } else { "" }
        ),
        ddl::join(sql),
    );
    if concurrently {
        step = step.builds(build_as.clone());
    } else if existing {
        step = step.effect(Effect::ScansTable);
    }
    let detail = &index.detail.0;
    if existing && index.unique && !detail.keys.is_empty() {
        step = step.check(Check::Unique {
            table: index.table.clone(),
            keys: detail.keys.clone(),
            predicate: detail.expression.clone(),
            nulls_not_distinct: detail.nulls_not_distinct,
        });
    }
    step
}

fn drop_step(d: &Differ, name: &QualName, index: &Index) -> Step {
    let concurrently = on_existing(d, index) && !partitioned(d, index);
    let mut back = vec![ddl::create_index(
        name,
        &index.table,
        index.unique,
        &index.definition,
        concurrently,
    )];
    back.extend(ddl::comment_change(
        Target::Index(name),
        None,
        index.comment.as_deref(),
    ));
    let mut step = Step::new(
        format!(
            "drop index {name}{}",
            if concurrently { " concurrently" } else { "" }
        ),
        ddl::drop_index(name, concurrently),
    );
    if concurrently {
        // `IF EXISTS`: a rerun after the drop committed does nothing.
        step = step
            .alone()
            .rerunnable()
            .locks(Some(Lock::ShareUpdateExclusive));
    }
    step
}

pub(super) fn emit(d: &mut Differ) {
    for (name, index) in &d.cur.indexes {
        let id = ObjectId::Index(name.clone());
        let decision = d.decision(&id);
        let definition_change = decision == Decision::Alter
            && d.des
                .indexes
                .get(name)
                .is_some_and(|n| n.definition != index.definition || n.unique != index.unique)
            && partitioned(d, index);
        if matches!(decision, Decision::Drop | Decision::Replace) || definition_change {
            let mut step = drop_step(d, name, index);
            if decision == Decision::Drop {
                step = step.effect(Effect::DropsIndex);
            }
            d.push_drop(Differ::node(id, Action::Drop, step).frees(Name::Relation(name.clone())));
        }
    }
    for (name, index) in &d.des.indexes {
        let id = ObjectId::Index(name.clone());
        match d.decision(&id) {
            Decision::Create | Decision::Replace => {
                let step = create_step(d, name, index, name);
                let concurrent = !step.transactional;
                d.push(
                    Differ::node(id.clone(), Action::Create, step)
                        .claims(Name::Relation(name.clone())),
                );
                if concurrent {
                    comment_after_build(d, name, index);
                }
            }
            Decision::Alter => {
                let Some(old) = d.cur.indexes.get(name) else {
                    continue;
                };
                if old.definition != index.definition || old.unique != index.unique {
                    if partitioned(d, index) {
                        let step = create_step(d, name, index, name);
                        let concurrent = !step.transactional;
                        d.push(
                            Differ::node(id, Action::Create, step)
                                .claims(Name::Relation(name.clone())),
                        );
                        if concurrent {
                            comment_after_build(d, name, index);
                        }
                    } else {
                        rebuild_under_temp_name(d, name, old, index);
                    }
                } else if let Some(sql) = ddl::comment_change(
                    Target::Index(name),
                    old.comment.as_deref(),
                    index.comment.as_deref(),
                ) {
                    let step = Step::new(format!("comment on index {name}"), sql);
                    d.push(Differ::node(id, Action::Alter, step));
                }
            }
            _ => {}
        }
    }
}

/// The comment of an index built concurrently, once it is built.
fn comment_after_build(d: &mut Differ, name: &QualName, index: &Index) {
    if let Some(sql) = ddl::comment_change(Target::Index(name), None, index.comment.as_deref()) {
        let step = Step::new(format!("comment on index {name}"), sql);
        d.push(Differ::node(
            ObjectId::Index(name.clone()),
            Action::Alter,
            step,
        ));
    }
}

/// Build the new definition concurrently under a temporary name, drop the old index
/// concurrently, rename the new one.
fn rebuild_under_temp_name(d: &mut Differ, name: &QualName, old: &Index, new: &Index) {
    let id = ObjectId::Index(name.clone());
    let temp = name.sibling(ddl::temp_name("idx", &format!("{name} {}", new.definition)));
    let build = create_step(d, name, new, &temp);
    let drop_old = drop_step(d, name, old);
    let mut rename = vec![ddl::rename_index(&temp, &name.name)];
    rename.extend(ddl::comment_change(
        Target::Index(name),
        old.comment.as_deref(),
        new.comment.as_deref(),
    ));
    let mut rename_back = vec![ddl::rename_index(name, &temp.name)];
    rename_back.extend(ddl::comment_change(
        Target::Index(name),
        new.comment.as_deref(),
        old.comment.as_deref(),
    ));
    let rename = Step::new(
        format!("rename index {temp} to {}", crate::sql::Ident(&name.name)),
        ddl::join(rename),
    );
    d.push(Differ::node(id.clone(), Action::Alter, build).claims(Name::Relation(temp.clone())));
    d.push(Differ::node(id.clone(), Action::Alter, drop_old));
    d.push(Differ::node(id, Action::Alter, rename));
}
