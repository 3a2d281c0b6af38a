//! Every catalog query runs against a real server, and the model holds what was created.

use strata::model::{ConstraintKind, ObjectId, RoutineKind, TriggerEnabled, TypeKind};
use strata::sql::QualName;

use crate::harness::{fresh_db, introspect, load_sql, repo_root};

fn q(schema: &str, name: &str) -> QualName {
    QualName::new(schema, name)
}

#[tokio::test]
async fn reads_every_object_kind() {
    let sql = std::fs::read_to_string(repo_root().join("tests/fixtures/every_kind.sql")).unwrap();
    let db = fresh_db().await;
    load_sql(db.url(), "every_kind.sql", &sql).await;
    let catalog = introspect(db.url()).await;
    let m = &catalog.model;

    let app = &m.schemas["app"];
    assert_eq!(app.comment.as_deref(), Some("application objects"));
    assert!(
        app.grants
            .iter()
            .any(|g| g.grantee == "strata_reader" && g.privilege == "USAGE")
    );
    assert!(m.extensions.contains_key("btree_gist"));
    // Objects created by the extension are not the user's.
    assert!(!m.functions.keys().any(|f| f.name.name.starts_with("gbt_")));

    match &m.types[&q("app", "mood")].kind {
        TypeKind::Enum { labels } => assert_eq!(labels, &["sad", "ok", "happy"]),
        other => panic!("{other:?}"),
    }
    match &m.types[&q("app", "percent")].kind {
        TypeKind::Domain {
            base,
            default,
            not_null,
            checks,
            ..
        } => {
            assert_eq!(base, "numeric(5,2)");
            assert_eq!(default.as_deref(), Some("0"));
            assert!(not_null);
            assert!(checks["percent_range"].definition.starts_with("CHECK"));
        }
        other => panic!("{other:?}"),
    }
    match &m.types[&q("app", "pair")].kind {
        TypeKind::Composite { attributes } => {
            assert_eq!(attributes[1].collation, Some(q("pg_catalog", "C")));
        }
        other => panic!("{other:?}"),
    }

    let seq = &m.sequences[&q("app", "ticket_seq")];
    assert_eq!(
        (
            seq.options.data_type.as_str(),
            seq.options.start,
            seq.options.increment,
            seq.options.max,
            seq.options.cache,
            seq.options.cycle
        ),
        ("integer", 100, 5, 100_000, 10, true)
    );
    let serial = &m.sequences[&q("app", "parent_serial_col_seq")];
    assert_eq!(serial.owned_by.as_ref().unwrap().column, "serial_col");
    // The identity column's sequence belongs to the column, not to the sequences.
    assert!(!m.sequences.contains_key(&q("app", "parent_id_seq")));

    let double = m
        .functions
        .iter()
        .find(|(id, _)| id.name.name == "double_it")
        .unwrap();
    assert_eq!(double.0.args, "i integer");
    assert!(
        double.1.grants.is_empty(),
        "EXECUTE was revoked from PUBLIC"
    );
    let noop = m
        .functions
        .iter()
        .find(|(id, _)| id.name.name == "noop")
        .unwrap();
    assert_eq!(noop.1.kind, RoutineKind::Procedure);

    let parent = &m.tables[&q("app", "parent")];
    assert_eq!(parent.options, ["fillfactor=70"]);
    assert!(parent.row_security && parent.force_row_security);
    let id = &parent.columns["id"];
    let identity = id.identity.as_ref().unwrap();
    assert!(!identity.always);
    assert_eq!(
        (identity.sequence.clone(), identity.options.start),
        (q("app", "parent_id_seq"), 7)
    );
    assert_eq!(parent.columns["code"].collation, Some(q("pg_catalog", "C")));
    assert_eq!(
        parent.columns["doubled"].generated.as_deref(),
        Some("(id * 2)")
    );
    assert_eq!(
        parent.columns["mood"].default.as_deref(),
        Some("'ok'::app.mood")
    );
    assert!(
        parent.columns["code"]
            .grants
            .iter()
            .any(|g| g.privilege == "UPDATE")
    );
    assert_eq!(parent.column_order.0[0], "id");
    let kinds: Vec<(&str, ConstraintKind)> = parent
        .constraints
        .iter()
        .map(|(n, c)| (n.as_str(), c.kind))
        .collect();
    assert!(kinds.contains(&("parent_pkey", ConstraintKind::PrimaryKey)));
    assert!(kinds.contains(&("parent_no_overlap", ConstraintKind::Exclude)));
    assert_eq!(
        parent.constraints["parent_code_key"].definition,
        "UNIQUE (code)"
    );

    assert!(
        parent.constraints["parent_code_len"]
            .definition
            .contains("NO INHERIT")
    );
    assert_eq!(
        parent.constraints["parent_pkey"].index.as_deref(),
        Some("USING btree (id)")
    );
    assert_eq!(
        parent.triggers["parent_touch"].enabled,
        TriggerEnabled::Disabled
    );
    let policy = &parent.policies["parent_readers"];
    assert!(!policy.permissive);
    assert_eq!(
        (policy.command.as_str(), policy.roles.as_slice()),
        ("SELECT", &["strata_reader".to_owned()][..])
    );

    let child = &m.tables[&q("app", "child")];
    assert!(child.unlogged);
    let fk = &child.constraints["child_parent_id_fkey"];
    assert!(fk.deferrable && fk.definition.contains("ON DELETE SET NULL"));
    assert_eq!(fk.references, Some(q("app", "parent")));
    assert!(!child.constraints["child_positive"].validated);
    assert!(
        !child.constraints["child_positive"]
            .definition
            .contains("NOT VALID")
    );
    let idx = &m.indexes[&q("app", "child_parent_idx")];
    assert_eq!(
        idx.definition,
        "USING btree (parent_id DESC NULLS LAST) INCLUDE (ticket) WHERE (parent_id IS NOT NULL)"
    );

    let events = &m.tables[&q("app", "events")];
    assert_eq!(events.partitioned_by.as_deref(), Some("RANGE (at)"));
    let part = m.tables[&q("app", "events_2026")]
        .partition_of
        .as_ref()
        .unwrap();
    assert_eq!(part.parent, q("app", "events"));
    assert!(part.bound.starts_with("FOR VALUES FROM ('2026-01-01')"));
    assert_eq!(
        m.tables[&q("app", "events_default")]
            .partition_of
            .as_ref()
            .unwrap()
            .bound,
        "DEFAULT"
    );

    let view = &m.views[&q("app", "parent_view")];
    assert_eq!(view.options, ["security_barrier=true"]);
    assert_eq!(view.column_comments["twice"], "twice the id");
    assert_eq!(view.columns[1].data_type, "integer");
    assert!(m.views[&q("app", "mood_counts")].materialized);
    assert!(m.indexes[&q("app", "mood_counts_mood")].unique);

    // pg_depend, named the model's way.
    let has = |from: ObjectId, to: ObjectId| {
        catalog
            .deps
            .iter()
            .any(|d| d.dependent == from && d.referenced == to)
    };
    let double_id = ObjectId::Function(double.0.clone());
    assert!(has(
        ObjectId::View(q("app", "parent_view")),
        double_id.clone()
    ));
    assert!(has(ObjectId::Index(q("app", "child_expr_idx")), double_id));
    assert!(has(
        ObjectId::Column(q("app", "parent"), "mood".into()),
        ObjectId::Type(q("app", "mood"))
    ));
    assert!(has(
        ObjectId::ColumnDefault(q("app", "child"), "ticket".into()),
        ObjectId::Sequence(q("app", "ticket_seq"))
    ));
    assert!(has(
        ObjectId::Constraint(q("app", "child"), "child_parent_id_fkey".into()),
        ObjectId::Constraint(q("app", "parent"), "parent_pkey".into())
    ));
    assert!(has(
        ObjectId::SequenceOwner(q("app", "parent_serial_col_seq")),
        ObjectId::Column(q("app", "parent"), "serial_col".into())
    ));
    assert!(has(
        ObjectId::Table(q("app", "events_2026")),
        ObjectId::Table(q("app", "events"))
    ));

    // The same database read twice gives the same fingerprint; a change changes it.
    assert_eq!(
        introspect(db.url()).await.model.fingerprint(),
        m.fingerprint()
    );
    let client = db.url().connect().await.unwrap();
    client
        .batch_execute("COMMENT ON INDEX app.child_expr_idx IS 'x'")
        .await
        .unwrap();
    assert_ne!(
        introspect(db.url()).await.model.fingerprint(),
        m.fingerprint()
    );
    db.drop_now().await.unwrap();
}

#[tokio::test]
async fn ledger_schema_is_never_part_of_the_model() {
    let db = fresh_db().await;
    load_sql(db.url(), "ledger.sql", "CREATE TABLE t (id int);").await;
    let before = introspect(db.url()).await.model.fingerprint();
    let client = db.url().connect().await.unwrap();
    client
        .batch_execute("CREATE SCHEMA strata; CREATE TABLE strata.ledger (id text PRIMARY KEY); CREATE INDEX ON strata.ledger (id);")
        .await
        .unwrap();
    assert_eq!(introspect(db.url()).await.model.fingerprint(), before);
    db.drop_now().await.unwrap();
}

#[tokio::test]
async fn reads_unique_nulls_not_distinct_where_the_server_has_it() {
    let db = fresh_db().await;
    if crate::harness::cluster().await.major() < 15 {
        return; // NULLS NOT DISTINCT is PostgreSQL 15+ syntax
    }
    load_sql(
        db.url(),
        "nnd.sql",
        "CREATE TABLE t (a int, CONSTRAINT t_a_key UNIQUE NULLS NOT DISTINCT (a));",
    )
    .await;
    let catalog = introspect(db.url()).await;
    let t = &catalog.model.tables[&q("public", "t")];
    assert_eq!(
        t.constraints["t_a_key"].definition,
        "UNIQUE NULLS NOT DISTINCT (a)"
    );
    assert_eq!(
        t.constraints["t_a_key"].index.as_deref(),
        Some("USING btree (a) NULLS NOT DISTINCT")
    );
    db.drop_now().await.unwrap();
}

/// Index definitions are built from the catalog where that is certain to give
/// pg_get_indexdef's text (`indexes.sql`), and left to the server otherwise; column
/// defaults that read no column are deparsed without their table (`columns.sql`). Both
/// must read exactly what the server's own functions write, on every kind of index key.
#[tokio::test]
async fn index_definitions_and_defaults_read_as_the_server_writes_them() {
    let db = fresh_db().await;
    let major = crate::harness::cluster().await.major();
    let mut sql = String::from(
        r#"
CREATE EXTENSION btree_gist;
CREATE DOMAIN dom_text AS text;
CREATE TYPE mood AS ENUM ('sad', 'ok');
CREATE SEQUENCE s;
CREATE TABLE z (
    id bigint PRIMARY KEY,
    t text, v varchar(20), c char(5), n name, u uuid, j jsonb, a int[], m mood, d dom_text,
    ip inet, cidr_col cidr, r int4range, ts timestamptz, num numeric, b bytea, tv tsvector,
    "Mixed Case" text, "select" int, bo boolean, f float8, i2 smallint, o oid,
    d1 int DEFAULT 42, d2 text DEFAULT 'x'::text || 'y', d3 timestamptz DEFAULT now(),
    d4 bigint DEFAULT nextval('s'), d5 int[] DEFAULT ARRAY[1, 2], d6 numeric DEFAULT 1.5 * 2,
    d7 varchar(9) DEFAULT 'it''s', d8 mood DEFAULT 'ok', d9 date DEFAULT CURRENT_DATE,
    d10 text DEFAULT lower(('A' || 'B')), d11 interval DEFAULT '1 day'::interval,
    g bigint GENERATED ALWAYS AS (id * 2) STORED,
    UNIQUE (v, c) INCLUDE (t, u),
    EXCLUDE USING gist (r WITH &&),
    CONSTRAINT z_t_key UNIQUE (t) WITH (fillfactor = 70),
    CONSTRAINT z_ts_excl EXCLUDE USING gist (i2 WITH =, ts WITH <>) WHERE (bo)
);
CREATE INDEX ON z (t DESC);
CREATE INDEX ON z (t DESC NULLS LAST);
CREATE INDEX ON z (t NULLS FIRST);
CREATE INDEX ON z (t ASC NULLS LAST);
CREATE INDEX ON z (v);
CREATE INDEX ON z (v DESC, c NULLS FIRST, n);
CREATE INDEX ON z (v varchar_pattern_ops);
CREATE INDEX ON z (t text_pattern_ops);
CREATE INDEX ON z (t COLLATE "C");
CREATE INDEX ON z (c);
CREATE INDEX ON z (u);
CREATE INDEX ON z USING hash (u);
CREATE INDEX ON z USING hash (v);
CREATE INDEX ON z USING gin (j);
CREATE INDEX ON z USING gin (j jsonb_path_ops);
CREATE INDEX ON z (a);
CREATE INDEX ON z USING gin (a);
CREATE INDEX ON z (m);
CREATE INDEX ON z (d);
CREATE INDEX ON z (ip);
CREATE INDEX ON z (cidr_col);
CREATE INDEX ON z USING gist (ip inet_ops);
CREATE INDEX ON z USING spgist (ip);
CREATE INDEX ON z USING spgist (t);
CREATE INDEX ON z USING gist (r);
CREATE INDEX ON z USING gist (ts);
CREATE INDEX ON z USING gist (i2, "select");
CREATE INDEX ON z USING brin (ts);
CREATE INDEX ON z USING brin (ts) WITH (pages_per_range = 16);
CREATE INDEX ON z USING gist (tv tsvector_ops (siglen = 100));
CREATE INDEX ON z USING gist (i2, tv tsvector_ops (siglen = 100)) INCLUDE (t);
CREATE INDEX ON z USING gin (tv);
CREATE INDEX ON z (lower(t));
CREATE INDEX ON z ((t || 'x'), id);
CREATE INDEX ON z (num) WHERE num > 0;
CREATE INDEX ON z ("Mixed Case", "select");
CREATE INDEX ON z (b);
CREATE INDEX ON z (o);
CREATE UNIQUE INDEX ON z (f, bo) INCLUDE (o) WHERE bo;
CREATE INDEX ON z (t) WITH (fillfactor = 50);
CREATE TABLE p (id int, k text, PRIMARY KEY (id)) PARTITION BY RANGE (id);
CREATE TABLE p1 PARTITION OF p FOR VALUES FROM (0) TO (10);
CREATE INDEX ON p (k);
CREATE MATERIALIZED VIEW mv AS SELECT id, t FROM z;
CREATE INDEX ON mv (t DESC);
CREATE SCHEMA "Odd Schema";
CREATE TABLE "Odd Schema"."T t" ("a b" int PRIMARY KEY, "C" text DEFAULT 'q');
CREATE INDEX "I i" ON "Odd Schema"."T t" ("a b" DESC, "C");
-- a key without a default class the read can tell (a domain, an array, an enum, a class
-- of another type) next to one with it: the whole index is the server's
CREATE INDEX ON z (d text_pattern_ops, t);
CREATE INDEX ON z (t, d);
CREATE INDEX ON z (d) INCLUDE (t);
CREATE INDEX ON z (a, t);
CREATE INDEX ON z (m, t) INCLUDE (u);
CREATE INDEX ON z (t text_pattern_ops) INCLUDE (u);
CREATE INDEX ON z (c bpchar_pattern_ops, id);
CREATE INDEX ON z USING gist (ip inet_ops) INCLUDE (i2);
ALTER TABLE z ADD CONSTRAINT z_d_excl EXCLUDE USING btree (d text_pattern_ops WITH =, id WITH =);
-- a partition's own unique key whose index was then attached to its parent's
CREATE TABLE pp (a int, b int) PARTITION BY RANGE (a);
CREATE TABLE pp1 PARTITION OF pp FOR VALUES FROM (0) TO (10);
ALTER TABLE pp1 ADD CONSTRAINT pp1_a_key UNIQUE (a);
CREATE UNIQUE INDEX pp_a_idx ON pp (a);
"#,
    );
    if major >= 15 {
        sql.push_str("CREATE UNIQUE INDEX ON z (t, v) NULLS NOT DISTINCT;\n");
    }
    let client = db.url().connect().await.unwrap();
    client.batch_execute(&sql).await.unwrap();
    let catalog = introspect(db.url()).await;
    let m = &catalog.model;
    // As strata reads: every name qualified but those of pg_catalog.
    client.batch_execute("SET search_path = ''").await.unwrap();

    // What pg_get_indexdef writes after "ON <table> " for each index, by its name.
    let server: std::collections::BTreeMap<String, String> = client
        .query(
            "SELECT n.nspname || '.' || c.relname, pg_get_indexdef(c.oid) \
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.relkind IN ('i', 'I') AND n.nspname IN ('public', 'Odd Schema') \
               AND (NOT c.relispartition OR EXISTS (SELECT FROM pg_constraint k \
                   WHERE k.conindid = c.oid AND k.contype IN ('p', 'u', 'x') \
                     AND k.conparentid = 0))",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| {
            let def: String = row.get(1);
            let tail = def[def.find(" USING ").unwrap() + 1..].to_owned();
            (row.get(0), tail)
        })
        .collect();
    let mut compared = 0;
    for (name, index) in &m.indexes {
        let key = format!("{}.{}", name.schema, name.name);
        assert_eq!(Some(&index.definition), server.get(&key), "index {key}");
        compared += 1;
    }
    let backing: Vec<(String, String, String)> = client
        .query(
            "SELECT n.nspname, c.relname, k.conname, ic.relname \
             FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             JOIN pg_class ic ON ic.oid = k.conindid \
             WHERE k.contype IN ('p', 'u', 'x') AND n.nspname IN ('public', 'Odd Schema') \
               AND k.conparentid = 0",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| {
            let schema: String = row.get(0);
            let index: String = row.get(3);
            (
                format!("{schema}.{}", row.get::<_, String>(1)),
                row.get(2),
                format!("{schema}.{index}"),
            )
        })
        .collect();
    for (table, constraint, index) in &backing {
        let (schema, name) = table.split_once('.').unwrap();
        let c = &m.tables[&q(schema, name)].constraints[constraint.as_str()];
        assert_eq!(
            c.index.as_ref(),
            server.get(index),
            "constraint {constraint}"
        );
        compared += 1;
    }
    // Every index of the script, each key constraint's among them.
    assert_eq!(compared, server.len(), "{server:#?}");
    assert!(compared >= 59, "{compared}");

    let defaults = client
        .query(
            "SELECT a.attname, pg_get_expr(d.adbin, d.adrelid), a.attgenerated <> '' \
             FROM pg_attrdef d JOIN pg_attribute a ON a.attrelid = d.adrelid \
             AND a.attnum = d.adnum WHERE d.adrelid = 'public.z'::regclass",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(defaults.len(), 12);
    let z = &m.tables[&q("public", "z")];
    for row in defaults {
        let column = &z.columns[row.get::<_, &str>(0)];
        let read = match row.get::<_, bool>(2) {
            true => &column.generated,
            false => &column.default,
        };
        assert_eq!(read.as_deref(), Some(row.get::<_, &str>(1)), "{column:?}");
    }
    db.drop_now().await.unwrap();
}

#[tokio::test]
async fn check_expressions_read_as_the_server_writes_them() {
    let db = fresh_db().await;
    let major = crate::harness::cluster().await.major();
    let mut sql = String::from(
        r#"
CREATE SCHEMA "Odd (Schema)";
CREATE TABLE "Odd (Schema)"."T (t)" (
    "a)b" int CHECK ("a)b" > 0),
    t text CHECK (t <> 'x) NO INHERIT'),
    u text CONSTRAINT u_no_inherit CHECK (u <> ')') NO INHERIT,
    flag boolean CHECK (flag),
    n numeric CHECK (n IS NULL OR (n > 0 AND n < 10)),
    s text CHECK (s ~ '^\(' AND length(s) < 5),
    d date CHECK (d > '2020-01-01'::date)
);
ALTER TABLE "Odd (Schema)"."T (t)" ADD CONSTRAINT not_valid CHECK (n <> 5) NOT VALID;
ALTER TABLE "Odd (Schema)"."T (t)" ADD CONSTRAINT both_ CHECK (n <> 6) NO INHERIT NOT VALID;
"#,
    );
    if major >= 18 {
        sql.push_str(
            "ALTER TABLE \"Odd (Schema)\".\"T (t)\" \
             ADD CONSTRAINT unenforced CHECK (n <> 7) NO INHERIT NOT ENFORCED;\n",
        );
    }
    let client = db.url().connect().await.unwrap();
    client.batch_execute(&sql).await.unwrap();
    let catalog = introspect(db.url()).await;
    client.batch_execute("SET search_path = ''").await.unwrap();
    let server = client
        .query(
            "SELECT conname, pg_get_expr(conbin, conrelid) FROM pg_constraint \
             WHERE conrelid = '\"Odd (Schema)\".\"T (t)\"'::regclass AND contype = 'c'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(server.len(), if major >= 18 { 10 } else { 9 });
    let table = &catalog.model.tables[&q("Odd (Schema)", "T (t)")];
    for row in server {
        let name: &str = row.get(0);
        let constraint = &table.constraints[name];
        assert_eq!(constraint.kind, ConstraintKind::Check);
        assert_eq!(
            constraint.detail.0.expression.as_deref(),
            Some(row.get::<_, &str>(1)),
            "check {name}: {}",
            constraint.definition
        );
    }
    db.drop_now().await.unwrap();
}

/// The inventory names a cast by its source and target types, which can be longer than a
/// `name` (63 bytes): read whole, the cast is the model's, not an unmanaged object.
#[tokio::test]
async fn a_cast_between_long_type_names_is_read_and_not_unmanaged() {
    let db = fresh_db().await;
    let sql = "
CREATE TYPE a_quite_long_composite_type_name_for_a_cast AS (v int);
CREATE TYPE another_quite_long_composite_type_name_too AS (v int);
CREATE FUNCTION convert_long(a_quite_long_composite_type_name_for_a_cast)
    RETURNS another_quite_long_composite_type_name_too LANGUAGE sql IMMUTABLE
    AS $$ SELECT ROW(($1).v)::another_quite_long_composite_type_name_too $$;
CREATE CAST (a_quite_long_composite_type_name_for_a_cast
             AS another_quite_long_composite_type_name_too)
    WITH FUNCTION convert_long(a_quite_long_composite_type_name_for_a_cast);
";
    let client = db.url().connect().await.unwrap();
    client.batch_execute(sql).await.unwrap();
    let catalog = introspect(db.url()).await;
    let key = catalog
        .model
        .user_casts
        .keys()
        .find(|key| key.contains("a_quite_long_composite_type_name_for_a_cast"))
        .unwrap_or_else(|| panic!("{:?}", catalog.model.user_casts.keys()));
    assert!(key.len() > 63, "{key}");
    assert!(
        key.ends_with("another_quite_long_composite_type_name_too"),
        "{key}"
    );
    db.drop_now().await.unwrap();
}
