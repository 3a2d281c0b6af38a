//! The plan lifecycle end to end, with the real binary against real databases: divergence,
//! tampering, drift, idempotent and concurrent apply, crash recovery, lock contention,
//! revert, baseline, and no password in any output.

use std::process::Command;
use std::time::Duration;

use strata::planfile::{PlanFile, load_dir};

use crate::harness::{cluster, introspect, load_sql, repo_root};
use crate::project::{Project, edit_steps, sleep_step, text};

/// A project with three plans: vehicles, an index built concurrently, a column.
async fn three_plans() -> Project {
    let p = Project::new().await;
    p.schema(
        "a.sql",
        "CREATE TABLE vehicles (id bigint PRIMARY KEY, vin text NOT NULL);",
    );
    p.plan("vehicles");
    p.schema("b.sql", "CREATE INDEX vehicles_vin_idx ON vehicles (vin);");
    p.plan("vin index");
    p.schema(
        "a.sql",
        "CREATE TABLE vehicles (id bigint PRIMARY KEY, vin text NOT NULL, model text DEFAULT 'unknown');\n\
         CREATE FUNCTION vin_ok(v text) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$ SELECT length(v) = 17 $$;",
    );
    p.plan("model and vin check");
    p
}

#[tokio::test]
async fn apply_twice_is_a_no_op_and_revert_then_apply_returns_to_the_same_state() {
    let p = three_plans().await;
    let first = p.expect(0, &["apply"]);
    assert!(first.contains("3 plan(s) pending"), "{first}");
    assert!(first.contains("create index public.vehicles_vin_idx on public.vehicles concurrently"));
    let head = p.fingerprint().await;
    let second = p.expect(0, &["apply"]);
    assert!(second.contains("up to date"), "{second}");
    assert_eq!(p.fingerprint().await, head);
    assert_eq!(
        p.query_one_i64("SELECT count(*) FROM strata.history WHERE action = 'apply'")
            .await,
        3
    );

    let status = p.expect(0, &["status", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_str(status.trim()).unwrap();
    assert_eq!(json["pending"], serde_json::json!([]));
    assert_eq!(json["drift"], false);

    let reverted = p.expect(0, &["revert"]);
    assert!(reverted.contains("reverted"), "{reverted}");
    assert_ne!(p.fingerprint().await, head);
    let status = p.expect(2, &["status"]);
    assert!(
        status.contains("pending: ") && status.contains("model_and_vin_check"),
        "{status}"
    );
    p.expect(0, &["apply"]);
    assert_eq!(p.fingerprint().await, head);

    // Revert two plans at once, then apply them again.
    let ids = p.plan_ids();
    p.expect(0, &["revert", "--to", &ids[0]]);
    assert_eq!(
        p.query_one_i64("SELECT count(*) FROM strata.ledger").await,
        1
    );
    p.expect(0, &["apply"]);
    assert_eq!(p.fingerprint().await, head);
}

#[tokio::test]
async fn a_plan_edited_by_one_byte_is_refused_by_check_and_apply() {
    let p = three_plans().await;
    let ids = p.plan_ids();
    let path = p.path("plans").join(format!("{}.toml", ids[1]));
    let original = std::fs::read_to_string(&path).unwrap();
    let edited = original.replacen("btree (vin)", "btree (vim)", 1);
    assert_eq!(edited.len(), original.len());
    std::fs::write(&path, &edited).unwrap();
    let check = p.expect(2, &["check"]);
    assert!(
        check.contains(&format!("plan {} was edited after it was planned", ids[1])),
        "{check}"
    );
    let before = p.fingerprint().await;
    let apply = p.expect(2, &["apply"]);
    assert!(apply.contains("was edited after it was planned"), "{apply}");
    assert_eq!(p.fingerprint().await, before);
    // Editing the review table is allowed.
    let reviewed = original.replace("reviewed_by = \"\"", "reviewed_by = \"ada\"");
    std::fs::write(&path, reviewed).unwrap();
    p.expect(0, &["check"]);
    // A plan applied and then rewritten is refused even with a matching sum.
    p.expect(0, &["apply"]);
    edit_steps(&p.path("plans"), &ids[0], |steps| {
        steps[0].summary.push('!')
    });
    let apply = p.expect(2, &["apply"]);
    assert!(
        apply.contains(&format!("plan {} was changed after it was applied", ids[0])),
        "{apply}"
    );
}

#[tokio::test]
async fn divergent_heads_are_refused_until_rebase() {
    let p = three_plans().await;
    let plans = p.path("plans");
    let base = std::fs::read_to_string(plans.join("strata.sum")).unwrap();
    // Branch "ours" adds a plan.
    p.schema("c.sql", "CREATE TABLE fleets (id int PRIMARY KEY);");
    p.plan("fleets");
    let ours_sum = std::fs::read_to_string(plans.join("strata.sum")).unwrap();
    let ours_id = p.plan_ids().pop().unwrap();
    let ours_file = std::fs::read_to_string(plans.join(format!("{ours_id}.toml"))).unwrap();
    // Branch "theirs" adds another on the same parent.
    std::fs::remove_file(plans.join(format!("{ours_id}.toml"))).unwrap();
    std::fs::write(plans.join("strata.sum"), &base).unwrap();
    std::fs::remove_file(p.path("schema/c.sql")).unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    p.schema("d.sql", "CREATE TABLE depots (id int PRIMARY KEY);");
    p.plan("depots");
    let theirs_sum = std::fs::read_to_string(plans.join("strata.sum")).unwrap();
    let theirs_id = p.plan_ids().pop().unwrap();
    // The merge: both plan files, both schema files, the sum file in conflict.
    std::fs::write(plans.join(format!("{ours_id}.toml")), ours_file).unwrap();
    p.schema("c.sql", "CREATE TABLE fleets (id int PRIMARY KEY);");
    std::fs::write(
        plans.join("strata.sum"),
        format!("<<<<<<< ours\n{ours_sum}=======\n{theirs_sum}>>>>>>> theirs\n"),
    )
    .unwrap();

    for args in [&["check"][..], &["plan", "-m", "more"], &["apply"]] {
        let out = p.expect(2, args);
        assert!(out.contains("divergent plan heads"), "{args:?}: {out}");
        assert!(
            out.contains(&ours_id) && out.contains(&theirs_id),
            "{args:?}: {out}"
        );
        assert!(out.contains("strata rebase"), "{out}");
    }
    let rebased = p.expect(0, &["rebase"]);
    assert!(
        rebased.contains(&format!("removed: {theirs_id}")),
        "{rebased}"
    );
    let check = p.expect(0, &["check"]);
    assert!(check.contains("check passed"), "{check}");
    p.expect(0, &["apply"]);
    let tables = introspect(p.db.url()).await.model.tables;
    assert!(tables.keys().any(|t| t.name == "fleets") && tables.keys().any(|t| t.name == "depots"));
}

#[tokio::test]
async fn out_of_band_changes_are_refused_naming_each_difference() {
    let p = three_plans().await;
    let ids = p.plan_ids();
    p.expect(0, &["apply"]);
    p.expect(0, &["revert", "--to", &ids[1]]);
    let client = p.db.url().connect().await.unwrap();
    client
        .batch_execute("DROP INDEX vehicles_vin_idx")
        .await
        .unwrap();
    let drops_before = p.fingerprint().await;
    // (Reverted state has the index; dropping it is drift.)
    client
        .batch_execute(
            "ALTER TABLE vehicles ADD COLUMN extra int;
             ALTER TABLE vehicles ALTER COLUMN vin SET DEFAULT 'x';
             CREATE FUNCTION touch() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;",
        )
        .await
        .unwrap();
    let before = p.fingerprint().await;
    assert_ne!(before, drops_before);
    let ledger_before = p.query_one_i64("SELECT count(*) FROM strata.history").await;
    let out = p.expect(2, &["apply"]);
    for expected in [
        "drift",
        "index public.vehicles_vin_idx: missing",
        "table public.vehicles: column extra: unexpected",
        "table public.vehicles: column vin: default: expected none, found 'x'::text",
        "function public.touch(): unexpected",
    ] {
        assert!(out.contains(expected), "missing {expected:?} in:\n{out}");
    }
    assert_eq!(p.fingerprint().await, before, "apply changed the database");
    // Nothing ran; the refusal is recorded as a failed run.
    assert_eq!(
        p.query_one_i64("SELECT count(*) FROM strata.history").await,
        ledger_before + 1
    );
    assert_eq!(
        p.query_one_i64(
            "SELECT count(*) FROM strata.history WHERE action = 'apply-failed' \
             AND error LIKE '%drift%' AND step IS NULL"
        )
        .await,
        1
    );
    let status = p.expect(2, &["status"]);
    assert!(status.contains("drift: yes"), "{status}");
    assert!(status.contains("last run failed: apply"), "{status}");

    // A function body changed behind strata's back.
    let q = three_plans().await;
    q.expect(0, &["apply"]);
    let client = q.db.url().connect().await.unwrap();
    client
        .batch_execute("CREATE OR REPLACE FUNCTION vin_ok(v text) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$ SELECT length(v) = 18 $$")
        .await
        .unwrap();
    let status = q.expect(2, &["status"]);
    assert!(
        status.contains("function public.vin_ok(v text): definition differs"),
        "{status}"
    );
    // With nothing pending, apply succeeds but says the database drifted.
    let noop = q.expect(0, &["apply"]);
    assert!(
        noop.contains("up to date") && noop.contains("warning: the database drifted"),
        "{noop}"
    );
    q.schema("e.sql", "CREATE TABLE later (id int);");
    q.plan("later");
    let before = q.fingerprint().await;
    let out = q.expect(2, &["apply"]);
    assert!(
        out.contains("function public.vin_ok(v text): definition differs at line"),
        "{out}"
    );
    assert_eq!(q.fingerprint().await, before);
}

#[tokio::test]
async fn eight_concurrent_applies_apply_each_plan_once() {
    let p = three_plans().await;
    let children: Vec<_> = (0..8)
        .map(|_| {
            p.command(&["apply"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let output = child.wait_with_output().unwrap();
        let all = format!("{}{}", text(&output.stdout), text(&output.stderr));
        assert_eq!(output.status.code(), Some(0), "{all}");
        assert!(!all.contains(&p.secret));
    }
    assert_eq!(
        p.query_one_i64("SELECT count(*) FROM strata.ledger WHERE state = 'applied'")
            .await,
        3
    );
    assert_eq!(
        p.query_one_i64(
            "SELECT max(n) FROM (SELECT count(*) AS n FROM strata.history GROUP BY plan_id) c"
        )
        .await,
        1
    );
    p.expect(0, &["status"]);
}

async fn wait_for_ledger_state(p: &Project, id: &str, state: &str, steps_done: i32) {
    let client = p.db.url().connect().await.unwrap();
    for _ in 0..200 {
        let rows = client
            .query(
                "SELECT 1 FROM strata.ledger WHERE plan_id = $1 AND state = $2 AND steps_done = $3",
                &[&id, &state, &steps_done],
            )
            .await;
        if rows.is_ok_and(|r| !r.is_empty()) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("plan {id} never reached {state}/{steps_done}");
}

#[tokio::test]
async fn killed_in_the_middle_of_a_plan_a_rerun_finishes_it() {
    let p = Project::new().await;
    p.schema(
        "a.sql",
        "CREATE TABLE vehicles (id bigint PRIMARY KEY, vin text NOT NULL);",
    );
    p.plan("vehicles");
    p.expect(0, &["apply"]);
    p.schema("b.sql", "CREATE INDEX vehicles_vin_idx ON vehicles (vin);");
    p.plan("vin index");
    p.schema(
        "c.sql",
        "CREATE TABLE fleets (id int PRIMARY KEY);\nCREATE TABLE depots (id int PRIMARY KEY);",
    );
    p.plan("fleets and depots");
    let ids = p.plan_ids();
    // Plan 2 starts with a lone wait before its concurrent index build; plan 3 waits inside
    // its transaction, between its two steps.
    edit_steps(&p.path("plans"), &ids[1], |steps| {
        steps.insert(0, sleep_step(3, false))
    });
    edit_steps(&p.path("plans"), &ids[2], |steps| {
        steps.insert(1, sleep_step(3, true))
    });
    let spawn = || {
        p.command(&["apply"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap()
    };

    // Killed (SIGKILL) during plan 2's lone wait: its ledger row says it started.
    let mut child = spawn();
    wait_for_ledger_state(&p, &ids[1], "applying", 0).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    child.kill().unwrap();
    child.wait().unwrap();
    let out = p.expect(0, &["apply", "--lock-wait", "30s"]);
    assert!(
        out.contains(&format!("apply {}: resuming after step 0", ids[1])),
        "{out}"
    );
    assert_eq!(
        p.query_one_i64("SELECT count(*) FROM strata.ledger WHERE state = 'applied'")
            .await,
        3
    );
    let head = p.fingerprint().await;

    // Killed during plan 3's transaction: nothing of it is kept.
    p.expect(0, &["revert"]);
    let mut child = spawn();
    let client = p.db.url().connect().await.unwrap();
    let mut sleeping = false;
    for _ in 0..200 {
        let n: i64 = client
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%SELECT pg_sleep(3)%' AND query NOT LIKE '%pg_stat_activity%' AND state = 'active'",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        if n > 0 {
            sleeping = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(sleeping, "plan 3 never reached its wait");
    child.kill().unwrap();
    child.wait().unwrap();
    let rows = p
        .query_one_i64(&format!(
            "SELECT count(*) FROM strata.ledger WHERE plan_id = '{}'",
            ids[2]
        ))
        .await;
    assert_eq!(rows, 0, "the killed transaction left a ledger row");
    // The server notices the dead client when the sleep ends; the lock poll waits for that.
    p.expect(0, &["apply", "--lock-wait", "30s"]);
    assert_eq!(p.fingerprint().await, head);
    assert_eq!(
        p.query_one_i64("SELECT count(*) FROM strata.ledger WHERE state <> 'applied'")
            .await,
        0
    );
    assert_eq!(
        p.query_one_i64("SELECT count(*) FROM strata.history WHERE action = 'apply'")
            .await,
        4,
        "each plan recorded once per completed apply"
    );
}

#[tokio::test]
async fn an_invalid_index_left_by_a_failed_concurrent_build_is_rebuilt() {
    let p = Project::new().await;
    p.schema("a.sql", "CREATE TABLE t (id int PRIMARY KEY, code text);");
    p.plan("t");
    p.expect(0, &["apply"]);
    p.schema("b.sql", "CREATE UNIQUE INDEX t_code_key ON t (code);");
    p.plan("unique code");
    let client = p.db.url().connect().await.unwrap();
    client
        .batch_execute("INSERT INTO t VALUES (1, 'a'), (2, 'a')")
        .await
        .unwrap();
    // The pre-flight check finds the duplicates before anything runs.
    let out = p.expect(2, &["apply"]);
    assert!(
        out.contains(
            "1 value of (code) has more than one row in public.t, e.g. (code)=(a) (2 rows)"
        ),
        "{out}"
    );
    // Without it, the concurrent build fails and leaves an invalid index behind.
    let out = p.expect(1, &["apply", "--skip-preflight"]);
    assert!(out.contains("could not create unique index"), "{out}");
    let valid: Vec<bool> = client
        .query(
            "SELECT indisvalid FROM pg_index WHERE indexrelid = 't_code_key'::regclass",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(valid, [false], "the failed build leaves an invalid index");
    client
        .batch_execute("DELETE FROM t WHERE id = 2")
        .await
        .unwrap();
    let out = p.expect(0, &["apply"]);
    assert!(
        out.contains("is invalid (an interrupted concurrent build): dropping it"),
        "{out}"
    );
    p.expect(0, &["status"]);
}

#[tokio::test]
async fn a_step_blocked_by_another_session_is_retried_then_fails_naming_the_lock() {
    let p = Project::new().await;
    p.schema("a.sql", "CREATE TABLE busy (id int PRIMARY KEY);");
    p.plan("busy");
    p.expect(0, &["apply"]);
    p.schema(
        "a.sql",
        "CREATE TABLE busy (id int PRIMARY KEY, note text);\nCREATE TABLE other (id int);",
    );
    p.plan("note");
    let before = p.fingerprint().await;
    let blocker = p.db.url().connect().await.unwrap();
    blocker
        .batch_execute("BEGIN; LOCK TABLE busy IN ACCESS SHARE MODE;")
        .await
        .unwrap();
    let out = p.expect(
        1,
        &["apply", "--lock-timeout", "200ms", "--lock-retries", "2"],
    );
    assert!(
        out.contains("retry 1/2") && out.contains("retry 2/2"),
        "{out}"
    );
    assert!(
        out.contains("could not take its lock within lock_timeout 200ms in 3 attempts"),
        "{out}"
    );
    assert!(
        out.contains("AccessExclusiveLock lock on relation public.busy"),
        "{out}"
    );
    assert!(out.contains("held by pid"), "{out}");
    assert!(out.contains("nothing of plan"), "{out}");
    blocker.batch_execute("ROLLBACK").await.unwrap();
    assert_eq!(p.fingerprint().await, before, "something was half applied");
    assert_eq!(
        p.query_one_i64("SELECT count(*) FROM strata.ledger").await,
        1
    );
    p.expect(0, &["apply"]);
}

#[tokio::test]
async fn irreversible_plans_need_force_to_revert_and_unreviewed_hazards_block_apply() {
    let p = Project::new().await;
    p.schema("a.sql", "CREATE TABLE t (id int PRIMARY KEY, legacy text);");
    p.plan("t");
    p.expect(0, &["apply"]);
    p.schema("a.sql", "CREATE TABLE t (id int PRIMARY KEY);");
    let planned = p.plan("drop legacy");
    assert!(
        planned.contains("acknowledge data-loss, irreversible"),
        "{planned}"
    );
    let out = p.expect(2, &["apply"]);
    assert!(
        out.contains("no reviewer acknowledged: data-loss, irreversible"),
        "{out}"
    );
    let check = p.expect(2, &["check"]);
    assert!(check.contains("hazards not acknowledged"), "{check}");
    let id = p.plan_ids().pop().unwrap();
    let path = p.path("plans").join(format!("{id}.toml"));
    let file = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        file.replace(
            "acknowledged = []",
            "acknowledged = [\"data-loss\", \"irreversible\"]",
        ),
    )
    .unwrap();
    p.expect(0, &["check"]);
    p.expect(0, &["apply"]);
    let out = p.expect(2, &["revert"]);
    assert!(
        out.contains("step 1 (drop column public.t.legacy) destroyed data"),
        "{out}"
    );
    p.expect(0, &["revert", "--force"]);
    let columns = introspect(p.db.url())
        .await
        .model
        .tables
        .into_values()
        .next()
        .unwrap()
        .columns;
    assert!(columns.contains_key("legacy"));
}

#[tokio::test]
async fn baseline_adopts_an_existing_database() {
    let p = Project::new().await;
    load_sql(p.db.url(), "legacy.sql", "CREATE TABLE legacy (id int PRIMARY KEY, name text); CREATE INDEX legacy_name ON legacy (name);").await;
    let before = p.fingerprint().await;
    let out = p.expect(0, &["baseline"]);
    assert!(out.contains("recorded it as applied"), "{out}");
    assert_eq!(
        p.fingerprint().await,
        before,
        "baseline changed the database"
    );
    let again = p.expect(0, &["apply"]);
    assert!(again.contains("up to date"), "{again}");
    // schema/ was empty: baseline wrote the database's schema there.
    assert!(out.contains("schema/baseline.sql"), "{out}");
    let check = p.expect(0, &["check"]);
    assert!(
        check.contains("the head of the chain is exactly schema"),
        "{check}"
    );
    p.schema("more.sql", "CREATE TABLE newer (id int);");
    p.plan("newer");
    p.expect(0, &["apply"]);
    p.expect(1, &["baseline"]);
}

#[tokio::test]
async fn the_sovd_project_checks_and_tests_on_its_own_major() {
    let plans_major = load_dir(&repo_root().join("plans"))
        .unwrap()
        .linear()
        .unwrap()[0]
        .head
        .postgres_major;
    let dev = cluster().await.connection_string("postgres");
    let run = |args: &[&str]| {
        Command::new(assert_cmd::cargo::cargo_bin!("strata"))
            .current_dir(repo_root())
            .env("STRATA_DEV_URL", &dev)
            .args(args)
            .output()
            .unwrap()
    };
    // The shared test server has the schema's roles only if another test made them.
    let check = run(&["check", "--create-roles"]);
    let test = run(&["test", "--create-roles"]);
    if cluster().await.major() == plans_major {
        assert_eq!(
            check.status.code(),
            Some(0),
            "{}{}",
            text(&check.stdout),
            text(&check.stderr)
        );
        assert!(
            text(&test.stdout).contains("test passed"),
            "{}{}",
            text(&test.stdout),
            text(&test.stderr)
        );
        assert_eq!(test.status.code(), Some(0));
    } else {
        // Another major cannot verify plans written on the plans' major, and says so.
        assert_eq!(check.status.code(), Some(2));
        assert!(text(&check.stdout).contains(&format!("was written on PostgreSQL {plans_major}")));
        assert_eq!(test.status.code(), Some(2));
    }
}

#[tokio::test]
async fn plans_from_another_major_are_refused_before_anything_runs() {
    let p = Project::new().await;
    p.schema("a.sql", "CREATE TABLE t (id int PRIMARY KEY);");
    p.plan("t");
    p.schema("b.sql", "CREATE VIEW tv AS SELECT id FROM t;");
    p.plan("tv");
    let ids = p.plan_ids();
    let major = cluster().await.major();
    // The second plan claims another major (with a matching sum, as if planned there).
    let chain = load_dir(&p.path("plans")).unwrap();
    let (path, plan) = &chain.plans[&ids[1]];
    let mut head = plan.head.clone();
    head.postgres_major = major + 1;
    std::fs::write(path, PlanFile::render(&head)).unwrap();
    let chain = load_dir(&p.path("plans")).unwrap();
    chain.write_sum(&chain.linear().unwrap()).unwrap();
    let before = p.fingerprint().await;
    let out = p.expect(2, &["apply"]);
    assert!(
        out.contains(&format!(
            "planned on PostgreSQL {} and the database runs {major}",
            major + 1
        )),
        "{out}"
    );
    assert_eq!(p.fingerprint().await, before, "the first plan ran anyway");
}

#[tokio::test]
async fn apply_waits_for_a_database_that_is_still_starting_and_gives_up_at_the_deadline() {
    let p = Project::new().await;
    p.schema("a.sql", "CREATE TABLE t (id int PRIMARY KEY);");
    p.plan("t");
    let free_port = || {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    };
    let secret = p.secret.clone();
    let url = |port: u16| format!("postgres://postgres:{secret}@127.0.0.1:{port}/postgres");

    // Nothing listens yet; the server starts a moment after strata does.
    let port = free_port();
    let child = p
        .command(&[
            "apply",
            "--database-url",
            &url(port),
            "--connect-timeout",
            "60s",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let server = strata::db::embedded::Cluster::start_with(strata::db::embedded::ClusterOptions {
        tcp_port: Some(port),
        tls: None,
        password: Some(p.secret.clone()),
        bindir: None,
        template_cache: None,
    })
    .await
    .unwrap();
    let output = child.wait_with_output().unwrap();
    let all = format!("{}{}", text(&output.stdout), text(&output.stderr));
    assert_eq!(output.status.code(), Some(0), "{all}");
    assert!(all.contains("database not reachable yet"), "{all}");
    assert!(all.contains("done: applied 1 plan(s)"), "{all}");
    assert!(!all.contains(&p.secret), "{all}");
    drop(server);

    // Nobody ever listens: retries until the deadline, then fails (exit 1).
    let started = std::time::Instant::now();
    let out = p.expect(
        1,
        &[
            "apply",
            "--database-url",
            &url(free_port()),
            "--connect-timeout",
            "3s",
        ],
    );
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "gave up too early"
    );
    assert!(
        out.contains("retrying in") && out.contains("cannot connect to"),
        "{out}"
    );
}
