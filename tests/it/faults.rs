//! The fault harness: `strata apply` killed at random moments, its connection cut, the
//! server restarted under it, sixteen appliers at once, a transaction pooler in between,
//! sessions holding locks, statements an earlier run left running. Each rerun must finish
//! the job; the figures go to stderr and to `target/fault-figures.md`.
//!
//! Size: `STRATA_FAULT_TRIALS` kill trials (default 10) on a table of `STRATA_FAULT_ROWS`
//! rows (default 200,000). CI runs the default; the full size (docs/reliability.md) is
//! `STRATA_FAULT_TRIALS=100 STRATA_FAULT_ROWS=400000 cargo test --test it faults -- --nocapture`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::harness::{cluster, introspect};
use crate::project::{Project, edit_steps, sleep_step, text};
use strata::db::DbUrl;
use strata::planfile::load_dir;

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Writes a line of figures to stderr and to `target/fault-figures.md`.
fn figure(line: &str) {
    use std::io::Write as _;
    eprintln!("{line}");
    let path = crate::harness::repo_root().join("target/fault-figures.md");
    if let Ok(mut file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    {
        let _ = writeln!(file, "{line}");
    }
}

/// A small deterministic generator (xorshift), seeded from the clock and printed.
struct Rng(u64);

impl Rng {
    fn new() -> Self {
        let seed = std::env::var("STRATA_FAULT_SEED")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(1, |d| d.as_nanos() as u64)
                    | 1
            });
        figure(&format!(
            "(seed {seed}: STRATA_FAULT_SEED={seed} repeats these moments)"
        ));
        Self(seed)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

const V1: &str = "CREATE TYPE reading_kind AS ENUM ('raw', 'calibrated');
CREATE TABLE fleets (id bigint PRIMARY KEY, name text NOT NULL);
CREATE TABLE readings (
    id bigint PRIMARY KEY,
    fleet_id bigint,
    vin text,
    taken_at timestamptz,
    value numeric,
    kind reading_kind NOT NULL DEFAULT 'raw'
);
";

/// Real work on the rows: two concurrent index builds, a foreign key added NOT VALID and
/// validated, NOT NULL through a validated check, an enum value added.
const V2: &str = "CREATE TYPE reading_kind AS ENUM ('raw', 'verified', 'calibrated');
CREATE TABLE fleets (id bigint PRIMARY KEY, name text NOT NULL);
CREATE TABLE readings (
    id bigint PRIMARY KEY,
    fleet_id bigint NOT NULL REFERENCES fleets (id),
    vin text NOT NULL,
    taken_at timestamptz,
    value numeric,
    kind reading_kind NOT NULL DEFAULT 'raw'
);
CREATE INDEX readings_vin_idx ON readings (vin);
CREATE INDEX readings_taken_at_idx ON readings (taken_at, fleet_id);
";

/// Acknowledges every hazard of the newest plan that needs it.
fn acknowledge_all(p: &Project) {
    let id = p.head();
    let chain = load_dir(&p.path("plans")).unwrap();
    let (_, plan) = &chain.plans[&id];
    let mut hazards: Vec<String> = plan
        .head
        .steps
        .iter()
        .flat_map(|s| s.hazards.iter())
        .filter(|h| h.id() != "non-transactional")
        .map(|h| h.id().to_owned())
        .collect();
    hazards.sort();
    hazards.dedup();
    let refs: Vec<&str> = hazards.iter().map(String::as_str).collect();
    p.acknowledge(&id, &refs);
}

/// A project whose database (and the databases `also` names) is at the first plan with
/// `rows` readings, and a pending second plan that works on them.
async fn workload(rows: u64, also: &[String]) -> Project {
    let p = Project::new().await;
    p.schema("readings.sql", V1);
    p.plan("readings");
    p.expect(0, &["apply"]);
    let fill = format!(
        "INSERT INTO fleets SELECT g, 'fleet ' || g FROM generate_series(1, 100) g;
         INSERT INTO readings (id, fleet_id, vin, taken_at, value)
         SELECT g, g % 100 + 1, 'VIN' || lpad((g % 50000)::text, 6, '0'),
                timestamptz '2026-01-01' + g * interval '1 second', g / 10.0
         FROM generate_series(1, {rows}) g;
         ANALYZE readings;"
    );
    p.sql(&fill).await;
    for url in also {
        let (code, out) = finish(spawn(&p, url, &["apply"]));
        assert_eq!(code, Some(0), "{out}");
        let db: DbUrl = url.parse().unwrap();
        db.connect()
            .await
            .unwrap()
            .batch_execute(&fill)
            .await
            .unwrap();
    }
    p.schema("readings.sql", V2);
    p.plan("constraints and indexes on readings");
    acknowledge_all(&p);
    p
}

/// A URL (as strata takes it) for another database of the shared cluster.
async fn url_for(p: &Project, dbname: &str) -> String {
    p.url.replacen(p.db.name(), dbname, 1)
}

/// A copy of the project's database (`CREATE DATABASE ... TEMPLATE`).
async fn copy_db(p: &Project, name: &str) -> DbUrl {
    let admin = crate::harness::admin().await;
    admin
        .batch_execute(&format!(
            "CREATE DATABASE \"{name}\" TEMPLATE \"{}\"",
            p.db.name()
        ))
        .await
        .unwrap();
    cluster().await.url(name)
}

async fn drop_db(name: &str) {
    let admin = crate::harness::admin().await;
    let _ = admin
        .batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
        .await;
}

/// What a finished apply must leave: the clean apply's schema, every row, no invalid index.
struct Outcome {
    fingerprint: String,
    rows: i64,
    invalid: i64,
}

async fn outcome(url: &DbUrl) -> Outcome {
    let client = url.connect().await.unwrap();
    let rows: i64 = client
        .query_one("SELECT count(*) FROM readings", &[])
        .await
        .unwrap()
        .get(0);
    let invalid: i64 = client
        .query_one("SELECT count(*) FROM pg_index WHERE NOT indisvalid", &[])
        .await
        .unwrap()
        .get(0);
    Outcome {
        fingerprint: introspect(url).await.model.fingerprint(),
        rows,
        invalid,
    }
}

fn spawn(p: &Project, url: &str, args: &[&str]) -> Child {
    p.command(args)
        .env("DATABASE_URL", url)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn finish(child: Child) -> (Option<i32>, String) {
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        format!("{}{}", text(&out.stdout), text(&out.stderr)),
    )
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

/// SIGKILL at uniform random moments of an apply that does real work on rows; the rerun
/// (started at once, as Kubernetes restarts a Job's pod) must finish with the schema of a
/// clean apply, every row, and no invalid index.
#[tokio::test]
async fn killed_at_random_moments_a_rerun_always_finishes() {
    let trials = env_number("STRATA_FAULT_TRIALS", 10);
    let rows = env_number("STRATA_FAULT_ROWS", 200_000);
    let p = workload(rows, &[]).await;
    let base = p.db.name().to_owned();

    // A clean apply, for its duration and its result.
    let clean_name = format!("{base}_clean");
    let clean_url = copy_db(&p, &clean_name).await;
    let started = Instant::now();
    let (code, out) = finish(spawn(&p, &url_for(&p, &clean_name).await, &["apply"]));
    let clean_time = started.elapsed();
    assert_eq!(code, Some(0), "{out}");
    let clean = outcome(&clean_url).await;
    assert_eq!(clean.rows, i64::try_from(rows).unwrap());
    drop_db(&clean_name).await;

    let mut rng = Rng::new();
    let (mut killed, mut finished, mut equal, mut lost, mut invalid, mut waited) =
        (0, 0, 0, 0i64, 0, 0);
    let mut rerun_times = Vec::new();
    let mut failures = Vec::new();
    for trial in 0..trials {
        let name = format!("{base}_kill{trial}");
        let url = copy_db(&p, &name).await;
        let text_url = url_for(&p, &name).await;
        let at = clean_time.mul_f64(rng.unit());
        let mut child = spawn(&p, &text_url, &["apply"]);
        tokio::time::sleep(at).await;
        if child.try_wait().unwrap().is_none() {
            killed += 1;
        }
        let _ = child.kill();
        let _ = child.wait();
        let rerun_started = Instant::now();
        let (code, out) = finish(spawn(&p, &text_url, &["apply"]));
        rerun_times.push(rerun_started.elapsed().as_secs_f64());
        if out.contains("earlier strata run left running") {
            waited += 1;
        }
        let status = p
            .command(&["status"])
            .env("DATABASE_URL", &text_url)
            .output()
            .unwrap();
        if code == Some(0) && status.status.code() == Some(0) {
            finished += 1;
        } else {
            failures.push(format!(
                "trial {trial} (killed at {at:?}): exit {code:?}, status {:?}\n{out}",
                status.status.code()
            ));
        }
        let got = outcome(&url).await;
        if got.fingerprint == clean.fingerprint {
            equal += 1;
        }
        lost += clean.rows - got.rows;
        if got.invalid > 0 {
            invalid += 1;
        }
        drop_db(&name).await;
    }
    drop(p);
    figure(&format!(
        "SIGKILL at random moments: {trials} trials on {rows} rows (clean apply {:.2}s): \
         {killed} killed mid-run, {finished} reruns finished (apply and status exit 0), \
         {equal} schemas equal to a clean apply, {lost} rows lost, {invalid} with an invalid \
         index, {waited} reruns waited for an earlier run's statement; median rerun {:.2}s",
        clean_time.as_secs_f64(),
        median(rerun_times)
    ));
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(
        trials < 3 || killed > 0,
        "no trial killed strata while it ran"
    );
    assert_eq!(finished, trials);
    assert_eq!(equal, trials);
    assert_eq!(lost, 0);
    assert_eq!(invalid, 0);
}

/// Waits until a statement starting with `prefix` is active on the database `url`.
async fn wait_for_statement(url: &DbUrl, prefix: &str) -> bool {
    let client = url.connect().await.unwrap();
    for _ in 0..1200 {
        let n: i64 = client
            .query_one(
                "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE $1 \
                 AND datname = current_database()",
                &[&format!("{prefix}%")],
            )
            .await
            .unwrap()
            .get(0);
        if n > 0 {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    false
}

/// How many statements strata work sessions run on the database (tagged `[strata-work]`).
pub const ACTIVE_STRATA_STATEMENTS: &str = "SELECT count(*) FROM pg_stat_activity \
     WHERE state = 'active' AND application_name LIKE '%[strata-work]' \
     AND datname = current_database()";

/// How long until no strata work session runs a statement on the database.
async fn until_no_strata_statement(url: &DbUrl) -> Duration {
    let client = url.connect().await.unwrap();
    let started = Instant::now();
    loop {
        let n: i64 = client
            .query_one(ACTIVE_STRATA_STATEMENTS, &[])
            .await
            .unwrap()
            .get(0);
        if n == 0 || started.elapsed() > Duration::from_secs(120) {
            return started.elapsed();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A TCP proxy to the shared cluster's socket that can cut every connection at once.
struct Proxy {
    port: u16,
    cut: tokio::sync::watch::Sender<u64>,
}

impl Proxy {
    /// On a thread and runtime of its own: the test's runtime is blocked while it waits for
    /// strata to exit.
    async fn start() -> Self {
        let socket = cluster().await.socket_dir().join(".s.PGSQL.5432");
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let (cut, watch) = tokio::sync::watch::channel(0u64);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        std::thread::spawn(move || {
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                while let Ok((mut client, _)) = listener.accept().await {
                    let socket = socket.clone();
                    let mut watch = watch.clone();
                    watch.mark_unchanged();
                    tokio::spawn(async move {
                        let Ok(mut server) = tokio::net::UnixStream::connect(&socket).await else {
                            return;
                        };
                        tokio::select! {
                            _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                            _ = watch.changed() => {}
                        }
                        // Dropping both ends closes them: the client sees its connection lost,
                        // the server a client gone.
                    });
                }
            })
        });
        Self { port, cut }
    }

    fn url(&self, p: &Project) -> String {
        format!(
            "postgresql://postgres:{}@127.0.0.1:{}/{}?sslmode=disable",
            p.secret,
            self.port,
            p.db.name()
        )
    }

    fn cut_all(&self) {
        self.cut.send_modify(|n| *n += 1);
    }
}

/// The connection cut in the middle of a concurrent index build: strata fails, the server
/// stops the orphaned statement within seconds (client_connection_check_interval and
/// keepalives), and a rerun finishes.
#[tokio::test]
async fn a_connection_cut_mid_step_then_a_rerun_finishes() {
    let p = workload(env_number("STRATA_FAULT_ROWS", 200_000), &[]).await;
    let proxy = Proxy::start().await;
    let via_proxy = proxy.url(&p);
    let child = spawn(&p, &via_proxy, &["apply"]);
    assert!(
        wait_for_statement(p.db.url(), "CREATE INDEX CONCURRENTLY").await,
        "no index build started"
    );
    proxy.cut_all();
    let (code, out) = finish(child);
    assert_eq!(code, Some(1), "{out}");
    let orphan = until_no_strata_statement(p.db.url()).await;
    let rerun = Instant::now();
    let (code, out) = finish(spawn(&p, &via_proxy, &["apply"]));
    assert_eq!(code, Some(0), "{out}");
    let rerun = rerun.elapsed();
    p.expect(0, &["status"]);
    let got = outcome(p.db.url()).await;
    assert_eq!(got.invalid, 0);
    figure(&format!(
        "connection cut during CREATE INDEX CONCURRENTLY: the orphaned statement stopped {:.1}s \
         after the cut; the rerun finished in {:.2}s; {} rows, no invalid index",
        orphan.as_secs_f64(),
        rerun.as_secs_f64(),
        got.rows
    ));
}

/// A server of the test's own (`pg_ctl`), to restart under strata.
struct OwnServer {
    dir: tempfile::TempDir,
    bindir: PathBuf,
}

/// As root, servers run as the `postgres` OS user: it must own their files.
fn give_to_postgres(path: &Path) {
    if nix::unistd::Uid::effective().is_root() {
        let pg = nix::unistd::User::from_name("postgres").unwrap().unwrap();
        std::os::unix::fs::chown(path, Some(pg.uid.as_raw()), Some(pg.gid.as_raw())).unwrap();
    }
}

fn as_postgres(program: &Path) -> Command {
    if nix::unistd::Uid::effective().is_root() {
        let mut cmd = Command::new("runuser");
        cmd.args(["-u", "postgres", "--"]).arg(program);
        cmd
    } else {
        Command::new(program)
    }
}

impl OwnServer {
    fn start() -> Self {
        let bindir = strata::db::embedded::find_bindir().unwrap();
        let dir = tempfile::tempdir().unwrap();
        give_to_postgres(dir.path());
        let data = dir.path().join("data");
        let status = as_postgres(&bindir.join("initdb"))
            .args(["-A", "trust", "-U", "postgres", "-D"])
            .arg(&data)
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "initdb failed");
        let server = Self { dir, bindir };
        let status = server
            .pg_ctl(&["start", "-w", "-o"])
            .arg(format!(
                "-k {} -c listen_addresses='' -p 5432",
                server.dir.path().display()
            ))
            .status()
            .unwrap();
        assert!(status.success(), "pg_ctl start failed");
        server
    }

    fn pg_ctl(&self, args: &[&str]) -> Command {
        let mut cmd = as_postgres(&self.bindir.join("pg_ctl"));
        cmd.arg("-D")
            .arg(self.dir.path().join("data"))
            .arg("-l")
            .arg(self.dir.path().join("log"))
            .args(args)
            .stdout(Stdio::null());
        cmd
    }

    fn url(&self, dbname: &str) -> String {
        format!(
            "postgresql://postgres@localhost/{dbname}?host={}",
            self.dir.path().display()
        )
    }
}

impl Drop for OwnServer {
    fn drop(&mut self) {
        let _ = self.pg_ctl(&["stop", "-m", "immediate", "-w"]).status();
    }
}

/// The server restarted (`pg_ctl restart -m immediate`: a crash and recovery) in the middle
/// of a plan: strata fails, and a rerun finishes with the clean apply's schema.
#[tokio::test]
async fn a_server_restarted_mid_plan_then_a_rerun_finishes() {
    let rows = env_number("STRATA_FAULT_ROWS", 200_000);
    let server = OwnServer::start();
    let own: DbUrl = server.url("postgres").parse().unwrap();
    let client = own.connect().await.unwrap();
    client.batch_execute("CREATE DATABASE app").await.unwrap();
    drop(client);
    let url = server.url("app");
    let app: DbUrl = url.parse().unwrap();
    let p = workload(rows, std::slice::from_ref(&url)).await;
    let clean = {
        p.expect(0, &["apply"]);
        outcome(p.db.url()).await
    };
    let child = spawn(&p, &url, &["apply"]);
    assert!(
        wait_for_statement(&app, "CREATE INDEX CONCURRENTLY").await,
        "no index build started"
    );
    let restarted = server
        .pg_ctl(&["restart", "-m", "immediate", "-w"])
        .status()
        .unwrap();
    assert!(restarted.success());
    let (code, out) = finish(child);
    assert_eq!(code, Some(1), "{out}");
    let rerun = Instant::now();
    let (code, out) = finish(spawn(&p, &url, &["apply"]));
    assert_eq!(code, Some(0), "{out}");
    let rerun = rerun.elapsed();
    let got = outcome(&app).await;
    assert_eq!(got.fingerprint, clean.fingerprint);
    assert_eq!(got.rows, clean.rows);
    assert_eq!(got.invalid, 0);
    let status = p
        .command(&["status"])
        .env("DATABASE_URL", &url)
        .output()
        .unwrap();
    assert_eq!(status.status.code(), Some(0), "{}", text(&status.stdout));
    figure(&format!(
        "server restarted (pg_ctl restart -m immediate) during CREATE INDEX CONCURRENTLY: the \
         rerun finished in {:.2}s; schema equal to a clean apply, {} rows, no invalid index",
        rerun.as_secs_f64(),
        got.rows
    ));
}

/// Sixteen appliers started at once: each plan applied exactly once, all exit 0, no
/// deadlock.
#[tokio::test]
async fn sixteen_appliers_at_once_apply_each_plan_once() {
    let p = workload(20_000, &[]).await;
    p.schema(
        "depots.sql",
        "CREATE TABLE depots (id int PRIMARY KEY, fleet_id bigint REFERENCES fleets (id));
         CREATE INDEX depots_fleet_idx ON depots (fleet_id);",
    );
    p.plan("depots");
    let started = Instant::now();
    let children: Vec<Child> = (0..16).map(|_| spawn(&p, &p.url, &["apply"])).collect();
    let mut codes = Vec::new();
    for child in children {
        let (code, out) = finish(child);
        assert!(!out.contains("deadlock"), "{out}");
        assert_eq!(code, Some(0), "{out}");
        codes.push(code);
    }
    let elapsed = started.elapsed();
    assert_eq!(
        p.query_one_i64("SELECT count(*) FROM strata.ledger WHERE state = 'applied'")
            .await,
        3
    );
    assert_eq!(
        p.query_one_i64(
            "SELECT max(n) FROM (SELECT count(*) AS n FROM strata.history WHERE action = 'apply' \
             GROUP BY plan_id) c"
        )
        .await,
        1
    );
    p.expect(0, &["status"]);
    figure(&format!(
        "16 appliers at once (2 pending plans): all 16 exited 0, each plan applied once, no \
         deadlock, {:.2}s in all",
        elapsed.as_secs_f64()
    ));
}

/// PgBouncer (the Debian package) in transaction pooling mode, started by the test.
struct Bouncer {
    _dir: tempfile::TempDir,
    child: Child,
    port: u16,
    program: PathBuf,
}

impl Bouncer {
    async fn start() -> Self {
        let program = ["/usr/sbin/pgbouncer", "/usr/bin/pgbouncer"]
            .into_iter()
            .map(PathBuf::from)
            .find(|p| p.exists())
            .expect("pgbouncer is not installed: apt-get install pgbouncer (.ci/run installs it)");
        let dir = tempfile::tempdir().unwrap();
        give_to_postgres(dir.path());
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let cluster = cluster().await;
        std::fs::write(dir.path().join("users.txt"), "\"postgres\" \"\"\n").unwrap();
        std::fs::write(
            dir.path().join("pgbouncer.ini"),
            format!(
                "[databases]\n* = host={} port=5432 user=postgres password={}\n\
                 [pgbouncer]\nlisten_addr = 127.0.0.1\nlisten_port = {port}\n\
                 unix_socket_dir =\nauth_type = trust\nauth_file = {}\n\
                 pool_mode = transaction\ndefault_pool_size = 4\n\
                 logfile = {}\npidfile = {}\n",
                cluster.socket_dir().display(),
                cluster.password(),
                dir.path().join("users.txt").display(),
                dir.path().join("pgbouncer.log").display(),
                dir.path().join("pgbouncer.pid").display(),
            ),
        )
        .unwrap();
        for f in ["users.txt", "pgbouncer.ini"] {
            give_to_postgres(&dir.path().join(f));
        }
        // As root, pgbouncer itself switches to the postgres user (so that the child is
        // pgbouncer, which the drop kills).
        let mut command = Command::new(&program);
        let program_path = program.clone();
        if nix::unistd::Uid::effective().is_root() {
            command.args(["-u", "postgres"]);
        }
        let child = command
            .arg(dir.path().join("pgbouncer.ini"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        for _ in 0..200 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Self {
            _dir: dir,
            child,
            port,
            program: program_path,
        }
    }
}

impl Drop for Bouncer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Behind a transaction pooler, `apply` refuses before anything runs (its lock and lone
/// steps need a session of their own); `status` and `diff` work.
#[tokio::test]
async fn a_transaction_pooler_is_refused_by_apply_and_serves_status_and_diff() {
    let p = Project::new().await;
    p.schema(
        "a.sql",
        "CREATE TABLE vehicles (id bigint PRIMARY KEY, vin text);",
    );
    p.plan("vehicles");
    p.expect(0, &["apply"]);
    p.schema(
        "a.sql",
        "CREATE TABLE vehicles (id bigint PRIMARY KEY, vin text);\n\
         CREATE INDEX vehicles_vin_idx ON vehicles (vin);",
    );
    p.plan("vin index");
    let bouncer = Bouncer::start().await;
    let pooled = format!(
        "postgresql://postgres@127.0.0.1:{}/{}?sslmode=disable",
        bouncer.port,
        p.db.name()
    );
    let history = p.query_one_i64("SELECT count(*) FROM strata.history").await;
    for _ in 0..2 {
        let (code, out) = finish(spawn(&p, &pooled, &["apply"]));
        // A setup error (exit 1), not "needs attention".
        assert_eq!(code, Some(1), "{out}");
        assert!(out.contains("transaction pooler"), "{out}");
        assert!(out.contains("nothing was changed"), "{out}");
    }
    assert_eq!(
        p.query_one_i64("SELECT count(*) FROM strata.ledger").await,
        1,
        "the pending plan was not started"
    );
    assert_eq!(
        p.query_one_i64("SELECT count(*) FROM strata.history").await,
        history
    );
    assert_eq!(
        p.query_one_i64(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' \
             AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        )
        .await,
        0,
        "no migration lock was left with a pooled server connection"
    );
    for _ in 0..3 {
        let (code, out) = finish(spawn(&p, &pooled, &["status"]));
        assert_eq!(code, Some(2), "{out}");
        assert!(out.contains(&p.head()), "{out}");
        assert!(out.contains("pending"), "{out}");
        let (code, out) = finish(spawn(&p, &pooled, &["diff"]));
        assert_eq!(code, Some(0), "{out}");
        assert!(
            out.contains("CREATE INDEX CONCURRENTLY vehicles_vin_idx"),
            "{out}"
        );
    }
    // Directly, the same plan applies.
    p.expect(0, &["apply"]);
    let (code, out) = finish(spawn(&p, &pooled, &["status"]));
    assert_eq!(code, Some(0), "{out}");
    let version = Command::new(&bouncer.program)
        .arg("--version")
        .output()
        .map(|o| text(&o.stdout))
        .unwrap_or_default();
    figure(&format!(
        "{} in transaction pooling mode: apply refused before running anything (exit 2, no \
         ledger change, no lock left); status and diff work through it",
        version.lines().next().unwrap_or("PgBouncer")
    ));
}

/// Holds `ACCESS EXCLUSIVE` on a table in an open transaction until dropped.
async fn hold_table_lock(url: &DbUrl, table: &str) -> (tokio_postgres::Client, i32) {
    let client = url.connect().await.unwrap();
    client
        .batch_execute(&format!(
            "SET application_name = 'the blocker'; BEGIN; LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE"
        ))
        .await
        .unwrap();
    let pid: i32 = client
        .query_one("SELECT pg_backend_pid()", &[])
        .await
        .unwrap()
        .get(0);
    (client, pid)
}

/// Runs strata, failing the test if it does not end within `limit` (it would otherwise
/// wait for a lock the test never releases).
async fn within(p: &Project, args: &[&str], limit: Duration) -> (Option<i32>, String, Duration) {
    let started = Instant::now();
    let mut child = spawn(p, &p.url, args);
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > limit {
            let _ = child.kill();
            panic!("strata {args:?} still waits after {limit:?}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let elapsed = started.elapsed();
    let (code, out) = finish(child);
    (code, out, elapsed)
}

/// With a table locked by another session, `apply`, `status`, `diff` and `inspect` give up
/// after their lock wait, name the blocker, and change nothing.
#[tokio::test]
async fn reads_behind_a_locked_table_give_up_naming_the_blocker() {
    let p = Project::new().await;
    // The check makes the catalog read open the table (the server writes its expression
    // out with the table's columns); a table of plain columns and indexes is read without
    // its lock.
    let users = "CREATE TABLE users (id bigint PRIMARY KEY, name text CHECK (name <> ''));";
    p.schema("a.sql", users);
    p.plan("users");
    p.expect(0, &["apply"]);
    p.schema(
        "a.sql",
        &format!("{users}\nCREATE INDEX users_name_idx ON users (name);"),
    );
    p.plan("name index");
    let (blocker, pid) = hold_table_lock(p.db.url(), "users").await;
    let limit = Duration::from_secs(60);
    let mut figures = Vec::new();
    for args in [
        &["apply", "--lock-timeout", "1s", "--lock-retries", "0"][..],
        &["status", "--read-lock-wait", "1s"],
        &["diff", "--read-lock-wait", "1s"],
        &["inspect", "--read-lock-wait", "1s"],
    ] {
        let (code, out, elapsed) = within(&p, args, limit).await;
        assert_eq!(code, Some(1), "{args:?}: {out}");
        assert!(out.contains(&format!("pid {pid} ")), "{args:?}: {out}");
        assert!(out.contains("application the blocker"), "{args:?}: {out}");
        assert!(
            out.contains("holding ACCESS EXCLUSIVE on public.users"),
            "{args:?}: {out}"
        );
        figures.push(format!("{} {:.1}s", args[0], elapsed.as_secs_f64()));
    }
    drop(blocker);
    assert_eq!(
        p.query_one_i64("SELECT count(*) FROM strata.ledger").await,
        1,
        "nothing of the pending plan ran"
    );
    p.expect(0, &["apply"]);
    figure(&format!(
        "reads behind ACCESS EXCLUSIVE held by another session, with a 1s lock wait: gave up \
         naming the blocker after {}",
        figures.join(", ")
    ));
}

/// A session tagged as a strata work session (an earlier run's, as after a SIGKILL) that is
/// still running a statement: apply waits for it, saying which; past its lock wait it
/// cancels it, saying so, and goes on.
#[tokio::test]
async fn an_earlier_runs_statement_is_waited_for_then_cancelled() {
    let p = Project::new().await;
    p.schema("a.sql", "CREATE TABLE t (id int PRIMARY KEY);");
    p.plan("t");
    p.expect(0, &["apply"]);
    let orphan = |seconds: u32| {
        let url = p.db.url().clone();
        tokio::spawn(async move {
            let client = url.connect().await.unwrap();
            client
                .batch_execute("SET application_name = 'strata [strata-work]'")
                .await
                .unwrap();
            let pid: i32 = client
                .query_one("SELECT pg_backend_pid()", &[])
                .await
                .unwrap()
                .get(0);
            let result = client
                .batch_execute(&format!("SELECT pg_sleep({seconds})"))
                .await;
            (
                pid,
                result.map_err(|e| strata::error::describe_pg_error(&e)),
            )
        })
    };

    p.schema("b.sql", "CREATE TABLE u (id int PRIMARY KEY);");
    p.plan("u");
    let short = orphan(6);
    assert!(wait_for_statement(p.db.url(), "SELECT pg_sleep(6)").await);
    let out = p.expect(0, &["apply"]);
    let (pid, result) = short.await.unwrap();
    assert!(result.is_ok(), "the statement was left to finish");
    assert!(
        out.contains("for statements an earlier strata run left running: pid"),
        "{out}"
    );
    assert!(out.contains(&format!("pid {pid} ")), "{out}");
    assert!(
        out.contains("the earlier run's statements have ended"),
        "{out}"
    );

    p.schema("c.sql", "CREATE TABLE v (id int PRIMARY KEY);");
    p.plan("v");
    let long = orphan(120);
    assert!(wait_for_statement(p.db.url(), "SELECT pg_sleep(120)").await);
    let out = p.expect(0, &["apply", "--lock-wait", "1s"]);
    let (pid, result) = long.await.unwrap();
    assert!(out.contains(&format!("cancelling pid {pid} ")), "{out}");
    assert!(
        result
            .as_ref()
            .is_err_and(|e| e.contains("canceling statement")),
        "{result:?}"
    );
    p.expect(0, &["status"]);
}

/// An index another session is still building concurrently (invalid until it finishes) is
/// waited for, not dropped; once built, the step is skipped.
#[tokio::test]
async fn an_index_build_running_elsewhere_is_waited_for_not_dropped() {
    let p = Project::new().await;
    p.schema(
        "a.sql",
        "CREATE TABLE vehicles (id bigint PRIMARY KEY, vin text);",
    );
    p.plan("vehicles");
    p.expect(0, &["apply"]);
    p.sql("INSERT INTO vehicles SELECT g, 'V' || g FROM generate_series(1, 1000) g")
        .await;
    p.schema(
        "a.sql",
        "CREATE TABLE vehicles (id bigint PRIMARY KEY, vin text);\n\
         CREATE INDEX vehicles_vin_idx ON vehicles (vin);",
    );
    p.plan("vin index");
    let id = p.head();
    // A lone wait before the build; strata is killed during it, so the plan is half-applied.
    edit_steps(&p.path("plans"), &id, |steps| {
        steps.insert(0, sleep_step(3, false))
    });
    let mut child = spawn(&p, &p.url, &["apply"]);
    assert!(wait_for_statement(p.db.url(), "SELECT pg_sleep(3)").await);
    child.kill().unwrap();
    child.wait().unwrap();
    // Meanwhile someone builds the index by hand, held up by an old snapshot: it stays
    // invalid while the build waits.
    let snapshot = p.db.url().connect().await.unwrap();
    snapshot
        .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT count(*) FROM vehicles")
        .await
        .unwrap();
    let url = p.db.url().clone();
    let builder = tokio::spawn(async move {
        let client = url.connect().await.unwrap();
        client
            .batch_execute("SET application_name = 'a DBA'")
            .await
            .unwrap();
        client
            .batch_execute(
                "CREATE INDEX CONCURRENTLY vehicles_vin_idx ON public.vehicles USING btree (vin)",
            )
            .await
            .map_err(|e| strata::error::describe_pg_error(&e))
    });
    assert!(wait_for_statement(p.db.url(), "CREATE INDEX CONCURRENTLY").await);
    let rerun = spawn(&p, &p.url, &["apply"]);
    // The rerun redoes the wait, then finds the build running and waits for it.
    let client = p.db.url().connect().await.unwrap();
    for _ in 0..400 {
        let done: i64 = client
            .query_one(
                "SELECT count(*) FROM strata.ledger WHERE plan_id = $1 AND steps_done >= 1",
                &[&id],
            )
            .await
            .unwrap()
            .get(0);
        if done > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    snapshot.batch_execute("COMMIT").await.unwrap();
    builder.await.unwrap().unwrap();
    let (code, out) = finish(rerun);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("index public.vehicles_vin_idx is being built by pid"),
        "{out}"
    );
    assert!(out.contains("application a DBA"), "{out}");
    assert!(out.contains("already built, skipped"), "{out}");
    p.expect(0, &["status"]);
}
