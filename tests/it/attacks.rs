//! Schema files are untrusted input (CI checks every pull request's): the payloads that
//! once ran with superuser rights on the shadow server each fail with a clear error and
//! leave the server as it was (roles, databases, comments, files, other sessions), on a
//! `--dev-url` server and on the embedded one.

use std::path::Path;
use std::process::Command;

use strata::db::embedded::Cluster;

use crate::project::text;

/// A payload: a name, its schema file, and what the refusal says (any of these: the
/// server's wording differs between majors).
struct Payload {
    name: &'static str,
    sql: String,
    expected: &'static [&'static str],
}

fn payloads(marker: &Path) -> Vec<Payload> {
    let touch = format!("COPY (SELECT 1) TO PROGRAM ''touch {}''", marker.display());
    let via_matview = |name: &'static str, body: &str, expected: &'static [&'static str]| Payload {
        name,
        sql: format!(
            "CREATE FUNCTION payload() RETURNS int LANGUAGE plpgsql AS $$ BEGIN {body}; RETURN 1; END $$;\n\
             CREATE MATERIALIZED VIEW trigger_it AS SELECT payload() AS x;\n"
        ),
        expected,
    };
    vec![
        Payload {
            name: "DO block running COPY TO PROGRAM",
            sql: format!("DO $$ BEGIN EXECUTE '{touch}'; END $$;"),
            expected: &["DO has no place in a desired state"],
        },
        via_matview(
            "function running COPY TO PROGRAM, called by a materialized view",
            &format!("EXECUTE '{touch}'"),
            &["COPY to or from an external program"],
        ),
        Payload {
            name: "CREATE ROLE SUPERUSER inside DO",
            sql: "DO $$ BEGIN CREATE ROLE evil SUPERUSER LOGIN; END $$;".into(),
            expected: &["DO has no place in a desired state"],
        },
        via_matview(
            "CREATE ROLE SUPERUSER inside a function",
            "EXECUTE 'CREATE ROLE evil SUPERUSER LOGIN'",
            &["must be superuser to create superusers", "permission denied to create role"],
        ),
        Payload {
            name: "GRANT pg_execute_server_program",
            sql: "GRANT pg_execute_server_program TO PUBLIC;".into(),
            expected: &["membership) is cluster-wide"],
        },
        Payload {
            name: "REASSIGN OWNED",
            sql: "REASSIGN OWNED BY postgres TO CURRENT_USER;".into(),
            expected: &["REASSIGN has no place in a desired state"],
        },
        Payload {
            name: "COMMENT ON DATABASE",
            sql: "COMMENT ON DATABASE postgres IS 'pwned';".into(),
            expected: &["COMMENT ON DATABASE is outside the schema"],
        },
        via_matview(
            "COMMENT ON DATABASE inside a function",
            "EXECUTE 'COMMENT ON DATABASE postgres IS ''pwned'''",
            &["must be owner of database"],
        ),
        Payload {
            name: "dblink into another database",
            sql: "CREATE EXTENSION dblink;\nCREATE MATERIALIZED VIEW x AS SELECT * FROM dblink('dbname=postgres', 'CREATE ROLE evil') AS t(a text);".into(),
            expected: &["extension dblink is not allowed in the shadow database"],
        },
        via_matview(
            "pg_terminate_backend on other sessions",
            "PERFORM pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid()",
            &["terminate"],
        ),
        Payload {
            name: "pg_read_file in a materialized view",
            sql: "CREATE MATERIALIZED VIEW leak AS SELECT pg_read_file('/etc/hostname') AS x;".into(),
            expected: &["permission denied for function pg_read_file"],
        },
        via_matview(
            "pg_read_file copied into a comment",
            "EXECUTE format('COMMENT ON MATERIALIZED VIEW trigger_it IS %L', pg_read_file('/etc/hostname'))",
            &["permission denied for function pg_read_file"],
        ),
        Payload {
            name: "server-side lo_import",
            sql: "CREATE MATERIALIZED VIEW leak AS SELECT lo_import('/etc/hostname') AS x;".into(),
            expected: &["lo_import"],
        },
        Payload {
            name: "CREATE SUBSCRIPTION",
            sql: "CREATE SUBSCRIPTION s CONNECTION 'dbname=postgres' PUBLICATION p WITH (connect = false);".into(),
            expected: &["CREATE SUBSCRIPTION has no place in a desired state"],
        },
        Payload {
            name: "SET search_path",
            sql: "SET search_path = pg_catalog;\nCREATE TABLE t (id int);".into(),
            expected: &["SET changes how later statements are read"],
        },
        Payload {
            name: "SELECT with side effects",
            sql: "SELECT pg_terminate_backend(pid) FROM pg_stat_activity;".into(),
            expected: &["SELECT has no place in a desired state"],
        },
        Payload {
            name: "C-language function",
            sql: "CREATE FUNCTION f() RETURNS int LANGUAGE c AS '/lib/x86_64-linux-gnu/libc.so.6', 'getpid';".into(),
            expected: &["permission denied for language c"],
        },
        Payload {
            name: "ALTER SYSTEM",
            sql: "ALTER SYSTEM SET archive_command = 'touch /tmp/x';".into(),
            expected: &["ALTER SYSTEM is cluster-wide"],
        },
        Payload {
            name: "LOAD a library",
            sql: "LOAD 'auto_explain';".into(),
            expected: &["LOAD has no place in a desired state"],
        },
        Payload {
            name: "default privileges of another role",
            sql: "ALTER DEFAULT PRIVILEGES FOR ROLE postgres GRANT ALL ON TABLES TO PUBLIC;".into(),
            expected: &[
                "names privileged role(s) postgres",
                "must be member of role",
                "permission denied to change default privileges",
            ],
        },
        Payload {
            name: "CREATE TABLE AS a query",
            sql: "CREATE TABLE leak AS SELECT pg_read_file('/etc/hostname') AS x;".into(),
            expected: &["CREATE TABLE ... AS runs a query"],
        },
        Payload {
            name: "CREATE DATABASE",
            sql: "CREATE DATABASE evil;".into(),
            expected: &["CREATE DATABASE is cluster-wide"],
        },
        Payload {
            name: "an untrusted extension",
            sql: "CREATE EXTENSION file_fdw;".into(),
            expected: &["extension file_fdw is not allowed"],
        },
    ]
}

/// Where a payload that ran a program would leave a file: a folder any user (the server's
/// too) may write to.
fn marker() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o777),
    )
    .unwrap();
    let marker = dir.path().join("pwned");
    (dir, marker)
}

/// What a payload could have changed on a server, read as its superuser.
async fn snapshot(cluster: &Cluster) -> Vec<String> {
    let client = cluster.url("postgres").connect().await.unwrap();
    let mut out = Vec::new();
    for sql in [
        "SELECT format('role %s super=%s createrole=%s createdb=%s login=%s', rolname, rolsuper, \
         rolcreaterole, rolcreatedb, rolcanlogin) FROM pg_roles ORDER BY 1",
        "SELECT format('member %s of %s', m.rolname, r.rolname) FROM pg_auth_members a \
         JOIN pg_roles m ON m.oid = a.member JOIN pg_roles r ON r.oid = a.roleid ORDER BY 1",
        "SELECT 'database ' || datname FROM pg_database ORDER BY 1",
        "SELECT 'comment ' || description FROM pg_shdescription ORDER BY 1",
        "SELECT format('setting %s=%s', name, setting) FROM pg_file_settings ORDER BY 1",
    ] {
        for row in client.query(sql, &[]).await.unwrap() {
            out.push(row.get(0));
        }
    }
    out
}

fn strata() -> Command {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin!("strata"));
    cmd.env_remove("RUST_LOG")
        .env_remove("DATABASE_URL")
        .env_remove("STRATA_DEV_URL")
        .env("STRATA_CACHE_DIR", crate::harness::cache_dir());
    cmd
}

fn run_payloads(payloads: &[Payload], dev_url: Option<&str>, tmp: &Path) -> Vec<String> {
    let mut failures = Vec::new();
    for payload in payloads {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("schema")).unwrap();
        std::fs::create_dir(dir.path().join("plans")).unwrap();
        std::fs::write(dir.path().join("schema/payload.sql"), &payload.sql).unwrap();
        let mut cmd = strata();
        cmd.current_dir(dir.path())
            .env("TMPDIR", tmp)
            .args(["diff", "--schema", "schema"]);
        if let Some(url) = dev_url {
            cmd.args(["--dev-url", url]);
        }
        let output = cmd.output().unwrap();
        let all = format!("{}{}", text(&output.stdout), text(&output.stderr));
        if output.status.code() != Some(1) || !payload.expected.iter().any(|e| all.contains(e)) {
            failures.push(format!(
                "{} ({}): exit {:?}, expected {:?}:\n{all}",
                payload.name,
                if dev_url.is_some() {
                    "dev-url"
                } else {
                    "embedded"
                },
                output.status.code(),
                payload.expected
            ));
        }
    }
    failures
}

#[tokio::test]
async fn schema_file_payloads_fail_and_leave_the_dev_url_server_as_it_was() {
    // A server of its own: nothing else changes it while the payloads run.
    let server = Cluster::start().await.unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let (_marks, marker) = marker();
    let payloads = payloads(&marker);
    let before = snapshot(&server).await;
    // Another session, which a payload must not end.
    let victim = server.url("postgres").connect().await.unwrap();
    let dev_url = server.connection_string("postgres");
    let failures = run_payloads(&payloads, Some(&dev_url), tmp.path());
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(!marker.exists(), "a payload ran a program");
    victim
        .query_one("SELECT 1", &[])
        .await
        .expect("another session was ended");
    assert_eq!(snapshot(&server).await, before, "the server changed");
    let leftovers = std::fs::read_dir(tmp.path()).unwrap().count();
    assert_eq!(leftovers, 0, "files were left in the temporary folder");
}

#[tokio::test]
async fn schema_file_payloads_fail_on_the_embedded_server() {
    let tmp = tempfile::tempdir().unwrap();
    let (_marks, marker) = marker();
    let payloads = payloads(&marker);
    let failures = run_payloads(&payloads, None, tmp.path());
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(!marker.exists(), "a payload ran a program");
    // The embedded cluster's folder is gone too.
    let leftovers = crate::harness::left_in(tmp.path());
    assert!(leftovers.is_empty(), "left behind: {leftovers:?}");
}

/// The embedded server is private: its folder and socket are the invoking user's alone,
/// and it takes only password logins (the password lives in strata's memory). Another OS
/// user cannot connect, even knowing where the socket is; neither can one without the
/// password.
#[tokio::test]
async fn another_os_user_cannot_use_the_embedded_server() {
    use std::os::unix::fs::PermissionsExt as _;
    let server = Cluster::start().await.unwrap();
    let dir = server.socket_dir().to_path_buf();
    let mode = std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700, "the cluster folder is {mode:o}");
    let socket = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .find(|e| e.file_name().to_string_lossy().starts_with(".s.PGSQL."))
        .and_then(|e| e.path().to_str().map(str::to_owned))
        .filter(|p| !p.ends_with(".lock"))
        .expect("the server's socket");
    let mode = std::fs::metadata(&socket).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700, "the socket is {mode:o}");

    // As another OS user, with the password even: refused at the folder.
    let psql = ["/usr/bin/psql", "/usr/lib/postgresql/15/bin/psql"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .expect("psql is needed for this test (apt-get install postgresql-client)");
    let attempt = |user: Option<&str>, password: &str| {
        let mut cmd = match user {
            Some(user) => {
                let mut c = Command::new("setpriv");
                c.args([
                    &format!("--reuid={user}"),
                    "--regid=nogroup",
                    "--clear-groups",
                    psql,
                ]);
                c
            }
            None => Command::new(psql),
        };
        cmd.args(["-X", "-h"])
            .arg(&dir)
            .args(["-U", "postgres", "-d", "postgres", "-c", "SELECT 1"])
            .env("PGPASSWORD", password)
            .env("PGCONNECT_TIMEOUT", "5")
            .output()
            .unwrap()
    };
    if nix::unistd::Uid::effective().is_root() {
        let out = attempt(Some("nobody"), server.password());
        assert!(!out.status.success(), "nobody connected");
        let err = text(&out.stderr);
        assert!(err.contains("Permission denied"), "{err}");
    }
    // The invoking user without the password: refused by the server.
    let out = attempt(None, "not-the-password");
    assert!(!out.status.success(), "connected without the password");
    assert!(
        text(&out.stderr).contains("password authentication failed"),
        "{}",
        text(&out.stderr)
    );
    // With it, it works (so the refusals above are about who, not about psql).
    let out = attempt(None, server.password());
    assert!(out.status.success(), "{}", text(&out.stderr));
}
