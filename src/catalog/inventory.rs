//! The inventory check: every object `inventory.sql` finds in the database is either in
//! the model or named as unmanaged (with the kinds strata manages, kept in step with
//! `docs/object-kinds.md` by a test).

use serde::Deserialize;

use crate::error::Unmanaged;
use crate::model::{FunctionId, Model, ObjectId};
use crate::sql::{Name, QualName};

/// The kinds of object the inventory reports, and which of them the model holds (every
/// other kind is named as unmanaged wherever it is found). `docs/object-kinds.md` lists
/// them; a test keeps the two in step.
pub(crate) const INVENTORY_KINDS: &[(&str, bool)] = &[
    ("table", true),
    ("view", true),
    ("materialized view", true),
    ("sequence", true),
    ("composite type", true),
    ("domain", true),
    ("enum type", true),
    ("range type", true),
    ("index", true),
    ("function", true),
    ("procedure", true),
    ("aggregate", true),
    ("constraint", true),
    ("trigger", true),
    ("rule", true),
    ("policy", true),
    ("statistics", true),
    ("collation", true),
    ("operator", true),
    ("cast", true),
    ("publication", true),
    ("default privileges", true),
    ("foreign server", true),
    ("foreign table", true),
    ("window function", false),
    ("multirange type", false),
    ("base type", false),
    ("shell type", false),
    ("shell operator", false),
    ("relation", false),
    ("type", false),
    ("operator class", false),
    ("operator family", false),
    ("conversion", false),
    ("text search configuration", false),
    ("text search dictionary", false),
    ("text search parser", false),
    ("text search template", false),
    ("foreign-data wrapper", false),
    ("event trigger", false),
    ("language", false),
    ("access method", false),
    ("setting", false),
];

/// An object of the database, of any kind (`inventory.sql`).
#[derive(Deserialize)]
pub(super) struct InventoryRow {
    kind: Name,
    schema: Option<Name>,
    name: Name,
    /// The table (or view) a constraint, trigger, rule, policy or setting is on.
    on: Option<String>,
    /// A routine's identity arguments, an operator's operand types.
    args: Option<String>,
}

/// The objects of the inventory that `model` does not hold: kinds strata does not manage
/// yet, or objects its reader missed.
pub(super) fn unmanaged(model: &Model, rows: Vec<InventoryRow>) -> Vec<Unmanaged> {
    let mut out = Vec::new();
    for row in rows {
        let schema = row.schema.clone().unwrap_or_default();
        let qual = || QualName::new(schema.clone(), row.name.clone());
        let on = || QualName::new(schema.clone(), row.on.clone().unwrap_or_default());
        let routine = || FunctionId {
            name: qual(),
            args: row.args.clone().unwrap_or_default(),
        };
        // What [ignore] tables names, and what is on it, is left alone.
        if row.schema.is_some()
            && (super::is_ignored(&qual()) || (row.on.is_some() && super::is_ignored(&on())))
        {
            continue;
        }
        let managed = INVENTORY_KINDS
            .iter()
            .any(|(kind, managed)| *kind == row.kind && *managed);
        let held = managed
            && match row.kind.as_str() {
                "table" => model.tables.contains_key(&qual()),
                "view" | "materialized view" => model.views.contains_key(&qual()),
                "sequence" => model.sequences.contains_key(&qual()),
                "composite type" | "domain" | "enum type" | "range type" => {
                    model.types.contains_key(&qual())
                }
                "index" => model.indexes.contains_key(&qual()),
                "function" | "procedure" => model.functions.contains_key(&routine()),
                "aggregate" => model.aggregates.contains_key(&routine()),
                "constraint" => model.contains(&ObjectId::Constraint(on(), row.name.clone())),
                "trigger" => {
                    model.contains(&ObjectId::Trigger(on(), row.name.clone()))
                        || model
                            .views
                            .get(&on())
                            .is_some_and(|v| v.triggers.contains_key(&row.name))
                }
                "rule" => model.contains(&ObjectId::Rule(on(), row.name.clone())),
                "policy" => model.contains(&ObjectId::Policy(on(), row.name.clone())),
                "statistics" => model.statistics.contains_key(&qual()),
                "collation" => model.collations.contains_key(&qual()),
                "default privileges" => model.default_privileges.contains_key(&row.name),
                "publication" => model.publications.contains_key(&row.name),
                "operator" => model.operators.contains_key(&routine()),
                "cast" => model.user_casts.contains_key(&row.name),
                "foreign table" => model.foreign_tables.contains_key(&qual()),
                "foreign server" => model.foreign_servers.contains_key(&row.name),
                _ => false,
            };
        if held {
            continue;
        }
        let object = match (&row.kind[..], &row.schema, &row.on, &row.args) {
            ("default privileges", ..) => crate::model::DefaultPrivileges::describe(&row.name),
            ("setting", _, Some(on), _) => {
                format!(
                    "{} on {}",
                    row.name,
                    QualName::new(schema.clone(), on.clone())
                )
            }
            (_, Some(_), Some(_), _) => {
                format!("{} {} on {}", row.kind, crate::sql::Ident(&row.name), on())
            }
            ("operator", Some(_), None, Some(args)) => {
                format!(
                    "operator {}.{} ({args})",
                    crate::sql::Ident(&schema),
                    row.name
                )
            }
            (_, Some(_), None, Some(args)) => format!("{} {}({args})", row.kind, qual()),
            (_, Some(_), None, None) => format!("{} {}", row.kind, qual()),
            (_, None, _, _) => format!("{} {}", row.kind, row.name),
        };
        // A setting was most likely made by the last statement on its table.
        let setting = row.kind == "setting";
        out.push(Unmanaged {
            object,
            name: if setting {
                row.on.unwrap_or_default()
            } else {
                row.name.into()
            },
            latest: setting,
            location: None,
        });
    }
    out
}

#[cfg(test)]
mod inventory_tests {
    use std::collections::{BTreeMap, BTreeSet};

    use super::*;

    /// The kind words `inventory.sql` can report (its string literals in the kind column).
    fn reported_kinds() -> BTreeSet<String> {
        let sql = include_str!("queries/inventory.sql");
        let mut out = BTreeSet::new();
        for (marker, quote) in [("THEN '", '\''), ("SELECT '", '\''), ("ELSE '", '\'')] {
            for (at, _) in sql.match_indices(marker) {
                let rest = &sql[at + marker.len()..];
                let word: String = rest.chars().take_while(|c| *c != quote).collect();
                // Only kind words: lower case letters, spaces and hyphens.
                if !word.is_empty()
                    && word
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c == ' ' || c == '-')
                {
                    out.insert(word);
                }
            }
        }
        out
    }

    #[test]
    fn every_kind_the_inventory_reports_is_listed() {
        let listed: BTreeSet<String> = INVENTORY_KINDS
            .iter()
            .map(|(k, _)| (*k).to_owned())
            .collect();
        let reported = reported_kinds();
        // Words that are not kinds (statement keywords the same shape) are left out.
        let not_kinds = [
            "tables",
            "sequences",
            "functions",
            "types",
            "schemas",
            "for role ",
            "pglz",
            "lz4",
            "heap",
        ];
        let reported: BTreeSet<String> = reported
            .into_iter()
            .filter(|w| {
                !not_kinds
                    .iter()
                    .any(|n| w == n || w.starts_with(n) || w.contains(" on "))
            })
            .filter(|w| {
                !w.starts_with("set ")
                    && !w.starts_with("column ")
                    && !w.starts_with("typed ")
                    && !w.starts_with("tablespace")
                    && !w.starts_with("table access")
                    && !w.starts_with("toast")
                    && !w.starts_with("cluster")
            })
            .collect();
        let missing: Vec<&String> = reported.difference(&listed).collect();
        assert!(
            missing.is_empty(),
            "inventory kinds not in INVENTORY_KINDS: {missing:?}"
        );
    }

    #[test]
    fn unmanaged_kinds_are_always_named() {
        let model = Model::default();
        for (kind, managed) in INVENTORY_KINDS {
            let row = InventoryRow {
                kind: (*kind).into(),
                schema: Some("public".into()),
                name: "x".into(),
                on: Some("t".into()),
                args: Some(String::new()),
            };
            // An empty model holds nothing: every kind is named, managed or not.
            assert_eq!(
                unmanaged(&model, vec![row]).len(),
                1,
                "{kind} (managed: {managed})"
            );
        }
    }

    #[test]
    fn object_kinds_doc_is_true() {
        let doc = include_str!("../../docs/object-kinds.md");
        let mut rows = BTreeMap::new();
        for line in doc
            .lines()
            .filter(|l| l.starts_with("| ") && !l.starts_with("| Kind"))
        {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            rows.insert(cells[1].to_owned(), cells[2].to_owned());
        }
        for (kind, managed) in INVENTORY_KINDS {
            let want = if *managed { "yes" } else { "no" };
            assert_eq!(
                rows.remove(*kind).as_deref(),
                Some(want),
                "docs/object-kinds.md: {kind} should be listed as managed: {want}"
            );
        }
        assert!(
            rows.is_empty(),
            "docs/object-kinds.md lists kinds the code does not: {rows:?}"
        );
    }
}
