//! Running plans against a database: what `strata apply`, `strata revert` and the shadow
//! replays of `plan`, `check` and `test` do.
//!
//! Under a session advisory lock (taken by polling, on its own connection): the ledger must
//! be a prefix of the chain with matching checksums (plans applied that the directory does
//! not have are reported, and can be reverted from what the ledger recorded); each pending
//! plan must find the database exactly in its source state (drift is refused with a
//! readable report) and pass its pre-flight checks; its transactional steps run together in
//! one transaction with the ledger bookkeeping and a verification of the target state
//! before commit; a step that cannot run in a transaction runs on its own and is recorded
//! when done, so a rerun resumes after it. Steps that time out waiting for a lock are
//! retried with backoff, then fail naming the lock.

pub mod ledger;
pub mod losses;
mod position;
pub mod preflight;
mod record;
mod revert;
mod review;
pub mod session;
mod steps;

use std::time::{Duration, Instant};

use tokio_postgres::Client;

use crate::catalog;
use crate::db::DbUrl;
use crate::error::{Error, Failure, Refusal, Result};
use crate::model::Catalog;
use crate::model::report::differences;
use crate::planfile::{PlanFile, PlannedStep};
use crate::settings::ApplySettings;
pub use position::{Position, orphans_message, position};
use session::MigrationLock;
use steps::SegmentError;

/// Which way a plan runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Direction {
    Apply,
    Revert,
    /// A half-applied plan taken back to its source state, by steps planned from the
    /// database as it is.
    Undo,
}

/// An open session on the target: the work connection and the migration lock.
pub struct Runner<'a> {
    url: DbUrl,
    work: Client,
    work_pid: i32,
    /// The server's major version.
    major: u32,
    /// When the run started (the server's clock, as text).
    started: String,
    lock: MigrationLock,
    settings: &'a ApplySettings,
    report: &'a (dyn Fn(&str) + Sync),
    notes: std::sync::Mutex<Vec<String>>,
}

/// What a run did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Plans applied (or reverted), in the order they ran.
    pub plans: Vec<String>,
    /// What the run could not confirm and says so (a plan planned by an older strata that
    /// differs from what this one plans).
    pub notes: Vec<String>,
}

impl<'a> Runner<'a> {
    /// Connects (with retries), takes the migration lock and creates the ledger if needed.
    pub async fn open(
        url: &DbUrl,
        settings: &'a ApplySettings,
        report: &'a (dyn Fn(&str) + Sync),
    ) -> Result<Self> {
        let work = session::connect(url, settings.connect_timeout, report).await?;
        let lock_client = session::connect(url, settings.connect_timeout, report).await?;
        // Before any setting is made (behind a transaction pooler it would stay with a
        // server connection others use) and before the lock is taken.
        session::require_session(&work, &lock_client).await?;
        session::prepare(&lock_client, session::LOCK_TAG, false).await?;
        // One budget for the lock and for an earlier run's statements.
        let waiting = std::time::Instant::now();
        let lock = MigrationLock::acquire(lock_client, settings.lock_wait, report).await?;
        // Tagged only now, with the lock held: an applier still waiting for it is not an
        // earlier run.
        session::prepare(&work, session::WORK_TAG, true).await?;
        let row = work
            .query_one("SELECT pg_backend_pid(), clock_timestamp()::text", &[])
            .await
            .map_err(|e| Error::database("starting the session", &e))?;
        let work_pid: i32 = row
            .try_get(0)
            .map_err(|e| Error::database("starting the session", &e))?;
        let started: String = row
            .try_get(1)
            .map_err(|e| Error::database("starting the session", &e))?;
        let major = catalog::server_major(&work).await?;
        session::verify_lock_session(&work, &lock, work_pid).await?;
        session::wait_for_earlier_runs(
            &work,
            &[work_pid, lock.pid],
            settings.lock_wait.saturating_sub(waiting.elapsed()),
            report,
        )
        .await?;
        ledger::ensure(&work).await?;
        // Function bodies are checked when they run, not when they are created (as pg_dump
        // does): a body may use a table a later step creates.
        work.batch_execute("SET check_function_bodies = off")
            .await
            .map_err(|e| Error::database("starting the session", &e))?;
        // A statement whose client died (strata killed) stops within seconds instead of
        // running on, and holding its locks, until it ends (PostgreSQL 14+, where the
        // platform supports it; elsewhere the setting is refused and left at 0).
        if major >= 14 {
            let _ = work
                .batch_execute("SET client_connection_check_interval = '2s'")
                .await;
        }
        Ok(Self {
            url: url.clone(),
            work,
            work_pid,
            major,
            started,
            lock,
            settings,
            report,
            notes: std::sync::Mutex::new(Vec::new()),
        })
    }

    /// Makes a signal cancel this runner's statement and record the interruption
    /// ([`session::interrupt`]) until [`Runner::unwatch`].
    pub fn watch(&self, action: &'static str) {
        session::register(&self.url, self.work_pid, &self.started, action);
    }

    pub fn unwatch(&self) {
        session::unregister(self.work_pid);
    }

    /// Records a failed run (`action`: `apply-failed` or `revert-failed`) in
    /// `strata.history` on the lock's connection, which no failed transaction holds: the
    /// plan and step, when a step failed, and the error. Recording is best effort (the
    /// connection may be what failed): a failure to record is reported, not returned.
    pub async fn record_failure(&self, action: &str, error: &Error) {
        let (plan, step) = match error {
            Error::Failed(f) => (
                Some(f.plan.as_str()),
                f.step.as_ref().and_then(|(n, _)| i32::try_from(*n).ok()),
            ),
            Error::Preflight { plan, .. } => (Some(plan.as_str()), None),
            _ => (None, None),
        };
        let text = error.without_row_data();
        if let Err(e) =
            ledger::record_failure(&self.lock.client, action, plan, step, &text, &self.started)
                .await
        {
            (self.report)(&format!("note: the failure could not be recorded: {e}"));
        }
    }

    /// Says something the run could not confirm, and keeps it for the outcome.
    fn note(&self, line: String) {
        (self.report)(&format!("note: {line}"));
        if let Ok(mut notes) = self.notes.lock() {
            notes.push(line);
        }
    }

    fn take_notes(&self) -> Vec<String> {
        self.notes
            .lock()
            .map(|mut n| std::mem::take(&mut *n))
            .unwrap_or_default()
    }

    /// Releases the migration lock.
    pub async fn close(self) -> Result<()> {
        self.lock.release().await
    }

    pub async fn ledger(&self) -> Result<Vec<ledger::Row>> {
        ledger::read(&self.work).await
    }

    /// Applies every pending plan of the chain.
    pub async fn apply(&self, chain: &[&PlanFile]) -> Result<Outcome> {
        let rows = self.ledger().await?;
        let at = position(chain, &rows)?;
        if !at.orphans.is_empty() {
            return Err(Error::Refused(
                Refusal::Drift,
                format!("{}; nothing was changed", orphans_message(&at.orphans)),
            ));
        }
        let mut outcome = Outcome::default();
        let mut resume = None;
        if let Some(row) = &at.partial {
            match row.state.as_str() {
                "reverting" => {
                    return Err(Error::Refused(
                        Refusal::Drift,
                        format!(
                            "plan {} was being reverted when a previous run stopped: run `strata \
                         revert` to finish reverting it, or `strata apply --abandon {}` once \
                         you restored its target state by hand",
                            row.plan_id, row.plan_id
                        ),
                    ));
                }
                "undoing" => {
                    return Err(Error::Refused(
                        Refusal::Drift,
                        format!(
                            "plan {} was being taken back by `strata revert` when a previous run \
                         stopped: run `strata revert` again to finish",
                            row.plan_id
                        ),
                    ));
                }
                _ => resume = Some(usize::try_from(row.steps_done).unwrap_or(0)),
            }
        }
        if at.applied == chain.len() {
            (self.report)(&format!(
                "up to date: {} plan(s) applied, none pending",
                chain.len()
            ));
            self.warn_drift(rows.last()).await?;
            return Ok(outcome);
        }
        self.same_major(&chain[at.applied..])?;
        self.reviewed(&chain[at.applied..])?;
        (self.report)(&format!(
            "{} plan(s) pending on {}",
            chain.len() - at.applied,
            self.url
        ));
        let mut ran_steps = false;
        let mut previous_model = rows
            .get(at.applied.wrapping_sub(1))
            .filter(|_| at.applied > 0)
            .and_then(|r| r.target_model.clone());
        for (i, plan) in chain.iter().enumerate().skip(at.applied) {
            let position = i32::try_from(i).unwrap_or(i32::MAX);
            if i == 0 && at.superseded > 0 {
                self.supersede(plan).await?;
                outcome.plans.push(plan.head.id.clone());
                continue;
            }
            let resume_from = if i == at.applied { resume.take() } else { None };
            if resume_from.is_none() && plan.head.adopts && self.adopt(plan, position).await? {
                outcome.plans.push(plan.head.id.clone());
                previous_model = None;
                continue;
            }
            // Until a step has run, the plans after this one are checked too (a plan only
            // recorded, adopted or superseding, ran none).
            let later = if ran_steps { &[][..] } else { &chain[i + 1..] };
            ran_steps = true;
            self.run_plan(
                plan,
                Direction::Apply,
                position,
                resume_from,
                previous_model.as_ref(),
                &outcome,
                later,
            )
            .await?;
            outcome.plans.push(plan.head.id.clone());
            previous_model = None;
        }
        outcome.notes = self.take_notes();
        Ok(outcome)
    }

    /// Nothing to apply: still say if the database drifted from the last applied plan.
    async fn warn_drift(&self, last: Option<&ledger::Row>) -> Result<()> {
        let Some(row) = last else { return Ok(()) };
        let live = catalog::introspect(&self.work).await?;
        if live.model.fingerprint() == row.target_fingerprint {
            return Ok(());
        }
        let expected: Option<crate::model::Model> = row
            .target_model
            .as_ref()
            .and_then(|m| serde_json::from_value(m.clone()).ok());
        (self.report)(&format!(
            "warning: the database drifted from the state plan {} left (the next plan will be refused until this is resolved):",
            row.plan_id
        ));
        for line in expected
            .map(|m| differences(&m, &live.model))
            .unwrap_or_default()
            .iter()
            .take(50)
        {
            (self.report)(&format!("  - {line}"));
        }
        Ok(())
    }

    async fn exec(&self, sql: &str) -> std::result::Result<(), tokio_postgres::Error> {
        self.work.batch_execute(sql).await
    }

    /// Runs `body` in a transaction on the work session: committed when it succeeds,
    /// rolled back when it fails.
    pub(super) async fn in_transaction<T, E: From<Error>>(
        &self,
        body: impl std::future::Future<Output = std::result::Result<T, E>>,
    ) -> std::result::Result<T, E> {
        self.exec("BEGIN")
            .await
            .map_err(|e| Error::database("starting a transaction", &e))?;
        match body.await {
            Ok(value) => {
                self.exec("COMMIT")
                    .await
                    .map_err(|e| Error::database("committing", &e))?;
                Ok(value)
            }
            Err(e) => {
                let _ = self.exec("ROLLBACK").await;
                Err(e)
            }
        }
    }

    /// The live catalog, read in its own read-only snapshot.
    async fn live(&self) -> Result<Catalog> {
        catalog::introspect(&self.work).await
    }

    /// Runs the pre-flight checks of `steps[first..]` and the role checks; an error when
    /// one fails.
    async fn preflight(
        &self,
        plan: &PlanFile,
        steps: &[PlannedStep],
        first: usize,
        roles: &[String],
        live: &Catalog,
    ) -> Result<()> {
        if !self.settings.preflight {
            return Ok(());
        }
        let checks: Vec<(usize, String, &crate::plan::Check)> = steps
            .iter()
            .enumerate()
            .skip(first)
            .flat_map(|(i, s)| s.checks.iter().map(move |c| (i, s.summary.clone(), c)))
            .collect();
        if checks.is_empty() && roles.is_empty() {
            return Ok(());
        }
        let started = Instant::now();
        let findings = preflight::run(&self.work, &live.model, &checks, roles).await?;
        tracing::debug!(
            "{} pre-flight check(s) of {} in {:.2?}",
            checks.len() + roles.len(),
            plan.head.id,
            started.elapsed()
        );
        if findings.is_empty() {
            if !checks.is_empty() {
                (self.report)(&format!(
                    "  pre-flight: {} check(s) passed in {:.2}s",
                    checks.len() + roles.len(),
                    started.elapsed().as_secs_f64()
                ));
            }
            Ok(())
        } else {
            Err(Error::Preflight {
                plan: plan.head.id.clone(),
                findings,
            })
        }
    }

    #[allow(clippy::too_many_arguments)]
    /// Runs one plan's steps in one direction. `later`: plans that will run after it, whose
    /// pre-flight checks are tested too before this plan's first step (a failure in a later
    /// plan then stops the run before anything changed).
    #[allow(clippy::too_many_arguments)]
    async fn run_plan(
        &self,
        plan: &PlanFile,
        direction: Direction,
        position: i32,
        resume_from: Option<usize>,
        expected_model: Option<&serde_json::Value>,
        outcome: &Outcome,
        later: &[&PlanFile],
    ) -> Result<()> {
        let (steps, start_fp, end_fp, verb, roles) = match direction {
            Direction::Apply => (
                &plan.head.steps,
                &plan.head.source_fingerprint,
                &plan.head.target_fingerprint,
                "apply",
                &plan.head.roles,
            ),
            Direction::Revert => (
                &plan.head.revert,
                &plan.head.target_fingerprint,
                &plan.head.source_fingerprint,
                "revert",
                &plan.head.revert_roles,
            ),
            Direction::Undo => (
                &plan.head.revert,
                &plan.head.target_fingerprint,
                &plan.head.source_fingerprint,
                "take back",
                &plan.head.revert_roles,
            ),
        };
        let id = &plan.head.id;
        let started = Instant::now();
        let failure =
            |step: Option<(usize, String)>, sql: Option<String>, message: String, state: String| {
                Error::Failed(Box::new(Failure {
                    plan: id.clone(),
                    step,
                    sql,
                    message,
                    completed: outcome.plans.clone(),
                    state,
                }))
            };
        let first = resume_from.unwrap_or(0);
        let mut source = None;
        let mut before = None;
        match (resume_from, direction) {
            (Some(done), _) => {
                (self.report)(&format!(
                    "{verb} {id}: resuming after step {done} of {} (a previous run stopped there)",
                    steps.len()
                ));
                if self.settings.preflight && steps[first..].iter().any(|s| !s.checks.is_empty()) {
                    let live = self.live().await?;
                    self.preflight(plan, steps, first, &[], &live).await?;
                }
            }
            (None, Direction::Undo) => {
                (self.report)(&format!(
                    "{verb} {id} ({} steps): back to the state before it",
                    steps.len()
                ));
                let live = self.live().await?;
                self.preflight(plan, steps, first, roles, &live).await?;
            }
            (None, _) => {
                let live = self
                    .check_start(plan, start_fp, expected_model, direction)
                    .await?;
                let mut target = None;
                if direction == Direction::Apply {
                    target = self.verify_before(plan, &live)?;
                }
                self.preflight(plan, steps, first, roles, &live).await?;
                // Later plans' checks too, once each is verified against the state the plan
                // before it reaches (never run a check of a plan not yet verified).
                for next in later {
                    let Some(source) = target.take() else { break };
                    target = self.verify_before(next, &source)?;
                    self.preflight(next, &next.head.steps, 0, &next.head.roles, &live)
                        .await?;
                }
                if direction == Direction::Apply {
                    source = Some(live.to_stored());
                    if plan.head.target.is_none() && self.settings.verify_after {
                        before = Some(live);
                    }
                }
                (self.report)(&format!(
                    "{verb} {id} ({} steps): {}",
                    steps.len(),
                    plan.head.message
                ));
            }
        }
        let run = steps::Run {
            plan,
            direction,
            position,
            steps,
            end_fp,
            source,
            before,
        };
        // Consecutive transactional steps form one segment; others are alone.
        let mut segments: Vec<(usize, usize, bool)> = Vec::new();
        for (i, step) in steps.iter().enumerate().skip(first) {
            match segments.last_mut() {
                Some((_, end, true)) if step.transactional && *end == i => *end = i + 1,
                _ => segments.push((i, i + 1, step.transactional)),
            }
        }
        if segments.is_empty() {
            segments.push((first, first, true));
        }
        let mut row_written = resume_from.is_some();
        let count = segments.len();
        for (n, &(start, end, transactional)) in segments.iter().enumerate() {
            let last = n + 1 == count;
            let mut attempt = 0u32;
            loop {
                let result = if transactional {
                    self.transactional_segment(&run, start, end, last, &mut row_written)
                        .await
                } else {
                    self.lone_step(&run, start, last, &mut row_written).await
                };
                let state = match direction {
                    Direction::Undo if !row_written => format!(
                        "plan {id} is still half applied (taking it back was rolled back); rerun `strata revert` once the cause is fixed"
                    ),
                    Direction::Undo => format!(
                        "the ledger records plan {id} as partly taken back (undoing): rerun `strata revert` to finish"
                    ),
                    _ if !row_written => {
                        format!("nothing of plan {id} was kept (its transaction was rolled back)")
                    }
                    Direction::Apply => format!(
                        "the ledger records plan {id} as partly applied: rerun `strata apply` to \
                         finish it, or `strata revert` to take back the steps that ran"
                    ),
                    Direction::Revert => format!(
                        "the ledger records plan {id} as partly reverted: rerun `strata revert` \
                         to finish"
                    ),
                };
                match result {
                    Ok(()) => break,
                    Err(SegmentError::Lock {
                        step,
                        message,
                        blocked,
                    }) => {
                        if attempt < self.settings.lock_retries {
                            attempt += 1;
                            let wait = Duration::from_secs(1 << (attempt - 1).min(5));
                            (self.report)(&format!(
                                "  step {} ({}) could not take its lock in time{}; retry {attempt}/{} in {}s",
                                step + 1,
                                steps[step].summary,
                                blocked
                                    .as_deref()
                                    .map(|b| format!(" (waiting for {b})"))
                                    .unwrap_or_default(),
                                self.settings.lock_retries,
                                wait.as_secs()
                            ));
                            tokio::time::sleep(wait).await;
                            continue;
                        }
                        let lock_timeout = self.lock_timeout(&steps[step]);
                        let what = match blocked {
                            Some(b) => format!("{b} ({message})"),
                            None => message,
                        };
                        return Err(failure(
                            Some((step + 1, steps[step].summary.clone())),
                            Some(steps[step].sql.clone()),
                            format!(
                                "could not take its lock within lock_timeout {lock_timeout} in {} attempts: waited for {what}",
                                attempt + 1
                            ),
                            state,
                        ));
                    }
                    Err(SegmentError::Step { step, message }) => {
                        return Err(failure(
                            Some((step + 1, steps[step].summary.clone())),
                            Some(steps[step].sql.clone()),
                            message,
                            state,
                        ));
                    }
                    Err(SegmentError::Mismatch(message)) => {
                        return Err(failure(None, None, message, state));
                    }
                    Err(SegmentError::Other(e)) => return Err(e),
                }
            }
        }
        (self.report)(&format!(
            "{}: {id} in {:.2}s; the database matches its {} state",
            match direction {
                Direction::Apply => "applied",
                Direction::Revert => "reverted",
                Direction::Undo => "taken back",
            },
            started.elapsed().as_secs_f64(),
            if direction == Direction::Apply {
                "target"
            } else {
                "source"
            },
        ));
        Ok(())
    }

    /// Refuses to start a plan on a database that is not in its start state; returns the
    /// live catalog.
    async fn check_start(
        &self,
        plan: &PlanFile,
        expected: &str,
        expected_model: Option<&serde_json::Value>,
        direction: Direction,
    ) -> Result<Catalog> {
        let live = self.live().await?;
        if live.model.fingerprint() == expected {
            return Ok(live);
        }
        if live.major_version() != plan.head.postgres_major {
            return Err(Error::Refused(
                Refusal::Major,
                format!(
                    "plan {} was planned on PostgreSQL {} and the database runs {}: definitions \
                 print differently across majors, so its state cannot be verified \
                 (plan on a shadow of the same major with --dev-url)",
                    plan.head.id,
                    plan.head.postgres_major,
                    live.major_version()
                ),
            ));
        }
        let expected_model: Option<crate::model::Model> =
            expected_model.and_then(|m| serde_json::from_value(m.clone()).ok());
        let lines = match expected_model {
            Some(model) => differences(&model, &live.model),
            None => differences(&crate::inspect::baseline(&live.model), &live.model),
        };
        let what = if direction == Direction::Apply {
            "starts from"
        } else {
            "left it in"
        };
        let mut message = format!(
            "drift: the database is not in the state plan {} {what}; nothing was changed",
            plan.head.id
        );
        for line in lines.iter().take(50) {
            message.push_str(&format!("\n  - {line}"));
        }
        if lines.len() > 50 {
            message.push_str(&format!("\n  ... and {} more", lines.len() - 50));
        }
        message.push_str(
            "\nBring the database back in line, or record the change with `strata plan --from-database`.",
        );
        Err(Error::Refused(Refusal::Drift, message))
    }
}

/// Opens a runner, runs `f`, and releases the lock whatever happened.
pub async fn with_runner<T>(
    url: &DbUrl,
    settings: &ApplySettings,
    report: &(dyn Fn(&str) + Sync),
    f: impl AsyncFnOnce(&Runner<'_>) -> Result<T>,
) -> Result<T> {
    let runner = Runner::open(url, settings, report).await?;
    let result = f(&runner).await;
    let released = runner.close().await;
    let value = result?;
    released?;
    Ok(value)
}
