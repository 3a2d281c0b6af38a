//! Tables rebuilt with their rows (issue 9): a plain table turned into a partitioned one,
//! back, and into an inheriting table, on a database with rows, with the real binary.

use crate::project::Project;

const PLAIN: &str = "
CREATE TABLE logs (id bigint GENERATED ALWAYS AS IDENTITY, at date NOT NULL, line text,
    PRIMARY KEY (id, at));
CREATE TABLE refs (id int PRIMARY KEY, log_id bigint, log_at date,
    FOREIGN KEY (log_id, log_at) REFERENCES logs (id, at));
CREATE VIEW busy_days AS SELECT at, count(*) AS n FROM logs GROUP BY at;
";

const PARTITIONED: &str = "
CREATE TABLE logs (id bigint GENERATED ALWAYS AS IDENTITY, at date NOT NULL, line text,
    PRIMARY KEY (id, at)) PARTITION BY RANGE (at);
CREATE TABLE logs_old PARTITION OF logs FOR VALUES FROM (MINVALUE) TO ('2026-01-01');
CREATE TABLE logs_new PARTITION OF logs FOR VALUES FROM ('2026-01-01') TO (MAXVALUE);
CREATE TABLE refs (id int PRIMARY KEY, log_id bigint, log_at date,
    FOREIGN KEY (log_id, log_at) REFERENCES logs (id, at));
CREATE VIEW busy_days AS SELECT at, count(*) AS n FROM logs GROUP BY at;
";

/// What the rows look like, to compare before and after: count, sum of ids, a digest of
/// every row, and the references.
async fn rows(p: &Project) -> (i64, i64, i64, i64) {
    (
        p.query_one_i64("SELECT count(*) FROM logs").await,
        p.query_one_i64("SELECT sum(id)::bigint FROM logs").await,
        p.query_one_i64(
            "SELECT sum(hashtext(id || '/' || at || '/' || coalesce(line, '-')))::bigint FROM logs",
        )
        .await,
        p.query_one_i64(
            "SELECT count(*) FROM refs r JOIN logs l ON (l.id, l.at) = (r.log_id, r.log_at)",
        )
        .await,
    )
}

#[tokio::test]
async fn partitioning_a_table_and_back_keeps_every_row() {
    let p = Project::new().await;
    p.schema("a.sql", PLAIN);
    p.plan("plain");
    p.expect(0, &["apply"]);
    p.sql(
        "INSERT INTO logs (at, line)
           SELECT date '2025-06-01' + (i % 400), CASE WHEN i % 7 = 0 THEN NULL ELSE 'line ' || i END
           FROM generate_series(1, 3000) i;
         INSERT INTO refs SELECT i, id, at FROM logs JOIN generate_series(1, 50) i ON id = i * 10;",
    )
    .await;
    let before = rows(&p).await;
    assert_eq!(before.0, 3000);
    assert_eq!(before.3, 50);

    // Plain to partitioned: the plan rebuilds the table and says so.
    p.schema("a.sql", PARTITIONED);
    let out = p.plan("partition logs");
    assert!(out.contains("rewrite"), "{out}");
    let id = p.head();
    p.expect(2, &["apply"]); // the rewrite is not acknowledged yet
    assert_eq!(rows(&p).await, before, "a refused plan changed rows");
    p.acknowledge(&id, &["rewrite", "blocking-lock"]);
    p.expect(0, &["apply"]);
    assert_eq!(rows(&p).await, before);
    let old = p.query_one_i64("SELECT count(*) FROM ONLY logs_old").await;
    let new = p.query_one_i64("SELECT count(*) FROM ONLY logs_new").await;
    let expected_old = p
        .query_one_i64("SELECT count(*) FROM logs WHERE at < '2026-01-01'")
        .await;
    assert_eq!((old + new, old), (3000, expected_old));
    assert!(old > 0 && new > 0);
    assert_eq!(
        p.query_one_i64("SELECT sum(n)::bigint FROM busy_days")
            .await,
        3000
    );
    // The identity carries on after the highest id, and the foreign key holds.
    p.sql("INSERT INTO logs (at, line) VALUES ('2026-05-05', 'after')")
        .await;
    assert_eq!(
        p.query_one_i64("SELECT id FROM logs WHERE line = 'after'")
            .await,
        3001
    );
    let client = p.db.url().connect().await.unwrap();
    let err = client
        .batch_execute("INSERT INTO refs VALUES (999, 424242, '2025-06-01')")
        .await
        .unwrap_err();
    assert!(format!("{err:?}").contains("foreign key"), "{err:?}");
    // Nothing is left over, and nothing is left to do.
    assert_eq!(
        p.query_one_i64("SELECT count(*) FROM pg_class WHERE relname LIKE 'strata_old_%'")
            .await,
        0
    );
    let out = p.expect(0, &["diff"]);
    assert!(out.contains("no changes"), "{out}");

    // And back to a plain table, then into an inheriting one.
    p.schema("a.sql", PLAIN);
    p.plan("unpartition logs");
    p.acknowledge(&p.head(), &["rewrite", "blocking-lock"]);
    p.expect(0, &["apply"]);
    let after = rows(&p).await;
    assert_eq!(after.0, 3001);
    assert_eq!(after.3, 50);
    p.schema(
        "a.sql",
        &PLAIN.replace(
            "CREATE TABLE logs (id bigint GENERATED ALWAYS AS IDENTITY, at date NOT NULL, line text,",
            "CREATE TABLE entries (source text DEFAULT 'app');
             CREATE TABLE logs (id bigint GENERATED ALWAYS AS IDENTITY, at date NOT NULL, line text,",
        )
        .replace("PRIMARY KEY (id, at));", "PRIMARY KEY (id, at)) INHERITS (entries);"),
    );
    p.plan("logs are entries");
    p.acknowledge(&p.head(), &["rewrite", "blocking-lock"]);
    p.expect(0, &["apply"]);
    assert_eq!(rows(&p).await, after);
    assert_eq!(
        p.query_one_i64("SELECT count(*) FROM entries WHERE source = 'app'")
            .await,
        3001,
        "the rows are the parent's too, with the new column's default"
    );
    let out = p.expect(0, &["diff"]);
    assert!(out.contains("no changes"), "{out}");
}

/// A type change no cast makes is reported by `plan` with the column and both types; a
/// `-- strata:using` directive says how, and the rows are converted by it. A directive
/// that is more than one expression is refused with its file and line.
#[tokio::test]
async fn a_type_change_without_a_cast_needs_a_using_directive() {
    let p = Project::new().await;
    p.schema(
        "a.sql",
        "CREATE TABLE events (id int PRIMARY KEY, created bigint NOT NULL);",
    );
    p.plan("events");
    p.expect(0, &["apply"]);
    p.sql("INSERT INTO events SELECT i, 1700000000 + i * 3600 FROM generate_series(1, 100) i")
        .await;

    p.schema(
        "a.sql",
        "CREATE TABLE events (id int PRIMARY KEY, created timestamptz NOT NULL);",
    );
    let out = p.expect(1, &["plan", "-m", "timestamps"]);
    assert!(
        out.contains("column public.events.created")
            && out.contains("no cast converts bigint to timestamp with time zone")
            && out.contains("strata:using"),
        "{out}"
    );

    p.schema(
        "a.sql",
        "CREATE TABLE events (\n    id int PRIMARY KEY,\n    created timestamptz NOT NULL -- strata:using to_timestamp(created); DROP TABLE events\n);",
    );
    let out = p.expect(1, &["plan", "-m", "timestamps"]);
    assert!(
        out.contains("a.sql:3:") && out.contains("one SQL expression"),
        "{out}"
    );

    p.schema(
        "a.sql",
        "CREATE TABLE events (\n    id int PRIMARY KEY,\n    created timestamptz NOT NULL -- strata:using to_timestamp(created)\n);",
    );
    p.plan("timestamps");
    p.acknowledge(
        &p.head(),
        &["data-loss", "rewrite", "blocking-lock", "irreversible"],
    );
    p.expect(0, &["apply"]);
    assert_eq!(
        p.query_one_i64(
            "SELECT count(*) FROM events WHERE extract(epoch FROM created)::bigint = 1700000000 + id * 3600"
        )
        .await,
        100
    );
    let out = p.expect(0, &["diff"]);
    assert!(out.contains("no changes"), "{out}");
}
