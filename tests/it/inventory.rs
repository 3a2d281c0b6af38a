//! Nothing in the catalog goes unseen (issue 9): every object of a database is in the model
//! or named in an error, with the schema file and line that made it.

use strata::model::Model;

use crate::harness::{fresh_db, introspect, load_sql, repo_root};
use crate::project::Project;

/// Objects of the kinds the fixture lacks: rules, statistics, a collation, an aggregate, a
/// range type, a trigger on a view, an inheriting table.
const MORE: &str = "
CREATE TABLE app.audit (id int);
CREATE RULE audit_nothing AS ON DELETE TO app.audit DO INSTEAD NOTHING;
CREATE STATISTICS app.parent_stats ON id, code FROM app.parent;
CREATE COLLATION app.german (provider = icu, locale = 'de-DE');
CREATE AGGREGATE app.total(integer) (sfunc = int4pl, stype = integer, initcond = '0');
CREATE TYPE app.span AS RANGE (subtype = float8);
CREATE FUNCTION app.view_insert() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER parent_view_insert INSTEAD OF INSERT ON app.parent_view FOR EACH ROW EXECUTE FUNCTION app.view_insert();
CREATE TABLE app.audit_extra (note text) INHERITS (app.audit);
";

/// Each kind the reader models, taken out of the model one at a time: the inventory check
/// names what went missing. (If a kind were left out of the reader, this is what users
/// would see instead of a silent "no changes".)
#[tokio::test]
async fn a_kind_left_out_of_the_model_is_named() {
    let sql = std::fs::read_to_string(repo_root().join("tests/fixtures/every_kind.sql")).unwrap();
    let db = fresh_db().await;
    load_sql(db.url(), "every_kind.sql", &format!("{sql}\n{MORE}")).await;
    let catalog = introspect(db.url()).await; // the full model: nothing unseen
    let client = db.url().connect().await.unwrap();
    assert!(
        strata::catalog::unseen(&client, &catalog.model)
            .await
            .unwrap()
            .is_empty()
    );

    type Strip = fn(&mut Model);
    let kinds: &[(&str, Strip, &str)] = &[
        ("tables", |m| m.tables.clear(), "table app.parent"),
        (
            "views",
            |m| m.views.clear(),
            "materialized view app.mood_counts",
        ),
        (
            "sequences",
            |m| m.sequences.clear(),
            "sequence app.ticket_seq",
        ),
        ("types", |m| m.types.clear(), "enum type app.mood"),
        (
            "functions",
            |m| m.functions.clear(),
            "function app.double_it(i integer)",
        ),
        (
            "indexes",
            |m| m.indexes.clear(),
            "index app.child_parent_idx",
        ),
        (
            "aggregates",
            |m| m.aggregates.clear(),
            "aggregate app.total(integer)",
        ),
        (
            "collations",
            |m| m.collations.clear(),
            "collation app.german",
        ),
        (
            "statistics",
            |m| m.statistics.clear(),
            "statistics app.parent_stats",
        ),
        (
            "rules",
            |m| m.tables.values_mut().for_each(|t| t.rules.clear()),
            "rule audit_nothing on app.audit",
        ),
        (
            "constraints",
            |m| m.tables.values_mut().for_each(|t| t.constraints.clear()),
            "constraint parent_code_len on app.parent",
        ),
        (
            "triggers",
            |m| m.tables.values_mut().for_each(|t| t.triggers.clear()),
            "trigger parent_touch on app.parent",
        ),
        (
            "triggers on views",
            |m| m.views.values_mut().for_each(|v| v.triggers.clear()),
            "trigger parent_view_insert on app.parent_view",
        ),
        (
            "policies",
            |m| m.tables.values_mut().for_each(|t| t.policies.clear()),
            "policy parent_readers on app.parent",
        ),
    ];
    for (kind, strip, expected) in kinds {
        let mut model = catalog.model.clone();
        strip(&mut model);
        let unseen = strata::catalog::unseen(&client, &model).await.unwrap();
        let names: Vec<&str> = unseen.iter().map(|u| u.object.as_str()).collect();
        assert!(
            names.contains(expected),
            "without {kind} in the model, the check should name {expected:?}: {names:?}"
        );
    }
}

/// Kinds strata does not manage stop `plan`, `diff` and `check` with the object and the
/// file and line that made it, before anything runs; the same objects made in a database by
/// hand stop `diff` and `status` too.
#[tokio::test]
async fn unmanaged_kinds_are_named_with_their_file_and_line() {
    let p = Project::new().await;
    p.schema(
        "a.sql",
        "CREATE TABLE readings (id int PRIMARY KEY, value numeric);",
    );
    p.plan("readings");
    p.expect(0, &["apply"]);
    let before = p.fingerprint().await;
    p.schema(
        "b.sql",
        "CREATE FUNCTION approx_eq(numeric, numeric) RETURNS boolean LANGUAGE sql IMMUTABLE
    AS $$ SELECT abs($1 - $2) < 0.01 $$;
CREATE OPERATOR =~ (LEFTARG = numeric, RIGHTARG = numeric, FUNCTION = approx_eq);
CREATE TEXT SEARCH CONFIGURATION plain_words (COPY = simple);
ALTER TABLE readings ALTER COLUMN value SET STATISTICS 500;
CREATE TYPE pair AS (a int, b int);
CREATE TABLE pairs OF pair;
",
    );
    for command in [&["plan", "-m", "more"][..], &["diff"], &["check"]] {
        let out = p.run(command);
        let all = format!(
            "{}{}",
            crate::project::text(&out.stdout),
            crate::project::text(&out.stderr)
        );
        assert_ne!(out.status.code(), Some(0), "{command:?}: {all}");
        for expected in [
            "strata does not manage these objects yet",
            "b.sql:4: text search configuration public.plain_words",
            "b.sql:5: column value SET STATISTICS 500 on public.readings",
            "b.sql:7: typed table (OF public.pair) on public.pairs",
        ] {
            assert!(
                all.contains(expected),
                "{command:?}: {expected:?} in\n{all}"
            );
        }
    }
    assert_eq!(p.plan_ids().len(), 1, "no plan was written");
    let out = p.run(&["diff"]);
    assert!(
        !crate::project::text(&out.stderr).contains("operator"),
        "operators are managed"
    );
    assert_eq!(p.fingerprint().await, before);

    // Made in the database by hand: named too (without a file).
    std::fs::remove_file(p.path("schema/b.sql")).unwrap();
    p.sql("CREATE TEXT SEARCH CONFIGURATION hand_made (COPY = simple)")
        .await;
    for command in [&["diff"][..], &["status"]] {
        let out = p.run(command);
        let all = format!(
            "{}{}",
            crate::project::text(&out.stdout),
            crate::project::text(&out.stderr)
        );
        assert_ne!(out.status.code(), Some(0), "{command:?}: {all}");
        assert!(
            all.contains("text search configuration public.hand_made"),
            "{command:?}: {all}"
        );
    }
}

/// A second definition behind `IF NOT EXISTS`, and objects in strata's own schema or in
/// `information_schema`, are errors naming the file and line, not silently dropped.
#[tokio::test]
async fn hidden_second_definitions_and_reserved_schemas_are_errors() {
    let p = Project::new().await;
    let cases: &[(&str, &str)] = &[
        (
            "CREATE TABLE t (a int);\nCREATE TABLE IF NOT EXISTS t (a int, b int);",
            "a.sql:2:1: duplicate table public.t: already created at schema/a.sql:1:1 (IF NOT EXISTS would skip this definition silently)",
        ),
        (
            "CREATE TABLE public.t (a int);\nCREATE INDEX IF NOT EXISTS t_a ON t (a);\nCREATE INDEX IF NOT EXISTS t_a ON t (a DESC);",
            "a.sql:3:1: duplicate index public.t_a",
        ),
        (
            "CREATE TABLE strata.notes (a int);",
            "a.sql:1:1: table strata.notes is in schema \"strata\", which strata never reads (it is strata's ledger)",
        ),
        (
            "CREATE SCHEMA strata;",
            "a.sql:1:1: schema strata is in schema \"strata\"",
        ),
        (
            "CREATE TABLE information_schema.notes (a int);",
            "a.sql:1:1: table information_schema.notes is in schema \"information_schema\"",
        ),
        (
            "CREATE SCHEMA IF NOT EXISTS \"strata\";",
            "a.sql:1:1: schema strata is in schema \"strata\"",
        ),
        (
            // Made while loading, out of sight of the statement check.
            "CREATE FUNCTION sneaky() RETURNS int LANGUAGE plpgsql AS $$ BEGIN EXECUTE 'CREATE SCHEMA strata'; EXECUTE 'CREATE TABLE strata.hidden (a int)'; RETURN 1; END $$;\nCREATE MATERIALIZED VIEW mv AS SELECT sneaky() AS x;",
            "a.sql:1: the schema files create the schema \"strata\", which is strata's own",
        ),
    ];
    for (sql, expected) in cases {
        p.schema("a.sql", sql);
        let out = p.run(&["plan", "-m", "x"]);
        let all = format!(
            "{}{}",
            crate::project::text(&out.stdout),
            crate::project::text(&out.stderr)
        );
        assert_ne!(out.status.code(), Some(0), "{sql}: {all}");
        assert!(all.contains(expected), "{sql}: {expected:?} in\n{all}");
        assert!(!p.path("plans").exists() || p.plan_ids().is_empty());
    }
}

/// Foreign servers and foreign tables declared in schema files load through the shadow's
/// unprivileged loader (given the use of the wrappers of an allowed extension), are
/// planned, applied and then seen as no change; user mappings (credentials) are refused.
#[tokio::test]
async fn foreign_servers_and_tables_are_planned_from_schema_files() {
    let p = Project::new().await;
    std::fs::write(
        p.path("strata.toml"),
        "[shadow]\nextensions = [\"postgres_fdw\"]\n",
    )
    .unwrap();
    p.schema(
        "remote.sql",
        "CREATE EXTENSION postgres_fdw;
CREATE SERVER sales FOREIGN DATA WRAPPER postgres_fdw OPTIONS (dbname 'sales');
CREATE FOREIGN TABLE remote_orders (id bigint NOT NULL, total numeric)
    SERVER sales OPTIONS (table_name 'orders');
CREATE VIEW big_orders AS SELECT id FROM remote_orders WHERE total > 100;
",
    );
    p.plan("remote orders");
    p.expect(0, &["apply"]);
    assert_eq!(
        p.query_one_i64(
            "SELECT count(*) FROM pg_foreign_table ft JOIN pg_foreign_server s \
             ON s.oid = ft.ftserver WHERE s.srvname = 'sales' \
             AND ft.ftoptions = '{table_name=orders}'"
        )
        .await,
        1
    );
    let out = p.expect(0, &["diff"]);
    assert!(out.contains("no changes"), "{out}");

    p.schema(
        "remote.sql",
        "CREATE EXTENSION postgres_fdw;
CREATE SERVER sales FOREIGN DATA WRAPPER postgres_fdw OPTIONS (dbname 'sales_v2');
CREATE FOREIGN TABLE remote_orders (id bigint NOT NULL, total numeric)
    SERVER sales OPTIONS (table_name 'orders');
CREATE VIEW big_orders AS SELECT id FROM remote_orders WHERE total > 100;
",
    );
    let out = p.expect(0, &["diff"]);
    assert!(
        out.contains("ALTER SERVER sales OPTIONS (SET dbname 'sales_v2')"),
        "{out}"
    );

    p.schema(
        "mapping.sql",
        "CREATE USER MAPPING FOR CURRENT_USER SERVER sales OPTIONS (user 'app', password 'hunter2');",
    );
    let out = p.run(&["diff"]);
    let all = format!(
        "{}{}",
        crate::project::text(&out.stdout),
        crate::project::text(&out.stderr)
    );
    assert_ne!(out.status.code(), Some(0), "{all}");
    assert!(all.contains("mapping.sql:1"), "{all}");
    assert!(all.contains("credentials"), "{all}");
    assert!(!all.contains("hunter2"), "{all}");
}
