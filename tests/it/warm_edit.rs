//! The warm edit path (`db/warm_edit.rs`): after an edit of a few files, the desired state
//! merged from partial loads into the cached one must be exactly what a full load of the
//! edited files gives. Generated projects of one file per table (types, functions, views
//! and foreign keys across files), each edited at one file, compared both ways.

use proptest::prelude::*;
use strata::db::shadow::{desired_after_edit, desired_catalog};
use strata::source::{Schema, SourceFile};

/// A small deterministic generator (the same edits on every run).
struct Rng(u64);

impl Rng {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % below
    }
    fn flip(&mut self) -> bool {
        self.next(2) == 1
    }
}

#[derive(Clone, Debug, PartialEq)]
struct TableSpec {
    a_type: u64,
    with_b: bool,
    parent: bool,
    index: bool,
    unique: bool,
    trigger: bool,
    comment: bool,
    view: bool,
}

fn table(rng: &mut Rng) -> TableSpec {
    TableSpec {
        a_type: rng.next(5),
        with_b: rng.flip(),
        parent: rng.flip(),
        index: rng.flip(),
        unique: rng.flip(),
        trigger: rng.flip(),
        comment: rng.flip(),
        view: rng.flip(),
    }
}

/// The project's files: functions, types, one file per table, views over the tables.
/// The whole project: its tables, whether a view joins two of them, and a variant of the
/// functions' and the types' files.
#[derive(Clone, Debug, PartialEq)]
struct Project {
    tables: Vec<TableSpec>,
    join: bool,
    functions: u64,
    types: u64,
}

fn render(p: &Project) -> Vec<SourceFile> {
    let (tables, views_join) = (&p.tables, p.join);
    let mut files = vec![
        SourceFile::new(
            "schema/00_functions.sql",
            format!(
                "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
                 NEW.b = coalesce(NEW.b, 'x'); RETURN NEW; END $$;\n\
                 CREATE FUNCTION plus(x int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT x + {}';\n{}",
                p.functions + 1,
                if p.functions == 2 {
                    "CREATE FUNCTION plus(x bigint) RETURNS bigint LANGUAGE sql AS 'SELECT x';\n"
                } else {
                    ""
                }
            ),
        ),
        SourceFile::new(
            "schema/01_types.sql",
            format!(
                "CREATE TYPE mood AS ENUM ('calm', 'busy'{});\n\
                 CREATE DOMAIN positive AS int CHECK (VALUE > {});\n",
                if p.types == 1 { ", 'idle'" } else { "" },
                if p.types == 2 { 1 } else { 0 }
            ),
        ),
    ];
    let mut views = String::new();
    for (i, t) in tables.iter().enumerate() {
        let name = format!("t{i}");
        let a = ["integer", "bigint", "text", "mood", "positive"][t.a_type as usize];
        let mut sql = format!(
            "CREATE TABLE {name} (\n    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n    a {a} NOT NULL"
        );
        if t.with_b {
            sql.push_str(",\n    b text DEFAULT 'none'");
        }
        if t.parent && i > 0 {
            sql.push_str(&format!(
                ",\n    parent_id bigint REFERENCES t{} (id)",
                i - 1
            ));
        }
        if t.a_type == 0 {
            sql.push_str(",\n    CHECK (plus(a) > 0)");
        }
        sql.push_str("\n);\n");
        if t.index {
            sql.push_str(&format!("CREATE INDEX ON {name} (a);\n"));
        }
        if t.unique {
            sql.push_str(&format!(
                "CREATE UNIQUE INDEX {name}_a_id ON {name} (a, id);\n"
            ));
        }
        if t.trigger && t.with_b {
            sql.push_str(&format!(
                "CREATE TRIGGER {name}_touch BEFORE INSERT ON {name} FOR EACH ROW EXECUTE FUNCTION touch();\n"
            ));
        }
        if t.comment {
            sql.push_str(&format!("COMMENT ON TABLE {name} IS 'table {i}';\n"));
        }
        files.push(SourceFile::new(format!("schema/t{i}.sql"), sql));
        if t.view {
            views.push_str(&format!("CREATE VIEW v{i} AS SELECT id, a FROM {name};\n"));
        }
    }
    if views_join && tables.len() > 1 {
        views.push_str(
            "CREATE VIEW joined AS SELECT t0.id, t1.a FROM t0 JOIN t1 ON t1.id = t0.id;\n",
        );
    }
    files.push(SourceFile::new("schema/90_views.sql", views));
    files
}

#[tokio::test]
async fn edits_merged_from_partial_loads_are_exactly_the_full_load() {
    let dev = crate::harness::dev_server().await;
    let (mut warm, mut refused) = (0, 0);
    for seed in 0..40u64 {
        let mut rng = Rng(seed);
        let mut project = Project {
            tables: (0..3 + rng.next(3)).map(|_| table(&mut rng)).collect(),
            join: rng.flip(),
            functions: rng.next(3),
            types: rng.next(3),
        };
        // One file changed: a table's, the views', the functions' or the types'.
        let before = project.clone();
        while project == before {
            match rng.next(project.tables.len() as u64 + 3) as usize {
                0 => project.join = !project.join,
                1 => project.functions = rng.next(3),
                2 => project.types = rng.next(3),
                n => project.tables[n - 3] = table(&mut rng),
            }
        }
        match compare_edit(&dev, &before, &project, &format!("seed {seed}")).await {
            true => warm += 1,
            false => refused += 1,
        }
    }
    eprintln!("{warm} edits merged, {refused} loaded whole");
    // Most of these edits are within what the path serves: a path that refused them all
    // would pass the comparisons above and serve nothing.
    assert!(
        warm >= 20,
        "only {warm} of 40 edits were merged ({refused} loaded whole)"
    );
}

/// Loads `before` whole, then `after` both ways: merged into the cached state from partial
/// loads of the edited files, and whole. Whether the edit was merged; a merge must be
/// exactly the full load (stored form and fingerprint), and never made of a state a full
/// load refuses.
async fn compare_edit(
    dev: &strata::db::shadow::DevServer,
    before: &Project,
    after: &Project,
    label: &str,
) -> bool {
    let old = render(before);
    let old_schema = Schema::from_files(old.clone()).unwrap();
    let new_schema = Schema::from_files(render(after)).unwrap();
    let cached = desired_catalog(dev, &old_schema)
        .await
        .unwrap_or_else(|e| panic!("{label}: the old state does not load: {e}"));
    let merged = desired_after_edit(dev, cached, &old, &new_schema).await;
    let full = desired_catalog(dev, &new_schema).await;
    match (merged, full) {
        (Some(merged), Ok(full)) => {
            assert_eq!(
                merged.to_stored(),
                full.to_stored(),
                "{label}: the merged state is not the full load's"
            );
            assert_eq!(
                merged.model.fingerprint(),
                full.model.fingerprint(),
                "{label}"
            );
            true
        }
        (Some(_), Err(e)) => panic!("{label}: merged, but a full load fails: {e}"),
        (None, _) => false,
    }
}

fn table_spec() -> impl Strategy<Value = TableSpec> {
    (0u64..5, any::<[bool; 7]>()).prop_map(|(a_type, b)| TableSpec {
        a_type,
        with_b: b[0],
        parent: b[1],
        index: b[2],
        unique: b[3],
        trigger: b[4],
        comment: b[5],
        view: b[6],
    })
}

/// A project and the same project with one file changed (a table's, the views', the
/// functions' or the types').
fn edited_project() -> impl Strategy<Value = (Project, Project)> {
    let project = (
        proptest::collection::vec(table_spec(), 3..6),
        any::<bool>(),
        0u64..3,
        0u64..3,
    )
        .prop_map(|(tables, join, functions, types)| Project {
            tables,
            join,
            functions,
            types,
        });
    (project, 0usize..8, table_spec(), 0u64..3).prop_filter_map(
        "the edit changes nothing",
        |(before, which, table, variant)| {
            let mut after = before.clone();
            match which % (before.tables.len() + 3) {
                0 => after.join = !after.join,
                1 => after.functions = variant,
                2 => after.types = variant,
                n => after.tables[n - 3] = table,
            }
            (after != before).then_some((before, after))
        },
    )
}

/// The warm edit path against the cold load, as a property: any project, any one file
/// edited, is merged exactly as a full load gives it, or loaded whole; and most are
/// merged (a path that refused them all would pass the comparisons and serve nothing).
#[test]
fn any_one_file_edit_is_merged_as_the_full_load_or_loaded_whole() {
    let cases = 12;
    // The same projects on every run.
    let mut runner =
        proptest::test_runner::TestRunner::new(crate::harness::reproducible(cases, 0x3a12_e0d1));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let merged = std::cell::Cell::new(0u32);
    let result = runner.run(&edited_project(), |(before, after)| {
        runtime.block_on(async {
            let dev = crate::harness::dev_server().await;
            let label = format!("{before:?}\n-> {after:?}");
            if compare_edit(&dev, &before, &after, &label).await {
                merged.set(merged.get() + 1);
            }
        });
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    eprintln!("{} of {cases} edits merged", merged.get());
    assert!(
        merged.get() * 2 >= cases,
        "only {} of {cases} edits were merged",
        merged.get()
    );
}

/// A project's files (name, text), the file edited, and its new text.
type Case = (
    &'static [(&'static str, &'static str)],
    &'static str,
    &'static str,
);

/// Edits where a merge that trusted only the loaded files would go wrong: a name PostgreSQL
/// generates taken elsewhere, a new overload that a view elsewhere would call, a comment
/// from another file, a name shadowed on the search path. Each must be served exactly as
/// a full load, or loaded whole.
#[tokio::test]
async fn edits_that_reach_beyond_their_files_are_never_merged_wrong() {
    let dev = crate::harness::dev_server().await;
    let cases: [Case; 22] = [
        (
            &[
                ("a.sql", "CREATE TABLE t (a int);"),
                ("b.sql", "CREATE TABLE t_a_idx (x int);"),
            ],
            "a.sql",
            "CREATE TABLE t (a int); CREATE INDEX ON t (a);",
        ),
        (
            &[
                (
                    "a.sql",
                    "CREATE FUNCTION f(x numeric) RETURNS int LANGUAGE sql AS 'SELECT 1';",
                ),
                ("b.sql", "CREATE VIEW v AS SELECT f(1) AS one;"),
                ("c.sql", "CREATE TABLE unrelated (a int);"),
            ],
            "c.sql",
            "CREATE TABLE unrelated (a int); CREATE FUNCTION f(x int) RETURNS int LANGUAGE sql AS 'SELECT 2';",
        ),
        (
            &[
                ("a.sql", "CREATE TABLE t (a int);"),
                ("b.sql", "COMMENT ON TABLE t IS 'from b';"),
            ],
            "a.sql",
            "CREATE TABLE t (a int, b int);",
        ),
        (
            &[
                (
                    "a.sql",
                    "CREATE SCHEMA app; CREATE TABLE app.items (a int);",
                ),
                ("b.sql", "CREATE VIEW v AS SELECT * FROM app.items;"),
                ("c.sql", "CREATE TABLE other (a int);"),
            ],
            "c.sql",
            "CREATE TABLE other (a int); CREATE TABLE items (z text);",
        ),
        (
            &[
                ("a.sql", "CREATE TABLE t (a int PRIMARY KEY);"),
                ("b.sql", "CREATE TABLE u (a int REFERENCES t);"),
                ("c.sql", "CREATE VIEW w AS SELECT u.a FROM u;"),
            ],
            "a.sql",
            "CREATE TABLE t (a bigint PRIMARY KEY);",
        ),
        // A statement removed whose effect a stub of its table would still hold.
        (
            &[
                ("t.sql", "CREATE TABLE t (id int, a int);"),
                ("z.sql", "ALTER TABLE t ALTER COLUMN a SET NOT NULL;"),
            ],
            "z.sql",
            "",
        ),
        // A statement added whose effect a stub would absorb.
        (
            &[
                (
                    "f.sql",
                    "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1';",
                ),
                ("g.sql", "CREATE TABLE g (a int);"),
            ],
            "g.sql",
            "CREATE TABLE g (a int); REVOKE EXECUTE ON FUNCTION f() FROM PUBLIC;",
        ),
        // A change carried through an object that itself stays the same.
        (
            &[
                ("d.sql", "CREATE DOMAIN amount AS int;"),
                ("p.sql", "CREATE TABLE product (id int, price amount);"),
                (
                    "v.sql",
                    "CREATE VIEW priced AS SELECT id, price + 1 AS p FROM product;",
                ),
            ],
            "d.sql",
            "CREATE DOMAIN amount AS numeric;",
        ),
        // A generated foreign key name another table's key already has.
        (
            &[
                ("a.sql", "CREATE TABLE person (id int PRIMARY KEY);"),
                (
                    "b.sql",
                    "CREATE TABLE account_profile (id int PRIMARY KEY REFERENCES person (id));",
                ),
                ("c.sql", "CREATE TABLE account (id int);"),
            ],
            "c.sql",
            "CREATE TABLE account (id int, profile_id int REFERENCES person (id));",
        ),
        // CREATE OR REPLACE in two files: the later in the load wins.
        (
            &[
                (
                    "a.sql",
                    "CREATE OR REPLACE FUNCTION f() RETURNS bigint LANGUAGE sql AS \
                     'SELECT count(*) FROM t';",
                ),
                ("b.sql", "CREATE TABLE u (a int);"),
                ("t.sql", "CREATE TABLE t (id int);"),
            ],
            "b.sql",
            "CREATE TABLE u (a int); CREATE OR REPLACE FUNCTION f() RETURNS bigint \
             LANGUAGE sql AS 'SELECT 0::bigint';",
        ),
        // LIKE copies a table as it stands at that point of the load.
        (
            &[
                (
                    "t.sql",
                    "CREATE TABLE t (id int DEFAULT 1); ALTER TABLE t ADD COLUMN z int;",
                ),
                ("u.sql", "CREATE TABLE u (w int);"),
            ],
            "u.sql",
            "CREATE TABLE u (w int, LIKE t INCLUDING DEFAULTS);",
        ),
        // A function body names a table the edit renames.
        (
            &[
                ("i.sql", "CREATE TABLE items (id int);"),
                (
                    "f.sql",
                    "CREATE FUNCTION n() RETURNS bigint LANGUAGE sql AS $$SELECT count(*) FROM items$$;",
                ),
            ],
            "i.sql",
            "CREATE TABLE item (id int);",
        ),
        // An identity sequence's generated name taken by another table's.
        (
            &[
                (
                    "a.sql",
                    "CREATE TABLE account_profile (id int GENERATED ALWAYS AS IDENTITY);",
                ),
                ("b.sql", "CREATE TABLE account (x int);"),
            ],
            "b.sql",
            "CREATE TABLE account (x int, profile_id int GENERATED ALWAYS AS IDENTITY);",
        ),
        // A file not loaded again changes an index the edit creates.
        (
            &[
                ("t.sql", "CREATE TABLE t (id int);"),
                (
                    "x.sql",
                    "ALTER INDEX IF EXISTS t_pkey SET (fillfactor = 70);",
                ),
            ],
            "t.sql",
            "CREATE TABLE t (id int PRIMARY KEY);",
        ),
        // A view of a view of a table whose column type changes.
        (
            &[
                ("t.sql", "CREATE TABLE t (id int, a int);"),
                ("v.sql", "CREATE VIEW v AS SELECT a FROM t;"),
                ("w.sql", "CREATE VIEW w AS SELECT a + 1 AS b FROM v;"),
            ],
            "t.sql",
            "CREATE TABLE t (id int, a bigint);",
        ),
        // A file not loaded again alters a table that a loaded, unchanged file creates.
        (
            &[
                ("t.sql", "CREATE TABLE t (id int PRIMARY KEY);"),
                ("u.sql", "CREATE TABLE u (id int, t_id int REFERENCES t);"),
                ("z.sql", "ALTER TABLE u ADD COLUMN note text;"),
            ],
            "t.sql",
            "CREATE TABLE t (id int PRIMARY KEY); CREATE VIEW w AS SELECT * FROM u;",
        ),
        // Another overload, in a file not loaded again, of a function a loaded file makes.
        (
            &[
                ("t.sql", "CREATE TABLE t (id int);"),
                (
                    "b.sql",
                    "CREATE FUNCTION f(x numeric) RETURNS numeric LANGUAGE sql AS 'SELECT x'; \
                     COMMENT ON TABLE t IS 'b';",
                ),
                (
                    "c.sql",
                    "CREATE FUNCTION f(x int) RETURNS int LANGUAGE sql AS 'SELECT x';",
                ),
            ],
            "t.sql",
            "CREATE TABLE t (id int); CREATE VIEW w AS SELECT f(1) AS one;",
        ),
        // A statement that a full load runs only in a later pass, after a view was made.
        (
            &[
                ("v.sql", "CREATE VIEW v AS SELECT 1 AS one;"),
                ("t.sql", "CREATE TABLE t (id int);"),
                ("w.sql", "CREATE VIEW w AS SELECT * FROM t;"),
            ],
            "t.sql",
            "CREATE TABLE t (id int); ALTER TABLE t ADD COLUMN c v;",
        ),
        // IF EXISTS, where a full load has not made the table yet.
        (
            &[
                ("v.sql", "CREATE VIEW v AS SELECT 1 AS one;"),
                (
                    "t.sql",
                    "CREATE TABLE t (id int); ALTER TABLE IF EXISTS t ADD COLUMN d int;",
                ),
            ],
            "t.sql",
            "CREATE TABLE t (id int, c v); ALTER TABLE IF EXISTS t ADD COLUMN d int;",
        ),
        // A generated check name that a domain's check already has.
        (
            &[
                ("d.sql", "CREATE DOMAIN t_a AS int CHECK (VALUE > 0);"),
                ("x.sql", "CREATE TABLE x (id int);"),
            ],
            "x.sql",
            "CREATE TABLE x (id int); CREATE TABLE t (a int CHECK (a > 0));",
        ),
        // A range type whose multirange name another file's type has (a full load fails).
        (
            &[
                ("m.sql", "CREATE TYPE floatmultirange AS ENUM ('x');"),
                ("x.sql", "CREATE TABLE x (id int);"),
            ],
            "x.sql",
            "CREATE TABLE x (id int); CREATE TYPE floatrange AS RANGE (subtype = float8);",
        ),
        // A function body naming a table through an escape.
        (
            &[
                ("i.sql", "CREATE TABLE items (id int);"),
                (
                    "f.sql",
                    "CREATE FUNCTION n() RETURNS bigint LANGUAGE sql AS \
                     E'SELECT count(*) FROM \\x69tems';",
                ),
            ],
            "i.sql",
            "CREATE TABLE item (id int);",
        ),
    ];
    let mut merged_any = false;
    for (files, edited, text) in cases {
        let old: Vec<SourceFile> = files.iter().map(|(n, t)| SourceFile::new(*n, *t)).collect();
        let new: Vec<SourceFile> = files
            .iter()
            .map(|(n, t)| SourceFile::new(*n, if *n == edited { text } else { *t }))
            .collect();
        let cached = desired_catalog(&dev, &Schema::from_files(old.clone()).unwrap())
            .await
            .unwrap();
        let new_schema = Schema::from_files(new).unwrap();
        let merged = desired_after_edit(&dev, cached, &old, &new_schema).await;
        let full = desired_catalog(&dev, &new_schema).await;
        if let Some(merged) = merged {
            merged_any = true;
            let full =
                full.unwrap_or_else(|e| panic!("{edited}: merged, but a full load fails: {e}"));
            assert_eq!(
                merged.to_stored(),
                full.to_stored(),
                "{edited} -> {text}: merged wrong"
            );
        }
    }
    // The comment from another file is merged (the file is loaded with the edit).
    assert!(merged_any, "no edit was merged");
}

/// Merged edits in a row end in a full load after a few: whatever a merge could get wrong
/// does not last. Each entry records how many merges led to it.
#[tokio::test]
async fn a_chain_of_merged_edits_ends_in_a_full_load() {
    let dir = tempfile::tempdir().unwrap();
    let (cache, dev) = embedded_with_cache(dir.path()).await;
    for n in 0..11 {
        let schema = Schema::from_files(vec![
            SourceFile::new("a.sql", "CREATE TABLE a (id int PRIMARY KEY);"),
            SourceFile::new(
                "b.sql",
                format!("CREATE TABLE b (id int PRIMARY KEY, a int REFERENCES a, c{n} int);"),
            ),
        ])
        .unwrap();
        desired_catalog(&dev, &schema).await.unwrap();
    }
    let merges = merges_in(&cache);
    // The first load, eight merges, a full load, a merge again.
    assert_eq!(merges, vec![0, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8]);
}

/// A full load that tried statements again (a SQL function whose body reads a table made
/// later is made in the second pass, and so is what uses it) made them in an order the
/// stubs of a partial load do not follow: the next edit loads whole.
#[tokio::test]
async fn an_edit_after_a_load_that_tried_statements_again_loads_whole() {
    let dir = tempfile::tempdir().unwrap();
    let (cache, dev) = embedded_with_cache(dir.path()).await;
    let files = |view: &str| {
        Schema::from_files(vec![
            SourceFile::new(
                "a_fn.sql",
                "CREATE FUNCTION default_tenant() RETURNS int LANGUAGE sql STABLE AS \
                 'SELECT min(id) FROM tenants';",
            ),
            SourceFile::new("tenants.sql", "CREATE TABLE tenants (id int PRIMARY KEY);"),
            SourceFile::new(
                "t.sql",
                format!(
                    "CREATE TABLE t (id int PRIMARY KEY); ALTER TABLE t ADD COLUMN tenant_id \
                     int REFERENCES tenants DEFAULT default_tenant();{view}"
                ),
            ),
        ])
        .unwrap()
    };
    desired_catalog(&dev, &files("")).await.unwrap();
    let edited = files(" CREATE VIEW t_all AS SELECT * FROM t;");
    let warm = desired_catalog(&dev, &edited).await.unwrap();
    let full = desired_catalog(&crate::harness::dev_server().await, &edited)
        .await
        .unwrap();
    assert_eq!(warm.to_stored(), full.to_stored());
    // The view was made before the column it would show, in the full load's first pass.
    assert_eq!(full.model.views.values().next().unwrap().columns.len(), 1);
    let merges = merges_in(&cache);
    assert_eq!(merges, vec![0, 0], "the edit was merged");
}

/// An embedded dev server whose cache is a folder of its own under `dir`.
async fn embedded_with_cache(
    dir: &std::path::Path,
) -> (strata::cache::Cache, strata::db::shadow::DevServer) {
    let cache = strata::cache::Cache::at(dir.join("cache"));
    let dev = strata::db::shadow::DevServer::start(None, Default::default())
        .await
        .unwrap()
        .with_cache(Some(cache.clone()));
    (cache, dev)
}

/// How many merged edits led to each desired entry in `cache` (once its writes are done),
/// in order.
fn merges_in(cache: &strata::cache::Cache) -> Vec<u64> {
    strata::cache::settle();
    let mut merges: Vec<u64> = std::fs::read_dir(cache.dir())
        .unwrap()
        .filter_map(|e| {
            let path = e.unwrap().path();
            (path.extension()? == "json").then_some(path)
        })
        .map(|path| {
            let entry: serde_json::Value =
                serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
            entry["merges"].as_u64().unwrap_or(0)
        })
        .collect();
    merges.sort_unstable();
    merges
}
