//! No rows destroyed by surprise, and always a way forward or back: one test per failure a
//! new user hit (issue 7), each on a real database with rows, with the real binary.

use std::time::Duration;

use crate::harness::introspect;
use crate::project::Project;

const BOOKS: &str = "CREATE TABLE books (id bigint PRIMARY KEY, title text NOT NULL, phone text, price numeric(10,2));";

/// A bookshop with one applied plan and three rows.
async fn bookshop() -> Project {
    let p = Project::new().await;
    p.schema("a.sql", BOOKS);
    p.plan("books");
    p.expect(0, &["apply"]);
    p.sql("INSERT INTO books VALUES (1, 'Dune', '+49 30 1234567', 9.99), (2, 'Emma', NULL, 5.50), (3, 'Ulysses', NULL, 12.25)")
        .await;
    p
}

async fn strings(p: &Project, sql: &str) -> Vec<String> {
    let client = p.db.url().connect().await.unwrap();
    client
        .query(sql, &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

/// Item 1: `plan --from-database` refuses a database strata never managed (it would have
/// planned to drop everything the chain has) and one that is not at the head.
#[tokio::test]
async fn plan_from_a_database_strata_never_managed_is_refused() {
    let p = bookshop().await;
    let stray = crate::harness::fresh_db().await;
    let client = stray.url().connect().await.unwrap();
    client
        .batch_execute("CREATE TABLE stray (id int); INSERT INTO stray VALUES (1), (2);")
        .await
        .unwrap();
    let stray_url = format!(
        "postgresql://postgres:{}@localhost/{}?host={}",
        p.secret,
        stray.name(),
        crate::harness::socket_host().await
    );
    let before = std::fs::read_dir(p.path("plans")).unwrap().count();
    let out = p.expect(1, &["plan", "-m", "adopt", "--from-database", &stray_url]);
    assert!(
        out.contains("has no strata ledger") && out.contains("strata baseline"),
        "{out}"
    );
    assert_eq!(std::fs::read_dir(p.path("plans")).unwrap().count(), before);
    let rows: i64 = client
        .query_one("SELECT count(*) FROM stray", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(rows, 2);

    // A managed database that is behind the head is refused too.
    p.schema("b.sql", "CREATE TABLE authors (id int PRIMARY KEY);");
    p.plan("authors");
    let out = p.expect(2, &["plan", "-m", "x", "--from-database", &p.url]);
    assert!(out.contains("is not at the head of the chain"), "{out}");
}

/// Item 2: narrowing a column is planned so that it raises instead of truncating, found by
/// the pre-flight check first; lossy changes must be acknowledged; lossless ones keep rows.
#[tokio::test]
async fn narrowing_a_column_never_truncates_and_lossy_changes_need_acknowledging() {
    let p = bookshop().await;
    let long = "+49 (0)30 1234567 ext. 89 - office hours 9 to 17, ask for the manager"; // 69
    assert_eq!(long.chars().count(), 69);
    p.sql(&format!("UPDATE books SET phone = '{long}' WHERE id = 2"))
        .await;
    p.schema("a.sql", &BOOKS.replace("phone text", "phone varchar(50)"));
    let planned = p.plan("narrow phone");
    assert!(!planned.contains("acknowledge data-loss"), "{planned}");
    let plan = std::fs::read_to_string(p.path("plans").join(format!("{}.toml", p.head()))).unwrap();
    assert!(
        plan.contains("ALTER COLUMN phone TYPE character varying(50);"),
        "no truncating USING cast:\n{plan}"
    );
    p.acknowledge(&p.head(), &["rewrite", "blocking-lock"]);
    let before = p.fingerprint().await;
    let out = p.expect(2, &["apply"]);
    assert!(
        out.contains("1 value of public.books.phone is longer than character varying(50) allows")
            && out.contains("e.g. (id)=(2)"),
        "{out}"
    );
    assert_eq!(p.fingerprint().await, before);
    // Even without the pre-flight check, PostgreSQL raises rather than truncates.
    let out = p.expect(1, &["apply", "--skip-preflight"]);
    assert!(
        out.contains("value too long for type character varying(50)"),
        "{out}"
    );
    assert_eq!(
        strings(&p, "SELECT phone FROM books WHERE id = 2").await,
        [long]
    );
    p.sql("UPDATE books SET phone = '+49 30 7654321' WHERE id = 2")
        .await;
    p.expect(0, &["apply"]);

    // Lossy: fewer decimals round the prices. The plan says so and must be acknowledged.
    p.schema(
        "a.sql",
        &BOOKS
            .replace("phone text", "phone varchar(50)")
            .replace("numeric(10,2)", "numeric(10,1)"),
    );
    let planned = p.plan("round prices");
    assert!(
        planned.contains("lossy: rounds values") && planned.contains("data-loss"),
        "{planned}"
    );
    let out = p.expect(2, &["apply"]);
    assert!(out.contains("no reviewer acknowledged: data-loss"), "{out}");
    assert_eq!(
        strings(&p, "SELECT price::text FROM books ORDER BY id").await,
        ["9.99", "5.50", "12.25"]
    );

    // Lossless: a wider type keeps every value.
    let q = bookshop().await;
    q.schema("a.sql", &BOOKS.replace("numeric(10,2)", "numeric(14,2)"));
    let planned = q.plan("wider prices");
    assert!(!planned.contains("data-loss"), "{planned}");
    q.expect(0, &["apply"]);
    assert_eq!(
        strings(&q, "SELECT price::text FROM books ORDER BY id").await,
        ["9.99", "5.50", "12.25"]
    );
}

/// Item 3: reverting steps that drop tables or columns with rows needs an acknowledgement
/// naming them; empty ones need none.
#[tokio::test]
async fn revert_does_not_drop_rows_without_an_acknowledgement() {
    let p = bookshop().await;
    p.schema(
        "a.sql",
        &format!("{BOOKS}\nALTER TABLE books ADD COLUMN isbn text;\nCREATE TABLE reviews (id int PRIMARY KEY, book_id bigint REFERENCES books, stars int);"),
    );
    p.plan("isbn and reviews");
    p.expect(0, &["apply"]);
    // Nothing written yet: reverting loses nothing and needs no acknowledgement.
    p.expect(0, &["revert"]);
    p.expect(0, &["apply"]);
    p.sql("UPDATE books SET isbn = '978-0441013593' WHERE id = 1; INSERT INTO reviews VALUES (1, 1, 5), (2, 3, 4);")
        .await;
    let before = p.fingerprint().await;
    let out = p.expect(2, &["revert"]);
    assert!(
        out.contains("table public.reviews holds 2 rows")
            && out.contains("column public.books.isbn holds 1 non-NULL value")
            && out.contains("--accept-data-loss"),
        "{out}"
    );
    assert_eq!(p.fingerprint().await, before, "revert changed the database");
    assert_eq!(p.query_one_i64("SELECT count(*) FROM reviews").await, 2);
    let out = p.expect(0, &["revert", "--accept-data-loss"]);
    assert!(out.contains("reverted"), "{out}");
    assert!(
        !introspect(p.db.url())
            .await
            .model
            .tables
            .keys()
            .any(|t| t.name == "reviews")
    );
}

/// Item 4: a plan that fails halfway can be taken back by `revert` (from the state it
/// started from, recorded in the ledger), or abandoned once restored by hand.
#[tokio::test]
async fn a_plan_that_failed_halfway_can_be_taken_back_or_abandoned() {
    let p = bookshop().await;
    p.schema(
        "a.sql",
        &BOOKS.replace(
            "price numeric(10,2)",
            "price numeric(10,2), note text, CONSTRAINT cheap CHECK (price < 10)",
        ),
    );
    p.plan("note and cheap");
    let id = p.head();
    let before = p.fingerprint().await;
    // The pre-flight check sees the expensive book; without it the VALIDATE fails after
    // the column and the NOT VALID constraint were committed.
    let out = p.expect(2, &["apply"]);
    assert!(
        out.contains("violates CHECK ((price < (10)::numeric))"),
        "{out}"
    );
    let out = p.expect(1, &["apply", "--skip-preflight"]);
    assert!(out.contains("partly applied"), "{out}");
    assert_ne!(p.fingerprint().await, before);
    let status = p.expect(2, &["status"]);
    assert!(
        status.contains(&format!("interrupted: {id} (applying)"))
            && status.contains("`strata revert` takes back the steps that ran"),
        "{status}"
    );
    let out = p.expect(0, &["revert"]);
    assert!(out.contains("taken back"), "{out}");
    assert_eq!(p.fingerprint().await, before);
    assert_eq!(p.query_one_i64("SELECT count(*) FROM books").await, 3);
    let status = p.expect(2, &["status"]);
    assert!(status.contains(&format!("pending: {id}")), "{status}");

    // Fail again, then restore by hand and abandon.
    p.expect(1, &["apply", "--skip-preflight"]);
    let out = p.expect(2, &["apply", "--abandon", &id]);
    assert!(
        out.contains("not in the state the plan started from")
            && out.contains("column note: unexpected"),
        "{out}"
    );
    p.sql("ALTER TABLE books DROP CONSTRAINT cheap; ALTER TABLE books DROP COLUMN note;")
        .await;
    let out = p.expect(0, &["apply", "--abandon", &id]);
    assert!(out.contains("pending again"), "{out}");
    assert_eq!(
        p.query_one_i64("SELECT count(*) FROM strata.history WHERE action = 'abandon'")
            .await,
        1
    );
    // Fixed data: the plan applies.
    p.sql("UPDATE books SET price = 9.50 WHERE id = 3").await;
    p.expect(0, &["apply"]);
    p.expect(0, &["status"]);
}

/// Item 5: a missing plans directory or settings file is an error naming it, not success.
#[tokio::test]
async fn a_missing_plans_directory_or_settings_file_is_an_error() {
    let p = bookshop().await;
    for args in [
        &["apply", "--plans", "nowhere"][..],
        &["check", "--plans", "nowhere"],
        &["status", "--plans", "nowhere"],
        &["revert", "--plans", "nowhere"],
    ] {
        let out = p.expect(1, args);
        assert!(
            out.contains("plans directory nowhere does not exist"),
            "{args:?}: {out}"
        );
    }
    std::fs::create_dir(p.path("empty")).unwrap();
    for command in ["apply", "revert"] {
        let out = p.expect(1, &[command, "--plans", "empty"]);
        assert!(out.contains("holds no plan files"), "{command}: {out}");
    }
    let out = p.expect(2, &["status", "--plans", "empty"]);
    assert!(out.contains("is it the right directory"), "{out}");
    let out = p.expect(1, &["apply", "--config", "missing.toml"]);
    assert!(
        out.contains("settings file missing.toml does not exist"),
        "{out}"
    );
}

/// Item 6: a plan no database applied is discarded with one command; a plan file deleted
/// by hand is mended the same way; an applied plan is refused.
#[tokio::test]
async fn discarding_a_plan_no_database_applied() {
    let p = bookshop().await;
    p.schema("b.sql", "CREATE TABLE authors (id int PRIMARY KEY);");
    p.plan("authors");
    let id = p.head();
    let out = p.expect(0, &["discard", &id]);
    assert!(out.contains("removed") && out.contains("rewrote"), "{out}");
    std::fs::remove_file(p.path("schema/b.sql")).unwrap();
    p.expect(0, &["check"]);

    // Deleted by hand: every command names the way out.
    p.schema("b.sql", "CREATE TABLE authors (id int PRIMARY KEY);");
    p.plan("authors again");
    let id = p.head();
    std::fs::remove_file(p.path("plans").join(format!("{id}.toml"))).unwrap();
    let out = p.expect(2, &["check"]);
    assert!(out.contains(&format!("strata discard {id}")), "{out}");
    p.expect(0, &["discard", &id]);
    std::fs::remove_file(p.path("schema/b.sql")).unwrap();
    p.expect(0, &["check"]);

    // Applied somewhere: refused, nothing removed.
    let first = p.head();
    let out = p.expect(1, &["discard", &first]);
    assert!(out.contains("run `strata revert` there first"), "{out}");
    assert!(p.path("plans").join(format!("{first}.toml")).exists());
}

/// Item 7: a database that applied a branch's plan that `rebase` replaced shows that state
/// in `status`, and `revert` takes the plan back from the ledger's copy.
#[tokio::test]
async fn a_database_that_applied_a_rebased_away_plan_gets_unstuck() {
    let p = bookshop().await;
    let plans = p.path("plans");
    let base = std::fs::read_to_string(plans.join("strata.sum")).unwrap();
    // Branch "ours" adds fleets (its plan sorts first, so rebase keeps it).
    p.schema("c.sql", "CREATE TABLE fleets (id int PRIMARY KEY);");
    p.plan("fleets");
    let ours_sum = std::fs::read_to_string(plans.join("strata.sum")).unwrap();
    let ours = p.head();
    let ours_file = std::fs::read_to_string(plans.join(format!("{ours}.toml"))).unwrap();
    std::fs::remove_file(plans.join(format!("{ours}.toml"))).unwrap();
    std::fs::write(plans.join("strata.sum"), &base).unwrap();
    std::fs::remove_file(p.path("schema/c.sql")).unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    // Branch "theirs" adds depots, and a staging database applies it.
    p.schema("d.sql", "CREATE TABLE depots (id int PRIMARY KEY);");
    p.plan("depots");
    let theirs = p.head();
    let theirs_sum = std::fs::read_to_string(plans.join("strata.sum")).unwrap();
    p.expect(0, &["apply"]);
    p.sql("INSERT INTO depots VALUES (1)").await;
    // The merge, and the rebase that replaces theirs.
    std::fs::write(plans.join(format!("{ours}.toml")), ours_file).unwrap();
    p.schema("c.sql", "CREATE TABLE fleets (id int PRIMARY KEY);");
    std::fs::write(
        plans.join("strata.sum"),
        format!("<<<<<<< ours\n{ours_sum}=======\n{theirs_sum}>>>>>>> theirs\n"),
    )
    .unwrap();
    p.expect(0, &["rebase"]);
    let status = p.expect(2, &["status"]);
    assert!(
        status.contains(&format!("applied, not in plans: {theirs}"))
            && status.contains("`strata revert` takes back"),
        "{status}"
    );
    let out = p.expect(2, &["apply"]);
    assert!(
        out.contains("does not have") && out.contains("strata revert"),
        "{out}"
    );
    // Its revert drops depots, which holds a row.
    let out = p.expect(2, &["revert"]);
    assert!(out.contains("table public.depots holds 1 row"), "{out}");
    p.expect(0, &["revert", "--accept-data-loss"]);
    p.expect(0, &["apply"]);
    p.expect(0, &["status"]);
    let tables = introspect(p.db.url()).await.model.tables;
    assert!(tables.keys().any(|t| t.name == "fleets") && tables.keys().any(|t| t.name == "depots"));
    assert_eq!(p.query_one_i64("SELECT count(*) FROM books").await, 3);
}

/// Item 8: a database with tables and no ledger is "not managed yet", and `baseline` writes
/// its schema into an empty schema/ so that the next plan is empty.
#[tokio::test]
async fn adopting_an_existing_database_keeps_everything() {
    let p = Project::new().await;
    p.sql(&format!(
        "{BOOKS} INSERT INTO books VALUES (1, 'Dune', NULL, 9.99); CREATE INDEX books_title ON books (title);"
    ))
    .await;
    std::fs::create_dir_all(p.path("plans")).unwrap();
    let out = p.expect(2, &["status"]);
    assert!(
        out.contains("not managed by strata") && out.contains("strata baseline"),
        "{out}"
    );
    assert!(out.contains("table public.books"), "{out}");
    let out = p.expect(0, &["baseline"]);
    assert!(out.contains("schema/baseline.sql"), "{out}");
    let out = p.expect(0, &["plan", "-m", "next"]);
    assert!(out.contains("no changes"), "{out}");
    p.expect(0, &["status"]);
    assert_eq!(p.query_one_i64("SELECT count(*) FROM books").await, 1);
}

/// Item 9: failures that can be foreseen are found before the first step runs, with row
/// counts and keys.
#[tokio::test]
async fn foreseeable_failures_are_found_before_anything_runs() {
    let p = Project::new().await;
    p.schema(
        "a.sql",
        "CREATE TYPE mood AS ENUM ('happy', 'sad', 'meh');
         CREATE TABLE authors (id int PRIMARY KEY);
         CREATE TABLE books (id int PRIMARY KEY, title text, isbn text, author_id int, mood mood, code bigint);",
    );
    p.plan("start");
    p.expect(0, &["apply"]);
    p.sql(
        "INSERT INTO authors VALUES (1);
         INSERT INTO books VALUES (1, 'a', 'x', 1, 'happy', 1), (2, NULL, 'x', 7, 'meh', 3000000000),
                                  (3, 'c', 'y', 8, 'meh', 3);",
    )
    .await;
    p.schema(
        "a.sql",
        "CREATE TYPE mood AS ENUM ('happy', 'sad');
         CREATE TABLE authors (id int PRIMARY KEY);
         CREATE TABLE books (id int PRIMARY KEY, title text NOT NULL, isbn text UNIQUE,
             author_id int REFERENCES authors, mood mood, code integer);",
    );
    p.plan("tighten");
    p.acknowledge(&p.head(), &["data-loss", "rewrite", "blocking-lock"]);
    let before = p.fingerprint().await;
    let out = p.expect(2, &["apply"]);
    for expected in [
        "5 pre-flight checks failed; nothing was changed",
        "1 row of public.books has NULL in title, e.g. (id)=(2)",
        "1 value of (isbn) has more than one row in public.books, e.g. (isbn)=(x) (2 rows)",
        "2 rows of public.books have (author_id) with no matching row in public.authors, e.g. (id)=(2), (3)",
        "'meh' of enum public.mood is still in use (2 rows of public.books.mood, e.g. (id)=(2), (3))",
        "values of public.books.code do not convert to integer: integer out of range",
    ] {
        assert!(out.contains(expected), "missing {expected:?} in:\n{out}");
    }
    assert_eq!(p.fingerprint().await, before, "something ran");
    assert_eq!(
        p.query_one_i64("SELECT count(*) FROM strata.ledger").await,
        1
    );
    p.sql(
        "UPDATE books SET title = 'b', isbn = 'z', author_id = 1, mood = 'sad', code = 2 WHERE id = 2;
         UPDATE books SET author_id = NULL, mood = 'happy' WHERE id = 3;",
    )
    .await;
    p.expect(0, &["apply"]);
    assert_eq!(p.query_one_i64("SELECT count(*) FROM books").await, 3);
}

/// Item 10: a role a plan grants to must exist on the target; the shadow creating it is no
/// proof.
#[tokio::test]
async fn a_role_the_plan_grants_to_must_exist_on_the_target() {
    let p = bookshop().await;
    let role = format!("reporting_{}", std::process::id());
    p.schema(
        "a.sql",
        &format!("{BOOKS}\nGRANT SELECT ON books TO {role};"),
    );
    // A --dev-url server gets missing roles only when told to.
    let out = p.expect(1, &["plan", "-m", "reporting"]);
    assert!(
        out.contains(&format!("does not have: {role}")) && out.contains("--create-roles"),
        "{out}"
    );
    p.expect(0, &["plan", "-m", "reporting", "--create-roles"]);
    let plan = std::fs::read_to_string(p.path("plans").join(format!("{}.toml", p.head()))).unwrap();
    assert!(plan.contains(&format!("roles = [\"{role}\"]")), "{plan}");
    // The development server created the role to load the schema; the target lacks it.
    p.sql(&format!("DROP ROLE {role}")).await;
    let before = p.fingerprint().await;
    let out = p.expect(2, &["apply"]);
    assert!(
        out.contains(&format!("role {role} does not exist")),
        "{out}"
    );
    assert_eq!(p.fingerprint().await, before);
    p.sql(&format!("CREATE ROLE {role} NOLOGIN")).await;
    p.expect(0, &["apply"]);
    p.sql(&format!(
        "REVOKE ALL ON books FROM {role}; DROP ROLE {role}"
    ))
    .await;
}

/// Domains and arrays convert like their base types: a domain whose base type gets a
/// shorter length limit never truncates, and neither does an array of a narrowed type.
#[tokio::test]
async fn domains_and_arrays_never_truncate_when_narrowed() {
    let p = Project::new().await;
    p.schema(
        "a.sql",
        "CREATE DOMAIN code AS varchar(10);
         CREATE TABLE t (id int PRIMARY KEY, c code, tags varchar(10)[]);",
    );
    p.plan("start");
    p.expect(0, &["apply"]);
    p.sql("INSERT INTO t VALUES (1, 'abcdefghij', '{ab,cd}'), (2, 'abc', '{abcdefgh}')")
        .await;
    p.schema(
        "a.sql",
        "CREATE DOMAIN code AS varchar(5);
         CREATE TABLE t (id int PRIMARY KEY, c code, tags varchar(5)[]);",
    );
    p.plan("narrow");
    p.acknowledge(&p.head(), &["rewrite", "blocking-lock"]);
    let out = p.expect(2, &["apply"]);
    assert!(
        out.contains("1 value of public.t.c is longer than character varying(5) allows")
            && out.contains("e.g. (id)=(1)"),
        "{out}"
    );
    assert!(
        out.contains("1 value of public.t.tags is longer than character varying(5)[] allows")
            && out.contains("e.g. (id)=(2)"),
        "{out}"
    );
    let out = p.expect(1, &["apply", "--skip-preflight"]);
    assert!(
        out.contains("value too long for type character varying(5)"),
        "{out}"
    );
    assert_eq!(
        strings(&p, "SELECT c::text FROM t ORDER BY id").await,
        ["abcdefghij", "abc"]
    );
    p.sql("UPDATE t SET c = 'abcde', tags = '{ab}'").await;
    p.expect(0, &["apply"]);
    assert_eq!(
        strings(&p, "SELECT c::text || tags::text FROM t ORDER BY id").await,
        ["abcde{ab}", "abcde{ab}"]
    );
}

/// Taking back a half-applied plan refuses to undo changes made outside the plan, and an
/// interrupted take-back is recorded as such (apply refuses; revert finishes it).
#[tokio::test]
async fn taking_back_a_half_applied_plan_touches_only_what_the_plan_did() {
    let p = Project::new().await;
    p.schema(
        "a.sql",
        "CREATE TABLE t (id int PRIMARY KEY, title text, a text NOT NULL);",
    );
    p.plan("t");
    p.expect(0, &["apply"]);
    p.sql("INSERT INTO t VALUES (1, NULL, 'x')").await;
    p.schema(
        "a.sql",
        "CREATE TABLE t (id int PRIMARY KEY, title text NOT NULL, a text);",
    );
    p.plan("swap nullability");
    let id = p.head();
    let before = p.fingerprint().await;
    // Stops at validating title (NULL in row 1), after a became nullable.
    p.expect(1, &["apply", "--skip-preflight"]);
    // Something else changes meanwhile: taking the plan back must not drop it.
    p.sql("CREATE TABLE handmade (id int); INSERT INTO handmade VALUES (1);")
        .await;
    let out = p.expect(2, &["revert", "--accept-data-loss"]);
    assert!(
        out.contains("changed outside plan") && out.contains("drop table public.handmade"),
        "{out}"
    );
    assert_eq!(p.query_one_i64("SELECT count(*) FROM handmade").await, 1);
    p.sql("DROP TABLE handmade").await;
    // Taking it back needs a NOT NULL on a again; a row now has NULL there.
    p.sql("INSERT INTO t VALUES (2, 'y', NULL)").await;
    let out = p.expect(2, &["revert"]);
    assert!(out.contains("1 row of public.t has NULL in a"), "{out}");
    let out = p.expect(1, &["revert", "--skip-preflight"]);
    assert!(out.contains("partly taken back (undoing)"), "{out}");
    assert_eq!(
        p.query_one_i64(&format!(
            "SELECT count(*) FROM strata.ledger WHERE plan_id = '{id}' AND state = 'undoing'"
        ))
        .await,
        1
    );
    let status = p.expect(2, &["status"]);
    assert!(
        status.contains(&format!("interrupted: {id} (undoing)")),
        "{status}"
    );
    let out = p.expect(2, &["apply"]);
    assert!(out.contains("run `strata revert` again to finish"), "{out}");
    p.sql("UPDATE t SET a = 'z' WHERE id = 2").await;
    p.expect(0, &["revert"]);
    assert_eq!(p.fingerprint().await, before);
    assert_eq!(p.query_one_i64("SELECT count(*) FROM t").await, 2);
}

/// Rows row-level security hides from the migration role still count: reverting a plan
/// whose table holds such rows asks for an acknowledgement (an unknown amount), rather
/// than seeing an empty table and dropping it.
#[tokio::test]
async fn rows_hidden_by_row_level_security_are_not_dropped_unacknowledged() {
    let p = Project::new().await;
    let role = format!("app_{}", std::process::id());
    p.sql(&format!(
        "CREATE ROLE {role} LOGIN PASSWORD 'app-pw'; ALTER DATABASE {} OWNER TO {role}; \
         ALTER SCHEMA public OWNER TO {role};",
        p.db.name()
    ))
    .await;
    let host = crate::harness::socket_host().await;
    let as_app = format!(
        "postgresql://{role}:app-pw@localhost/{}?host={host}",
        p.db.name()
    );
    p.schema(
        "a.sql",
        "CREATE TABLE notes (id int PRIMARY KEY, tenant text NOT NULL, body text);
         ALTER TABLE notes ENABLE ROW LEVEL SECURITY;
         ALTER TABLE notes FORCE ROW LEVEL SECURITY;
         CREATE POLICY tenant_only ON notes USING (tenant = current_setting('app.tenant', true));",
    );
    p.plan("notes");
    let run = |args: &[&str]| {
        let out = p
            .command(args)
            .env("DATABASE_URL", &as_app)
            .output()
            .unwrap();
        (
            out.status.code(),
            format!(
                "{}{}",
                crate::project::text(&out.stdout),
                crate::project::text(&out.stderr)
            ),
        )
    };
    let (code, out) = run(&["apply"]);
    assert_eq!(code, Some(0), "{out}");
    let app = {
        let url: strata::db::DbUrl = as_app.parse().unwrap();
        url.connect().await.unwrap()
    };
    app.batch_execute(
        "SET app.tenant = 'acme'; INSERT INTO notes VALUES (1, 'acme', 'a'), (2, 'acme', 'b'); RESET app.tenant;",
    )
    .await
    .unwrap();
    let (code, out) = run(&["revert"]);
    assert_eq!(code, Some(2), "{out}");
    assert!(
        out.contains("table public.notes holds rows row-level security hides"),
        "{out}"
    );
    assert_eq!(p.query_one_i64("SELECT count(*) FROM notes").await, 2);
    let (code, out) = run(&["revert", "--accept-data-loss"]);
    assert_eq!(code, Some(0), "{out}");
    drop(app);
    let admin = crate::harness::admin().await;
    for sql in [
        format!("DROP DATABASE {} WITH (FORCE)", p.db.name()),
        format!("DROP ROLE {role}"),
    ] {
        admin.batch_execute(&sql).await.unwrap();
    }
}
