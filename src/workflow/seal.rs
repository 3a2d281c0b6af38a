//! `strata seal`: records a plan edited on purpose (a hand-written step added, marked
//! `custom = true` with the `custom-sql` hazard) in `plans/strata.sum`, after checking that
//! every other step is still exactly what strata plans for it. Only the head of the chain,
//! and only one no database has applied, can be sealed.

use super::{Project, replay};
use crate::db::DbUrl;
use crate::db::shadow::DevServer;
use crate::error::{Error, Refusal, Result};
use crate::planfile::verify::{self, Verdict};
use crate::planfile::{SumFile, load_dir};

pub async fn seal(
    project: &Project,
    dev: &DevServer,
    id: &str,
    database: Option<&DbUrl>,
) -> Result<String> {
    let chain = load_dir(&project.plans)?;
    let Some((_, plan)) = chain.plans.get(id) else {
        return Err(Error::Refused(
            Refusal::User,
            format!("no plan {id} in {}", project.plans.display()),
        ));
    };
    let order = chain
        .linear()
        .map_err(|e| Error::Refused(Refusal::Divergence, e.to_string()))?;
    if order.last().map(|p| p.head.id.as_str()) != Some(id) {
        return Err(Error::Refused(
            Refusal::User,
            format!("plan {id} is not the head of the chain: only the newest plan can be sealed"),
        ));
    }
    // Every other plan must still match the sum file: sealing never blesses them.
    let sum = match &chain.sum {
        Some(text) => SumFile::parse(text).map_err(|m| Error::Refused(Refusal::Tampering, m))?,
        None => SumFile::default(),
    };
    let parents = &order[..order.len() - 1];
    for other in parents {
        if !sum
            .entries
            .iter()
            .any(|(i, c)| *i == other.head.id && *c == other.checksum)
        {
            return Err(Error::Refused(
                Refusal::Tampering,
                format!(
                    "plan {} does not match plans/strata.sum: only the plan being sealed may differ",
                    other.head.id
                ),
            ));
        }
    }
    if let Some(url) = database {
        let client = url.connect().await?;
        if crate::apply::ledger::read(&client)
            .await?
            .iter()
            .any(|r| r.plan_id == id)
        {
            return Err(Error::Refused(
                Refusal::User,
                format!("plan {id} is applied on {url}: a sealed plan would no longer match it"),
            ));
        }
    }
    let claims = verify::claims(plan);
    if let Some(claim) = claims.first() {
        return Err(Error::Refused(
            Refusal::Tampering,
            format!("plan {id}: {claim}"),
        ));
    }
    let Some(state) = &plan.head.target else {
        return Err(Error::Refused(
            Refusal::User,
            format!("plan {id} records no target state (format 1): re-plan it to seal it"),
        ));
    };
    let target = state
        .decode()
        .map_err(|e| Error::Refused(Refusal::Tampering, format!("plan {id}: {e}")))?;
    if target.model.fingerprint() != plan.head.target_fingerprint {
        return Err(Error::Refused(
            Refusal::Tampering,
            format!(
                "plan {id}: its recorded target state is not the state its target_fingerprint names"
            ),
        ));
    }
    let (db, source) = replay(dev, parents).await?;
    db.drop_now().await?;
    if source.model.fingerprint() != plan.head.source_fingerprint {
        return Err(Error::Refused(
            Refusal::Tampering,
            format!("plan {id} does not start where the chain before it ends"),
        ));
    }
    if let Verdict::Differs(lines) = verify::compare(plan, &source, &target)? {
        return Err(Error::Refused(
            Refusal::Tampering,
            format!(
                "plan {id} is not what strata plans for it outside its custom steps:\n  - {}",
                lines.join("\n  - ")
            ),
        ));
    }
    chain.write_sum(&order)?;
    let custom = plan
        .head
        .steps
        .iter()
        .chain(&plan.head.revert)
        .filter(|s| s.custom)
        .count();
    Ok(format!(
        "sealed {id}: {custom} custom step(s); every other step is what strata plans"
    ))
}
