//! Views and materialized views: `CREATE OR REPLACE VIEW` when the new view keeps the old
//! one's columns (and may add some at the end); otherwise drop and create, with the views
//! that depend on it rebuilt.

use super::{Action, Decision, Differ, Name};
use crate::ddl::{self, Target};
use crate::model::{ObjectId, View};
use crate::plan::Step;
use crate::sql::QualName;

pub(super) fn decide(d: &mut Differ) {
    d.decide_map(
        &d.cur.views,
        &d.des.views,
        |n| ObjectId::View(n.clone()),
        |a, b| {
            a.materialized != b.materialized
                || (b.materialized
                    && (a.definition != b.definition
                        || a.columns != b.columns
                        || a.options != b.options))
                || !b.columns.starts_with(&a.columns)
        },
    );
}

fn names(name: &QualName) -> Vec<Name> {
    vec![Name::Relation(name.clone()), Name::Type(name.clone())]
}

fn decorations(
    model: &crate::model::Model,
    name: &QualName,
    from: Option<&View>,
    to: &View,
) -> Vec<String> {
    let target = Target::View(name, to.materialized);
    let no_grants = super::creation_grants(model, target);
    let mut sql: Vec<String> = ddl::comment_change(
        target,
        from.and_then(|v| v.comment.as_deref()),
        to.comment.as_deref(),
    )
    .into_iter()
    .collect();
    let empty = std::collections::BTreeMap::new();
    let old_comments = from.map_or(&empty, |v| &v.column_comments);
    for (column, text) in &to.column_comments {
        if old_comments.get(column) != Some(text) {
            sql.push(ddl::comment(Target::Column(name, column), Some(text)));
        }
    }
    for column in old_comments
        .keys()
        .filter(|c| !to.column_comments.contains_key(*c))
    {
        if to.columns.iter().any(|c| &c.name == column) {
            sql.push(ddl::comment(Target::Column(name, column), None));
        }
    }
    sql.extend(ddl::grant_changes(
        target,
        None,
        from.map_or(&no_grants, |v| &v.grants),
        &to.grants,
    ));
    sql
}

fn create_sql(model: &crate::model::Model, name: &QualName, view: &View) -> String {
    let mut sql = vec![ddl::create_view(name, view, false)];
    sql.extend(decorations(model, name, None, view));
    ddl::join(sql)
}

fn kind(view: &View) -> &'static str {
    if view.materialized {
        "materialized view"
    } else {
        "view"
    }
}

fn alter_sql(model: &crate::model::Model, name: &QualName, from: &View, to: &View) -> Vec<String> {
    let mut sql = Vec::new();
    if from.definition != to.definition || from.columns != to.columns {
        let keep_options = View {
            options: from.options.clone(),
            ..to.clone()
        };
        sql.push(ddl::create_view(name, &keep_options, true));
    }
    sql.extend(ddl::option_changes(
        "VIEW",
        name,
        &from.options,
        &to.options,
    ));
    sql.extend(decorations(model, name, Some(from), to));
    sql
}

pub(super) fn emit(d: &mut Differ) {
    for (name, view) in &d.cur.views {
        let id = ObjectId::View(name.clone());
        if matches!(d.decision(&id), Decision::Drop | Decision::Replace) {
            let step = Step::new(
                format!("drop {} {name}", kind(view)),
                ddl::drop_view(name, view.materialized),
            );
            let mut node = Differ::node(id, Action::Drop, step);
            node.frees = names(name);
            d.push_drop(node);
        }
    }
    for (name, view) in &d.des.views {
        let id = ObjectId::View(name.clone());
        match d.decision(&id) {
            Decision::Create | Decision::Replace => {
                let mut step = Step::new(
                    format!("create {} {name}", kind(view)),
                    create_sql(d.des, name, view),
                );
                if view.materialized && !view.unpopulated && d.decision(&id) == Decision::Replace {
                    step = step.effect(crate::plan::Effect::RecomputesView);
                }
                let mut node = Differ::node(id, Action::Create, step);
                node.claims = names(name);
                d.push(node);
            }
            Decision::Alter => {
                let Some(old) = d.cur.views.get(name) else {
                    continue;
                };
                if old.unpopulated != view.unpopulated {
                    let step = Step::new(
                        if view.unpopulated {
                            format!("empty materialized view {name} (WITH NO DATA)")
                        } else {
                            format!("fill materialized view {name}")
                        },
                        ddl::refresh_view(name, !view.unpopulated),
                    )
                    .effect(crate::plan::Effect::RecomputesView);
                    d.push(Differ::node(id.clone(), Action::Alter, step));
                }
                let forward = alter_sql(d.des, name, old, view);
                if forward.is_empty() {
                    continue;
                }
                // Only its comment or privileges: say so, not "replace".
                let replaces = old.definition != view.definition
                    || old.columns != view.columns
                    || old.options != view.options;
                let summary = if replaces {
                    format!("replace {} {}", kind(view), name)
                } else {
                    format!("change comment or privileges of {} {}", kind(view), name)
                };
                let mut step = Step::new(summary, ddl::join(forward));
                if !replaces {
                    // `COMMENT ON` (the view's or a column's) takes SHARE UPDATE EXCLUSIVE,
                    // `GRANT` no table lock: the stronger is declared.
                    step = step.locks(Some(crate::plan::Lock::ShareUpdateExclusive));
                }
                d.push(Differ::node(id, Action::Alter, step));
            }
            _ => {}
        }
    }
}
