//! What a plan must be before it runs: the plan strata itself plans from the database's
//! state (tampering), planned on the database's major, its hazards acknowledged.

use super::Runner;
use crate::error::{Error, Refusal, Result};
use crate::model::Catalog;
use crate::planfile::PlanFile;

impl Runner<'_> {
    /// Before a plan's first step: the plan must be what strata plans from the database's
    /// state (`source`) to its recorded target state, or it is refused. A format-1 plan
    /// (written before plans recorded target states) cannot be re-derived before it runs:
    /// it is re-derived after it ran where the settings ask for it (shadow replays), and
    /// noted otherwise. Returns the decoded target state.
    pub(super) fn verify_before(
        &self,
        plan: &PlanFile,
        source: &Catalog,
    ) -> Result<Option<Catalog>> {
        use crate::planfile::verify;
        if self.settings.require_review {
            let claims = verify::claims(plan);
            if !claims.is_empty() {
                return Err(Error::Refused(
                    Refusal::Tampering,
                    format!(
                        "plan {}: {}; nothing was changed",
                        plan.head.id,
                        claims.join("; ")
                    ),
                ));
            }
        }
        let Some(state) = &plan.head.target else {
            if plan.head.format >= 2 {
                return Err(Error::Refused(
                    Refusal::Tampering,
                    format!(
                        "plan {} is of format {} but records no [target] state (the plan file was \
                     edited); nothing was changed",
                        plan.head.id, plan.head.format
                    ),
                ));
            }
            if !self.settings.verify_after {
                self.note(format!(
                    "plan {} records no target state (format 1, written by strata before 0.2): \
                     its steps could not be re-derived before they ran (`strata check` \
                     re-derives them on a shadow; signing the chain protects them)",
                    plan.head.id
                ));
            }
            return Ok(None);
        };
        let target = state.decode().map_err(|e| {
            Error::Refused(
                Refusal::Tampering,
                format!("plan {}: {e}; nothing was changed", plan.head.id),
            )
        })?;
        if target.model.fingerprint() != plan.head.target_fingerprint {
            return Err(Error::Refused(
                Refusal::Tampering,
                format!(
                    "plan {}: its recorded target state is not the state its target_fingerprint \
                 names (the plan file was edited); nothing was changed",
                    plan.head.id
                ),
            ));
        }
        self.judge(plan, verify::compare(plan, source, &target)?)?;
        Ok(Some(target))
    }

    /// Refuses a plan that is not what strata plans for it.
    pub(super) fn judge(
        &self,
        plan: &PlanFile,
        verdict: crate::planfile::verify::Verdict,
    ) -> Result<()> {
        let crate::planfile::verify::Verdict::Differs(lines) = verdict else {
            return Ok(());
        };
        let mut message = format!(
            "plan {} is not what strata plans for it (edited after it was planned?); nothing \
             was changed:",
            plan.head.id
        );
        for line in &lines {
            message.push_str(&format!("\n  - {line}"));
        }
        message.push_str(
            "\nA step written by hand must say `custom = true` and carry the custom-sql hazard \
             (then `strata seal` records the plan).",
        );
        Err(Error::Refused(Refusal::Tampering, message))
    }

    /// Refuses plans planned on another PostgreSQL major than the database runs: their
    /// recorded states cannot be verified here (definitions print differently).
    pub(super) fn same_major(&self, plans: &[&PlanFile]) -> Result<()> {
        match plans.iter().find(|p| p.head.postgres_major != self.major) {
            Some(plan) => Err(Error::Refused(
                Refusal::Major,
                format!(
                    "plan {} was planned on PostgreSQL {} and the database runs {}: definitions \
                 print differently across majors, so its states cannot be verified; nothing \
                 was changed (re-plan on a shadow of the database's major with --dev-url)",
                    plan.head.id, plan.head.postgres_major, self.major
                ),
            )),
            None => Ok(()),
        }
    }

    /// Refuses plans whose hazards no reviewer acknowledged (unless the settings say the
    /// database is a throwaway shadow).
    pub(super) fn reviewed(&self, plans: &[&PlanFile]) -> Result<()> {
        if !self.settings.require_review {
            return Ok(());
        }
        for plan in plans {
            let missing = plan.unacknowledged();
            if !missing.is_empty() {
                let ids: Vec<&str> = missing.iter().map(|h| h.id()).collect();
                return Err(Error::Refused(
                    Refusal::Unacknowledged,
                    format!(
                        "plan {} has hazards no reviewer acknowledged: {} (list them in its \
                     [review] table); nothing was changed",
                        plan.head.id,
                        ids.join(", ")
                    ),
                ));
            }
        }
        Ok(())
    }
}
