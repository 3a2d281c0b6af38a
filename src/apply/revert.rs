//! Going back: reverting applied plans (from the plan files, or from what the ledger
//! recorded when the files are gone), taking back a half-applied plan, and abandoning an
//! interrupted plan once its state was restored by hand.

use super::losses::{self, Loss};
use super::{Direction, Outcome, Runner, ledger, position};
use crate::error::{Error, Refusal, Result};
use crate::model::Catalog;
use crate::model::report::differences;
use crate::plan::Hazard;
use crate::planfile::{PlanFile, PlannedStep, StepTimeouts};

/// Something `revert` takes back, newest first.
enum Item {
    /// An applied plan (or one a previous revert left half reverted): its revert steps.
    Revert {
        plan: PlanFile,
        position: i32,
        resume: Option<usize>,
        model: Option<serde_json::Value>,
        /// The ledger's copy: the plans directory does not have it.
        from_ledger: bool,
    },
    /// A plan a previous apply left half done: back to its source state, by steps planned
    /// from the database as it is now.
    Undo { plan: PlanFile, row: ledger::Row },
}

impl Item {
    fn plan(&self) -> &PlanFile {
        match self {
            Item::Revert { plan, .. } | Item::Undo { plan, .. } => plan,
        }
    }

    fn for_row(row: &ledger::Row, plan: PlanFile, from_ledger: bool) -> Self {
        match row.state.as_str() {
            "applying" | "undoing" => Item::Undo {
                plan,
                row: row.clone(),
            },
            state => Item::Revert {
                plan,
                position: row.position,
                resume: (state == "reverting")
                    .then(|| usize::try_from(row.steps_done).unwrap_or(0)),
                model: row.target_model.clone(),
                from_ledger,
            },
        }
    }
}

impl Runner<'_> {
    /// Reverts the last applied plan, or every plan after `to`. Plans the ledger records
    /// that the directory lacks are reverted from the ledger's copy; a half-applied plan is
    /// taken back to the state before it. Steps that would destroy rows run only when
    /// acknowledged (`accept_data_loss`, or `data-loss` in the plan's
    /// `[review] revert_acknowledged`).
    pub async fn revert(
        &self,
        chain: &[&PlanFile],
        to: Option<&str>,
        force: bool,
    ) -> Result<Outcome> {
        let rows = self.ledger().await?;
        let at = position(chain, &rows)?;
        let mut items: Vec<Item> = Vec::new();
        for row in at.orphans.iter().rev() {
            let plan = row.plan_file().ok_or_else(|| {
                Error::Refused(
                    Refusal::Drift,
                    format!(
                        "plan {} is applied to this database, and neither the plans directory nor \
                     the ledger has its steps (a strata before 0.2 applied it): restore its \
                     plan file from version control to revert it",
                        row.plan_id
                    ),
                )
            })?;
            items.push(Item::for_row(row, plan, true));
        }
        if let Some(row) = &at.partial {
            items.push(Item::for_row(row, chain[at.applied].clone(), false));
        }
        for i in (0..at.applied).rev() {
            items.push(Item::Revert {
                plan: chain[i].clone(),
                position: rows[i].position,
                resume: None,
                model: rows[i].target_model.clone(),
                from_ledger: false,
            });
        }
        if items.is_empty() && at.superseded > 0 {
            let root = &chain[0].head;
            return Err(Error::Refused(
                Refusal::User,
                format!(
                    "this database is at the end of the chain that plan {} replaces after a \
                     PostgreSQL major upgrade ({} plan(s), last {}, written on another major \
                     and moved out of the plans directory): strata does not revert across a \
                     major upgrade; run `strata apply` to record the new root, and revert \
                     plans written after it; nothing was changed",
                    root.id,
                    root.supersedes.len(),
                    root.supersedes.last().map_or("", |s| s.id.as_str())
                ),
            ));
        }
        if items.is_empty() {
            return Err(Error::Refused(
                Refusal::User,
                "no plan is applied: nothing to revert".into(),
            ));
        }
        let count = match to {
            Some(id) => {
                let k = items
                    .iter()
                    .position(|item| item.plan().head.id == id)
                    .ok_or_else(|| {
                        Error::Refused(
                            Refusal::User,
                            format!("--to {id}: no such plan is applied to this database"),
                        )
                    })?;
                if k == 0 {
                    return Err(Error::Refused(
                        Refusal::User,
                        format!(
                            "--to {id}: it is the last plan applied; nothing after it to revert"
                        ),
                    ));
                }
                k
            }
            None => 1,
        };
        let mut targets: Vec<Item> = items.into_iter().take(count).collect();
        let plans: Vec<&PlanFile> = targets.iter().map(Item::plan).collect();
        self.same_major(&plans)?;
        for item in &targets {
            let plan = item.plan();
            if matches!(item, Item::Revert { .. })
                && self.settings.require_review
                && plan.unacknowledged_revert()
            {
                return Err(Error::Refused(
                    Refusal::Unacknowledged,
                    format!(
                        "plan {} has hand-written revert steps (custom-sql) no reviewer acknowledged \
                     (list custom-sql in its [review] revert_acknowledged); nothing was changed",
                        plan.head.id
                    ),
                ));
            }
            if plan.head.baseline {
                return Err(Error::Refused(
                    Refusal::User,
                    format!(
                        "plan {} is a baseline (the state strata started from): it cannot be reverted",
                        plan.head.id
                    ),
                ));
            }
            let done = match item {
                Item::Revert { .. } => plan.head.steps.len(),
                Item::Undo { row, .. } => usize::try_from(row.steps_done).unwrap_or(0),
            };
            let irreversible = plan.head.steps[..done.min(plan.head.steps.len())]
                .iter()
                .position(|s| s.hazards.contains(&Hazard::Irreversible));
            if !force && let Some(n) = irreversible {
                return Err(Error::Refused(
                    Refusal::Unacknowledged,
                    format!(
                        "plan {} cannot be reverted: step {} ({}) destroyed data that reverting \
                     cannot bring back; pass --force to restore the schema anyway",
                        plan.head.id,
                        n + 1,
                        plan.head.steps[n].summary
                    ),
                ));
            }
        }
        // A half-applied plan is always the newest: plan its way back now.
        if let Some(Item::Undo { plan, row }) = targets.first_mut() {
            *plan = self.undo_plan(plan, row).await?;
        }
        self.acknowledged_losses(&targets).await?;
        let mut outcome = Outcome::default();
        for item in &targets {
            match item {
                Item::Revert {
                    plan,
                    position,
                    resume,
                    model,
                    ..
                } => {
                    self.run_plan(
                        plan,
                        Direction::Revert,
                        *position,
                        *resume,
                        model.as_ref(),
                        &outcome,
                        &[],
                    )
                    .await?;
                }
                Item::Undo { plan, row } => {
                    self.run_plan(
                        plan,
                        Direction::Undo,
                        row.position,
                        None,
                        None,
                        &outcome,
                        &[],
                    )
                    .await?;
                }
            }
            outcome.plans.push(item.plan().head.id.clone());
        }
        outcome.notes = self.take_notes();
        Ok(outcome)
    }

    /// The plan with its revert steps replaced by the steps from the database as it is now
    /// back to the state the plan started from (recorded in the ledger when it started).
    async fn undo_plan(&self, plan: &PlanFile, row: &ledger::Row) -> Result<PlanFile> {
        // Planned from the live state to the start state, renames done would come back as
        // drops and creations: refused rather than risk the renamed tables' rows.
        if !plan.head.renames.is_empty() {
            return Err(Error::Refused(
                Refusal::Drift,
                format!(
                    "plan {} was left half applied and starts with renames: strata does not take \
                     back a half-applied plan that renames (it would drop and create what was \
                     renamed). Finish it with `strata apply`, or rename back and restore its \
                     start state by hand, then run `strata apply --abandon {}`; nothing was \
                     changed",
                    plan.head.id, plan.head.id
                ),
            ));
        }
        let source = row
            .source_catalog
            .as_ref()
            .and_then(Catalog::from_stored)
            .ok_or_else(|| {
                Error::Refused(Refusal::Drift, format!(
                    "plan {} was left half applied, and the ledger does not record the state it \
                     started from (a strata before 0.2 ran it): restore that state by hand, \
                     then run `strata apply --abandon {}`",
                    row.plan_id, row.plan_id
                ))
            })?;
        let live = self.live().await?;
        let back = crate::plan::plan(&live, &source)?;
        let foreign = outside_the_plan(plan, &back.steps, &source, &live);
        if !foreign.is_empty() {
            let mut message = format!(
                "the database also changed outside plan {} since it stopped; taking the plan \
                 back would undo these changes too, so nothing was changed:",
                plan.head.id
            );
            for line in &foreign {
                message.push_str(&format!("\n  - {line}"));
            }
            message.push_str(&format!(
                "\nBring those objects back in line first, or restore the plan's start state by \
                 hand and run `strata apply --abandon {}`.",
                plan.head.id
            ));
            return Err(Error::Refused(Refusal::Drift, message));
        }
        let timeouts = StepTimeouts::default();
        let mut undo = plan.clone();
        undo.head.revert = back
            .steps
            .iter()
            .map(|s| PlannedStep::from_step(s, &timeouts))
            .collect();
        undo.head.revert_roles = back.roles;
        (self.report)(&format!(
            "plan {} was left half applied ({} of {} steps): taking back what ran, in {} step(s)",
            plan.head.id,
            row.steps_done,
            plan.head.steps.len(),
            undo.head.revert.len()
        ));
        Ok(undo)
    }

    /// Refuses when the steps would destroy rows that no one acknowledged.
    async fn acknowledged_losses(&self, targets: &[Item]) -> Result<()> {
        let live = self.live().await?;
        let mut unacknowledged: Vec<(String, Loss)> = Vec::new();
        for item in targets {
            let plan = item.plan();
            let first = match item {
                Item::Revert { resume, .. } => resume.unwrap_or(0),
                Item::Undo { .. } => 0,
            };
            // A review covers the plan's own revert steps, which it read; steps planned now
            // to take back a half-applied plan need this run's acknowledgement.
            let reviewed = matches!(item, Item::Revert { .. })
                && plan.review.revert_acknowledged.contains(&Hazard::DataLoss);
            if self.settings.accept_data_loss || reviewed {
                continue;
            }
            for loss in losses::of_steps(&self.work, &live.model, &plan.head.revert, first).await? {
                unacknowledged.push((plan.head.id.clone(), loss));
            }
        }
        if unacknowledged.is_empty() {
            return Ok(());
        }
        let reviewable = targets.iter().all(|t| {
            matches!(
                t,
                Item::Revert {
                    from_ledger: false,
                    ..
                }
            )
        });
        let mut message = String::from(
            "reverting would destroy data that no one acknowledged; nothing was changed:",
        );
        for (plan, loss) in &unacknowledged {
            message.push_str(&format!(
                "\n  - plan {plan}, step {} ({}): {}",
                loss.step, loss.summary, loss.what
            ));
        }
        message.push_str(if reviewable {
            "\nPass --accept-data-loss to revert anyway (or list \"data-loss\" in the plan's \
             [review] revert_acknowledged)."
        } else {
            "\nPass --accept-data-loss to revert anyway."
        });
        Err(Error::Refused(Refusal::Unacknowledged, message))
    }

    /// Records an interrupted plan as abandoned, once the user restored by hand the state
    /// it started from (a half-applied plan: it is pending again) or, for an interrupted
    /// revert, the state the plan left (it is applied again).
    pub async fn abandon(&self, id: &str) -> Result<String> {
        let rows = self.ledger().await?;
        let Some(index) = rows.iter().position(|r| r.plan_id == id) else {
            return Err(Error::Refused(
                Refusal::User,
                format!("--abandon {id}: the ledger of this database has no such plan"),
            ));
        };
        let row = &rows[index];
        if row.is_applied() {
            return Err(Error::Refused(
                Refusal::User,
                format!(
                    "--abandon {id}: the plan is applied completely, not interrupted (use `strata \
                 revert` to take it back)"
                ),
            ));
        }
        let reverting = row.state == "reverting";
        let (expected, model) = if reverting {
            (&row.target_fingerprint, row.target_model.clone())
        } else {
            let model = row
                .source_catalog
                .as_ref()
                .and_then(Catalog::from_stored)
                .map(|c| serde_json::to_value(&c.model).unwrap_or_default())
                .or_else(|| {
                    index
                        .checked_sub(1)
                        .and_then(|i| rows[i].target_model.clone())
                });
            (&row.source_fingerprint, model)
        };
        let live = self.live().await?;
        if &live.model.fingerprint() != expected {
            let mut message = format!(
                "--abandon {id}: the database is not in the state the plan {}; restore it \
                 first (nothing was changed):",
                if reverting { "left" } else { "started from" }
            );
            let expected: Option<crate::model::Model> =
                model.and_then(|m| serde_json::from_value(m).ok());
            let lines = expected
                .map(|m| differences(&m, &live.model))
                .unwrap_or_default();
            for line in lines.iter().take(50) {
                message.push_str(&format!("\n  - {line}"));
            }
            return Err(Error::Refused(Refusal::Drift, message));
        }
        self.exec("BEGIN")
            .await
            .map_err(|e| Error::database("starting a transaction", &e))?;
        let recorded = if reverting {
            ledger::abandon_revert(&self.work, id).await
        } else {
            ledger::forget(&self.work, id, "abandon").await
        };
        match recorded {
            Ok(()) => self
                .exec("COMMIT")
                .await
                .map_err(|e| Error::database("committing", &e))?,
            Err(e) => {
                let _ = self.exec("ROLLBACK").await;
                return Err(e);
            }
        }
        Ok(if reverting {
            format!("abandoned the revert of {id}: it is recorded as applied again")
        } else {
            format!("abandoned {id}: it is pending again (fix or discard it, then apply)")
        })
    }
}

/// The steps of `undo` that act on objects the half-applied plan's steps do not touch:
/// changes made outside the plan since it stopped, which taking it back must not undo.
fn outside_the_plan(
    plan: &PlanFile,
    undo: &[crate::plan::Step],
    source: &Catalog,
    live: &Catalog,
) -> Vec<String> {
    use crate::model::ObjectId;
    use std::collections::BTreeSet;
    let mut touched: BTreeSet<&ObjectId> = BTreeSet::new();
    for step in &plan.head.steps {
        match &step.object {
            Some(object) => {
                touched.insert(object);
            }
            // A plan written before steps recorded their objects: nothing to compare with.
            None => return Vec::new(),
        }
    }
    let index_table = |name: &crate::sql::QualName| {
        live.model
            .indexes
            .get(name)
            .or_else(|| source.model.indexes.get(name))
            .map(|i| i.table.clone())
    };
    let table_of = |o: &ObjectId| -> Option<crate::sql::QualName> {
        match o {
            ObjectId::Table(t)
            | ObjectId::Column(t, _)
            | ObjectId::ColumnDefault(t, _)
            | ObjectId::Constraint(t, _)
            | ObjectId::Trigger(t, _)
            | ObjectId::Policy(t, _) => Some(t.clone()),
            ObjectId::Index(i) => index_table(i),
            _ => None,
        }
    };
    let tables: BTreeSet<crate::sql::QualName> =
        touched.iter().filter_map(|o| table_of(o)).collect();
    let types: BTreeSet<String> = touched
        .iter()
        .filter_map(|o| match o {
            ObjectId::Type(t) => Some(t.to_string()),
            _ => None,
        })
        .collect();
    let column_type = |t: &crate::sql::QualName, c: &str| {
        [&live.model, &source.model]
            .iter()
            .filter_map(|m| m.tables.get(t).and_then(|t| t.columns.get(c)))
            .map(|c| c.data_type.trim_end_matches("[]").to_owned())
            .collect::<Vec<_>>()
    };
    let allowed = |o: &ObjectId| -> bool {
        if touched.contains(o) {
            return true;
        }
        match o {
            ObjectId::Column(t, c) | ObjectId::ColumnDefault(t, c) => {
                touched.contains(&ObjectId::Table(t.clone()))
                    || touched.contains(&ObjectId::Column(t.clone(), c.clone()))
                    || touched.contains(&ObjectId::ColumnDefault(t.clone(), c.clone()))
                    || column_type(t, c).iter().any(|ty| types.contains(ty))
            }
            ObjectId::Constraint(..)
            | ObjectId::Trigger(..)
            | ObjectId::Policy(..)
            | ObjectId::Index(_) => table_of(o).is_some_and(|t| tables.contains(&t)),
            ObjectId::SequenceOwner(s) => touched.contains(&ObjectId::Sequence(s.clone())),
            ObjectId::Sequence(s) => touched.contains(&ObjectId::SequenceOwner(s.clone())),
            _ => false,
        }
    };
    undo.iter()
        .filter(|step| step.object.as_ref().is_some_and(|o| !allowed(o)))
        .map(|step| step.summary.clone())
        .collect()
}
