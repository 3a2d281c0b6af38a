//! The loader over several connections: the same shadow as one statement at a time.

use strata::db::shadow::{Loading, desired_catalog, load_as};
use strata::source::Schema;

use crate::harness::{dev_server, fresh_db, introspect, load_sql, schema_from_sql};

/// Tables whose foreign keys form a tree (each waits for its parent), named and unnamed
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
    let schema = schema_from_sql("tree.sql", &tree_schema(60));
    let (alone, serial) = load_over(&schema, 1).await;
    assert_eq!(alone.alongside, 0);
    let (together, parallel) = load_over(&schema, 3).await;
    // The tables, both kinds of index and the triggers ran over the connections.
    assert_eq!(together.alongside, 60 * 4);
    assert!(!together.names_raced);
    assert!(parallel.contains("t59_updated_at_idx"), "{parallel}");
    assert_eq!(parallel, serial);
}

#[tokio::test]
async fn generated_names_that_compete_are_found_and_the_state_loaded_again_alone() {
    // `t (a_b)` and `t_a (b)` both ask for `t_a_b_check`: loaded one at a time, the second
    // gets `t_a_b_check1`; loaded at the same time, either may, or both get the plain name.
    let sql = "CREATE TABLE t (a_b int CHECK (a_b > 0));\n\
               CREATE TABLE t_a (b int CHECK (b > 0));\n\
               CREATE TABLE other (x int CHECK (x > 0));\n";
    let schema = schema_from_sql("names.sql", sql);
    let (together, _) = load_over(&schema, 2).await;
    assert!(together.alongside > 0);
    assert!(together.names_raced);
    // A schema without such a pair is not flagged.
    let (plain, _) = load_over(&schema_from_sql("plain.sql", &tree_schema(4)), 2).await;
    assert!(plain.alongside > 0 && !plain.names_raced);

    // The desired state is then loaded again alone: the names a load in file order gives.
    let desired = desired_catalog(&dev_server().await, &schema).await.unwrap();
    let stored = desired.to_stored().to_string();
    assert!(stored.contains("t_a_b_check1"), "{stored}");
    let db = fresh_db().await;
    load_sql(db.url(), "names.sql", sql).await;
    assert_eq!(stored, introspect(db.url()).await.to_stored().to_string());
}

#[tokio::test]
async fn a_statement_that_fails_among_others_is_reported_at_its_file_and_line() {
    let mut sql = tree_schema(8);
    sql.push_str("CREATE INDEX broken_idx ON t3 (no_such_column);\n");
    let line = sql.lines().count();
    let schema = schema_from_sql("broken.sql", &sql);
    let db = fresh_db().await;
    let client = db.url().connect().await.unwrap();
    let helpers = vec![db.url().connect().await.unwrap()];
    let err = load_as(
        &Loading {
            client: &client,
            helpers: &helpers,
            extensions: None,
        },
        &schema,
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(
        err.contains(&format!("broken.sql:{line}")) && err.contains("no_such_column"),
        "{err}"
    );
    // Only that statement failed: the others are there.
    let catalog = introspect(db.url()).await.to_stored().to_string();
    assert!(catalog.contains("t7_touch"), "{catalog}");
}
