//! The loader over several connections: the same shadow as one statement at a time.

use strata::db::shadow::{Loading, desired_catalog, load_as};
use strata::source::{Schema, SourceFile};

use crate::harness::{dev_server, fresh_db, introspect, load_sql, schema_from_sql};

/// Tables whose foreign keys form a tree, named and unnamed
/// indexes, triggers, views and comments.
fn tree_schema(tables: usize) -> String {
    let mut sql = String::from(
        "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS \
         $$BEGIN NEW.updated_at := now(); RETURN NEW; END$$;\n",
    );
    for k in 0..tables {
        let parent = if k == 0 {
            String::new()
        } else {
            format!(", parent_id bigint REFERENCES t{} (id)", (k - 1) / 2)
        };
        sql.push_str(&format!(
            "CREATE TABLE t{k} (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, \
             name text NOT NULL CHECK (length(name) < 200), code text UNIQUE, \
             updated_at timestamptz{parent});\n\
             CREATE INDEX t{k}_name_idx ON t{k} (name);\n\
             CREATE INDEX ON t{k} (updated_at);\n\
             CREATE TRIGGER t{k}_touch BEFORE UPDATE ON t{k} FOR EACH ROW EXECUTE FUNCTION touch();\n\
             COMMENT ON TABLE t{k} IS 'table {k}';\n"
        ));
        if k % 5 == 0 {
            sql.push_str(&format!("CREATE VIEW v{k} AS SELECT id, name FROM t{k};\n"));
        }
    }
    sql
}

/// Loads `schema` into a fresh database over `connections` connections and reads it back.
async fn load_over(schema: &Schema, connections: usize) -> (strata::db::shadow::Loaded, String) {
    let db = fresh_db().await;
    let client = db.url().connect().await.unwrap();
    let mut helpers = Vec::new();
    for _ in 1..connections {
        helpers.push(db.url().connect().await.unwrap());
    }
    let loaded = load_as(
        &Loading {
            client: &client,
            helpers: &helpers,
            extensions: None,
        },
        schema,
    )
    .await
    .unwrap();
    (loaded, introspect(db.url()).await.to_stored().to_string())
}

#[tokio::test]
async fn loading_over_several_connections_gives_what_loading_one_at_a_time_gives() {
    let mut sql = tree_schema(60);
    // An index on a materialized view fails among the indexes (views come later) and is
    // made in the next pass, as it is one statement at a time.
    sql.push_str(
        "CREATE INDEX m_id_idx ON m (id);\n\
         CREATE MATERIALIZED VIEW m AS SELECT id FROM t1;\n",
    );
    let schema = schema_from_sql("tree.sql", &sql);
    let (alone, serial) = load_over(&schema, 1).await;
    assert_eq!((alone.alongside, alone.again_alone), (0, false));
    // The index on the materialized view waited for a second pass.
    assert_eq!(alone.passes, 2);
    let (together, parallel) = load_over(&schema, 3).await;
    // Both kinds of index and the triggers ran over the connections, while later tables
    // were made; the index on the materialized view, left alone in its kind, did not.
    assert_eq!((together.alongside, together.early), (60 * 3, 60 * 3));
    assert!(!together.again_alone);
    assert_eq!(together.passes, 2);
    assert!(parallel.contains("m_id_idx"), "{parallel}");
    assert_eq!(parallel, serial);
}

#[tokio::test]
async fn indexes_that_competed_for_a_generated_name_are_loaded_again_one_at_a_time() {
    // Each pair asks PostgreSQL for the same index name: one at a time, the second gets a
    // number; at the same time, the second fails or gets the number, and which of the two
    // is second depends on timing. Long table names are cut to make room for the number.
    let long = "a".repeat(55);
    let pairs = [
        "CREATE TABLE t (a_b int);\nCREATE TABLE t_a (b int);\n\
         CREATE INDEX ON t (a_b);\nCREATE INDEX ON t_a (b);\n"
            .to_owned(),
        "CREATE TABLE t (a_b int);\nCREATE TABLE u (x int);\n\
         CREATE INDEX t_a_b_idx ON u (x);\nCREATE INDEX ON t (a_b);\n"
            .to_owned(),
        format!(
            "CREATE TABLE {long}_x (code text);\nCREATE TABLE {long}_y (code text);\n\
             CREATE INDEX ON {long}_x (code);\nCREATE INDEX ON {long}_y (code);\n"
        ),
    ];
    // A later statement that uses a numbered name (renames it, comments on it) must not
    // act on the other index.
    let used = [
        "ALTER INDEX t_a_b_idx1 RENAME TO t_a_b_uq;\n",
        "COMMENT ON INDEX t_a_b_idx1 IS 'the index on t_a';\n",
    ]
    .map(|then| format!("{}{then}", pairs[0]));
    for sql in pairs.iter().chain(&used) {
        let schema = schema_from_sql("names.sql", sql);
        let (together, _) = load_over(&schema, 2).await;
        assert!(together.again_alone, "{sql}");
        // The desired state is loaded again one at a time: the names a load in file
        // order gives.
        let desired = desired_catalog(&dev_server().await, &schema).await.unwrap();
        let db = fresh_db().await;
        load_sql(db.url(), "names.sql", sql).await;
        assert_eq!(
            desired.to_stored().to_string(),
            introspect(db.url()).await.to_stored().to_string(),
            "{sql}"
        );
    }
}

#[tokio::test]
async fn a_numbered_name_from_before_the_indexes_does_not_load_again() {
    // Unique constraints numbered while the tables load one at a time, then indexes of
    // their own names.
    let sql = "CREATE TABLE t (a_b int UNIQUE);\nCREATE TABLE t_a (b int UNIQUE);\n\
               CREATE INDEX t_x ON t (a_b);\nCREATE INDEX t_a_x ON t_a (b);\n";
    let (together, parallel) = load_over(&schema_from_sql("n.sql", sql), 2).await;
    assert_eq!(together.alongside, 2);
    assert!(!together.again_alone);
    assert!(parallel.contains("t_a_b_key1"), "{parallel}");
}

#[tokio::test]
async fn an_explicit_name_another_index_was_given_first_is_reported_as_one_at_a_time() {
    // One at a time, the second statement fails (the first took the name); at the same
    // time, it may succeed and number the first's name instead.
    let sql = "CREATE TABLE t (a_b int);\nCREATE TABLE u (x int);\n\
               CREATE INDEX ON t (a_b);\nCREATE INDEX t_a_b_idx ON u (x);\n";
    let schema = schema_from_sql("clash.sql", sql);
    let (together, _) = load_over(&schema, 2).await;
    assert!(together.again_alone);
    let err = desired_catalog(&dev_server().await, &schema)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("clash.sql:4") && err.contains("already exists"),
        "{err}"
    );
}

#[tokio::test]
async fn a_trigger_written_twice_keeps_the_order_of_the_files() {
    let files = vec![
        SourceFile::new(
            "a.sql",
            "CREATE TABLE t (id int);\nCREATE INDEX ON t (id);\n\
             CREATE FUNCTION f1() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;\n\
             CREATE FUNCTION f2() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;\n\
             CREATE OR REPLACE TRIGGER trg BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION f1();\n",
        ),
        SourceFile::new(
            "b.sql",
            "CREATE INDEX ON t ((id + 1));\n\
             CREATE OR REPLACE TRIGGER trg BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION f2();\n",
        ),
    ];
    let schema = Schema::from_files(files).unwrap();
    let (together, catalog) = load_over(&schema, 2).await;
    // The indexes ran together, the triggers one at a time.
    assert_eq!(together.alongside, 2);
    assert!(!together.again_alone);
    assert!(
        catalog.contains("EXECUTE FUNCTION public.f2()"),
        "{catalog}"
    );
    assert!(
        !catalog.contains("EXECUTE FUNCTION public.f1()"),
        "{catalog}"
    );
}

#[tokio::test]
async fn a_statement_that_fails_among_others_is_reported_at_its_file_and_line() {
    // Among others, any failure stops the load, which is done again one at a time: its
    // errors are the ones reported.
    for broken in [
        "CREATE INDEX broken_idx ON t3 (no_such_column);",
        "CREATE INDEX broken_idx ON t3 (name) WHERE random() > 0.5;",
    ] {
        let sql = format!("{}{broken}\n", tree_schema(8));
        let line = sql.lines().count();
        let schema = schema_from_sql("broken.sql", &sql);
        let (loaded, _) = load_over(&schema, 2).await;
        assert!(loaded.again_alone, "{broken}");
        let err = desired_catalog(&dev_server().await, &schema)
            .await
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(&format!("broken.sql:{line}")) && err.contains("broken_idx"),
            "{err}"
        );
    }
}

#[tokio::test]
async fn indexes_and_triggers_made_with_the_tables_give_what_one_at_a_time_gives() {
    // A chain of foreign keys (each table made after the one it references), indexes and
    // triggers run while the later tables are made, and those that must wait: a unique
    // index a foreign key could use, an index on a table an ALTER TABLE changes (which it
    // needs), an index named as a table's generated index would be.
    let mut sql = String::from(
        "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS \
         $$BEGIN NEW.updated_at := now(); RETURN NEW; END$$;\n",
    );
    for k in 0..30 {
        let parent = if k == 0 {
            String::new()
        } else {
            format!(", parent_code text REFERENCES c{} (code)", k - 1)
        };
        sql.push_str(&format!(
            "CREATE TABLE c{k} (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, \
             code text UNIQUE, name text, updated_at timestamptz{parent});\n\
             CREATE UNIQUE INDEX c{k}_code_again ON c{k} (code);\n\
             CREATE UNIQUE INDEX c{k}_name_uq ON c{k} (name, code);\n\
             CREATE INDEX ON c{k} (updated_at);\n\
             CREATE TRIGGER c{k}_touch BEFORE UPDATE ON c{k} FOR EACH ROW EXECUTE FUNCTION touch();\n"
        ));
    }
    sql.push_str(
        "CREATE INDEX ON c3 (extra);\nALTER TABLE c3 ADD COLUMN extra int;\n\
         CREATE INDEX c4_name_key ON c4 (name);\n",
    );
    let schema = schema_from_sql("chain.sql", &sql);
    let (alone, serial) = load_over(&schema, 1).await;
    assert_eq!((alone.alongside, alone.early), (0, 0));
    let (together, parallel) = load_over(&schema, 2).await;
    assert!(!together.again_alone);
    // Three of each table's four (not the unique index on the column the next table's
    // foreign key references; the last table's, which none references, too), but none of
    // c3's (an ALTER TABLE names it).
    assert_eq!(together.early, 3 * 30 + 1 - 3);
    assert_eq!(parallel, serial);
    assert!(parallel.contains("c3_extra_idx") && parallel.contains("c4_name_key"));
}

#[tokio::test]
async fn a_table_that_copies_another_keeps_the_indexes_after_the_tables() {
    // LIKE ... INCLUDING INDEXES copies the indexes that exist when it runs: after all the
    // tables, none of the later CREATE INDEX statements.
    let sql = "CREATE TABLE a (id int, name text);\nCREATE INDEX a_name_idx ON a (name);\n\
               CREATE TABLE b (LIKE a INCLUDING INDEXES);\nCREATE INDEX ON b (id);\n";
    let schema = schema_from_sql("like.sql", sql);
    let (alone, serial) = load_over(&schema, 1).await;
    let (together, parallel) = load_over(&schema, 2).await;
    assert_eq!(alone.passes, 1);
    assert_eq!(together.early, 0);
    assert_eq!(parallel, serial);
    assert!(!serial.contains("b_name_idx"), "{serial}");
}

#[tokio::test]
async fn an_early_index_that_takes_a_later_ones_name_loads_again_one_at_a_time() {
    // Each time, an index that runs while the tables are made takes the name a later index
    // (not run early: its table is altered, or it is built concurrently) would have had.
    let hidden_error = "CREATE TABLE a (code text);\nCREATE TABLE b (y int);\n\
                        ALTER TABLE b ADD COLUMN z int;\nCREATE INDEX ON b (y);\n\
                        CREATE INDEX b_y_idx ON a (code);\n";
    let swapped = "CREATE TABLE a (code text);\n\
                   CREATE UNIQUE INDEX CONCURRENTLY ON a (code);\n\
                   CREATE INDEX ON a (code) WHERE code <> '';\n";
    for sql in [hidden_error, swapped] {
        let schema = schema_from_sql("n.sql", sql);
        let (together, _) = load_over(&schema, 2).await;
        assert_eq!((together.early, together.again_alone), (1, true), "{sql}");
    }
    let err = desired_catalog(&dev_server().await, &schema_from_sql("n.sql", hidden_error))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("n.sql:5") && err.contains("already exists"),
        "{err}"
    );
    let desired = desired_catalog(&dev_server().await, &schema_from_sql("n.sql", swapped))
        .await
        .unwrap();
    let db = fresh_db().await;
    load_sql(db.url(), "n.sql", swapped).await;
    let loaded = introspect(db.url()).await.to_stored().to_string();
    assert_eq!(desired.to_stored().to_string(), loaded);
    assert!(loaded.contains("a_code_idx1"), "{loaded}");
}

#[tokio::test]
async fn a_unique_index_a_foreign_key_could_use_waits_for_the_tables() {
    // One at a time, the foreign key finds no unique index on a (code): the indexes come
    // after the tables. Run as soon as a is made, the index would be there when b is made
    // (twenty tables later) and the load would succeed where one at a time it fails.
    let mut sql = String::from("CREATE TABLE a (code text);\n");
    for k in 0..20 {
        sql.push_str(&format!("CREATE TABLE c{k} (x int);\n"));
    }
    sql.push_str(
        "CREATE TABLE b (code text REFERENCES a (code));\nCREATE UNIQUE INDEX ON a (code);\n",
    );
    let err = desired_catalog(&dev_server().await, &schema_from_sql("fk.sql", &sql))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("fk.sql:22") && err.contains("no unique constraint matching"),
        "{err}"
    );
}

#[tokio::test]
async fn a_numbered_name_is_told_from_one_written_in_another_schema() {
    // The early index on a takes a_code_idx; the concurrent one, built after the tables
    // (not early), is numbered a_code_idx1 in public. The written a_code_idx1 is in app (an
    // index is in its table's schema): it does not excuse the numbered one. (No two early
    // indexes ask for one name here: such a race may end in an error instead of a number.)
    let sql = "CREATE SCHEMA app;\nCREATE TABLE a (code text);\nCREATE TABLE app.t (x int);\n\
               CREATE INDEX a_code_idx1 ON app.t (x);\nCREATE INDEX ON a (code);\n\
               CREATE INDEX CONCURRENTLY ON a (code);\n";
    let schema = schema_from_sql("s.sql", sql);
    let (alone, serial) = load_over(&schema, 1).await;
    assert!(!alone.again_alone);
    let (together, _) = load_over(&schema, 2).await;
    assert_eq!((together.early, together.again_alone), (2, true));
    let desired = desired_catalog(&dev_server().await, &schema).await.unwrap();
    assert_eq!(desired.to_stored().to_string(), serial);
    assert!(serial.contains("a_code_idx1"), "{serial}");
}

#[tokio::test]
async fn tables_sent_ahead_of_their_answers_keep_each_answer_with_its_table() {
    // The tables are sent a few ahead of their answers. One that fails for want of a type
    // made later (a table's row type, which the load order does not know of) is tried
    // again in the next pass, the tables sent after it are made as one at a time, and its
    // indexes wait for it; an answer given to the wrong table would try that one again
    // ("already exists", which loads again one at a time).
    let tree = tree_schema(24);
    let middle = tree.find("CREATE TABLE t12 ").unwrap();
    let sql = format!(
        "{}CREATE TABLE holder (id int, item later_t);\n\
         CREATE INDEX holder_idx ON holder (id);\n\
         CREATE TABLE later_t (id int PRIMARY KEY, name text);\n{}",
        &tree[..middle],
        &tree[middle..]
    );
    let schema = schema_from_sql("ahead.sql", &sql);
    let (alone, serial) = load_over(&schema, 1).await;
    assert_eq!((alone.passes, alone.again_alone), (2, false));
    let (together, parallel) = load_over(&schema, 3).await;
    assert!(!together.again_alone);
    assert_eq!(together.passes, 2);
    // Each tree table's three, not holder's index (its table failed).
    assert_eq!(together.early, 24 * 3);
    assert_eq!(parallel, serial);
    assert!(parallel.contains("holder_idx") && parallel.contains("later_t"));

    // A table that fails for good among those sent after it: the load over several
    // connections is not trusted (it is done again one at a time, whose error is the one
    // reported, at its file and line).
    let sql = format!(
        "{}CREATE TABLE broken (a int, a int);\n{}",
        &tree[..middle],
        &tree[middle..]
    );
    let line = tree[..middle].lines().count() + 1;
    let schema = schema_from_sql("ahead.sql", &sql);
    let (loaded, _) = load_over(&schema, 2).await;
    assert!(loaded.again_alone && loaded.early > 0, "{loaded:?}");
    let err = desired_catalog(&dev_server().await, &schema)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(&format!("ahead.sql:{line}"))
            && err.contains("\"a\" specified more than once"),
        "{err}"
    );
}
