//! The schema-change cases in `tests/cases/<kind>/<name>/{current,desired}.sql`, each run by
//! [`run`]: load `current.sql` into a fresh database, plan against `desired.sql` loaded into
//! a shadow, snapshot the plan, write it as a plan file and apply it with strata's own
//! runner exactly as `strata apply` does (transaction segments, lone steps, the plan
//! re-derived first, the target state verified before commit), and require that
//! (a) the database's fingerprint is that of `desired.sql` loaded into a fresh database,
//! (b) planning again gives nothing,
//! (c) when no step destroys data, the plan's revert steps bring back `current.sql`'s
//!     fingerprint,
//! (d) `strata inspect`'s SQL for the desired state loads into a fresh database with the
//!     same fingerprint.

#![allow(non_snake_case)]

use strata::model::{Catalog, Model};
use strata::plan::{Plan, Step};

use strata::planfile::{PlanFile, PlanHead, StepTimeouts};
use strata::settings::ApplySettings;

use crate::harness::{fresh_db, introspect, load_sql, repo_root};

include!(concat!(env!("OUT_DIR"), "/cases.rs"));

/// The PostgreSQL major the plan snapshots were taken on.
const REFERENCE_MAJOR: u32 = 15;

/// A readable difference between two models (their canonical JSON, line by line).
pub fn model_diff(expected: &Model, actual: &Model) -> String {
    let a = serde_json::to_string_pretty(expected).unwrap();
    let b = serde_json::to_string_pretty(actual).unwrap();
    let a: Vec<&str> = a.lines().collect();
    let b: Vec<&str> = b.lines().collect();
    let mut out = String::new();
    for line in a.iter().filter(|l| !b.contains(l)) {
        out.push_str(&format!("- {line}\n"));
    }
    for line in b.iter().filter(|l| !a.contains(l)) {
        out.push_str(&format!("+ {line}\n"));
    }
    out
}

fn render(plan: &Plan) -> String {
    let mut out = plan.to_sql();
    out.push_str("-- revert:\n");
    out.push_str(
        &Plan {
            steps: plan.revert.clone(),
            ..Plan::default()
        }
        .to_sql(),
    );
    out
}

fn assert_same(what: &str, expected: &Catalog, actual: &Catalog, steps: &[Step]) {
    if expected.model.fingerprint() != actual.model.fingerprint() {
        let sql: Vec<&str> = steps.iter().map(|s| s.sql.as_str()).collect();
        panic!(
            "{what}: fingerprints differ\n--- applied:\n{}\n--- model difference (- expected, + actual):\n{}",
            sql.join("\n"),
            model_diff(&expected.model, &actual.model)
        );
    }
}

pub async fn run(kind: &str, name: &str) {
    let dir = repo_root().join("tests/cases").join(kind).join(name);
    let read = |file: &str| {
        std::fs::read_to_string(dir.join(file))
            .unwrap_or_else(|e| panic!("{}: {e}", dir.join(file).display()))
    };
    let (current_sql, desired_sql) = (read("current.sql"), read("desired.sql"));
    // A case may need a newer server (syntax that older majors do not have).
    let major = crate::harness::cluster().await.major();
    if let Ok(min) = std::fs::read_to_string(dir.join("min_major")) {
        let min: u32 = min.trim().parse().expect("min_major holds a major version");
        if major < min {
            eprintln!("{kind}/{name} needs PostgreSQL {min}+, this is {major}: not applicable");
            return;
        }
    }

    converge(kind, name, &current_sql, &desired_sql, &[], true).await;
}

/// The checks of a case (see the module documentation) for any pair of schemas: `rows`
/// are statements run on the current state before planning (the plan then runs on a
/// database with rows); `snapshot` compares the plan with its stored snapshot.
pub async fn converge(
    kind: &str,
    name: &str,
    current_sql: &str,
    desired_sql: &str,
    rows: &[String],
    snapshot: bool,
) {
    let major = crate::harness::cluster().await.major();
    let target = fresh_db().await;
    load_sql(target.url(), "current.sql", current_sql).await;
    if !rows.is_empty() {
        let client = target.url().connect().await.unwrap();
        for sql in rows {
            client
                .batch_execute(sql)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
        }
    }
    let current = introspect(target.url()).await;

    let shadow = fresh_db().await;
    load_sql(shadow.url(), "desired.sql", desired_sql).await;
    let mut desired = introspect(shadow.url()).await;
    shadow.drop_now().await.unwrap();
    strata::db::shadow::attach_conversions(
        &mut desired,
        &crate::harness::schema_from_sql("desired.sql", desired_sql),
    )
    .unwrap();

    let plan = strata::plan::plan(&current, &desired).unwrap_or_else(|e| panic!("planning: {e}"));
    // What the warm path would give: both sides through a cache entry plan the same steps.
    {
        let warm_current = crate::warm::through_cache(&current);
        let warm_desired = crate::warm::through_cache(&desired);
        let warm_plan = strata::plan::plan(&warm_current, &warm_desired).unwrap();
        assert_eq!(
            serde_json::to_value(&warm_plan).unwrap(),
            serde_json::to_value(&plan).unwrap(),
            "the plan between the cached catalogs differs"
        );
    }
    // Snapshots hold the plan as PostgreSQL REFERENCE_MAJOR prints it; other majors
    // deparse some definitions differently, and are held to every other check below.
    if snapshot && major == REFERENCE_MAJOR {
        insta::with_settings!({ snapshot_path => repo_root().join("tests/it/snapshots/cases"), prepend_module_to_snapshot => false }, {
            insta::assert_snapshot!(format!("{kind}__{name}"), render(&plan));
        });
    }

    // A step that runs on its own holds exactly one statement: several in one query would
    // run as one implicit transaction, which CREATE INDEX CONCURRENTLY refuses.
    for step in plan.steps.iter().chain(&plan.revert) {
        if !step.transactional {
            let file = strata::source::SourceFile::new("step.sql", step.sql.as_str());
            let n = strata::source::split_statements(&file).unwrap().len();
            assert_eq!(n, 1, "lone step `{}` holds {n} statements", step.summary);
        }
    }

    // (a) applying the plan through the runner reaches the desired state exactly.
    let head = PlanHead::planned(
        format!("1_{name}"),
        None,
        name.to_owned(),
        &current,
        &desired,
        &plan,
        &StepTimeouts::default(),
        false,
    );
    let file = PlanFile::parse(&PlanFile::render(&head)).unwrap();
    // Every lone step runs twice (with what guards it), as a rerun does after strata
    // stopped between the step's commit and its record.
    let settings = ApplySettings {
        repeat_lone_steps: true,
        ..ApplySettings::shadow()
    };
    let quiet = |_: &str| {};
    let runner = strata::apply::Runner::open(target.url(), &settings, &quiet)
        .await
        .unwrap();
    if let Err(e) = runner.apply(&[&file]).await {
        panic!(
            "applying the plan failed: {e}
{}",
            plan.to_sql()
        );
    }
    let after = introspect(target.url()).await;
    assert_same("after apply", &desired, &after, &plan.steps);

    // (b) nothing left to do.
    let again = strata::plan::plan(&after, &desired).unwrap();
    assert!(
        again.steps.is_empty(),
        "second plan is not empty:\n{}",
        again.to_sql()
    );

    // (c) revert, through the runner too.
    if plan.is_reversible() {
        if let Err(e) = runner.revert(&[&file], None, false).await {
            panic!(
                "reverting the plan failed: {e}
{}",
                plan.to_sql()
            );
        }
        let back = introspect(target.url()).await;
        assert_same("after revert", &current, &back, &plan.revert);
    }
    runner.close().await.unwrap();
    target.drop_now().await.unwrap();

    // (d) inspect output loads back into an equal model.
    let sql = strata::inspect::to_sql(&desired).unwrap();
    let copy = fresh_db().await;
    load_sql(copy.url(), "inspect.sql", &sql).await;
    let loaded = introspect(copy.url()).await;
    assert_same(
        "inspect round trip",
        &desired,
        &loaded,
        &[Step::new("inspect", sql.clone())],
    );
    copy.drop_now().await.unwrap();

    // (e) each step takes the lock it declares, as PostgreSQL shows it in pg_locks.
    locks_as_declared(current_sql, rows, &plan).await;
}

/// Runs the plan's steps one by one, each in its own transaction, on a fresh copy of the
/// current state, and compares the strongest lock each step holds on a relation that
/// existed before the plan (from `pg_locks`, before the step commits) with the lock the
/// step declares: a step may never take more than it says. The revert steps then the same
/// way, from there. Steps that cannot run in a transaction block (`CONCURRENTLY`) run as
/// they are, unobserved.
async fn locks_as_declared(current_sql: &str, rows: &[String], plan: &Plan) {
    let db = fresh_db().await;
    load_sql(db.url(), "current.sql", current_sql).await;
    let client = db.url().connect().await.unwrap();
    for sql in rows {
        client.batch_execute(sql).await.unwrap();
    }
    let mut wrong = steps_lock_as_declared(&client, &plan.steps).await;
    // The way back, from where the plan left the database.
    if plan.is_reversible() {
        wrong.extend(steps_lock_as_declared(&client, &plan.revert).await);
    }
    drop(client);
    db.drop_now().await.unwrap();
    assert!(
        wrong.is_empty(),
        "steps take stronger locks than they declare:\n{}",
        wrong.join("\n")
    );
}

/// [`locks_as_declared`] for one list of steps, from the database as it is: what is wrong.
async fn steps_lock_as_declared(client: &tokio_postgres::Client, steps: &[Step]) -> Vec<String> {
    use strata::plan::Lock;
    client
        .batch_execute(
            "DROP TABLE IF EXISTS strata_before; \
             CREATE TEMP TABLE strata_before AS SELECT c.oid FROM pg_class c \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') \
             AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'",
        )
        .await
        .unwrap();
    let mut wrong: Vec<String> = Vec::new();
    for step in steps {
        client.batch_execute("BEGIN").await.unwrap();
        if let Err(e) = client.batch_execute(&step.sql).await {
            client.batch_execute("ROLLBACK").await.unwrap();
            let outside =
                e.code() == Some(&tokio_postgres::error::SqlState::ACTIVE_SQL_TRANSACTION);
            assert!(
                outside && !step.transactional,
                "{}: {e}\n{}",
                step.summary,
                step.sql
            );
            client
                .batch_execute(&step.sql)
                .await
                .unwrap_or_else(|e| panic!("{}: {e}", step.summary));
            continue;
        }
        let held: Vec<(String, String)> = client
            .query(
                "SELECT l.relation::regclass::text, l.mode FROM pg_locks l \
                 JOIN strata_before b ON b.oid = l.relation \
                 WHERE l.locktype = 'relation' AND l.pid = pg_backend_pid() AND l.granted",
                &[],
            )
            .await
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        client.batch_execute("COMMIT").await.unwrap();
        let taken = held
            .iter()
            .filter_map(|(_, mode)| {
                Lock::ALL
                    .iter()
                    .copied()
                    .find(|l| l.pg_locks_mode() == mode)
            })
            .max();
        if taken > step.lock {
            wrong.push(format!(
                "`{}` declares {:?} but holds {:?}: {held:?}",
                step.summary, step.lock, taken
            ));
        }
        if let Ok(path) = std::env::var("STRATA_LOCK_DUMP") {
            use std::io::Write;
            let mut f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .unwrap();
            writeln!(
                f,
                "{}\t{:?}\t{:?}\t{:?}\t{}\t{:?}",
                step.object.as_ref().map(|o| o.kind()).unwrap_or("-"),
                step.action,
                step.lock,
                taken,
                step.summary,
                held
            )
            .unwrap();
        }
    }
    wrong
}
