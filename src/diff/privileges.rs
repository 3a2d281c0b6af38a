//! Default privileges (`ALTER DEFAULT PRIVILEGES`): granted and revoked in place, before
//! anything a plan creates (what it creates gets them, and its own grants are planned from
//! them, see [`super::creation_grants`]).

use super::{Action, Decision, Differ};
use crate::ddl::{self, alter_publication, create_publication};
use crate::model::{DefaultPrivileges, Grant, Grants, ObjectId};
use crate::plan::Step;

pub(super) fn decide(d: &mut Differ) {
    d.decide_map(
        &d.cur.default_privileges,
        &d.des.default_privileges,
        |key| ObjectId::DefaultPrivileges(key.clone()),
        |_, _| false,
    );
}

/// What objects of a kind get when there is no entry: the built-in defaults (everywhere)
/// or nothing more (in a schema).
fn builtin(p: &DefaultPrivileges) -> Grants {
    let public = |privilege: &str| Grant {
        grantee: "PUBLIC".into(),
        privilege: privilege.into(),
        grantable: false,
    };
    match (p.schema.is_some(), p.on.as_str()) {
        (false, "functions") => [public("EXECUTE")].into(),
        (false, "types") => [public("USAGE")].into(),
        _ => Grants::new(),
    }
}

pub(super) fn emit(d: &mut Differ) {
    let keys: std::collections::BTreeSet<&crate::sql::Name> = d
        .cur
        .default_privileges
        .keys()
        .chain(d.des.default_privileges.keys())
        .collect();
    for key in keys {
        let id = ObjectId::DefaultPrivileges(key.as_str().into());
        let action = match d.decision(&id) {
            Decision::Create => Action::Create,
            Decision::Drop => Action::Drop,
            Decision::Alter | Decision::Replace => Action::Alter,
            Decision::Keep => continue,
        };
        let (old, new) = (
            d.cur.default_privileges.get(key.as_str()),
            d.des.default_privileges.get(key.as_str()),
        );
        let Some(any) = new.or(old) else {
            continue;
        };
        let from = old.map_or_else(|| builtin(any), |p| p.grants.clone());
        let to = new.map_or_else(|| builtin(any), |p| p.grants.clone());
        let change = |a: &Grants, b: &Grants| {
            ddl::default_privilege_changes(
                any.role.as_deref(),
                any.schema.as_deref(),
                &any.on,
                a,
                b,
            )
        };
        let forward = change(&from, &to);
        if forward.is_empty() {
            continue;
        }
        let step = Step::new(
            format!("change {}", DefaultPrivileges::describe(key)),
            ddl::join(forward),
        );
        let mut node = Differ::node(id, action, step);
        if let Some(schema) = &any.schema {
            node.needs.push(ObjectId::Schema(schema.as_str().into()));
            node.before_drop_of
                .push(ObjectId::Schema(schema.as_str().into()));
        }
        d.push(node);
    }
}

/// What a plan creates comes after the default privileges change.
pub(super) fn order_creations(d: &mut Differ) {
    let changed: Vec<ObjectId> = d
        .nodes
        .iter()
        .filter(|n| matches!(n.object, ObjectId::DefaultPrivileges(_)))
        .map(|n| n.object.clone())
        .collect();
    if changed.is_empty() {
        return;
    }
    for node in &mut d.nodes {
        let created = node.action != Action::Drop
            && matches!(
                node.object,
                ObjectId::Schema(_)
                    | ObjectId::Table(_)
                    | ObjectId::View(_)
                    | ObjectId::Sequence(_)
                    | ObjectId::Function(_)
                    | ObjectId::Aggregate(_)
                    | ObjectId::Type(_)
            );
        if !created {
            continue;
        }
        // A schema comes before default privileges in it (only those everywhere apply to
        // new schemas).
        let everywhere = |id: &&ObjectId| matches!(id, ObjectId::DefaultPrivileges(key) if key.split('|').nth(1) == Some(""));
        if matches!(node.object, ObjectId::Schema(_)) {
            node.after
                .extend(changed.iter().filter(everywhere).cloned());
        } else {
            node.after.extend(changed.iter().cloned());
        }
    }
}

/// Publications: created with their tables and options, altered in place (`SET TABLE`,
/// `SET (...)`), dropped and created again only when `FOR ALL TABLES` changes.
pub(super) fn decide_publications(d: &mut Differ) {
    d.decide_map(
        &d.cur.publications,
        &d.des.publications,
        |name| ObjectId::Publication(name.clone()),
        |a, b| a.all_tables != b.all_tables,
    );
}

pub(super) fn emit_publications(d: &mut Differ) {
    for (name, p) in &d.cur.publications {
        let id = ObjectId::Publication(name.clone());
        if matches!(d.decision(&id), Decision::Drop | Decision::Replace) {
            let step = Step::new(
                format!("drop publication {}", crate::sql::Ident(name)),
                ddl::drop_publication(name),
            );
            let mut node = Differ::node(id, Action::Drop, step);
            // Before the tables it publishes go (they would leave it anyway).
            node.before_drop_of
                .extend(p.tables.iter().map(|t| ObjectId::Table(t.clone())));
            d.push(node);
        }
    }
    for (name, p) in &d.des.publications {
        let id = ObjectId::Publication(name.clone());
        let (step, action) = match d.decision(&id) {
            Decision::Create | Decision::Replace => (
                Step::new(
                    format!("create publication {}", crate::sql::Ident(name)),
                    create_publication(name, p),
                ),
                Action::Create,
            ),
            Decision::Alter => {
                let Some(old) = d.cur.publications.get(name) else {
                    continue;
                };
                let forward = alter_publication(name, old, p);
                if forward.is_empty() {
                    continue;
                }
                (
                    Step::new(
                        format!("alter publication {}", crate::sql::Ident(name)),
                        ddl::join(forward),
                    ),
                    Action::Alter,
                )
            }
            _ => continue,
        };
        let mut node = Differ::node(id, action, step);
        node.needs
            .extend(p.tables.iter().map(|t| ObjectId::Table(t.clone())));
        if let Some(old) = d.cur.publications.get(name) {
            // Tables it stops publishing may be dropped only after.
            node.before_drop_of
                .extend(old.tables.iter().map(|t| ObjectId::Table(t.clone())));
        }
        d.push(node);
    }
}

/// Roles the schema declares: created (when the server lacks them) before anything that
/// could grant to them, forgotten (never dropped) when no longer declared.
pub(super) fn decide_roles(d: &mut Differ) {
    for role in d.des.declared_roles.difference(&d.cur.declared_roles) {
        d.set(ObjectId::Role(role.clone()), Decision::Create);
    }
    for role in d.cur.declared_roles.difference(&d.des.declared_roles) {
        d.set(ObjectId::Role(role.clone()), Decision::Drop);
    }
}

pub(super) fn emit_roles(d: &mut Differ) {
    let (cur, des) = (d.cur, d.des);
    for role in cur.declared_roles.difference(&des.declared_roles) {
        let step = Step::new(
            format!("forget role {role} (the role stays: roles are the server's)"),
            ddl::forget_role(role),
        );
        d.push_drop(Differ::node(
            ObjectId::Role(role.clone()),
            Action::Drop,
            step,
        ));
    }
    let created: Vec<ObjectId> = des
        .declared_roles
        .difference(&cur.declared_roles)
        .map(|r| ObjectId::Role(r.clone()))
        .collect();
    for id in &created {
        let ObjectId::Role(role) = id else { continue };
        let step = Step::new(
            format!("create role {role} unless the server has it"),
            ddl::create_role(role),
        );
        d.push(Differ::node(id.clone(), Action::Create, step));
    }
    if created.is_empty() {
        return;
    }
    // Everything else may grant to them.
    for node in &mut d.nodes {
        if !matches!(node.object, ObjectId::Role(_)) {
            node.after.extend(created.iter().cloned());
        }
    }
}
