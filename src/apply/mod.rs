//! Running plans against a database: what `strata apply`, `strata revert` and the shadow
//! replays of `plan`, `check` and `test` do.
//!
//! Under a session advisory lock (taken by polling, on its own connection): the ledger must
//! be a prefix of the chain with matching checksums; each pending plan must find the
//! database exactly in its source state (drift is refused with a readable report); its
//! transactional steps run together in one transaction with the ledger bookkeeping and a
//! verification of the target state before commit; a step that cannot run in a transaction
//! runs on its own and is recorded when done, so a rerun resumes after it. Steps that time
//! out waiting for a lock are retried with backoff, then fail naming the lock.

pub mod ledger;
pub mod session;
mod steps;

use std::time::{Duration, Instant};

use tokio_postgres::Client;

use crate::catalog;
use crate::db::DbUrl;
use crate::error::{Error, Failure, Result};
use crate::model::report::differences;
use crate::planfile::PlanFile;
use crate::settings::ApplySettings;
use session::MigrationLock;
use steps::SegmentError;

/// Where the database stands against the chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Position {
    /// Plans fully applied (a prefix of the chain).
    pub applied: usize,
    /// The next plan, if a previous run left it half applied or half reverted.
    pub partial: Option<ledger::Row>,
}

/// Checks that the ledger is a prefix of the chain with the same checksums.
pub fn position(chain: &[&PlanFile], rows: &[ledger::Row]) -> Result<Position> {
    if rows.len() > chain.len() {
        let extra: Vec<&str> = rows[chain.len()..]
            .iter()
            .map(|r| r.plan_id.as_str())
            .collect();
        return Err(Error::Refused(format!(
            "the database has plans applied that the plans directory does not have: {} \
             (is this an older release of the plans?)",
            extra.join(", ")
        )));
    }
    for (i, row) in rows.iter().enumerate() {
        let plan = chain[i];
        if plan.head.id != row.plan_id {
            return Err(Error::Refused(format!(
                "applied plan {} is not in the plans directory where the chain has {} \
                 (plans were rewritten or removed after they were applied)",
                row.plan_id, plan.head.id
            )));
        }
        if plan.checksum != row.checksum {
            return Err(Error::Refused(format!(
                "plan {} was changed after it was applied to this database \
                 (checksum {} when applied, {} now)",
                row.plan_id, row.checksum, plan.checksum
            )));
        }
        if !row.is_applied() && i + 1 != rows.len() {
            return Err(Error::Refused(format!(
                "the ledger is inconsistent: plan {} is {} but later plans are recorded",
                row.plan_id, row.state
            )));
        }
    }
    let partial = rows.last().filter(|r| !r.is_applied()).cloned();
    let applied = rows.len() - usize::from(partial.is_some());
    Ok(Position { applied, partial })
}

/// Which way a plan runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Direction {
    Apply,
    Revert,
}

/// An open session on the target: the work connection and the migration lock.
pub struct Runner<'a> {
    url: DbUrl,
    work: Client,
    work_pid: i32,
    /// The server's major version.
    major: u32,
    lock: MigrationLock,
    settings: &'a ApplySettings,
    report: &'a (dyn Fn(&str) + Sync),
}

/// What a run did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Plans applied (or reverted), in the order they ran.
    pub plans: Vec<String>,
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
        let lock = MigrationLock::acquire(lock_client, settings.lock_wait, report).await?;
        let row = work
            .query_one(
                "SELECT pg_backend_pid(), current_setting('server_version_num')::int4 / 10000",
                &[],
            )
            .await
            .map_err(|e| Error::database("starting the session", &e))?;
        let (work_pid, major): (i32, i32) = (
            row.try_get(0)
                .map_err(|e| Error::database("starting the session", &e))?,
            row.try_get(1)
                .map_err(|e| Error::database("starting the session", &e))?,
        );
        let major = u32::try_from(major).unwrap_or(0);
        ledger::ensure(&work).await?;
        Ok(Self {
            url: url.clone(),
            work,
            work_pid,
            major,
            lock,
            settings,
            report,
        })
    }

    /// Releases the migration lock.
    pub async fn close(self) -> Result<()> {
        self.lock.release().await
    }

    pub async fn ledger(&self) -> Result<Vec<ledger::Row>> {
        ledger::read(&self.work).await
    }

    /// Refuses plans planned on another PostgreSQL major than the database runs: their
    /// recorded states cannot be verified here (definitions print differently).
    fn same_major(&self, plans: &[&PlanFile]) -> Result<()> {
        match plans.iter().find(|p| p.head.postgres_major != self.major) {
            Some(plan) => Err(Error::Refused(format!(
                "plan {} was planned on PostgreSQL {} and the database runs {}: definitions \
                 print differently across majors, so its states cannot be verified; nothing \
                 was changed (re-plan on a shadow of the database's major with --dev-url)",
                plan.head.id, plan.head.postgres_major, self.major
            ))),
            None => Ok(()),
        }
    }

    /// Applies every pending plan of the chain.
    pub async fn apply(&self, chain: &[&PlanFile]) -> Result<Outcome> {
        let rows = self.ledger().await?;
        let at = position(chain, &rows)?;
        let mut outcome = Outcome::default();
        let mut resume = None;
        if let Some(row) = &at.partial {
            if row.state == "reverting" {
                return Err(Error::Refused(format!(
                    "plan {} was being reverted when a previous run stopped: run `strata revert` \
                     to finish reverting it first",
                    row.plan_id
                )));
            }
            resume = Some(usize::try_from(row.steps_done).unwrap_or(0));
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
        (self.report)(&format!(
            "{} plan(s) pending on {}",
            chain.len() - at.applied,
            self.url
        ));
        let mut previous_model = rows
            .get(at.applied.wrapping_sub(1))
            .filter(|_| at.applied > 0)
            .and_then(|r| r.target_model.clone());
        for (i, plan) in chain.iter().enumerate().skip(at.applied) {
            let position = i32::try_from(i).unwrap_or(i32::MAX);
            let resume_from = if i == at.applied { resume.take() } else { None };
            if resume_from.is_none() && plan.head.adopts && self.adopt(plan, position).await? {
                outcome.plans.push(plan.head.id.clone());
                previous_model = None;
                continue;
            }
            self.run_plan(
                plan,
                Direction::Apply,
                position,
                resume_from,
                previous_model.as_ref(),
                &outcome,
            )
            .await?;
            outcome.plans.push(plan.head.id.clone());
            previous_model = None;
        }
        Ok(outcome)
    }

    /// Reverts the last applied plan, or every plan after `to`.
    pub async fn revert(
        &self,
        chain: &[&PlanFile],
        to: Option<&str>,
        force: bool,
    ) -> Result<Outcome> {
        let rows = self.ledger().await?;
        let at = position(chain, &rows)?;
        let mut resume = None;
        let mut last = at.applied;
        if let Some(row) = &at.partial {
            if row.state == "applying" {
                return Err(Error::Refused(format!(
                    "plan {} was being applied when a previous run stopped: run `strata apply` \
                     to finish it before reverting",
                    row.plan_id
                )));
            }
            resume = Some(usize::try_from(row.steps_done).unwrap_or(0));
            last += 1;
        }
        if last == 0 {
            return Err(Error::Refused(
                "no plan is applied: nothing to revert".into(),
            ));
        }
        let stop = match to {
            Some(id) => {
                let index = chain[..last]
                    .iter()
                    .position(|p| p.head.id == id)
                    .ok_or_else(|| {
                        Error::Refused(format!(
                            "--to {id}: no such plan is applied to this database"
                        ))
                    })?;
                index + 1
            }
            None => last - 1,
        };
        let targets: Vec<&PlanFile> = chain[stop..last].iter().rev().copied().collect();
        self.same_major(&targets)?;
        for plan in &targets {
            if plan.head.baseline {
                return Err(Error::Refused(format!(
                    "plan {} is a baseline (the state strata started from): it cannot be reverted",
                    plan.head.id
                )));
            }
            if !force && let Some((n, step)) = plan.irreversible_step() {
                return Err(Error::Refused(format!(
                    "plan {} cannot be reverted: step {} ({}) destroyed data that reverting \
                     cannot bring back; pass --force to restore the schema anyway",
                    plan.head.id,
                    n + 1,
                    step.summary
                )));
            }
        }
        let mut outcome = Outcome::default();
        for (k, plan) in targets.iter().enumerate() {
            let index = last - 1 - k;
            let model = rows.get(index).and_then(|r| r.target_model.clone());
            let resume_from = if k == 0 { resume.take() } else { None };
            let position = i32::try_from(index).unwrap_or(i32::MAX);
            self.run_plan(
                plan,
                Direction::Revert,
                position,
                resume_from,
                model.as_ref(),
                &outcome,
            )
            .await?;
            outcome.plans.push(plan.head.id.clone());
        }
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

    /// Records an adoption plan as applied if the database already is in its target state.
    async fn adopt(&self, plan: &PlanFile, position: i32) -> Result<bool> {
        let live = catalog::introspect(&self.work).await?;
        if live.model.fingerprint() != plan.head.target_fingerprint {
            return Ok(false);
        }
        let model = serde_json::to_value(&live.model).unwrap_or_default();
        ledger::start_apply(&self.work, plan, position, false).await?;
        ledger::finish_apply(&self.work, &plan.head.id, &model, "adopt").await?;
        (self.report)(&format!(
            "adopted {}: the database already has these changes (made outside strata)",
            plan.head.id
        ));
        Ok(true)
    }

    /// Records a baseline plan as applied without running its steps.
    pub async fn record_baseline(&self, plan: &PlanFile) -> Result<()> {
        if !self.ledger().await?.is_empty() {
            return Err(Error::Refused(
                "this database already has a strata ledger: a baseline is for databases that predate strata"
                    .into(),
            ));
        }
        let live = catalog::introspect(&self.work).await?;
        if live.model.fingerprint() != plan.head.target_fingerprint {
            return Err(Error::Refused(
                "the database changed while the baseline was written".into(),
            ));
        }
        let model = serde_json::to_value(&live.model).unwrap_or_default();
        ledger::start_apply(&self.work, plan, 0, true).await?;
        ledger::finish_apply(&self.work, &plan.head.id, &model, "baseline").await
    }

    async fn exec(&self, sql: &str) -> std::result::Result<(), tokio_postgres::Error> {
        self.work.batch_execute(sql).await
    }

    async fn run_plan(
        &self,
        plan: &PlanFile,
        direction: Direction,
        position: i32,
        resume_from: Option<usize>,
        expected_model: Option<&serde_json::Value>,
        outcome: &Outcome,
    ) -> Result<()> {
        let (steps, start_fp, end_fp, verb) = match direction {
            Direction::Apply => (
                &plan.head.steps,
                &plan.head.source_fingerprint,
                &plan.head.target_fingerprint,
                "apply",
            ),
            Direction::Revert => (
                &plan.head.revert,
                &plan.head.target_fingerprint,
                &plan.head.source_fingerprint,
                "revert",
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
        match resume_from {
            Some(done) => (self.report)(&format!(
                "{verb} {id}: resuming after step {done} of {} (a previous run stopped there)",
                steps.len()
            )),
            None => {
                self.check_start(plan, start_fp, expected_model, direction)
                    .await?;
                (self.report)(&format!(
                    "{verb} {id} ({} steps): {}",
                    steps.len(),
                    plan.head.message
                ));
            }
        }
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
                    self.transactional_segment(
                        plan,
                        direction,
                        position,
                        steps,
                        start,
                        end,
                        last,
                        end_fp,
                        &mut row_written,
                    )
                    .await
                } else {
                    self.lone_step(
                        plan,
                        direction,
                        position,
                        steps,
                        start,
                        last,
                        end_fp,
                        &mut row_written,
                    )
                    .await
                };
                let state = if row_written {
                    format!("the ledger records plan {id} as partly done; rerun to resume it")
                } else {
                    format!("nothing of plan {id} was kept (its transaction was rolled back)")
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
            if direction == Direction::Apply {
                "applied"
            } else {
                "reverted"
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

    /// Refuses to start a plan on a database that is not in its start state.
    async fn check_start(
        &self,
        plan: &PlanFile,
        expected: &str,
        expected_model: Option<&serde_json::Value>,
        direction: Direction,
    ) -> Result<()> {
        let live = catalog::introspect(&self.work).await?;
        if live.model.fingerprint() == expected {
            return Ok(());
        }
        if live.major_version() != plan.head.postgres_major {
            return Err(Error::Refused(format!(
                "plan {} was planned on PostgreSQL {} and the database runs {}: definitions \
                 print differently across majors, so its state cannot be verified \
                 (plan on a shadow of the same major with --dev-url)",
                plan.head.id,
                plan.head.postgres_major,
                live.major_version()
            )));
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
        Err(Error::Refused(message))
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
