//! Unit tests of the renames: directives resolved against states, the names that follow,
//! the check of a recorded renamed state.

use super::*;
use crate::source::{RenameDirective, Schema, SourceFile};

/// A model with tables given as (name, columns, constraints).
fn model(tables: &[(&str, &[&str], &[&str])]) -> Model {
    let mut m = Model::default();
    for (name, columns, constraints) in tables {
        let mut t = crate::model::Table::default();
        for c in *columns {
            t.columns.insert(
                (*c).into(),
                crate::model::Column {
                    data_type: "integer".to_owned(),
                    collation: None,
                    not_null: false,
                    default: None,
                    identity: None,
                    generated: None,
                    comment: None,
                    grants: Default::default(),
                    using: Default::default(),
                },
            );
        }
        for c in *constraints {
            t.constraints.insert(
                (*c).into(),
                crate::model::Constraint {
                    kind: crate::model::ConstraintKind::Unique,
                    definition: String::new(),
                    validated: true,
                    deferrable: false,
                    references: None,
                    index: Some(String::new()),
                    comment: None,
                    detail: Default::default(),
                },
            );
        }
        m.tables.insert(QualName::new("public", *name), t);
    }
    m
}

fn directives(text: &str) -> Vec<RenameDirective> {
    Schema::from_files(vec![SourceFile::new("s.sql", text)])
        .unwrap()
        .renames()
        .unwrap()
}

const SCHEMA: &str = "-- strata:renamed-from people\nCREATE TABLE persons (\n  \
                      -- strata:renamed-from mail\n  email int\n);\n";

#[test]
fn renames_apply_while_the_old_name_is_there_and_take_derived_names_along() {
    let current = model(&[(
        "people",
        &["mail"],
        &["people_mail_key", "people_pkey", "other"],
    )]);
    let desired = model(&[(
        "persons",
        &["email"],
        &["persons_email_key", "persons_pkey", "other"],
    )]);
    let got = resolve(&directives(SCHEMA), &current, &desired).unwrap();
    let t = QualName::new("public", "persons");
    assert_eq!(
        got,
        vec![
            Rename::Table {
                from: QualName::new("public", "people"),
                to: "persons".into()
            },
            Rename::Column {
                table: t.clone(),
                from: "mail".into(),
                to: "email".into()
            },
            Rename::Constraint {
                table: t.clone(),
                from: "people_mail_key".into(),
                to: "persons_email_key".into()
            },
            Rename::Constraint {
                table: t,
                from: "people_pkey".into(),
                to: "persons_pkey".into()
            },
        ]
    );
    assert_eq!(
        got[1].sql(),
        "ALTER TABLE public.persons RENAME COLUMN mail TO email;"
    );
    assert_eq!(
        got[1].reversed().sql(),
        "ALTER TABLE public.persons RENAME COLUMN email TO mail;"
    );
    // Once done, the directives are ignored.
    assert_eq!(
        resolve(&directives(SCHEMA), &desired, &desired).unwrap(),
        Vec::new()
    );
}

#[test]
fn a_rename_the_database_contradicts_is_refused_at_the_directive() {
    let both = model(&[("people", &["mail"], &[]), ("persons", &["email"], &[])]);
    let desired = model(&[("persons", &["email"], &[])]);
    let problem = resolve(&directives(SCHEMA), &both, &desired).unwrap_err();
    assert_eq!(problem.line, 1);
    assert!(problem.message.contains("has both"), "{problem}");
    let columns = model(&[("persons", &["mail", "email"], &[])]);
    let problem = resolve(&directives(SCHEMA), &columns, &desired).unwrap_err();
    assert_eq!(problem.line, 3);
    assert!(problem.message.contains("has both"), "{problem}");
    let kept = model(&[("persons", &["email"], &[]), ("people", &[], &[])]);
    let problem = resolve(&directives(SCHEMA), &both, &kept).unwrap_err();
    assert!(problem.message.contains("still defines"), "{problem}");
}

#[test]
fn a_recorded_renamed_state_must_be_what_the_renames_make() {
    let source = model(&[("people", &["mail"], &[])]);
    let target = model(&[("persons", &["email"], &[])]);
    let renames = vec![
        Rename::Table {
            from: QualName::new("public", "people"),
            to: "persons".into(),
        },
        Rename::Column {
            table: QualName::new("public", "persons"),
            from: "mail".into(),
            to: "email".into(),
        },
    ];
    let renaming = |tables: &[(&str, &[&str], &[&str])]| Renaming {
        renames: renames.clone(),
        catalog: Catalog {
            model: model(tables),
            ..Catalog::default()
        },
    };
    assert!(mismatches(&source, &renaming(&[("persons", &["email"], &[])]), &target).is_empty());
    let wrong = mismatches(
        &source,
        &renaming(&[("persons", &["email", "x"], &[])]),
        &target,
    );
    assert_eq!(
        wrong,
        vec!["its renamed state has column x of public.persons, which the renames do not make"]
    );
    let wrong = mismatches(&source, &renaming(&[("people", &["email"], &[])]), &target);
    assert!(
        wrong
            .iter()
            .any(|w| w.contains("lacks relation public.persons")),
        "{wrong:?}"
    );
    // A swap through a temporary name is not a rename from source to target.
    let both = model(&[("a", &["x"], &[]), ("b", &["y"], &[])]);
    let swap = Renaming {
        renames: vec![
            Rename::Table {
                from: QualName::new("public", "a"),
                to: "tmp".into(),
            },
            Rename::Table {
                from: QualName::new("public", "b"),
                to: "a".into(),
            },
            Rename::Table {
                from: QualName::new("public", "tmp"),
                to: "b".into(),
            },
        ],
        catalog: Catalog {
            model: model(&[("a", &["y"], &[]), ("b", &["x"], &[])]),
            ..Catalog::default()
        },
    };
    let wrong = mismatches(&both, &swap, &both);
    assert!(
        wrong[0].contains("not a rename from its source"),
        "{wrong:?}"
    );
    let other = model(&[("folks", &["mail"], &[])]);
    let wrong = mismatches(&other, &renaming(&[("persons", &["email"], &[])]), &target);
    assert!(wrong[0].contains("does not have"), "{wrong:?}");
}

#[test]
fn enum_values_rename_with_quotes() {
    let mut current = Model::default();
    let mut desired = Model::default();
    let ty = |labels: &[&str]| crate::model::TypeDef {
        kind: TypeKind::Enum {
            labels: labels.iter().map(|l| (*l).to_owned()).collect(),
        },
        comment: None,
        grants: Default::default(),
    };
    let name = QualName::new("public", "mood");
    current.types.insert(name.clone(), ty(&["it's", "sad"]));
    desired.types.insert(name.clone(), ty(&["it is", "sad"]));
    let d = directives(
        "CREATE TYPE mood AS ENUM (\n  'it is', -- strata:renamed-from 'it''s'\n  'sad'\n);\n",
    );
    let got = resolve(&d, &current, &desired).unwrap();
    assert_eq!(
        got[0].sql(),
        "ALTER TYPE public.mood RENAME VALUE 'it''s' TO 'it is';"
    );
}
