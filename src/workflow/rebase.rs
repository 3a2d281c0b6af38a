//! `strata rebase`: resolves divergent plan heads. The branch whose first plan sorts first
//! is kept as it is; the other branch's plans are deleted and the merged `schema/` is
//! re-planned on top of the kept head.

use std::path::PathBuf;

use super::Project;
use super::plan::{NewPlans, PlanOptions};
use crate::db::shadow::DevServer;
use crate::error::{Error, Refusal, Result};
use crate::planfile::{Chain, SumFile, load_dir};
use crate::source::Schema;

#[derive(Debug)]
pub struct Rebased {
    pub kept: Vec<String>,
    pub removed: Vec<(String, String)>,
    pub written: Option<NewPlans>,
}

/// Plans of the kept side must be unchanged: each must match a line of the sum file (of
/// either side of a git conflict).
fn verify_kept(chain: &Chain, kept: &[String]) -> Result<()> {
    let sum = match &chain.sum {
        Some(text) => SumFile::parse(text).map_err(|m| Error::Refused(Refusal::Tampering, m))?,
        None => SumFile::default(),
    };
    for id in kept {
        let plan = &chain.plans[id].1;
        let listed = sum
            .entries
            .iter()
            .any(|(i, c)| i == id && *c == plan.checksum);
        if !listed {
            return Err(Error::Refused(
                Refusal::Tampering,
                format!(
                    "plan {id} does not match any line of plans/strata.sum: it was edited after it \
                 was planned, so strata will not rebase onto it"
                ),
            ));
        }
    }
    Ok(())
}

pub async fn rebase(
    project: &Project,
    dev: &DevServer,
    schema: &Schema,
    message: &str,
) -> Result<Rebased> {
    let chain = load_dir(&project.plans)?;
    if let Some(cycle) = chain.cycle() {
        return Err(Error::Refused(
            Refusal::Divergence,
            crate::planfile::ChainError::Cycle(cycle).to_string(),
        ));
    }
    let Some((parent, mut branches)) = chain.divergence() else {
        return Err(Error::Refused(
            Refusal::User,
            "the plans form one chain: there is nothing to rebase".into(),
        ));
    };
    branches.sort();
    let keep_first = branches[0].clone();
    let mut kept: Vec<String> = Vec::new();
    let mut at = parent.clone();
    // The common trunk up to the parent, then the kept branch.
    let mut trunk = Vec::new();
    while let Some(id) = at {
        trunk.push(id.clone());
        at = chain.plans[&id].1.head.parent.clone();
    }
    trunk.reverse();
    kept.extend(trunk);
    kept.extend(chain.branch(&keep_first));
    verify_kept(&chain, &kept)?;
    let mut removed: Vec<(String, String)> = Vec::new();
    let mut paths: Vec<PathBuf> = Vec::new();
    for first in &branches[1..] {
        for id in chain.branch(first) {
            let (path, plan) = &chain.plans[&id];
            removed.push((id.clone(), plan.head.message.clone()));
            paths.push(path.clone());
        }
    }
    for path in &paths {
        std::fs::remove_file(path).map_err(|e| Error::io(path, e))?;
    }
    // Rewrite the sum for the kept line, then plan the merged schema/ on top.
    let mut reloaded = load_dir(&project.plans)?;
    reloaded.sum = None;
    let order = reloaded
        .linear()
        .map_err(|e| Error::Refused(Refusal::Divergence, e.to_string()))?;
    reloaded.write_sum(&order)?;
    let message = if message.is_empty() {
        let messages: Vec<&str> = removed.iter().map(|(_, m)| m.as_str()).collect();
        format!("rebased: {}", messages.join("; "))
    } else {
        message.to_owned()
    };
    let options = PlanOptions {
        message,
        dry_run: false,
        from_database: None,
        start_again: false,
    };
    let written = super::plan::plan(project, dev, schema, &options).await?;
    Ok(Rebased {
        kept,
        removed,
        written,
    })
}
