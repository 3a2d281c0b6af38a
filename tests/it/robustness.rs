//! Untrusted files and hostile timing: odd files in schema/, huge inputs, absurd
//! durations, cyclic plan chains, signals at awkward moments, runs killed outright. Each
//! ends with a clear error (or a clean success) and nothing left behind.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use strata::db::embedded::Cluster;

use crate::project::text;

fn strata(dir: &Path) -> Command {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin!("strata"));
    cmd.current_dir(dir)
        .env_remove("RUST_LOG")
        .env_remove("DATABASE_URL")
        .env_remove("STRATA_DEV_URL")
        .env("STRATA_CACHE_DIR", crate::harness::cache_dir());
    cmd
}

fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("schema")).unwrap();
    std::fs::create_dir(dir.path().join("plans")).unwrap();
    dir
}

fn output(cmd: &mut Command) -> (Option<i32>, String) {
    let out = cmd.output().unwrap();
    (
        out.status.code(),
        format!("{}{}", text(&out.stdout), text(&out.stderr)),
    )
}

#[test]
fn a_fifo_named_sql_is_an_error_not_a_hang() {
    let dir = project();
    let fifo = dir.path().join("schema/wait.sql");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let (code, out) = output(strata(dir.path()).args(["diff"]));
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("wait.sql") && out.contains("not a regular file"),
        "{out}"
    );
}

#[test]
fn a_symlink_out_of_the_project_is_never_read() {
    let outside = tempfile::tempdir().unwrap();
    let secret = outside.path().join(".env");
    std::fs::write(&secret, "DATABASE_PASSWORD=hunter2-never-shown\n").unwrap();
    let dir = project();
    std::os::unix::fs::symlink(&secret, dir.path().join("schema/env.sql")).unwrap();
    let (code, out) = output(strata(dir.path()).args(["diff"]));
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("a symbolic link to outside the project"),
        "{out}"
    );
    assert!(!out.contains("hunter2"), "{out}");
    // Inside the project, links are followed.
    std::fs::remove_file(dir.path().join("schema/env.sql")).unwrap();
    std::fs::create_dir(dir.path().join("shared")).unwrap();
    std::fs::write(
        dir.path().join("shared/t.sql"),
        "CREATE TABLE t (id int);\n",
    )
    .unwrap();
    std::os::unix::fs::symlink(
        dir.path().join("shared/t.sql"),
        dir.path().join("schema/t.sql"),
    )
    .unwrap();
    let (code, out) = output(strata(dir.path()).args(["diff", "--exit-code"]));
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("CREATE TABLE public.t"), "{out}");
}

#[test]
fn a_secret_read_as_sql_is_not_echoed() {
    let dir = project();
    std::fs::write(
        dir.path().join("schema/oops.sql"),
        "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI-never-shown\nexport TOKEN=abc\n",
    )
    .unwrap();
    let (code, out) = output(strata(dir.path()).args(["diff"]));
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("oops.sql:1:1: not a statement a desired state can hold"),
        "{out}"
    );
    assert!(!out.contains("wJalr"), "{out}");
}

#[test]
fn millions_of_empty_statements_are_split_in_linear_time() {
    // Quadratic splitting took 29 s for 400,000 and did not finish for 2 million.
    let dir = project();
    std::fs::write(
        dir.path().join("schema/semicolons.sql"),
        ";".repeat(2_000_000),
    )
    .unwrap();
    let started = Instant::now();
    let (code, out) = output(strata(dir.path()).args(["diff"]));
    assert_eq!(code, Some(0), "{out}");
    println!("2,000,000 semicolons: diff in {:.2?}", started.elapsed());
}

#[test]
fn absurd_durations_are_errors_not_panics_or_wraps() {
    let dir = project();
    for (option, value) in [
        ("--lock-wait", "18446744073709551615s"),
        ("--connect-timeout", "18446744073709551615s"),
        ("--lock-wait", "307445734561825861min"),
        ("--lock-timeout", "25d"),
    ] {
        let (code, out) = output(
            strata(dir.path())
                .args(["apply", option, value])
                .env("DATABASE_URL", "postgres://u@127.0.0.1:1/db"),
        );
        assert_eq!(code, Some(1), "{option} {value}: {out}");
        assert!(out.contains(option), "{out}");
        assert!(!out.contains("panicked"), "{out}");
    }
}

#[test]
fn a_plan_that_is_its_own_parent_is_refused_not_a_hang() {
    let dir = project();
    let head = strata::planfile::PlanHead {
        format: strata::planfile::FORMAT,
        id: "20260101000000_loop".into(),
        parent: Some("20260101000000_loop".into()),
        postgres_major: 15,
        ..Default::default()
    };
    std::fs::write(
        dir.path().join("plans/20260101000000_loop.toml"),
        strata::planfile::PlanFile::render(&head),
    )
    .unwrap();
    for args in [&["check"][..], &["status"], &["show"], &["rebase"]] {
        let mut cmd = strata(dir.path());
        cmd.args(args)
            .env("DATABASE_URL", "postgres://u@127.0.0.1:1/db");
        let (code, out) = output(&mut cmd);
        assert!(matches!(code, Some(1 | 2)), "{args:?}: {out}");
        assert!(out.contains("form a cycle"), "{args:?}: {out}");
    }
}

/// Runs `diff` on a schema with a slow statement, with the embedded server in `tmp`;
/// returns the child once the server is up.
fn slow_diff(tmp: &Path, dir: &Path) -> std::process::Child {
    std::fs::write(
        dir.join("schema/slow.sql"),
        "CREATE MATERIALIZED VIEW slow AS SELECT 1 AS x FROM pg_sleep(30);\n",
    )
    .unwrap();
    strata(dir)
        .env("TMPDIR", tmp)
        .args(["diff"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn wait_until(what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !ready() {
        assert!(Instant::now() < deadline, "{what} never happened");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn empty(dir: &Path) -> bool {
    std::fs::read_dir(dir).unwrap().next().is_none()
}

#[test]
fn sighup_stops_a_run_and_cleans_up_like_sigterm() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = project();
    let child = slow_diff(tmp.path(), dir.path());
    wait_until("the server starting", || {
        std::fs::read_dir(tmp.path()).unwrap().flatten().any(|e| {
            std::fs::read_to_string(e.path().join("data/postmaster.pid"))
                .is_ok_and(|p| p.lines().nth(7).is_some_and(|l| l.trim() == "ready"))
        })
    });
    std::thread::sleep(Duration::from_millis(500));
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(i32::try_from(child.id()).unwrap()),
        nix::sys::signal::Signal::SIGHUP,
    )
    .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("interrupted by SIGHUP"),
        "{}",
        text(&out.stderr)
    );
    wait_until("the folder being removed", || empty(tmp.path()));
}

#[test]
fn killed_in_its_first_moments_strata_leaves_no_cluster_folder() {
    // SIGKILL at several moments of the start-up (during initdb, as the server starts):
    // the watchdog, started with the folder, removes it.
    for delay in [30, 100, 200, 300, 500] {
        let tmp = tempfile::tempdir().unwrap();
        let dir = project();
        let mut child = slow_diff(tmp.path(), dir.path());
        std::thread::sleep(Duration::from_millis(delay));
        child.kill().unwrap();
        child.wait().unwrap();
        wait_until(
            &format!("the folder being removed (killed after {delay} ms)"),
            || empty(tmp.path()),
        );
    }
}

#[tokio::test]
async fn shadow_databases_of_a_killed_run_are_dropped_by_the_next_one() {
    let server = Cluster::start().await.unwrap();
    let dev_url = server.connection_string("postgres");
    let admin = server.url("postgres").connect().await.unwrap();
    let leftovers = async || -> Vec<String> {
        admin
            .query(
                "SELECT datname::text FROM pg_database WHERE datname LIKE 'strata\\_shadow\\_%' \
                 UNION ALL SELECT rolname::text FROM pg_roles WHERE rolname LIKE 'strata\\_loader\\_%'",
                &[],
            )
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect()
    };
    let dir = project();
    std::fs::write(
        dir.path().join("schema/slow.sql"),
        "CREATE MATERIALIZED VIEW slow AS SELECT 1 AS x FROM pg_sleep(2);\n",
    )
    .unwrap();
    let mut child = strata(dir.path())
        .args(["diff", "--dev-url", &dev_url])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut seen = Vec::new();
    for _ in 0..500 {
        seen = leftovers().await;
        if seen.iter().any(|n| n.starts_with("strata_shadow_")) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        seen.iter().any(|n| n.starts_with("strata_shadow_"))
            && seen.iter().any(|n| n.starts_with("strata_loader_")),
        "{seen:?}"
    );
    // The killed run's statement ends when its sleep does; then nobody uses the leftovers.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(
        !leftovers().await.is_empty(),
        "nothing was left to clean up"
    );
    std::fs::write(
        dir.path().join("schema/slow.sql"),
        "CREATE TABLE t (id int);\n",
    )
    .unwrap();
    let (code, out) = output(strata(dir.path()).args(["diff", "--dev-url", &dev_url]));
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(leftovers().await, Vec::<String>::new());
}

#[tokio::test]
async fn a_shadow_whose_drop_is_cut_off_is_still_dropped() {
    let shadow = crate::harness::dev_server()
        .await
        .create_database()
        .await
        .unwrap();
    let name = shadow.name().to_owned();
    // Polled once, then let go: cut off at its first wait (connecting), before `DROP
    // DATABASE` ran.
    let cut = futures_util::FutureExt::now_or_never(shadow.drop_now());
    assert!(cut.is_none(), "the drop finished within its first poll");
    let admin = crate::harness::admin().await;
    let left: i64 = admin
        .query_one(
            "SELECT count(*) FROM pg_database WHERE datname = $1",
            &[&name],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(left, 0, "{name} was left behind");
}
