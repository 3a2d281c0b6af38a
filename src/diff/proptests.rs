//! Property tests of the planner on generated catalogs: the plan from a state to itself is
//! empty, any difference gives a non-empty plan, the order respects every dependency edge,
//! and the same inputs give the same plan.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;

use crate::model::{
    Catalog, Column, Constraint, ConstraintKind, Dep, Function, FunctionId, Grant, Grants, Index,
    Model, ObjectId, RoutineKind, Schema, Sequence, SequenceOptions, Table, TypeDef, TypeKind,
    View, ViewColumn, normalise_deps,
};
use crate::sql::QualName;

const LABELS: &[&str] = &["a", "b", "c", "d"];
const TYPES: &[&str] = &["integer", "text", "bigint", "public.e0", "public.e1"];

#[derive(Clone, Debug)]
struct ColumnSpec {
    ty: usize,
    not_null: bool,
    default: bool,
    comment: bool,
}

#[derive(Clone, Debug)]
struct TableSpec {
    columns: Vec<ColumnSpec>,
    pk: bool,
    fk_to: Option<usize>,
    index_on: Option<usize>,
    view: Option<Vec<usize>>,
    unlogged: bool,
    granted: bool,
}

fn column_spec() -> impl Strategy<Value = ColumnSpec> {
    (0..TYPES.len(), any::<bool>(), any::<bool>(), any::<bool>()).prop_map(
        |(ty, not_null, default, comment)| ColumnSpec {
            ty,
            not_null,
            default,
            comment,
        },
    )
}

fn table_spec() -> impl Strategy<Value = TableSpec> {
    (
        proptest::collection::vec(column_spec(), 1..5),
        any::<bool>(),
        proptest::option::of(0usize..4),
        proptest::option::of(0usize..5),
        proptest::option::of(proptest::collection::vec(0usize..5, 1..3)),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(columns, pk, fk_to, index_on, view, unlogged, granted)| TableSpec {
                columns,
                pk,
                fk_to,
                index_on,
                view,
                unlogged,
                granted,
            },
        )
}

#[derive(Clone, Debug)]
struct Spec {
    enums: Vec<Vec<bool>>,
    tables: Vec<TableSpec>,
    functions: Vec<u8>,
    sequence: Option<i64>,
    app_schema: bool,
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        proptest::collection::vec(proptest::collection::vec(any::<bool>(), 4), 2),
        proptest::collection::vec(table_spec(), 0..4),
        proptest::collection::vec(0u8..3, 0..3),
        proptest::option::of(1i64..5),
        any::<bool>(),
    )
        .prop_map(|(enums, tables, functions, sequence, app_schema)| Spec {
            enums,
            tables,
            functions,
            sequence,
            app_schema,
        })
}

fn q(name: &str) -> QualName {
    QualName::new("public", name)
}

/// A catalog as introspection would produce it for the spec: the model plus the
/// dependencies `pg_depend` would record.
fn build(spec: &Spec) -> Catalog {
    let (m, raw) = model_and_raw_deps(spec);
    let deps = normalise_deps(&m, raw);
    Catalog {
        model: m,
        deps,
        server_version: 150000,
        casts: Default::default(),
    }
}

/// The model `spec` describes and the dependencies the catalog would give for it.
fn model_and_raw_deps(spec: &Spec) -> (Model, BTreeSet<Dep>) {
    let mut m = Model::default();
    let mut raw: BTreeSet<Dep> = BTreeSet::new();
    m.schemas.insert("public".into(), Schema::default());
    if spec.app_schema {
        m.schemas.insert(
            "app".into(),
            Schema {
                comment: Some("app".into()),
                grants: Grants::new(),
            },
        );
    }
    for (i, present) in spec.enums.iter().enumerate() {
        let labels: Vec<String> = LABELS
            .iter()
            .zip(present)
            .filter(|(_, p)| **p)
            .map(|(l, _)| (*l).to_owned())
            .collect();
        let def = TypeDef {
            kind: TypeKind::Enum { labels },
            comment: None,
            grants: Grants::new(),
        };
        m.types.insert(q(&format!("e{i}")), def);
    }
    for (i, body) in spec.functions.iter().enumerate() {
        let id = FunctionId {
            name: q(&format!("f{i}")),
            args: String::new(),
        };
        let f = Function {
            kind: RoutineKind::Function,
            definition: format!("CREATE FUNCTION public.f{i}() RETURNS integer AS 'select {body}'"),
            arguments: String::new(),
            result: Some("integer".into()),
            volatile: false,
            comment: None,
            grants: [Grant {
                grantee: "PUBLIC".into(),
                privilege: "EXECUTE".into(),
                grantable: false,
            }]
            .into(),
        };
        m.functions.insert(id, f);
    }
    if let Some(increment) = spec.sequence {
        let options = SequenceOptions {
            data_type: "bigint".into(),
            start: 1,
            increment,
            min: 1,
            max: i64::MAX,
            cache: 1,
            cycle: false,
        };
        m.sequences.insert(
            q("s"),
            Sequence {
                options,
                owned_by: None,
                comment: None,
                grants: Grants::new(),
            },
        );
    }
    let mut pk_tables = Vec::new();
    for (i, t) in spec.tables.iter().enumerate() {
        let name = q(&format!("t{i}"));
        let mut table = Table {
            unlogged: t.unlogged,
            ..Table::default()
        };
        if t.granted {
            table.grants.insert(Grant {
                grantee: "PUBLIC".into(),
                privilege: "SELECT".into(),
                grantable: false,
            });
        }
        for (j, c) in t.columns.iter().enumerate() {
            let column_name = format!("c{j}");
            let data_type = TYPES[c.ty].to_owned();
            if let Some(type_name) = QualName::parse(&data_type).filter(|n| m.types.contains_key(n))
            {
                raw.insert(Dep {
                    dependent: ObjectId::Column(name.clone(), column_name.as_str().into()),
                    referenced: ObjectId::Type(type_name),
                });
            } else if data_type.starts_with("public.") {
                continue; // the enum is not in this spec
            }
            let column = Column {
                default: c.default.then(|| format!("NULL::{data_type}")),
                data_type,
                collation: None,
                not_null: c.not_null || (j == 0 && t.pk),
                identity: None,
                generated: None,
                comment: c.comment.then(|| format!("column {j}")),
                grants: Grants::new(),
                using: Default::default(),
            };
            table.column_order.0.push(column_name.as_str().into());
            table.columns.insert(column_name.into(), column);
        }
        if t.pk && table.columns.contains_key("c0") {
            table.constraints.insert(
                compact_str::format_compact!("t{i}_pkey"),
                Constraint {
                    kind: ConstraintKind::PrimaryKey,
                    definition: "PRIMARY KEY (c0)".into(),
                    validated: true,
                    deferrable: false,
                    references: None,
                    index: Some("USING btree (c0)".into()),
                    comment: None,
                    detail: Default::default(),
                },
            );
            raw.insert(Dep {
                dependent: ObjectId::Constraint(
                    name.clone(),
                    compact_str::format_compact!("t{i}_pkey"),
                ),
                referenced: ObjectId::Column(name.clone(), "c0".into()),
            });
            pk_tables.push(i);
        }
        if let Some(target) = t
            .fk_to
            .filter(|target| pk_tables.contains(target) && *target != i)
            && table.columns.contains_key("c0")
        {
            let fk = format!("t{i}_fk");
            table.constraints.insert(
                fk.as_str().into(),
                Constraint {
                    kind: ConstraintKind::ForeignKey,
                    definition: format!("FOREIGN KEY (c0) REFERENCES public.t{target}(c0)"),
                    validated: true,
                    deferrable: false,
                    references: Some(q(&format!("t{target}"))),
                    index: None,
                    comment: None,
                    detail: Default::default(),
                },
            );
            raw.insert(Dep {
                dependent: ObjectId::Constraint(name.clone(), fk.as_str().into()),
                referenced: ObjectId::Constraint(
                    q(&format!("t{target}")),
                    compact_str::format_compact!("t{target}_pkey"),
                ),
            });
            raw.insert(Dep {
                dependent: ObjectId::Constraint(name.clone(), fk.into()),
                referenced: ObjectId::Column(name.clone(), "c0".into()),
            });
        }
        if let Some(col) = t
            .index_on
            .map(|c| format!("c{c}"))
            .filter(|c| table.columns.contains_key(c.as_str()))
        {
            let index = q(&format!("t{i}_{col}_idx"));
            m.indexes.insert(
                index.clone(),
                Index {
                    table: name.clone(),
                    unique: false,
                    definition: format!("USING btree ({col})"),
                    valid: true,
                    comment: None,
                    detail: Default::default(),
                },
            );
            raw.insert(Dep {
                dependent: ObjectId::Index(index),
                referenced: ObjectId::Column(name.clone(), col.into()),
            });
        }
        if let Some(cols) = &t.view {
            let cols: Vec<String> = cols
                .iter()
                .map(|c| format!("c{c}"))
                .filter(|c| table.columns.contains_key(c.as_str()))
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            if !cols.is_empty() {
                let view = q(&format!("v{i}"));
                let columns = cols
                    .iter()
                    .map(|c| ViewColumn {
                        name: c.clone(),
                        data_type: table.columns[c.as_str()].data_type.clone(),
                    })
                    .collect();
                for c in &cols {
                    raw.insert(Dep {
                        dependent: ObjectId::View(view.clone()),
                        referenced: ObjectId::Column(name.clone(), c.as_str().into()),
                    });
                }
                m.views.insert(
                    view,
                    View {
                        materialized: false,
                        definition: format!(" SELECT {} FROM public.t{i}", cols.join(", ")),
                        options: Vec::new(),
                        columns,
                        column_comments: BTreeMap::new(),
                        comment: None,
                        grants: Grants::new(),
                        unpopulated: false,
                        rules: BTreeMap::new(),
                        triggers: BTreeMap::new(),
                    },
                );
            }
        }
        m.tables.insert(name, table);
    }
    (m, raw)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// The dependencies normalised in two shares on two threads (as a large catalog's
    /// are) are those normalised in one piece, whatever the order of the raw list.
    #[test]
    fn dependencies_normalised_in_two_shares_are_the_same(s in spec(), rotate in 0usize..64) {
        let (m, raw) = model_and_raw_deps(&s);
        let mut raw: Vec<Dep> = raw.into_iter().collect();
        if !raw.is_empty() {
            let by = rotate % raw.len();
            raw.rotate_left(by);
        }
        let whole = crate::model::normalise(&m, raw.clone(), false);
        let shared = crate::model::normalise(&m, raw, true);
        prop_assert_eq!(whole, shared);
    }

    #[test]
    fn diff_of_a_state_with_itself_is_empty(s in spec()) {
        let c = build(&s);
        let plan = crate::plan::plan(&c, &c).unwrap();
        prop_assert!(plan.steps.is_empty(), "{}", plan.to_sql());
        prop_assert!(plan.revert.is_empty());
    }

    #[test]
    fn plans_respect_every_edge_and_are_deterministic(a in spec(), b in spec()) {
        let (ca, cb) = (build(&a), build(&b));
        let (steps, edges) = super::ordered(&ca, &cb, true).unwrap();
        for (x, y) in &edges {
            prop_assert!(x < y, "edge {x}->{y} violated:\n{}", crate::plan::Plan { steps: steps.clone(), ..Default::default() }.to_sql());
        }
        let again = crate::plan::plan(&ca, &cb).unwrap();
        prop_assert_eq!(&again.steps, &steps);
        // The desired side's dependencies given only when the steps are ordered (as
        // `strata inspect` gives them) make the same steps.
        let late = Catalog { deps: Default::default(), ..cb.clone() };
        prop_assert_eq!(&super::steps_late(&ca, &late, || cb.deps.clone()).unwrap(), &steps);
        prop_assert_eq!(again, crate::plan::plan(&ca, &cb).unwrap());
    }

    /// `inspect` writes its script as it goes and lets the catalog go early, making the
    /// dependencies as read into their set while the steps are decided; the baseline
    /// command keeps the catalog and takes the script whole: the same bytes either way.
    #[test]
    fn inspect_streams_the_script_it_would_return(s in spec()) {
        let c = build(&s);
        let whole = crate::inspect::to_sql(&c).unwrap();
        let mut streamed = Vec::new();
        crate::inspect::write_sql(c.clone(), None, &mut streamed).unwrap();
        prop_assert_eq!(String::from_utf8(streamed).unwrap(), whole.clone());
        let (_, raw) = model_and_raw_deps(&s);
        let deferred = Catalog { deps: Default::default(), ..c.clone() };
        let mut alongside = Vec::new();
        crate::inspect::write_sql(deferred, Some(raw.into_iter().collect()), &mut alongside).unwrap();
        prop_assert_eq!(String::from_utf8(alongside).unwrap(), whole.clone());
        for name in c.model.tables.keys() {
            prop_assert!(whole.contains(&format!("-- create table {name}\n")), "{} missing:\n{}", name, whole);
        }
    }

    #[test]
    fn any_difference_gives_steps(a in spec(), b in spec()) {
        let (ca, cb) = (build(&a), build(&b));
        let plan = crate::plan::plan(&ca, &cb).unwrap();
        prop_assert_eq!(ca.model == cb.model, plan.steps.is_empty(), "{}", plan.to_sql());
        prop_assert_eq!(ca.model == cb.model, plan.revert.is_empty());
    }
}
