//! A throwaway strata project for end-to-end tests with the real binary: schema/ and
//! plans/ in a temporary directory, a target database, and a password that must never be
//! printed.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use strata::planfile::{PlanFile, PlannedStep, load_dir};

use crate::harness::{cluster, fresh_db, introspect};

/// A throwaway project: schema/ and plans/ in a temporary directory, a target database.
pub struct Project {
    pub dir: tempfile::TempDir,
    pub db: strata::db::shadow::ShadowDb,
    pub url: String,
    pub dev: String,
    /// The database password, which no output may contain.
    pub secret: String,
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

impl Project {
    pub async fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("schema")).unwrap();
        let db = fresh_db().await;
        let host = crate::harness::socket_host().await;
        let secret = crate::harness::password().await;
        let url = format!(
            "postgresql://postgres:{secret}@localhost/{}?host={host}",
            db.name()
        );
        let dev = cluster().await.connection_string("postgres");
        Self {
            dir,
            db,
            url,
            dev,
            secret,
        }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn schema(&self, file: &str, sql: &str) {
        std::fs::write(self.path("schema").join(file), sql).unwrap();
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(assert_cmd::cargo::cargo_bin!("strata"));
        cmd.current_dir(self.dir.path())
            .env_remove("RUST_LOG")
            .env("STRATA_CACHE_DIR", crate::harness::cache_dir())
            .env("DATABASE_URL", &self.url)
            .env("STRATA_DEV_URL", &self.dev)
            .args(args);
        cmd
    }

    /// Runs strata; no output may contain the password.
    pub fn run(&self, args: &[&str]) -> Output {
        let output = self.command(args).output().unwrap();
        let all = format!("{}{}", text(&output.stdout), text(&output.stderr));
        assert!(
            !all.contains(&self.secret),
            "the password was printed by {args:?}:\n{all}"
        );
        output
    }

    /// Runs strata and requires an exit code.
    pub fn expect(&self, code: i32, args: &[&str]) -> String {
        let output = self.run(args);
        let all = format!("{}{}", text(&output.stdout), text(&output.stderr));
        assert_eq!(output.status.code(), Some(code), "strata {args:?}:\n{all}");
        all
    }

    pub fn plan(&self, message: &str) -> String {
        self.expect(0, &["plan", "-m", message])
    }

    pub fn plan_ids(&self) -> Vec<String> {
        let chain = load_dir(&self.path("plans")).unwrap();
        chain
            .linear()
            .unwrap()
            .iter()
            .map(|p| p.head.id.clone())
            .collect()
    }

    pub async fn fingerprint(&self) -> String {
        introspect(self.db.url()).await.model.fingerprint()
    }

    /// Runs SQL on the target database.
    pub async fn sql(&self, sql: &str) {
        let client = self.db.url().connect().await.unwrap();
        client
            .batch_execute(sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {}", strata::error::describe_pg_error(&e)));
    }

    /// Acknowledges hazards in a plan's review table.
    pub fn acknowledge(&self, id: &str, hazards: &[&str]) {
        let path = self.path("plans").join(format!("{id}.toml"));
        let file = std::fs::read_to_string(&path).unwrap();
        let list: Vec<String> = hazards.iter().map(|h| format!("\"{h}\"")).collect();
        std::fs::write(
            &path,
            file.replace(
                "acknowledged = []",
                &format!("acknowledged = [{}]", list.join(", ")),
            ),
        )
        .unwrap();
    }

    /// The newest plan's id.
    pub fn head(&self) -> String {
        self.plan_ids().pop().unwrap()
    }

    pub async fn query_one_i64(&self, sql: &str) -> i64 {
        let client = self.db.url().connect().await.unwrap();
        client.query_one(sql, &[]).await.unwrap().get(0)
    }

    pub async fn query_one_text(&self, sql: &str) -> String {
        let client = self.db.url().connect().await.unwrap();
        client.query_one(sql, &[]).await.unwrap().get(0)
    }
}

/// Rewrites a plan file's steps (as a test fixture: with a correct sum).
/// Rewrites a plan file's steps, as an attacker (or a test fixture) would: with a correct
/// sum. Hand-written steps the test marks `custom` are acknowledged in the review.
pub fn edit_steps(plans: &Path, id: &str, edit: impl FnOnce(&mut Vec<PlannedStep>)) {
    let chain = load_dir(plans).unwrap();
    let (path, plan) = &chain.plans[id];
    let mut head = plan.head.clone();
    edit(&mut head.steps);
    let mut text = PlanFile::render(&head);
    if head.steps.iter().any(|s| s.custom) {
        text = text.replace("acknowledged = []", "acknowledged = [\"custom-sql\"]");
    }
    std::fs::write(path, text).unwrap();
    let chain = load_dir(plans).unwrap();
    let order = chain.linear().unwrap();
    chain.write_sum(&order).unwrap();
}

pub fn sleep_step(seconds: u32, transactional: bool) -> PlannedStep {
    PlannedStep {
        summary: format!("wait {seconds}s"),
        transactional,
        lock_timeout: "5s".into(),
        statement_timeout: "0".into(),
        builds_index: None,
        sql: format!("SELECT pg_sleep({seconds});"),
        custom: true,
        hazards: vec![strata::plan::Hazard::CustomSql],
        // Waiting twice is harmless: a lone step must say so.
        rerunnable: !transactional,
        ..Default::default()
    }
}
