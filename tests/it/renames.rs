//! `-- strata:renamed-from`: renames planned as renames, with rows in place through apply,
//! revert and apply again; a rename the database contradicts refused before anything is
//! written.

use strata::planfile::load_dir;

use crate::project::Project;

const BEFORE: &str = "\
CREATE TYPE mood AS ENUM ('glad', 'sad');
CREATE TABLE people (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  mail text UNIQUE,
  feeling mood NOT NULL DEFAULT 'glad'
);
CREATE INDEX people_feeling_idx ON people (feeling);
CREATE VIEW glad_people AS SELECT id, mail FROM people WHERE feeling = 'glad';
CREATE TABLE notes (id int PRIMARY KEY, person bigint REFERENCES people (id), body text);
";

const AFTER: &str = "\
CREATE TYPE mood AS ENUM (
  'happy', -- strata:renamed-from 'glad'
  'sad'
);
-- strata:renamed-from people
CREATE TABLE persons (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  -- strata:renamed-from mail
  email text UNIQUE,
  feeling mood NOT NULL DEFAULT 'happy'
);
-- strata:renamed-from people_feeling_idx
CREATE INDEX persons_mood_idx ON persons (feeling);
CREATE VIEW glad_people AS SELECT id, email FROM persons WHERE feeling = 'happy';
CREATE TABLE notes (id int PRIMARY KEY, person bigint REFERENCES persons (id), body text);
";

/// Every row of both tables as text, in order.
async fn rows(p: &Project, people: &str, mail: &str) -> String {
    p.query_one_text(&format!(
        "SELECT string_agg(format('%s %s %s', id, {mail}, feeling), '; ' ORDER BY id) \
         || ' | ' || (SELECT string_agg(format('%s %s %s', id, person, body), '; ' ORDER BY id) \
         FROM notes) FROM {people}"
    ))
    .await
}

#[tokio::test]
async fn a_renamed_table_column_enum_value_and_index_keep_their_rows() {
    let p = Project::new().await;
    p.schema("app.sql", BEFORE);
    p.plan("people");
    p.expect(0, &["apply"]);
    p.sql(
        "INSERT INTO people (mail, feeling) VALUES ('a@x', 'glad'), ('b@x', 'sad'), ('c@x', 'glad');
         INSERT INTO notes VALUES (1, 1, 'first'), (2, 3, 'second');",
    )
    .await;
    let before = rows(&p, "people", "mail").await;

    p.schema("app.sql", AFTER);
    let out = p.plan("rename people");
    let id = p.head();
    let chain = load_dir(&p.path("plans")).unwrap();
    let plan = &chain.plans[&id].1;
    let sql: Vec<&str> = plan.head.steps.iter().map(|s| s.sql.as_str()).collect();
    for expected in [
        "ALTER TABLE public.people RENAME TO persons;",
        "ALTER TABLE public.persons RENAME COLUMN mail TO email;",
        "ALTER TYPE public.mood RENAME VALUE 'glad' TO 'happy';",
        "ALTER INDEX public.people_feeling_idx RENAME TO persons_mood_idx;",
        // Named after the table and column: they follow.
        "ALTER TABLE public.persons RENAME CONSTRAINT people_pkey TO persons_pkey;",
        "ALTER TABLE public.persons RENAME CONSTRAINT people_mail_key TO persons_email_key;",
        "ALTER SEQUENCE public.people_id_seq RENAME TO persons_id_seq;",
    ] {
        assert!(
            sql.contains(&expected),
            "{expected} missing from {sql:#?}\n{out}"
        );
    }
    // Nothing is dropped but the view (whose column is renamed), nothing is created but it.
    for step in &plan.head.steps {
        assert!(
            !step.sql.contains("DROP TABLE")
                && !step.sql.contains("DROP COLUMN")
                && !step.sql.contains("ADD COLUMN")
                && !step.sql.contains("CREATE TABLE")
                && !step.sql.contains("CREATE TYPE"),
            "{}",
            step.sql
        );
        assert!(
            !step.hazards.contains(&strata::plan::Hazard::DataLoss),
            "{}: {:?}",
            step.summary,
            step.hazards
        );
    }
    assert_eq!(plan.head.renames.len(), 7, "{:?}", plan.head.renames);

    let applied = p.expect(0, &["apply"]);
    assert!(
        applied.contains("rename table public.people to persons"),
        "{applied}"
    );
    let after = rows(&p, "persons", "email").await;
    assert_eq!(after, before.replace("glad", "happy"));
    // The identity goes on from where it was.
    assert_eq!(
        p.query_one_i64("INSERT INTO persons (email) VALUES ('d@x') RETURNING id")
            .await,
        4
    );
    p.sql("DELETE FROM persons WHERE id = 4").await;
    assert_eq!(p.query_one_i64("SELECT count(*) FROM glad_people").await, 2);

    // Converged: the directives stay in the file and plan nothing more.
    let again = p.expect(0, &["plan", "-m", "nothing"]);
    assert_eq!(p.head(), id, "{again}");
    p.expect(0, &["check"]);

    // The way back renames back, rows kept; and forward again.
    p.expect(0, &["revert"]);
    assert_eq!(rows(&p, "people", "mail").await, before);
    p.expect(0, &["apply"]);
    assert_eq!(rows(&p, "persons", "email").await, after);
}

#[tokio::test]
async fn a_rename_the_database_contradicts_is_refused_naming_the_directive() {
    let p = Project::new().await;
    p.schema(
        "app.sql",
        "CREATE TABLE people (id int);\nCREATE TABLE persons (id int);\n",
    );
    p.plan("both");
    p.expect(0, &["apply"]);
    let before = p.fingerprint().await;
    p.schema(
        "app.sql",
        "\n-- strata:renamed-from people\nCREATE TABLE persons (id int);\n",
    );
    let out = p.expect(1, &["plan", "-m", "rename"]);
    assert!(
        out.contains("app.sql:2:1") && out.contains("has both"),
        "{out}"
    );
    assert_eq!(p.plan_ids().len(), 1);
    let out = p.expect(1, &["diff"]);
    assert!(out.contains("has both"), "{out}");
    assert_eq!(p.fingerprint().await, before);

    // A directive on a column the schema keeps under its old name too.
    p.schema(
        "app.sql",
        "CREATE TABLE people (id int);\nCREATE TABLE persons (\n  -- strata:renamed-from id\n  id int\n);\n",
    );
    let out = p.expect(1, &["plan", "-m", "rename"]);
    assert!(
        out.contains("app.sql:3:3") && out.contains("still defines"),
        "{out}"
    );
}

#[tokio::test]
async fn a_forged_renamed_state_is_caught_after_the_renames_and_nothing_is_kept() {
    use strata::plan::rename::Renaming;
    use strata::planfile::state::TargetState;
    use strata::planfile::{PlanFile, PlannedStep, StepTimeouts};

    let p = Project::new().await;
    p.schema(
        "app.sql",
        "CREATE TABLE people (id int PRIMARY KEY, n numeric(20,5));",
    );
    p.plan("people");
    p.expect(0, &["apply"]);
    p.sql("INSERT INTO people VALUES (1, 1.23456)").await;
    p.schema(
        "app.sql",
        "-- strata:renamed-from people\nCREATE TABLE persons (id int PRIMARY KEY, n bigint);",
    );
    p.plan("rename");
    // An attacker's plan: its renamed state says n is an integer already, so that going
    // to bigint looks lossless, and its steps are what strata plans from that state.
    let chain = load_dir(&p.path("plans")).unwrap();
    let ids = p.plan_ids();
    let source = chain.plans[&ids[0]]
        .1
        .head
        .target
        .as_ref()
        .unwrap()
        .decode()
        .unwrap();
    let (path, plan) = &chain.plans[&ids[1]];
    let mut head = plan.head.clone();
    let target = head.target.as_ref().unwrap().decode().unwrap();
    let mut forged = head.recorded_renaming().unwrap().unwrap();
    let table = strata::sql::QualName::new("public", "persons");
    forged
        .catalog
        .model
        .tables
        .get_mut(&table)
        .unwrap()
        .columns
        .get_mut("n")
        .unwrap()
        .data_type = "integer".to_owned();
    let steps = strata::plan::plan_renaming(&source, Some(&forged), &target).unwrap();
    assert!(
        steps
            .steps
            .iter()
            .all(|s| !s.hazards.contains(&strata::plan::Hazard::DataLoss)),
        "the forged plan is meant to look lossless: {:?}",
        steps.steps
    );
    head.steps = PlannedStep::ordered(&steps.steps, &steps.edges, &StepTimeouts::default());
    head.revert =
        PlannedStep::ordered(&steps.revert, &steps.revert_edges, &StepTimeouts::default());
    head.renamed = Some(TargetState::encode(
        &Renaming {
            renames: forged.renames.clone(),
            catalog: forged.catalog.clone(),
        }
        .catalog,
    ));
    std::fs::write(path, PlanFile::render(&head)).unwrap();
    let chain = load_dir(&p.path("plans")).unwrap();
    chain.write_sum(&chain.linear().unwrap()).unwrap();

    // A reviewer accepts the rewrite, which looks harmless.
    p.acknowledge(&ids[1], &["rewrite", "blocking-lock"]);
    let out = p.run(&["apply"]);
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_ne!(out.status.code(), Some(0), "{all}");
    assert!(
        all.contains("not the renamed state the plan records"),
        "{all}"
    );
    // Nothing kept: the table keeps its name and its value.
    assert_eq!(
        p.query_one_text("SELECT n::text FROM people WHERE id = 1")
            .await,
        "1.23456"
    );
}
