//! Schemas and extensions.

use super::{Action, Decision, Differ};
use crate::ddl::{self, Target};
use crate::model::{Grants, ObjectId};
use crate::plan::{Effect, Step};

pub(super) fn decide(d: &mut Differ) {
    d.decide_map(
        &d.cur.schemas,
        &d.des.schemas,
        |n| ObjectId::Schema(n.clone()),
        |_, _| false,
    );
    d.decide_map(
        &d.cur.extensions,
        &d.des.extensions,
        |n| ObjectId::Extension(n.clone()),
        |_, _| false,
    );
}

pub(super) fn emit(d: &mut Differ) {
    let none = Grants::new();
    for (name, schema) in &d.des.schemas {
        let id = ObjectId::Schema(name.clone());
        let target = Target::Schema(name);
        match d.decision(&id) {
            Decision::Create => {
                let mut sql = vec![ddl::create_schema(name)];
                sql.extend(ddl::comment_change(target, None, schema.comment.as_deref()));
                sql.extend(ddl::grant_changes(
                    target,
                    None,
                    &super::creation_grants(d.des, target),
                    &schema.grants,
                ));
                let step = Step::new(
                    format!("create schema {}", crate::sql::Ident(name)),
                    ddl::join(sql),
                );
                d.push(Differ::node(id, Action::Create, step));
            }
            Decision::Alter => {
                let Some(old) = d.cur.schemas.get(name) else {
                    continue;
                };
                let forward = changes(target, old, schema);
                let step = Step::new(
                    format!(
                        "change comment or privileges of schema {}",
                        crate::sql::Ident(name)
                    ),
                    ddl::join(forward),
                );
                d.push(Differ::node(id, Action::Alter, step));
            }
            _ => {}
        }
    }
    for (name, schema) in &d.cur.schemas {
        let id = ObjectId::Schema(name.clone());
        if d.decision(&id) == Decision::Drop {
            let target = Target::Schema(name);
            let mut back = vec![ddl::create_schema(name)];
            back.extend(ddl::comment_change(target, None, schema.comment.as_deref()));
            back.extend(ddl::grant_changes(target, None, &none, &schema.grants));
            let step = Step::new(
                format!("drop schema {}", crate::sql::Ident(name)),
                ddl::drop_schema(name),
            );
            d.push_drop(Differ::node(id, Action::Drop, step));
        }
    }
    for (name, ext) in &d.des.extensions {
        let id = ObjectId::Extension(name.clone());
        match d.decision(&id) {
            Decision::Create => {
                let step = Step::new(
                    format!("create extension {}", crate::sql::Ident(name)),
                    ddl::create_extension(name, ext),
                );
                d.push(Differ::node(id, Action::Create, step));
            }
            Decision::Alter => {
                let Some(old) = d.cur.extensions.get(name) else {
                    continue;
                };
                let mut step = Step::new(
                    format!("update extension {}", crate::sql::Ident(name)),
                    ddl::join(ddl::alter_extension(name, old, ext)),
                );
                if old.version != ext.version {
                    step = step.effect(Effect::RunsExtensionScript);
                }
                d.push(Differ::node(id, Action::Alter, step));
            }
            _ => {}
        }
    }
    for name in d.cur.extensions.keys() {
        let id = ObjectId::Extension(name.clone());
        if d.decision(&id) == Decision::Drop {
            let step = Step::new(
                format!("drop extension {}", crate::sql::Ident(name)),
                ddl::drop_extension(name),
            )
            .effect(Effect::DropsDefinition);
            d.push_drop(Differ::node(id, Action::Drop, step));
        }
    }
}

fn changes(
    target: Target<'_>,
    from: &crate::model::Schema,
    to: &crate::model::Schema,
) -> Vec<String> {
    let mut sql: Vec<String> =
        ddl::comment_change(target, from.comment.as_deref(), to.comment.as_deref())
            .into_iter()
            .collect();
    sql.extend(ddl::grant_changes(target, None, &from.grants, &to.grants));
    sql
}
