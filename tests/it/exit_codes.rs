//! One test per row of `strata::error::EXIT_CODES` (the table in docs/cli.md): a command
//! that gives that code for that reason. `every_row_has_its_test` keeps them in step.

use strata::planfile::{PlanFile, load_dir};

use crate::harness::cluster;
use crate::project::Project;

#[test]
fn every_row_has_its_test() {
    let this = include_str!("exit_codes.rs");
    for (_, kind, _) in strata::error::EXIT_CODES {
        assert!(
            this.contains(&format!("async fn exit_code_{kind}()")),
            "EXIT_CODES row {kind} has no test in tests/it/exit_codes.rs"
        );
    }
}

/// A project with one applied plan creating `t (id, note)`.
async fn applied() -> Project {
    let p = Project::new().await;
    p.schema("a.sql", "CREATE TABLE t (id int PRIMARY KEY, note text);");
    p.plan("t");
    p.expect(0, &["apply"]);
    p
}

#[tokio::test]
async fn exit_code_success() {
    let p = applied().await;
    p.expect(0, &["diff", "--exit-code"]);
    p.expect(0, &["status"]);
    p.expect(0, &["check"]);
    p.expect(0, &["apply"]);
}

#[tokio::test]
async fn exit_code_error() {
    let p = Project::new().await;
    // Bad input.
    p.schema("a.sql", "CREATE TABLE t (id int PRIMARY KEY,;");
    let out = p.expect(1, &["plan"]);
    assert!(out.contains("a.sql:1:"), "{out}");
    // What was asked cannot be done: the user's error, not "needs attention".
    p.schema("a.sql", "CREATE TABLE t (id int PRIMARY KEY);");
    std::fs::create_dir_all(p.path("plans")).unwrap();
    let out = p.expect(1, &["test"]);
    assert!(out.contains("no plans to test"), "{out}");
    p.plan("t");
    let out = p.expect(1, &["revert"]);
    assert!(out.contains("nothing to revert"), "{out}");
    let out = p.expect(1, &["rebase"]);
    assert!(out.contains("nothing to rebase"), "{out}");
    let out = p.expect(1, &["discard", "20000101000000_nope"]);
    assert!(out.contains("no plan 20000101000000_nope"), "{out}");
}

#[tokio::test]
async fn exit_code_usage() {
    let p = Project::new().await;
    p.expect(1, &["--no-such-option"]);
    p.expect(1, &["plan", "--no-such-option"]);
    p.expect(1, &["no-such-command"]);
    p.expect(0, &["--help"]);
    p.expect(0, &["--version"]);
}

#[tokio::test]
async fn exit_code_changes() {
    let p = applied().await;
    p.schema(
        "a.sql",
        "CREATE TABLE t (id int PRIMARY KEY, note text, at date);",
    );
    let out = p.expect(2, &["diff", "--exit-code"]);
    assert!(out.contains("ADD COLUMN"), "{out}");
    p.plan("at");
    let out = p.expect(2, &["status"]);
    assert!(out.contains("pending"), "{out}");
}

#[tokio::test]
async fn exit_code_drift() {
    let p = applied().await;
    p.sql("ALTER TABLE t ADD COLUMN outside int").await;
    p.schema(
        "a.sql",
        "CREATE TABLE t (id int PRIMARY KEY, note text, at date);",
    );
    p.plan("at");
    let out = p.expect(2, &["apply"]);
    assert!(out.contains("drift"), "{out}");
}

#[tokio::test]
async fn exit_code_divergence() {
    let p = applied().await;
    p.schema(
        "a.sql",
        "CREATE TABLE t (id int PRIMARY KEY, note text, at date);",
    );
    p.plan("at");
    // A second plan on the same parent, as a merge of two branches leaves it.
    let chain = load_dir(&p.path("plans")).unwrap();
    let head = p.head();
    let mut other = chain.plans[&head].1.head.clone();
    other.id = format!("{head}_other");
    std::fs::write(
        p.path("plans").join(format!("{}.toml", other.id)),
        PlanFile::render(&other),
    )
    .unwrap();
    for args in [&["check"][..], &["apply"], &["plan"]] {
        let out = p.expect(2, args);
        assert!(
            out.contains("divergent") || out.contains("heads"),
            "{args:?}: {out}"
        );
    }
}

#[tokio::test]
async fn exit_code_tampering() {
    let p = applied().await;
    p.schema(
        "a.sql",
        "CREATE TABLE t (id int PRIMARY KEY, note text, at date);",
    );
    p.plan("at");
    let path = p.path("plans").join(format!("{}.toml", p.head()));
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        text.replace("ADD COLUMN at date", "ADD COLUMN at text"),
    )
    .unwrap();
    let out = p.expect(2, &["apply"]);
    assert!(out.contains("strata.sum"), "{out}");
    p.expect(2, &["check"]);
}

#[tokio::test]
async fn exit_code_major() {
    let p = applied().await;
    p.schema(
        "a.sql",
        "CREATE TABLE t (id int PRIMARY KEY, note text, at date);",
    );
    p.plan("at");
    let major = cluster().await.major();
    let chain = load_dir(&p.path("plans")).unwrap();
    let (path, plan) = &chain.plans[&p.head()];
    let mut head = plan.head.clone();
    head.postgres_major = major + 1;
    std::fs::write(path, PlanFile::render(&head)).unwrap();
    let chain = load_dir(&p.path("plans")).unwrap();
    chain.write_sum(&chain.linear().unwrap()).unwrap();
    let out = p.expect(2, &["apply"]);
    assert!(out.contains("planned on PostgreSQL"), "{out}");
}

#[tokio::test]
async fn exit_code_unacknowledged() {
    let p = applied().await;
    p.schema("a.sql", "CREATE TABLE t (id int PRIMARY KEY);");
    p.plan("drop note");
    let out = p.expect(2, &["apply"]);
    assert!(out.contains("no reviewer acknowledged"), "{out}");
}

#[tokio::test]
async fn exit_code_preflight() {
    let p = applied().await;
    p.sql("INSERT INTO t VALUES (1, 'a'), (2, 'a')").await;
    p.schema(
        "a.sql",
        "CREATE TABLE t (id int PRIMARY KEY, note text UNIQUE);",
    );
    p.plan("unique note");
    let out = p.expect(2, &["apply"]);
    assert!(out.contains("more than one row"), "{out}");
}

#[tokio::test]
async fn exit_code_check() {
    let p = applied().await;
    p.schema(
        "a.sql",
        "CREATE TABLE t (id int PRIMARY KEY, note text, at date);",
    );
    let out = p.expect(2, &["check"]);
    assert!(out.contains("no plan covers"), "{out}");
}
