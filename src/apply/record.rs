//! Plans recorded as applied without running their steps: an adoption (the database already
//! has its changes), the root that replaces a chain after a PostgreSQL major upgrade, a
//! baseline.

use super::{Runner, ledger};
use crate::catalog;
use crate::error::{Error, Refusal, Result};
use crate::planfile::PlanFile;

impl Runner<'_> {
    /// Records an adoption plan as applied if the database already is in its target state.
    pub(super) async fn adopt(&self, plan: &PlanFile, position: i32) -> Result<bool> {
        let live = catalog::introspect(&self.work).await?;
        if live.model.fingerprint() != plan.head.target_fingerprint {
            return Ok(false);
        }
        let model = serde_json::to_value(&live.model).unwrap_or_default();
        ledger::start_apply(&self.work, plan, position, false, None).await?;
        ledger::finish_apply(&self.work, &plan.head.id, &model, "adopt").await?;
        (self.report)(&format!(
            "adopted {}: the database already has these changes (made outside strata)",
            plan.head.id
        ));
        Ok(true)
    }

    /// Records the root of a chain that replaces the one the database applied (after a
    /// PostgreSQL major upgrade) without running its steps: the database must already be
    /// its target state. The replaced plans' ledger rows go, in the same transaction (their
    /// plans are in the plan file's `supersedes`, and the ones before a root are never
    /// reverted).
    pub(super) async fn supersede(&self, plan: &PlanFile) -> Result<()> {
        let live = catalog::introspect(&self.work).await?;
        if live.model.fingerprint() != plan.head.target_fingerprint {
            let expected = plan.head.target_differences(&live.model);
            let mut message = format!(
                "plan {} starts the chain again from the upgraded database it was planned on, \
                 and this database is not that state; nothing was changed:",
                plan.head.id
            );
            for line in expected.iter().take(50) {
                message.push_str(&format!("\n  - {line}"));
            }
            return Err(Error::Refused(Refusal::Drift, message));
        }
        let model = serde_json::to_value(&live.model).unwrap_or_default();
        self.in_transaction(async {
            let ids: Vec<&str> = plan.head.supersedes.iter().map(|s| s.id.as_str()).collect();
            let removed = self
                .work
                .execute(
                    "DELETE FROM strata.ledger WHERE plan_id = ANY($1) AND state = 'applied'",
                    &[&ids],
                )
                .await
                .map_err(|e| Error::database("ledger: replacing the old chain's rows", &e))?;
            if usize::try_from(removed).unwrap_or(0) != ids.len() {
                return Err(Error::Refused(
                    Refusal::Drift,
                    "the ledger changed while the old chain's rows were replaced; nothing was \
                     changed"
                        .to_owned(),
                ));
            }
            ledger::start_apply(&self.work, plan, 0, true, None).await?;
            ledger::finish_apply(&self.work, &plan.head.id, &model, "baseline").await
        })
        .await?;
        (self.report)(&format!(
            "recorded {}: the database already is its state; it replaces {} plan(s) of \
             PostgreSQL before the upgrade",
            plan.head.id,
            plan.head.supersedes.len()
        ));
        Ok(())
    }

    /// Records a baseline plan as applied without running its steps.
    pub async fn record_baseline(&self, plan: &PlanFile) -> Result<()> {
        if !self.ledger().await?.is_empty() {
            return Err(Error::Refused(
                Refusal::User,
                "this database already has a strata ledger: a baseline is for databases that predate strata"
                    .into(),
            ));
        }
        let live = catalog::introspect(&self.work).await?;
        if live.model.fingerprint() != plan.head.target_fingerprint {
            return Err(Error::Refused(
                Refusal::Drift,
                "the database changed while the baseline was written".into(),
            ));
        }
        let model = serde_json::to_value(&live.model).unwrap_or_default();
        ledger::start_apply(&self.work, plan, 0, true, None).await?;
        ledger::finish_apply(&self.work, &plan.head.id, &model, "baseline").await
    }
}
