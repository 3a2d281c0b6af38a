//! Running a plan's steps: a segment of transactional steps in one transaction (verified
//! before commit when it is the last), or a lone step on its own; timeouts per step, and
//! a watch on what a step waits for, to name it when its lock times out.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio_postgres::error::SqlState;

use super::{Direction, Runner, ledger};
use crate::catalog;
use crate::ddl;
use crate::error::{Error, Result, describe_pg_error};
use crate::planfile::{PlanFile, PlannedStep};
use crate::sql::{Literal, QualName};

/// How often, and how far apart, an invalid index nobody is building is looked at again
/// before it is dropped as an interrupted build (see `lone_step_once`).
const SETTLE_CHECKS: u32 = 4;
const SETTLE_PAUSE: Duration = Duration::from_millis(500);

/// Why a segment of steps did not complete.
pub(super) enum SegmentError {
    /// Timed out waiting for a lock (worth retrying).
    Lock {
        step: usize,
        message: String,
        blocked: Option<String>,
    },
    Step {
        step: usize,
        message: String,
    },
    Mismatch(String),
    Other(Error),
}

impl From<Error> for SegmentError {
    fn from(e: Error) -> Self {
        SegmentError::Other(e)
    }
}

/// One run of a plan's steps in one direction.
pub(super) struct Run<'p> {
    pub plan: &'p PlanFile,
    pub direction: Direction,
    /// The plan's position in the chain (its ledger row's).
    pub position: i32,
    pub steps: &'p [PlannedStep],
    /// The fingerprint the database must have after the last step.
    pub end_fp: &'p str,
    /// The source state, recorded with the ledger row when applying starts.
    pub source: Option<serde_json::Value>,
    /// The source state of a plan without a recorded target state, to re-derive it once
    /// its steps ran (shadow replays).
    pub before: Option<crate::model::Catalog>,
}

impl Runner<'_> {
    pub(super) fn lock_timeout(&self, step: &PlannedStep) -> String {
        self.settings
            .lock_timeout
            .map_or_else(|| step.lock_timeout.clone(), |t| t.to_string())
    }

    /// Runs one step with its timeouts, watching what it waits for.
    async fn run_step(
        &self,
        run: &Run<'_>,
        i: usize,
        in_transaction: bool,
    ) -> std::result::Result<(), SegmentError> {
        let steps = run.steps;
        let step = &steps[i];
        let sql = crate::planfile::verify::runnable_sql(step, run.plan.head.planner);
        let scope = if in_transaction { "SET LOCAL" } else { "SET" };
        let setup = format!(
            "{scope} lock_timeout = {}; {scope} statement_timeout = {}",
            Literal(&self.lock_timeout(step)),
            Literal(&step.statement_timeout)
        );
        // In a transaction the settings and the step go in one round trip; a lone step
        // (CREATE INDEX CONCURRENTLY) must be the only statement of its query.
        if !in_transaction {
            self.exec(&setup).await.map_err(|e| SegmentError::Step {
                step: i,
                message: describe_pg_error(&e),
            })?;
        }
        let blocked: Arc<Mutex<Option<String>>> = Arc::new(Mutex::new(None));
        let monitor = {
            let client = Arc::clone(&self.lock.client);
            let blocked = Arc::clone(&blocked);
            let pid = self.work_pid;
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    if let Ok(Some(what)) = catalog::blocked_by(&client, pid).await
                        && let Ok(mut slot) = blocked.lock()
                    {
                        *slot = Some(what);
                    }
                }
            })
        };
        let started = Instant::now();
        let result = if in_transaction {
            self.exec(&format!("{setup};\n{sql}")).await
        } else {
            self.exec(&sql).await
        };
        monitor.abort();
        if !in_transaction {
            // Back to the session's bound on reads (see `Runner::open`).
            let _ = self
                .exec(&format!(
                    "SET lock_timeout = {}; RESET statement_timeout",
                    crate::catalog::read_lock_wait().as_millis()
                ))
                .await;
        }
        match result {
            Ok(()) => {
                (self.report)(&format!(
                    "  [{}/{}] {} ({:.2}s)",
                    i + 1,
                    steps.len(),
                    step.summary,
                    started.elapsed().as_secs_f64()
                ));
                Ok(())
            }
            Err(e) => {
                let message = describe_pg_error(&e);
                let lock = e.code() == Some(&SqlState::LOCK_NOT_AVAILABLE)
                    || e.code() == Some(&SqlState::T_R_DEADLOCK_DETECTED);
                if lock {
                    let blocked = blocked.lock().ok().and_then(|b| b.clone());
                    Err(SegmentError::Lock {
                        step: i,
                        message,
                        blocked,
                    })
                } else {
                    Err(SegmentError::Step { step: i, message })
                }
            }
        }
    }

    async fn start_row(&self, run: &Run<'_>) -> Result<()> {
        match run.direction {
            Direction::Apply => {
                ledger::start_apply(
                    &self.work,
                    run.plan,
                    run.position,
                    false,
                    run.source.as_ref(),
                )
                .await
            }
            Direction::Revert => ledger::start_revert(&self.work, &run.plan.head.id).await,
            Direction::Undo => ledger::start_undo(&self.work, &run.plan.head.id).await,
        }
    }

    /// After a plan's renames (its first steps), the database must be exactly the renamed
    /// state the plan records, which its other steps were re-derived from: a plan file is
    /// untrusted, and a forged renamed state would make them other steps than strata plans
    /// from the real one.
    async fn check_renamed(&self, run: &Run<'_>) -> std::result::Result<(), SegmentError> {
        let recorded = run
            .plan
            .head
            .recorded_renaming()
            .map_err(|e| SegmentError::Mismatch(e.to_string()))?;
        let Some(renaming) = recorded else {
            return Ok(());
        };
        let live = catalog::introspect_in_transaction(&self.work).await?;
        if live.model.fingerprint() != renaming.catalog.model.fingerprint() {
            return Err(SegmentError::Mismatch(format!(
                "after its renames the database is not the renamed state the plan records \
                 (the plan file was edited, or it was planned for another state); nothing of \
                 it was kept:\n  - {}",
                crate::model::report::differences(&renaming.catalog.model, &live.model)
                    .into_iter()
                    .take(20)
                    .collect::<Vec<_>>()
                    .join("\n  - ")
            )));
        }
        Ok(())
    }

    /// Verifies the end state inside the open transaction and records the plan as done.
    async fn finish(&self, run: &Run<'_>) -> std::result::Result<(), SegmentError> {
        let live = catalog::introspect_in_transaction(&self.work).await?;
        let end_fp = run.end_fp;
        if live.model.fingerprint() != end_fp {
            return Err(SegmentError::Mismatch(format!(
                "after its steps the database does not match the plan's {} state (fingerprint \
                 {end_fp} expected, {} found); nothing of it was kept. Was it planned for another \
                 database state or PostgreSQL major?",
                if run.direction == Direction::Apply {
                    "target"
                } else {
                    "source"
                },
                live.model.fingerprint()
            )));
        }
        if let Some(before) = &run.before {
            let verdict = crate::planfile::verify::compare(run.plan, before, &live)?;
            self.judge(run.plan, verdict)?;
        }
        let id = &run.plan.head.id;
        match run.direction {
            Direction::Apply => {
                let model = serde_json::to_value(&live.model).unwrap_or_default();
                ledger::finish_apply(&self.work, id, &model, "apply").await?;
            }
            Direction::Revert => ledger::finish_revert(&self.work, id).await?,
            Direction::Undo => ledger::forget(&self.work, id, "undo").await?,
        }
        Ok(())
    }

    pub(super) async fn transactional_segment(
        &self,
        run: &Run<'_>,
        start: usize,
        end: usize,
        last: bool,
        row_written: &mut bool,
    ) -> std::result::Result<(), SegmentError> {
        let written = *row_written;
        self.in_transaction(async {
            if !written {
                self.start_row(run).await?;
            }
            let renames = match run.direction {
                Direction::Apply => run.plan.head.renames.len(),
                _ => 0,
            };
            for i in start..end {
                self.run_step(run, i, true).await?;
                if renames > 0 && i + 1 == renames {
                    self.check_renamed(run).await?;
                }
            }
            if run.direction != Direction::Undo {
                ledger::steps_done(
                    &self.work,
                    &run.plan.head.id,
                    i32::try_from(end).unwrap_or(i32::MAX),
                )
                .await?;
            }
            if last {
                self.finish(run).await?;
            }
            Ok::<(), SegmentError>(())
        })
        .await?;
        *row_written = true;
        Ok(())
    }

    pub(super) async fn lone_step(
        &self,
        run: &Run<'_>,
        i: usize,
        last: bool,
        row_written: &mut bool,
    ) -> std::result::Result<(), SegmentError> {
        if !*row_written {
            self.start_row(run).await?;
            *row_written = true;
        }
        self.lone_step_once(run, i).await?;
        if self.settings.repeat_lone_steps {
            // As a rerun does when strata stopped after the step committed but before its
            // completion was recorded.
            self.lone_step_once(run, i).await?;
        }
        if run.direction != Direction::Undo {
            ledger::steps_done(
                &self.work,
                &run.plan.head.id,
                i32::try_from(i + 1).unwrap_or(i32::MAX),
            )
            .await?;
        }
        if last {
            self.in_transaction(self.finish(run)).await?;
        }
        Ok(())
    }
}

impl Runner<'_> {
    /// One lone step, safe to run again after it committed: an index it builds that is
    /// already valid is not built again; one an interrupted build left invalid is dropped
    /// and built again, unless another session is still building it, which is waited for
    /// (up to the lock wait). Index drops and enum value additions are written to be
    /// repeatable (`IF EXISTS`, `IF NOT EXISTS`), and validating a constraint twice
    /// validates nothing the second time.
    async fn lone_step_once(
        &self,
        run: &Run<'_>,
        i: usize,
    ) -> std::result::Result<(), SegmentError> {
        let steps = run.steps;
        let step = &steps[i];
        let step_error = |e: &tokio_postgres::Error| SegmentError::Step {
            step: i,
            message: describe_pg_error(e),
        };
        if let Some(index) = step.builds_index.as_deref().and_then(QualName::parse) {
            let deadline = Instant::now() + self.settings.lock_wait;
            let mut told = false;
            // A build that just ended stops showing as a build (its progress and its
            // session lock end) a moment before the transaction that marks the index valid
            // commits: an invalid index with no builder is looked at again a few times
            // before it is taken for an interrupted build and dropped.
            let mut settle = 0;
            loop {
                match catalog::index_state(&self.work, &index.schema, &index.name).await? {
                    Some(true) => {
                        (self.report)(&format!(
                            "  [{}/{}] {}: already built, skipped",
                            i + 1,
                            steps.len(),
                            step.summary
                        ));
                        return Ok(());
                    }
                    Some(false) => {
                        if let Some(builder) =
                            catalog::index_builder(&self.work, &index.schema, &index.name).await?
                        {
                            if Instant::now() >= deadline {
                                return Err(SegmentError::Step {
                                    step: i,
                                    message: format!(
                                        "index {index} is still being built by {builder} after \
                                         {}s (see --lock-wait); it was left alone",
                                        self.settings.lock_wait.as_secs()
                                    ),
                                });
                            }
                            if !told {
                                (self.report)(&format!(
                                    "  index {index} is being built by {builder}: waiting for it"
                                ));
                                told = true;
                            }
                            tokio::time::sleep(Duration::from_millis(250)).await;
                            continue;
                        }
                        if settle < SETTLE_CHECKS {
                            settle += 1;
                            tokio::time::sleep(SETTLE_PAUSE).await;
                            continue;
                        }
                        (self.report)(&format!(
                            "  index {index} is invalid (an interrupted concurrent build): dropping it to build it again"
                        ));
                        // With the step's lock timeout (a lock error is retried like the
                        // step's own), then back to the reads' bound.
                        let dropped = self
                            .exec(&format!(
                                "SET lock_timeout = {}",
                                Literal(&self.lock_timeout(step))
                            ))
                            .await;
                        let dropped = match dropped {
                            Ok(()) => self.exec(&ddl::drop_index(&index, true)).await,
                            Err(e) => Err(e),
                        };
                        let _ = self
                            .exec(&format!(
                                "SET lock_timeout = {}",
                                catalog::read_lock_wait().as_millis()
                            ))
                            .await;
                        match dropped {
                            Err(e) if catalog::is_lock_timeout(&e) => {
                                return Err(SegmentError::Lock {
                                    step: i,
                                    message: describe_pg_error(&e),
                                    blocked: None,
                                });
                            }
                            Err(e) => return Err(step_error(&e)),
                            Ok(()) => break,
                        }
                    }
                    None => break,
                }
            }
        }
        self.run_step(run, i, false).await
    }
}
