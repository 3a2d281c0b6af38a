//! The ledger: one row per applied plan in `strata.ledger`, and every apply and revert in
//! `strata.history`. Created on first use, under the migration lock.

use tokio_postgres::Client;

use crate::catalog::LEDGER_SCHEMA;
use crate::error::{Error, Result};
use crate::planfile::PlanFile;

const CREATE: &str = "
CREATE SCHEMA IF NOT EXISTS strata;
CREATE TABLE IF NOT EXISTS strata.ledger (
    plan_id            text PRIMARY KEY,
    position           integer NOT NULL UNIQUE,
    checksum           text NOT NULL,
    source_fingerprint text NOT NULL,
    target_fingerprint text NOT NULL,
    -- 'applying', 'applied' or 'reverting'; steps_done counts the steps of that action
    state              text NOT NULL CHECK (state IN ('applying', 'applied', 'reverting')),
    steps_done         integer NOT NULL DEFAULT 0,
    started_at         timestamptz NOT NULL DEFAULT clock_timestamp(),
    finished_at        timestamptz,
    duration_ms        bigint,
    applied_by         text NOT NULL DEFAULT current_user,
    applied_from       text,
    strata_version     text NOT NULL,
    baseline           boolean NOT NULL DEFAULT false,
    -- the schema model after the plan, to describe drift readably
    target_model       jsonb
);
CREATE TABLE IF NOT EXISTS strata.history (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    plan_id      text NOT NULL,
    action       text NOT NULL CHECK (action IN ('apply', 'revert', 'baseline', 'adopt')),
    started_at   timestamptz NOT NULL,
    finished_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    applied_by   text NOT NULL DEFAULT current_user,
    applied_from text,
    strata_version text NOT NULL
);
COMMENT ON SCHEMA strata IS 'strata migration ledger: the plans applied to this database';
";

/// A ledger row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    pub plan_id: String,
    pub position: i32,
    pub checksum: String,
    pub source_fingerprint: String,
    pub target_fingerprint: String,
    pub state: String,
    pub steps_done: i32,
    pub target_model: Option<serde_json::Value>,
    pub finished_at: Option<String>,
}

impl Row {
    pub fn is_applied(&self) -> bool {
        self.state == "applied"
    }
}

fn db(context: &str, e: &tokio_postgres::Error) -> Error {
    Error::database(format!("ledger: {context}"), e)
}

/// Creates the ledger if it does not exist.
pub async fn ensure(client: &Client) -> Result<()> {
    client
        .batch_execute(CREATE)
        .await
        .map_err(|e| db("creating strata.ledger", &e))
}

/// The ledger rows in chain order; empty if there is no ledger.
pub async fn read(client: &Client) -> Result<Vec<Row>> {
    let exists: bool = client
        .query_one(
            "SELECT to_regclass($1) IS NOT NULL",
            &[&format!("{LEDGER_SCHEMA}.ledger")],
        )
        .await
        .and_then(|r| r.try_get(0))
        .map_err(|e| db("looking for strata.ledger", &e))?;
    if !exists {
        return Ok(Vec::new());
    }
    let rows = client
        .query(
            "SELECT plan_id, position, checksum, source_fingerprint, target_fingerprint, state,
                    steps_done, target_model, finished_at::text
             FROM strata.ledger ORDER BY position",
            &[],
        )
        .await
        .map_err(|e| db("reading strata.ledger", &e))?;
    rows.iter()
        .map(|r| {
            Ok(Row {
                plan_id: r.try_get(0)?,
                position: r.try_get(1)?,
                checksum: r.try_get(2)?,
                source_fingerprint: r.try_get(3)?,
                target_fingerprint: r.try_get(4)?,
                state: r.try_get(5)?,
                steps_done: r.try_get(6)?,
                target_model: r.try_get(7)?,
                finished_at: r.try_get(8)?,
            })
        })
        .collect::<std::result::Result<Vec<_>, tokio_postgres::Error>>()
        .map_err(|e| db("reading strata.ledger", &e))
}

fn host() -> String {
    nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .unwrap_or_default()
}

/// Records that applying a plan started.
pub async fn start_apply(
    client: &Client,
    plan: &PlanFile,
    position: i32,
    baseline: bool,
) -> Result<()> {
    let state = if baseline { "applied" } else { "applying" };
    client
        .execute(
            "INSERT INTO strata.ledger (plan_id, position, checksum, source_fingerprint,
                 target_fingerprint, state, applied_from, strata_version, baseline)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            &[
                &plan.head.id,
                &position,
                &plan.checksum,
                &plan.head.source_fingerprint,
                &plan.head.target_fingerprint,
                &state,
                &host(),
                &env!("CARGO_PKG_VERSION"),
                &baseline,
            ],
        )
        .await
        .map(|_| ())
        .map_err(|e| db("recording the start of a plan", &e))
}

/// Records that reverting a plan started.
pub async fn start_revert(client: &Client, plan_id: &str) -> Result<()> {
    client
        .execute(
            "UPDATE strata.ledger SET state = 'reverting', steps_done = 0 WHERE plan_id = $1",
            &[&plan_id],
        )
        .await
        .map(|_| ())
        .map_err(|e| db("recording the start of a revert", &e))
}

pub async fn steps_done(client: &Client, plan_id: &str, done: i32) -> Result<()> {
    client
        .execute(
            "UPDATE strata.ledger SET steps_done = $2 WHERE plan_id = $1",
            &[&plan_id, &done],
        )
        .await
        .map(|_| ())
        .map_err(|e| db("recording progress", &e))
}

/// Records a finished apply: the model reached, the duration, a history row.
pub async fn finish_apply(
    client: &Client,
    plan_id: &str,
    model: &serde_json::Value,
    action: &str,
) -> Result<()> {
    client
        .execute(
            "UPDATE strata.ledger SET state = 'applied', finished_at = clock_timestamp(),
                 duration_ms = (extract(epoch FROM clock_timestamp() - started_at) * 1000)::bigint,
                 target_model = $2
             WHERE plan_id = $1",
            &[&plan_id, model],
        )
        .await
        .map_err(|e| db("recording a finished plan", &e))?;
    history(client, plan_id, action).await
}

/// Records a finished revert: the plan's row goes, a history row stays.
pub async fn finish_revert(client: &Client, plan_id: &str) -> Result<()> {
    history(client, plan_id, "revert").await?;
    client
        .execute("DELETE FROM strata.ledger WHERE plan_id = $1", &[&plan_id])
        .await
        .map(|_| ())
        .map_err(|e| db("recording a reverted plan", &e))
}

async fn history(client: &Client, plan_id: &str, action: &str) -> Result<()> {
    client
        .execute(
            "INSERT INTO strata.history (plan_id, action, started_at, applied_from, strata_version)
             SELECT plan_id, $2, started_at, $3, $4 FROM strata.ledger WHERE plan_id = $1",
            &[&plan_id, &action, &host(), &env!("CARGO_PKG_VERSION")],
        )
        .await
        .map(|_| ())
        .map_err(|e| db("recording history", &e))
}
