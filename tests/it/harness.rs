//! The shared test cluster and per-test databases.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use strata::db::DbUrl;
use strata::db::embedded::Cluster;
use strata::db::shadow::{DevServer, ShadowDb};
use strata::model::Catalog;
use strata::source::{Schema, SourceFile};
use tokio::sync::OnceCell;

static CLUSTER: OnceCell<Arc<Cluster>> = OnceCell::const_new();

/// The cluster every test of this run shares, started on first use. Its watchdog stops and
/// deletes it when the test process exits.
pub async fn cluster() -> Arc<Cluster> {
    CLUSTER
        .get_or_init(|| async {
            Arc::new(
                Cluster::start()
                    .await
                    .unwrap_or_else(|e| panic!("cannot start the test cluster: {e}")),
            )
        })
        .await
        .clone()
}

/// A connection to the shared cluster's maintenance database, as its superuser.
pub async fn admin() -> tokio_postgres::Client {
    cluster().await.url("postgres").connect().await.unwrap()
}

/// The strata cache folder of this test run (`STRATA_CACHE_DIR` for the binary): shared by
/// the run's tests, deleted at its end, never the user's own cache.
pub fn cache_dir() -> &'static Path {
    static DIR: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().unwrap()).path()
}

/// The shared cluster's socket folder, for URLs (`?host=...`).
pub async fn socket_host() -> String {
    cluster().await.socket_dir().display().to_string()
}

/// The shared cluster's superuser password (random; it must never appear in output).
pub async fn password() -> String {
    cluster().await.password().to_owned()
}

/// The development server (shadow databases) for tests: the shared cluster.
pub async fn dev_server() -> DevServer {
    DevServer::embedded(cluster().await, Default::default())
}

/// A fresh empty database owned by the superuser (a target), dropped when the value is
/// dropped.
pub async fn fresh_db() -> ShadowDb {
    dev_server().await.create_target_database().await.unwrap()
}

/// A property test's settings for a test that loads databases: `cases` cases from a fixed
/// `seed`, so that CI runs the same ones every time (`PROPTEST_RNG_SEED=<n>` explores
/// others), a short shrink, and no regression files.
pub fn reproducible(cases: u32, seed: u64) -> proptest::test_runner::Config {
    let default = proptest::test_runner::Config::default();
    proptest::test_runner::Config {
        cases,
        max_shrink_iters: 16,
        failure_persistence: None,
        rng_seed: if std::env::var_os("PROPTEST_RNG_SEED").is_some() {
            default.rng_seed
        } else {
            proptest::test_runner::RngSeed::Fixed(seed)
        },
        ..default
    }
}

pub fn schema_from_sql(name: &str, sql: &str) -> Schema {
    Schema::from_files(vec![SourceFile::new(name, sql)]).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Loads SQL into a database the way strata loads a desired state.
/// Makes sure the test cluster has these roles (NOLOGIN), as an operator creates them before
/// a plan that grants to them runs.
pub async fn ensure_roles(roles: &[&str]) {
    let roles: Vec<String> = roles.iter().map(|r| (*r).to_owned()).collect();
    dev_server().await.ensure_roles(&roles).await.unwrap();
}

pub async fn load_sql(db: &DbUrl, name: &str, sql: &str) {
    let schema = schema_from_sql(name, sql);
    dev_server()
        .await
        .ensure_roles(&schema.roles())
        .await
        .unwrap();
    let client = db.connect().await.unwrap();
    strata::db::shadow::load(&client, &schema)
        .await
        .unwrap_or_else(|e| panic!("loading {name}: {e}"));
}

pub async fn introspect(db: &DbUrl) -> Catalog {
    let client = db.connect().await.unwrap();
    strata::catalog::introspect(&client)
        .await
        .unwrap_or_else(|e| panic!("introspecting {db}: {e}"))
}

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

/// What is left in `dir` once it is empty or 30 s have passed: an embedded cluster's
/// watchdog deletes its folder right after the strata process that started it has ended.
pub fn left_in(dir: &Path) -> Vec<PathBuf> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let left: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .collect();
        if left.is_empty() || std::time::Instant::now() > deadline {
            return left;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}
