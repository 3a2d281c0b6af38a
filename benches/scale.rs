//! The scale benchmark: strata against `pg_dump` and a plain `psql -f` load, side by side
//! in one run, on generated schemas of thousands of tables. Prints medians and ratios
//! (docs/performance.md keeps the figures). The `psql` load, `pg_dump`, `strata inspect`
//! and the cold `strata diff` alternate, one of each per round, and their ratios are the
//! medians of the rounds' ratios: the machine's speed drifts over minutes.
//!
//!     cargo bench --bench scale                      # 2,000 and 5,000 tables, 5 runs each
//!     STRATA_BENCH_TABLES=500 STRATA_BENCH_RUNS=3 cargo bench --bench scale
//!
//! Needs the PostgreSQL server binaries (as the embedded default does), `psql`, `pg_dump`
//! of the same major, and `/usr/bin/time` (peak memory).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fmt::Write as _;
use std::process::Command;
use std::time::Instant;

use strata::db::embedded::Cluster;

/// The synthetic schema, one file per table: each table with an identity key, checks,
/// defaults, two indexes, a foreign key to the previous table and a trigger; a view on
/// every fifth table.
fn schema(tables: usize) -> Vec<(String, String)> {
    let mut files = vec![(
        "00000_functions.sql".to_owned(),
        "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
         NEW.updated_at := now(); RETURN NEW; END $$;\n"
            .to_owned(),
    )];
    for i in 0..tables {
        let mut sql = String::new();
        let fk = if i > 0 {
            format!(",\n    parent_id bigint REFERENCES t{} (id)", i - 1)
        } else {
            String::new()
        };
        writeln!(
            sql,
            "CREATE TABLE t{i} (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL CHECK (length(name) < 200),
    code varchar(32) NOT NULL DEFAULT 'x{i}',
    amount numeric(12, 2) DEFAULT 0 CHECK (amount >= 0),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz{fk}
);
CREATE INDEX t{i}_name_idx ON t{i} (name);
CREATE UNIQUE INDEX t{i}_code_idx ON t{i} (code, created_at);
CREATE TRIGGER t{i}_touch BEFORE UPDATE ON t{i} FOR EACH ROW EXECUTE FUNCTION touch();"
        )
        .unwrap();
        if i % 5 == 0 {
            writeln!(
                sql,
                "CREATE VIEW v{i} AS SELECT id, name, amount FROM t{i} WHERE amount > 0;"
            )
            .unwrap();
        }
        files.push((table_file(i), sql));
    }
    files
}

fn table_file(i: usize) -> String {
    format!("t{:05}.sql", i + 1)
}

/// Wall time (s) and peak memory (MiB) of one command, through `/usr/bin/time`.
fn measure(cmd: &mut Command) -> (f64, f64) {
    let report = tempfile::NamedTempFile::new().unwrap();
    let program = cmd.get_program().to_owned();
    let args: Vec<_> = cmd.get_args().map(ToOwned::to_owned).collect();
    let envs: Vec<_> = cmd
        .get_envs()
        .map(|(k, v)| (k.to_owned(), v.map(ToOwned::to_owned)))
        .collect();
    let mut timed = Command::new("/usr/bin/time");
    timed
        .arg("-o")
        .arg(report.path())
        .args(["-f", "%M"])
        .arg(program)
        .args(args)
        .stdout(std::process::Stdio::null());
    if let Some(dir) = cmd.get_current_dir() {
        timed.current_dir(dir);
    }
    for (k, v) in envs {
        match v {
            Some(v) => timed.env(k, v),
            None => timed.env_remove(k),
        };
    }
    let started = Instant::now();
    let out = timed.output().unwrap();
    let elapsed = started.elapsed().as_secs_f64();
    assert!(
        out.status.success(),
        "{:?} failed: {}",
        timed,
        String::from_utf8_lossy(&out.stderr)
    );
    let kib: f64 = std::fs::read_to_string(report.path())
        .unwrap()
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or(0.0);
    (elapsed, kib / 1024.0)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

struct Row {
    what: String,
    time: f64,
    rss: f64,
    /// To `pg_dump` and to the `psql` load, for the works alternated with them (medians
    /// of each round's ratios); the others are compared with their medians.
    ratios: Option<(f64, f64)>,
}

fn runs(n: usize, mut once: impl FnMut() -> (f64, f64)) -> (f64, f64) {
    let (times, rss): (Vec<f64>, Vec<f64>) = (0..n).map(|_| once()).unzip();
    (median(times), median(rss))
}

fn main() {
    let sizes: Vec<usize> = std::env::var("STRATA_BENCH_TABLES")
        .ok()
        .map(|v| v.split(',').filter_map(|s| s.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![2000, 5000]);
    let n: usize = std::env::var("STRATA_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let strata = env!("CARGO_BIN_EXE_strata");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let cluster = runtime.block_on(Cluster::start()).unwrap();
    let host = cluster.socket_dir().display().to_string();
    let admin = cluster.url("postgres");
    let sql_admin = |sql: &str| {
        runtime.block_on(async {
            // One statement at a time (DROP/CREATE DATABASE refuse a transaction block).
            let client = admin.connect().await.unwrap();
            for statement in sql.split(';').map(str::trim).filter(|s| !s.is_empty()) {
                client.batch_execute(statement).await.unwrap();
            }
        })
    };
    let psql = |db: &str| {
        let mut cmd = Command::new("psql");
        cmd.args([
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            &host,
            "-p",
            "5432",
        ])
        .args(["-U", "postgres", "-d", db])
        .env("PGPASSWORD", cluster.password());
        cmd
    };
    println!(
        "strata scale benchmark: PostgreSQL {}, {} run(s) per figure, medians",
        cluster.major(),
        n
    );
    for tables in sizes {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("schema")).unwrap();
        std::fs::create_dir_all(dir.path().join("plans")).unwrap();
        let files = schema(tables);
        for (name, sql) in &files {
            std::fs::write(dir.path().join("schema").join(name), sql).unwrap();
        }
        // The same statements in one file, for psql.
        let file = dir.path().join("all.sql");
        std::fs::write(
            &file,
            files
                .iter()
                .map(|(_, sql)| sql.as_str())
                .collect::<String>(),
        )
        .unwrap();
        let mut rows = Vec::new();

        // The desired database, read by pg_dump and by strata inspect; the empty one the
        // cold diff starts from.
        sql_admin("DROP DATABASE IF EXISTS bench_desired; CREATE DATABASE bench_desired");
        let status = psql("bench_desired").arg("-f").arg(&file).status().unwrap();
        assert!(status.success());
        sql_admin("DROP DATABASE IF EXISTS bench_empty; CREATE DATABASE bench_empty");
        let desired_url = cluster.connection_string("bench_desired");
        let empty_url = cluster.connection_string("bench_empty");
        let dev_url = cluster.connection_string("postgres");

        // The four works the ratios compare, alternated: each round runs each once, so a
        // slower minute of the machine slows all four alike, and each ratio is the median
        // of the rounds' ratios.
        let mut rounds: [Vec<(f64, f64)>; 4] = Default::default();
        for _ in 0..n {
            // A plain psql load of the same file into an empty database.
            sql_admin("DROP DATABASE IF EXISTS bench_load; CREATE DATABASE bench_load");
            rounds[0].push(measure(psql("bench_load").arg("-f").arg(&file)));
            let mut dump = Command::new("pg_dump");
            dump.args(["--schema-only", "-h", &host, "-p", "5432", "-U", "postgres"])
                .arg("bench_desired")
                .env("PGPASSWORD", cluster.password());
            rounds[1].push(measure(&mut dump));
            rounds[2].push(measure(
                Command::new(strata)
                    .args(["inspect", "--database-url", &desired_url])
                    .current_dir(dir.path()),
            ));
            // strata diff from an empty database, cold: the desired state loaded into a
            // shadow on the dev server, both sides read, the plan made.
            rounds[3].push(measure(
                Command::new(strata)
                    .args(["diff", "--database-url", &empty_url, "--dev-url", &dev_url])
                    .current_dir(dir.path()),
            ));
        }
        let ratio = |work: usize, to: usize| {
            median(
                rounds[work]
                    .iter()
                    .zip(&rounds[to])
                    .map(|(a, b)| a.0 / b.0)
                    .collect(),
            )
        };
        for (work, what) in [
            "psql -f of the schema into an empty database",
            "pg_dump --schema-only",
            "strata inspect",
            "strata diff from an empty database (cold, --dev-url)",
        ]
        .into_iter()
        .enumerate()
        {
            rows.push(Row {
                what: what.into(),
                time: median(rounds[work].iter().map(|r| r.0).collect()),
                rss: median(rounds[work].iter().map(|r| r.1).collect()),
                ratios: Some((ratio(work, 1), ratio(work, 0))),
            });
        }
        sql_admin(
            "DROP DATABASE bench_load; DROP DATABASE bench_desired; DROP DATABASE bench_empty",
        );

        // The warm path: strata plan on the embedded default with a cache of its own. The
        // first plan (cold) writes the plan of the whole schema; the next one replays it
        // and fills the cache; then the measured runs.
        let cache = tempfile::tempdir().unwrap();
        let plan = |args: &[&str]| {
            let mut cmd = Command::new(strata);
            cmd.arg("plan")
                .args(args)
                .current_dir(dir.path())
                .env("STRATA_CACHE_DIR", cache.path())
                .env_remove("STRATA_DEV_URL");
            cmd
        };
        let (time, rss) = measure(&mut plan(&["-m", "initial"]));
        rows.push(Row {
            what: "strata plan, first plan (cold, embedded server; 1 run)".into(),
            time,
            rss,
            ratios: None,
        });
        measure(&mut plan(&[]));
        let (time, rss) = runs(n, || measure(&mut plan(&[])));
        rows.push(Row {
            what: "strata plan, schema/ unchanged (warm)".into(),
            time,
            rss,
            ratios: None,
        });
        // One table's file edited: a new column, another one each run (each run is then
        // an edit the cache has not seen).
        let edited = dir.path().join("schema").join(table_file(tables / 2));
        let original = std::fs::read_to_string(&edited).unwrap();
        let mut run = 0;
        let (time, rss) = runs(n, || {
            run += 1;
            std::fs::write(
                &edited,
                original.replacen(
                    "updated_at timestamptz",
                    &format!("updated_at timestamptz,\n    extra_{run} integer"),
                    1,
                ),
            )
            .unwrap();
            measure(&mut plan(&["--dry-run"]))
        });
        std::fs::write(&edited, &original).unwrap();
        rows.push(Row {
            what: "strata plan --dry-run after editing one table's file (warm)".into(),
            time,
            rss,
            ratios: None,
        });

        let (load, dump) = (rows[0].time, rows[1].time);
        println!(
            "\n{tables} tables ({} statements in {} files)",
            tables * 4 + tables.div_ceil(5) + 1,
            files.len()
        );
        println!("| work | time | peak RSS | vs pg_dump | vs psql load |");
        println!("|---|---|---|---|---|");
        for row in &rows {
            let (to_dump, to_load) = row.ratios.unwrap_or((row.time / dump, row.time / load));
            println!(
                "| {} | {:.2} s | {:.0} MiB | {:.2}x | {:.2}x |",
                row.what, row.time, row.rss, to_dump, to_load
            );
        }
    }
    drop(cluster);
}
