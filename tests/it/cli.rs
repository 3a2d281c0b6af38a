//! The `strata` binary end to end: exit codes, output, errors, and what it leaves behind.

use std::path::Path;
use std::process::Output;

use std::process::Command;

use crate::harness::{cluster, fresh_db, introspect, load_sql, repo_root};

/// The binary, with no database settings inherited from the environment.
fn strata() -> Command {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin!("strata"));
    cmd.env_remove("DATABASE_URL")
        .env_remove("STRATA_DEV_URL")
        .env_remove("RUST_LOG")
        .env("STRATA_CACHE_DIR", crate::harness::cache_dir());
    cmd
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

async fn dev_url() -> String {
    cluster().await.connection_string("postgres")
}

async fn db_url(db: &strata::db::shadow::ShadowDb) -> String {
    cluster().await.connection_string(db.name())
}

fn write_schema(dir: &Path, files: &[(&str, &str)]) {
    for (name, sql) in files {
        std::fs::write(dir.join(name), sql).unwrap();
    }
}

/// Shadow databases a strata process (by PID) left on the test cluster.
async fn leftover_shadows(pid: u32) -> Vec<String> {
    let client = crate::harness::admin().await;
    let rows = client
        .query(
            "SELECT datname::text FROM pg_database WHERE datname LIKE $1",
            // (`_` matches any one character in LIKE: escaped, so that another process
            // whose PID ends in this one's does not count)
            &[&format!(r"strata\_shadow\_%\_{pid}\_%")],
        )
        .await
        .unwrap();
    rows.iter().map(|r| r.get(0)).collect()
}

/// Runs the command, returning its output and PID.
fn run(cmd: &mut Command) -> (Output, u32) {
    let child = cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    (child.wait_with_output().unwrap(), pid)
}

#[tokio::test]
async fn diff_on_the_embedded_default_plans_the_sovd_schema_and_cleans_up() {
    let tmp = tempfile::tempdir().unwrap();
    let no_plans = tempfile::tempdir().unwrap();
    let output = strata()
        .current_dir(repo_root())
        .env("TMPDIR", tmp.path())
        .args(["diff", "--plans"])
        .arg(no_plans.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert!(stdout.contains("CREATE TABLE public.vehicles"), "{stdout}");
    assert!(stdout.contains("CREATE TABLE audit.audit_log"), "{stdout}");
    assert!(
        stdout.find("CREATE DOMAIN public.vin").unwrap()
            < stdout.find("CREATE TABLE public.vehicles").unwrap()
    );
    // The embedded server and its folder are gone.
    let left = crate::harness::left_in(tmp.path());
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[tokio::test]
async fn without_tmpdir_the_embedded_server_goes_to_memory_when_there_is_room_and_leaves_nothing() {
    let schema = tempfile::tempdir().unwrap();
    let no_plans = tempfile::tempdir().unwrap();
    write_schema(schema.path(), &[("t.sql", "CREATE TABLE t (id int);\n")]);
    // Room is measured when strata starts; other tests' servers change it, so the folder
    // is compared only when the answer is the same before and after.
    let before = strata::db::embedded::memory_folder();
    let output = strata()
        .current_dir(schema.path())
        .env_remove("TMPDIR")
        .env("STRATA_CACHE_DIR", "off")
        .env("RUST_LOG", "strata::db::embedded=debug")
        .env("NO_COLOR", "1")
        .args(["diff", "--plans"])
        .arg(no_plans.path())
        .arg("--schema")
        .arg(schema.path())
        .output()
        .unwrap();
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    // "embedded PostgreSQL 15 from <bindir> on <folder>"
    let folder = stderr
        .lines()
        .filter(|l| l.contains("embedded PostgreSQL"))
        .find_map(|l| l.rsplit(" on ").next())
        .map(|f| std::path::PathBuf::from(f.trim()))
        .unwrap_or_else(|| panic!("no folder in the log: {stderr}"));
    if before == strata::db::embedded::memory_folder() {
        let expected = before.unwrap_or_else(|| "/tmp".into());
        assert_eq!(folder.parent(), Some(expected.as_path()), "{stderr}");
    }
    assert!(
        folder
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("strata-pg-")),
        "{stderr}"
    );
    // Deleted in the background once strata is gone.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while folder.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "left behind: {}",
            folder.display()
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

#[tokio::test]
async fn sigterm_stops_the_embedded_server_and_removes_its_files() {
    let tmp = tempfile::tempdir().unwrap();
    let schema = tempfile::tempdir().unwrap();
    // A statement that takes a while, so the signal arrives while strata works.
    write_schema(
        schema.path(),
        &[(
            "slow.sql",
            "CREATE TABLE t (id int);\nCREATE MATERIALIZED VIEW slow AS SELECT 1 AS x FROM pg_sleep(30);\n",
        )],
    );
    let child = strata()
        .env("TMPDIR", tmp.path())
        .args(["diff", "--schema"])
        .arg(schema.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Once the server is up (postmaster.pid says "ready"), and a little later.
    let output = sigterm_once(child, tmp.path(), "server became ready", 30, |cluster| {
        let ready = std::fs::read_to_string(cluster.join("data/postmaster.pid"))
            .is_ok_and(|p| p.lines().nth(7).is_some_and(|l| l.trim() == "ready"));
        if ready {
            std::thread::sleep(std::time::Duration::from_millis(500));
        }
        ready
    });
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output.stderr).contains("interrupted by SIGTERM"),
        "{}",
        text(&output.stderr)
    );
    let left = crate::harness::left_in(tmp.path());
    assert!(left.is_empty(), "left behind: {left:?}");
}

/// Sends SIGTERM to `child` once `now` holds for a cluster folder in `tmp` (checked every
/// 2 ms, for at most `limit_secs`), and waits for it to exit.
fn sigterm_once(
    child: std::process::Child,
    tmp: &Path,
    what: &str,
    limit_secs: u64,
    now: impl Fn(&Path) -> bool,
) -> Output {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(limit_secs);
    while !std::fs::read_dir(tmp)
        .unwrap()
        .flatten()
        .any(|e| now(&e.path()))
    {
        assert!(std::time::Instant::now() < deadline, "never: {what}");
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(i32::try_from(child.id()).unwrap()),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    child.wait_with_output().unwrap()
}

/// A start cut off while the cluster's data folder is copied from the initdb template leaves
/// nothing behind: the copy stops, and the folder's deletion is retried until it holds (the
/// copy used to go on writing into the folder after both of the watchdog's deletions: CI
/// once saw the folder of such a start left in TMPDIR). The template is padded so that the
/// copy runs long enough for the signal to land in it.
#[tokio::test]
async fn a_start_cut_off_while_the_template_is_copied_leaves_nothing() {
    let cache = tempfile::tempdir().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let schema = tempfile::tempdir().unwrap();
    let no_plans = tempfile::tempdir().unwrap();
    write_schema(schema.path(), &[("t.sql", "CREATE TABLE t (id int);\n")]);
    let diff = || {
        let mut cmd = strata();
        cmd.current_dir(schema.path())
            .env("TMPDIR", tmp.path())
            .env("STRATA_CACHE_DIR", cache.path())
            .env("RUST_LOG", "strata::db::embedded=debug")
            .env("NO_COLOR", "1")
            .args(["diff", "--plans"])
            .arg(no_plans.path())
            .arg("--schema")
            .arg(schema.path());
        cmd
    };
    // The first run keeps the template.
    let first = diff().output().unwrap();
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    let template = std::fs::read_dir(cache.path())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("initdb-")
        })
        .expect("the initdb template");
    // Padded with 6,000 files of 16 KiB (well within the copy's limits), its manifest to
    // match.
    let manifest = std::fs::read_to_string(template.join("manifest")).unwrap();
    let (files, bytes) = manifest
        .trim()
        .split_once(" files, ")
        .and_then(|(f, b)| {
            Some((
                f.parse::<u64>().ok()?,
                b.strip_suffix(" bytes")?.parse::<u64>().ok()?,
            ))
        })
        .expect("the manifest's counts");
    let padding = template.join("data/padding");
    std::fs::create_dir(&padding).unwrap();
    let block = vec![7u8; 16 << 10];
    for i in 0..6_000 {
        std::fs::write(padding.join(i.to_string()), &block).unwrap();
    }
    std::fs::write(
        template.join("manifest"),
        format!(
            "{} files, {} bytes\n",
            files + 6_000,
            bytes + 6_000 * (16 << 10)
        ),
    )
    .unwrap();
    // Cut off once the copy has begun (a desired state not in the cache: the server starts).
    write_schema(schema.path(), &[("t.sql", "CREATE TABLE u (id int);\n")]);
    let child = diff()
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let output = sigterm_once(child, tmp.path(), "copy began", 60, |cluster| {
        cluster.join("data/padding").exists()
    });
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("interrupted by SIGTERM"), "{stderr}");
    assert!(
        stderr.contains("the copy from the initdb template was given up"),
        "the signal did not land while the copy ran: {stderr}"
    );
    let left = crate::harness::left_in(tmp.path());
    assert!(left.is_empty(), "left behind: {left:?}\n{stderr}");
    // The template is still whole: a cut-off copy does not count against it.
    assert!(template.join("manifest").is_file());
}

/// `diff --database-url` reads the database while the desired state loads: a schema error
/// is still the one reported when the database cannot be read either (without waiting for
/// the read, even one stuck on a lock), and a database that cannot be read still fails the
/// diff when the schema loads.
#[tokio::test]
async fn diff_reports_the_schema_error_first_and_then_the_database_one() {
    let schema = tempfile::tempdir().unwrap();
    let broken = "CREATE TABLE a (id int);\nCREATE VIEW v AS SELECT nope FROM a;\n";
    write_schema(schema.path(), &[("a.sql", broken)]);
    let dev = dev_url().await;
    let missing = cluster().await.connection_string("no_such_database_here");
    let diff = |url: &str, wait: &str| {
        let mut cmd = strata();
        cmd.args(["diff", "--read-lock-wait", wait, "--schema"])
            .arg(schema.path())
            .args(["--database-url", url, "--dev-url", &dev])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        cmd
    };
    let output = diff(&missing, "5s").output().unwrap();
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("a.sql:2"), "{stderr}");
    assert!(!stderr.contains("no_such_database_here"), "{stderr}");

    // A read that waits for a lock without limit does not hold back the schema's error.
    let db = fresh_db().await;
    let holder = db.url().connect().await.unwrap();
    holder
        .batch_execute("CREATE TABLE t (id int PRIMARY KEY, n int DEFAULT 1 CHECK (n > 0))")
        .await
        .unwrap();
    // (its own batch: a BEGIN in the same batch would take the CREATE into the transaction)
    holder
        .batch_execute("BEGIN; LOCK TABLE t IN ACCESS EXCLUSIVE MODE")
        .await
        .unwrap();
    let mut child = diff(&db_url(&db).await, "0").spawn().unwrap();
    let started = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > std::time::Duration::from_secs(60) {
            child.kill().unwrap();
            panic!("the schema's error waited for the database's lock");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let output = child.wait_with_output().unwrap();
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("a.sql:2"), "{stderr}");
    holder.batch_execute("ROLLBACK").await.unwrap();

    write_schema(schema.path(), &[("a.sql", "CREATE TABLE a (id int);\n")]);
    let output = diff(&missing, "5s").output().unwrap();
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("no_such_database_here"), "{stderr}");
    assert!(output.stdout.is_empty());
}

#[tokio::test]
async fn diff_exit_code_json_and_a_database_at_the_desired_state() {
    let sovd = std::fs::read_to_string(repo_root().join("schema/10_users.sql")).unwrap();
    let types = std::fs::read_to_string(repo_root().join("schema/00_types.sql")).unwrap();
    let functions = std::fs::read_to_string(repo_root().join("schema/01_functions.sql")).unwrap();
    let schema = tempfile::tempdir().unwrap();
    write_schema(
        schema.path(),
        &[("a.sql", &types), ("b.sql", &functions), ("c.sql", &sovd)],
    );
    let db = fresh_db().await;
    load_sql(db.url(), "schema", &format!("{types}\n{functions}\n{sovd}")).await;
    let url = db_url(&db).await;

    let (output, pid) = run(strata()
        .args(["diff", "--exit-code", "--schema"])
        .arg(schema.path())
        .args(["--database-url", &url, "--dev-url", &dev_url().await]));
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert!(output.stdout.is_empty());
    assert!(text(&output.stderr).contains("no changes"));
    // The shadow is dropped while the plan is made, and gone before the process ends.
    assert_eq!(leftover_shadows(pid).await, Vec::<String>::new());

    let client = db.url().connect().await.unwrap();
    client
        .batch_execute("ALTER TABLE users DROP COLUMN display_name")
        .await
        .unwrap();
    let output = strata()
        .args(["diff", "--exit-code", "--format", "json", "--schema"])
        .arg(schema.path())
        .args(["--database-url", &url, "--dev-url", &dev_url().await])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let steps = json["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 1, "{json:#}");
    assert_eq!(
        steps[0]["sql"],
        "ALTER TABLE public.users ADD COLUMN display_name text NOT NULL;"
    );
    // No per-step way back: the revert plan is planned as a whole.
    assert!(steps[0].get("reverse").is_none(), "{json:#}");
    // The table might have rows: the step fails on them, and says so.
    assert_eq!(steps[0]["hazards"], serde_json::json!(["may-fail"]));
    assert_eq!(
        json["revert"][0]["hazards"],
        serde_json::json!(["data-loss", "irreversible"])
    );
    // diff writes nothing: the database still lacks the column.
    let catalog = introspect(db.url()).await;
    assert!(
        !catalog.model.tables[&strata::sql::QualName::new("public", "users")]
            .columns
            .contains_key("display_name")
    );
    db.drop_now().await.unwrap();
}

#[tokio::test]
async fn statements_that_are_not_desired_state_are_reported_per_line_before_any_database() {
    let schema = tempfile::tempdir().unwrap();
    write_schema(
        schema.path(),
        &[
            (
                "a.sql",
                "CREATE TABLE vehicles (id int PRIMARY KEY);\nDROP TABLE legacy;\n",
            ),
            (
                "b.sql",
                "-- duplicate\n\nCREATE TABLE public.vehicles (id int);\nINSERT INTO vehicles VALUES (1);\n",
            ),
        ],
    );
    // A dev URL that cannot be reached: the problems must be found before connecting.
    let (output, _) = run(strata()
        .args(["diff", "--schema"])
        .arg(schema.path())
        .args(["--dev-url", "postgres://nobody@127.0.0.1:1/none"]));
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    let a = schema.path().join("a.sql").display().to_string();
    let b = schema.path().join("b.sql").display().to_string();
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(
        lines[0], "error: 3 problems in the schema files:",
        "{stderr}"
    );
    assert!(
        lines[1].starts_with(&format!("{a}:2:1: DROP has no place")),
        "{stderr}"
    );
    assert_eq!(
        lines[2],
        format!("{b}:3:1: duplicate table public.vehicles: already created at {a}:1:1")
    );
    assert!(
        lines[3].starts_with(&format!("{b}:4:1: INSERT changes data")),
        "{stderr}"
    );
    assert_eq!(lines.len(), 4, "{stderr}");
    assert!(output.stdout.is_empty());
}

#[tokio::test]
async fn postgres_errors_map_to_file_line_and_nothing_is_created_anywhere() {
    let schema = tempfile::tempdir().unwrap();
    write_schema(
        schema.path(),
        &[
            (
                "a.sql",
                "CREATE TABLE vehicles (\n  id int PRIMARY KEY,\n  vin no_such_type\n);\n",
            ),
            (
                "b.sql",
                "CREATE TABLE fleets (id int PRIMARY KEY);\nCREATE INDEX fleets_idx ON fleets (id,);\n",
            ),
        ],
    );
    let target = fresh_db().await;
    load_sql(target.url(), "t.sql", "CREATE TABLE existing (id int);").await;
    let before = introspect(target.url()).await.model.fingerprint();
    let (output, pid) = run(strata()
        .args(["diff", "--schema"])
        .arg(schema.path())
        .args([
            "--database-url",
            &db_url(&target).await,
            "--dev-url",
            &dev_url().await,
        ]));
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    let a = schema.path().join("a.sql").display().to_string();
    let b = schema.path().join("b.sql").display().to_string();
    // sqlparser cannot parse the second statement of b.sql either: a warning, then the
    // server's verdict.
    assert!(
        stderr.starts_with(&format!("warning: {b}:2:1: sqlparser cannot parse")),
        "{stderr}"
    );
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| !l.starts_with("warning: "))
        .collect();
    assert_eq!(
        lines[0], "error: 2 problems in the schema files:",
        "{stderr}"
    );
    assert!(
        lines[1].starts_with(&format!("{a}:3:7: type \"no_such_type\" does not exist")),
        "{stderr}"
    );
    assert!(
        lines[2].starts_with(&format!("{b}:2:39: syntax error at or near \")\"")),
        "{stderr}"
    );
    assert_eq!(lines.len(), 3, "{stderr}");
    assert!(output.stdout.is_empty());
    // Nothing anywhere: no shadow database left, the target unchanged.
    assert_eq!(leftover_shadows(pid).await, Vec::<String>::new());
    assert_eq!(introspect(target.url()).await.model.fingerprint(), before);
    target.drop_now().await.unwrap();
}

#[tokio::test]
async fn a_password_never_appears_in_output() {
    let secret = crate::harness::password().await;
    let secret = secret.as_str();
    let schema = repo_root().join("schema");
    let host = crate::harness::socket_host().await;
    let good = format!("postgresql://postgres:{secret}@localhost/postgres?host={host}");
    let cases = [
        // success
        vec!["diff".to_owned(), "--database-url".into(), good.clone()],
        // a database that does not exist
        vec![
            "diff".into(),
            "--database-url".into(),
            good.replace("/postgres?", "/no_such_db?"),
        ],
        // a host that is not there
        vec![
            "diff".into(),
            "--database-url".into(),
            format!("postgres://app:{secret}@127.0.0.1:1/db"),
        ],
        // a URL that does not parse
        vec![
            "diff".into(),
            "--database-url".into(),
            format!("postgres://app:{secret}@host:port/db"),
        ],
        vec![
            "inspect".into(),
            "--database-url".into(),
            format!("postgres://app:{secret}@127.0.0.1:1/db"),
        ],
    ];
    for args in cases {
        let mut cmd = strata();
        cmd.args(&args);
        if args[0] == "diff" {
            cmd.arg("--schema")
                .arg(&schema)
                .args(["--dev-url", &dev_url().await]);
        }
        let output = cmd.output().unwrap();
        let all = format!("{}{}", text(&output.stdout), text(&output.stderr));
        assert!(
            !all.contains(secret),
            "password printed for {:?}:\n{all}",
            args[0]
        );
        assert!(
            all.contains("***")
                || output.status.success()
                || all.contains("not a valid database URL"),
            "{all}"
        );
    }
    // Nor in --help, with the URL in the environment.
    let output = strata()
        .env("DATABASE_URL", &good)
        .args(["diff", "--help"])
        .output()
        .unwrap();
    assert!(!text(&output.stdout).contains(secret));
}

#[tokio::test]
async fn inspect_prints_sql_that_recreates_the_database() {
    let sql = std::fs::read_to_string(repo_root().join("tests/fixtures/every_kind.sql")).unwrap();
    let source = fresh_db().await;
    load_sql(source.url(), "every_kind.sql", &sql).await;
    let output = strata()
        .args(["inspect", "--database-url", &db_url(&source).await])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    // The command makes the dependencies into their set while it plans the steps; the
    // library's whole script, from a catalog read with them, is the same.
    let whole = strata::inspect::to_sql(&introspect(source.url()).await).unwrap();
    assert_eq!(text(&output.stdout), whole);
    let copy = fresh_db().await;
    load_sql(copy.url(), "inspect.sql", &text(&output.stdout)).await;
    assert_eq!(
        introspect(copy.url()).await.model.fingerprint(),
        introspect(source.url()).await.model.fingerprint()
    );
    source.drop_now().await.unwrap();
    copy.drop_now().await.unwrap();

    let missing = strata().arg("inspect").output().unwrap();
    assert_eq!(missing.status.code(), Some(1));
    assert!(text(&missing.stderr).contains("--database-url"));
}
