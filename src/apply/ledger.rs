//! The ledger: one row per applied plan in `strata.ledger`, and every apply and revert in
//! `strata.history`. Created on first use, under the migration lock.

use tokio_postgres::Client;

use crate::error::{Error, Result};
use serde::Deserialize;

use crate::planfile::{PlanFile, PlanHead, Review};

const CREATE: &str = "
CREATE SCHEMA IF NOT EXISTS strata;
CREATE TABLE IF NOT EXISTS strata.ledger (
    plan_id            text PRIMARY KEY,
    position           integer NOT NULL UNIQUE,
    checksum           text NOT NULL,
    source_fingerprint text NOT NULL,
    target_fingerprint text NOT NULL,
    -- 'applying', 'applied', 'reverting' or 'undoing' (a half-applied plan being taken
    -- back to its source state); steps_done counts the steps of that action
    state              text NOT NULL,
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
    action       text NOT NULL,
    started_at   timestamptz NOT NULL,
    finished_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    applied_by   text NOT NULL DEFAULT current_user,
    applied_from text,
    strata_version text NOT NULL
);
-- Added after the first release (ledgers created before are brought up to date here).
-- The plan as applied (its steps and revert steps), so that the database can be reverted
-- when the plan file is gone; the source state while the plan runs, so that a half-applied
-- plan can be taken back.
ALTER TABLE strata.ledger ADD COLUMN IF NOT EXISTS plan jsonb;
ALTER TABLE strata.ledger ADD COLUMN IF NOT EXISTS source_catalog jsonb;
ALTER TABLE strata.ledger DROP CONSTRAINT IF EXISTS ledger_state_check;
ALTER TABLE strata.ledger ADD CONSTRAINT ledger_state_check
    CHECK (state IN ('applying', 'applied', 'reverting', 'undoing'));
-- Failed runs are recorded too (the pod that ran them may be gone): the step that failed
-- and the error; a failure before any plan started names no plan.
ALTER TABLE strata.history ADD COLUMN IF NOT EXISTS step integer;
ALTER TABLE strata.history ADD COLUMN IF NOT EXISTS error text;
ALTER TABLE strata.history ALTER COLUMN plan_id DROP NOT NULL;
ALTER TABLE strata.history DROP CONSTRAINT IF EXISTS history_action_check;
ALTER TABLE strata.history ADD CONSTRAINT history_action_check
    CHECK (action IN ('apply', 'revert', 'baseline', 'adopt', 'undo', 'abandon',
                      'apply-failed', 'revert-failed', 'apply-interrupted',
                      'revert-interrupted'));
-- Roles the schema declares that plans created or found (roles are cluster-wide: this
-- records that this database's schema declares them).
CREATE TABLE IF NOT EXISTS strata.roles (
    rolname    text PRIMARY KEY,
    recorded_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
COMMENT ON SCHEMA strata IS 'strata migration ledger: the plans applied to this database';
";

/// A ledger row.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
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
    /// The plan as it was applied (none for rows written by strata before 0.2).
    #[serde(default)]
    pub plan: Option<serde_json::Value>,
    /// The source state, while the plan is being applied.
    #[serde(default)]
    pub source_catalog: Option<serde_json::Value>,
}

impl Row {
    /// The plan's id, with its state unless it is applied: `p3` or `p3 (failed)`.
    pub fn label(&self) -> String {
        if self.is_applied() {
            self.plan_id.clone()
        } else {
            format!("{} ({})", self.plan_id, self.state)
        }
    }

    pub fn is_applied(&self) -> bool {
        self.state == "applied"
    }

    /// The plan as recorded when it was applied, as a plan file (without its review).
    pub fn plan_file(&self) -> Option<PlanFile> {
        let head: PlanHead = serde_json::from_value(self.plan.clone()?).ok()?;
        Some(PlanFile {
            head,
            review: Review::default(),
            checksum: self.checksum.clone(),
        })
    }
}

fn db(context: &str, e: &tokio_postgres::Error) -> Error {
    Error::database(format!("ledger: {context}"), e)
}

/// Creates the ledger if it does not exist, and brings an older one up to date.
/// The ledger's layout, recorded as the comment of the `strata` schema: when it is there,
/// the ledger is up to date and nothing is altered (altering takes locks that a `pg_dump`
/// running at the time would hold up).
const LAYOUT: &str = "strata ledger, layout 3";

pub async fn ensure(client: &Client) -> Result<()> {
    let current = crate::catalog::schema_comment(client, "strata")
        .await
        .ok()
        .flatten();
    if current.as_deref() == Some(LAYOUT) {
        return Ok(());
    }
    client
        .batch_execute(&format!(
            "{CREATE}\nCOMMENT ON SCHEMA strata IS {};",
            crate::sql::Literal(LAYOUT)
        ))
        .await
        .map_err(|e| db("creating strata.ledger", &e))
}

/// The ledger rows in chain order; empty if there is no ledger. Reads rows as JSON, so a
/// ledger written by an older strata (without the newer columns) reads too.
pub async fn read(client: &Client) -> Result<Vec<Row>> {
    // Unnamed statements (`query_typed`), as for every read `status` makes: they work
    // through a transaction pooler, where named ones collide with other clients'.
    let exists = client
        .query_typed("SELECT to_regclass('strata.ledger') IS NOT NULL", &[])
        .await
        .and_then(|rows| rows.first().map_or(Ok(false), |r| r.try_get(0)))
        .map_err(|e| db("looking for strata.ledger", &e))?;
    if !exists {
        return Ok(Vec::new());
    }
    let rows = client
        .query_typed(
            "SELECT to_jsonb(l) || jsonb_build_object('finished_at', l.finished_at::text)
             FROM strata.ledger l ORDER BY position",
            &[],
        )
        .await
        .map_err(|e| db("reading strata.ledger", &e))?;
    rows.iter()
        .map(|r| {
            let json: tokio_postgres::types::Json<serde_json::Value> =
                r.try_get(0).map_err(|e| db("reading strata.ledger", &e))?;
            serde_json::from_value(json.0).map_err(|e| Error::Database {
                context: "ledger: reading strata.ledger".into(),
                message: format!("a row does not have the expected columns: {e}"),
            })
        })
        .collect()
}

fn host() -> String {
    nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .unwrap_or_default()
}

/// Records that applying a plan started: the plan itself, and the state it starts from
/// (kept until it is applied, to take a half-applied plan back).
pub async fn start_apply(
    client: &Client,
    plan: &PlanFile,
    position: i32,
    baseline: bool,
    source: Option<&serde_json::Value>,
) -> Result<()> {
    let state = if baseline { "applied" } else { "applying" };
    let head = serde_json::to_value(&plan.head).unwrap_or_default();
    client
        .execute(
            "INSERT INTO strata.ledger (plan_id, position, checksum, source_fingerprint,
                 target_fingerprint, state, applied_from, strata_version, baseline, plan,
                 source_catalog)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
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
                &head,
                &source,
            ],
        )
        .await
        .map(|_| ())
        .map_err(|e| db("recording the start of a plan", &e))
}

/// Records that a half-applied plan is being taken back to its source state.
pub async fn start_undo(client: &Client, plan_id: &str) -> Result<()> {
    client
        .execute(
            "UPDATE strata.ledger SET state = 'undoing' WHERE plan_id = $1",
            &[&plan_id],
        )
        .await
        .map(|_| ())
        .map_err(|e| db("recording the start of an undo", &e))
}

/// Records a half-applied plan as taken back (by `revert`) or abandoned (the user restored
/// the state by hand): its row goes, a history row stays.
pub async fn forget(client: &Client, plan_id: &str, action: &str) -> Result<()> {
    history(client, plan_id, action).await?;
    client
        .execute("DELETE FROM strata.ledger WHERE plan_id = $1", &[&plan_id])
        .await
        .map(|_| ())
        .map_err(|e| db("recording an undone plan", &e))
}

/// Records an interrupted revert as abandoned: the plan is applied again (the user
/// restored its target state by hand).
pub async fn abandon_revert(client: &Client, plan_id: &str) -> Result<()> {
    history(client, plan_id, "abandon").await?;
    client
        .execute(
            "UPDATE strata.ledger SET state = 'applied' WHERE plan_id = $1",
            &[&plan_id],
        )
        .await
        .map(|_| ())
        .map_err(|e| db("recording an abandoned revert", &e))
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
                 target_model = $2, source_catalog = NULL
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

/// A failed run, as `strata.history` records it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct FailedRun {
    /// `apply-failed`, `revert-failed`, `apply-interrupted` or `revert-interrupted`.
    pub action: String,
    pub plan_id: Option<String>,
    /// The 1-based step that failed, if a step did.
    pub step: Option<i32>,
    pub error: String,
    pub started_at: String,
    pub finished_at: String,
    /// The host (pod) that ran it.
    pub host: Option<String>,
}

/// Records a failed apply or revert (`action`: `apply-failed` or `revert-failed`) in
/// `strata.history`, on a connection outside the failed transaction.
pub async fn record_failure(
    client: &Client,
    action: &str,
    plan_id: Option<&str>,
    step: Option<i32>,
    error: &str,
    started_at: &str,
) -> Result<()> {
    client
        .execute(
            "INSERT INTO strata.history (plan_id, action, started_at, applied_from, \
                                         strata_version, step, error)
             VALUES ($1, $2, $3::text::timestamptz, $4, $5, $6, $7)",
            &[
                &plan_id,
                &action,
                &started_at,
                &host(),
                &env!("CARGO_PKG_VERSION"),
                &step,
                &error,
            ],
        )
        .await
        .map(|_| ())
        .map_err(|e| db("recording a failed run", &e))
}

/// The last run recorded in `strata.history`, when it failed.
pub async fn last_failure(client: &Client) -> Result<Option<FailedRun>> {
    let has_errors = crate::catalog::has_column(client, "strata.history", "error").await?;
    if !has_errors {
        return Ok(None);
    }
    let rows = client
        .query_typed(
            "SELECT action, plan_id, step, error, started_at::text, finished_at::text,
                    applied_from
             FROM strata.history ORDER BY id DESC LIMIT 1",
            &[],
        )
        .await
        .map_err(|e| db("reading strata.history", &e))?;
    let Some(row) = rows.into_iter().next() else {
        return Ok(None);
    };
    let get = |e: tokio_postgres::Error| db("reading strata.history", &e);
    let action: String = row.try_get(0).map_err(get)?;
    if !action.ends_with("-failed") && !action.ends_with("-interrupted") {
        return Ok(None);
    }
    Ok(Some(FailedRun {
        action,
        plan_id: row.try_get(1).map_err(get)?,
        step: row.try_get(2).map_err(get)?,
        error: row
            .try_get::<_, Option<String>>(3)
            .map_err(get)?
            .unwrap_or_default(),
        started_at: row.try_get(4).map_err(get)?,
        finished_at: row.try_get(5).map_err(get)?,
        host: row.try_get(6).map_err(get)?,
    }))
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
