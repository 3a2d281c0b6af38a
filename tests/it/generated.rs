//! Random pairs of schemas with partitions, inheritance, rules, statistics and views over
//! them, each pair planned and applied through strata's runner on a database with rows,
//! and held to the same checks as the cases (`cases::converge`): the desired fingerprint
//! exactly, nothing left to plan, the revert, the inspect round trip.

use proptest::prelude::*;

#[derive(Clone, Debug)]
struct TableSpec {
    /// 0: plain, 1: partitioned by range, 2: inherits from `t0` (when `t0` is plain).
    kind: u8,
    /// The type of column `a`.
    a_type: u8,
    with_b: bool,
    index: bool,
    statistics: bool,
    rule: bool,
    view: bool,
    comment: bool,
}

fn table() -> impl Strategy<Value = TableSpec> {
    (
        0u8..3,
        0u8..3,
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(kind, a_type, with_b, index, statistics, rule, view, comment)| TableSpec {
                kind,
                a_type,
                with_b,
                index,
                statistics,
                rule,
                view,
                comment,
            },
        )
}

fn schema() -> impl Strategy<Value = Vec<TableSpec>> {
    proptest::collection::vec(table(), 1..4)
}

/// The SQL of a schema, and statements that put rows in it.
fn render(tables: &[TableSpec]) -> (String, Vec<String>) {
    let mut sql = String::new();
    let mut rows = Vec::new();
    let base_plain = tables.first().is_some_and(|t| t.kind != 1);
    for (i, t) in tables.iter().enumerate() {
        let name = format!("t{i}");
        let a = ["integer", "bigint", "text"][usize::from(t.a_type)];
        let b = if t.with_b { ", b text" } else { "" };
        let kind = match t.kind {
            2 if i > 0 && base_plain => 2,
            2 => 0,
            k => k,
        };
        match kind {
            1 => {
                sql.push_str(&format!(
                    "CREATE TABLE {name} (id integer NOT NULL, a {a}{b}, c numeric) PARTITION BY RANGE (id);\n\
                     CREATE TABLE {name}_p0 PARTITION OF {name} FOR VALUES FROM (MINVALUE) TO (100);\n\
                     CREATE TABLE {name}_p1 PARTITION OF {name} FOR VALUES FROM (100) TO (MAXVALUE);\n"
                ));
            }
            2 => sql.push_str(&format!("CREATE TABLE {name} (d text{b}) INHERITS (t0);\n")),
            _ => sql.push_str(&format!(
                "CREATE TABLE {name} (id integer NOT NULL, a {a}{b}, c numeric);\n"
            )),
        }
        rows.push(format!(
            "INSERT INTO {name} (id) VALUES (1), (150), ({});",
            10 + i
        ));
        if t.index {
            sql.push_str(&format!("CREATE INDEX {name}_a_idx ON {name} (a);\n"));
        }
        if t.statistics && kind != 2 {
            sql.push_str(&format!(
                "CREATE STATISTICS {name}_st (ndistinct) ON id, c FROM {name};\n"
            ));
        }
        if t.rule && kind == 0 {
            sql.push_str(&format!(
                "CREATE RULE {name}_keep AS ON DELETE TO {name} WHERE OLD.id < 0 DO INSTEAD NOTHING;\n"
            ));
        }
        if t.view {
            sql.push_str(&format!(
                "CREATE VIEW v{i} AS SELECT id, a FROM {name} WHERE id > 0;\n"
            ));
        }
        if t.comment {
            sql.push_str(&format!("COMMENT ON TABLE {name} IS 'table {i}';\n"));
        }
    }
    (sql, rows)
}

proptest! {
    // The same pairs on every run.
    #![proptest_config(crate::harness::reproducible(24, 0x5747_a7a0))]

    #[test]
    fn random_schema_pairs_converge_through_the_runner(current in schema(), desired in schema()) {
        let (current_sql, rows) = render(&current);
        let (desired_sql, _) = render(&desired);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(crate::cases::converge(
            "generated",
            "pair",
            &current_sql,
            &desired_sql,
            &rows,
            false,
        ));
    }
}
