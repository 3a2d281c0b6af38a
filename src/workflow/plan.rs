//! `strata plan`: the next plan file, from the head of the chain to `schema/`.

use std::path::PathBuf;

use super::{Project, desired_state, head_state, same_major, timestamp, verified_chain};
use crate::db::DbUrl;
use crate::db::shadow::DevServer;
use crate::error::{Error, Refusal, Result};
use crate::model::Catalog;
use crate::plan::Plan;
use crate::planfile::{PlanFile, PlanHead, load_dir_or_empty, plan_id};
use crate::source::Schema;

/// A plan written (or, with `dry_run`, only shown).
#[derive(Debug)]
pub struct NewPlans {
    /// The plans written, in order: a drift-adoption plan first when `--from-database`
    /// found drift, then the plan to `schema/`.
    pub plans: Vec<(PathBuf, PlanFile, Plan)>,
}

/// Options of `strata plan`.
#[derive(Debug, Default)]
pub struct PlanOptions {
    pub message: String,
    pub dry_run: bool,
    pub from_database: Option<DbUrl>,
}

#[allow(clippy::too_many_arguments)]
fn head_for(
    project: &Project,
    id: String,
    parent: Option<String>,
    message: String,
    from: &Catalog,
    to: &Catalog,
    plan: &Plan,
    adopts: bool,
) -> PlanHead {
    PlanHead::planned(
        id,
        parent,
        message,
        from,
        to,
        plan,
        &project.timeouts,
        adopts,
    )
}

/// A plan id that no plan in the directory has (the next second if needed).
fn fresh_id(taken: &dyn Fn(&str) -> bool, message: &str) -> String {
    let mut stamp: u64 = timestamp().parse().unwrap_or(0);
    loop {
        let id = plan_id(&stamp.to_string(), message);
        if !taken(&id) {
            return id;
        }
        stamp += 1;
    }
}

/// Plans the next change. `Ok(None)`: `schema/` is already the head's state.
pub async fn plan(
    project: &Project,
    dev: &DevServer,
    schema: &Schema,
    options: &PlanOptions,
) -> Result<Option<NewPlans>> {
    let chain = load_dir_or_empty(&project.plans)?;
    let order = verified_chain(&chain)?;
    let desired = desired_state(dev, schema).await?;
    same_major(&order, desired.major_version())?;
    let (head, _) = head_state(dev, schema, &order).await?;

    let mut sources: Vec<(String, Catalog)> = Vec::new();
    if let Some(url) = &options.from_database {
        let client = url.connect().await?;
        let rows = crate::apply::ledger::read(&client).await?;
        if rows.is_empty() {
            return Err(Error::Refused(
                Refusal::User,
                format!(
                    "{url} has no strata ledger: strata never applied plans there, so it cannot \
                 tell which of its differences from the plans were made outside strata. To \
                 adopt an existing database, run `strata baseline` with an empty plans \
                 directory; to bring it to the plans, run `strata apply` (nothing was written)"
                ),
            ));
        }
        let at = crate::apply::position(&order, &rows)?;
        if !at.orphans.is_empty() {
            return Err(Error::Refused(
                Refusal::Drift,
                crate::apply::orphans_message(&at.orphans),
            ));
        }
        if at.applied != order.len() || at.partial.is_some() {
            return Err(Error::Refused(
                Refusal::Drift,
                format!(
                    "{url} is not at the head of the chain ({} of {} plans applied): apply the \
                 pending plans first",
                    at.applied,
                    order.len()
                ),
            ));
        }
        let live = crate::catalog::introspect(&client).await?;
        if live.major_version() != desired.major_version() {
            return Err(Error::Refused(
                Refusal::Major,
                format!(
                    "{url} runs PostgreSQL {} and the shadow server {}: pass --dev-url to a server \
                 of the database's major",
                    live.major_version(),
                    desired.major_version()
                ),
            ));
        }
        if live.model.fingerprint() != head.model.fingerprint() {
            sources.push(("adopt changes made outside strata".to_owned(), live));
        }
    }

    let taken = |id: &str| {
        chain.plans.contains_key(id) || project.plans.join(format!("{id}.toml")).exists()
    };
    let mut written: Vec<(PathBuf, PlanFile, Plan)> = Vec::new();
    let mut parent = order.last().map(|p| p.head.id.clone());
    let mut from = head;
    // Drift found with --from-database is recorded first as its own plan, so that the chain
    // still replays from empty: on shadows its steps run, on the database it describes they
    // are already done.
    for (message, live) in sources {
        let plan = crate::plan::plan(&from, &live)?;
        let id = fresh_id(
            &|id| taken(id) || written.iter().any(|w| w.1.head.id == id),
            &message,
        );
        let head = head_for(
            project,
            id,
            parent.clone(),
            message,
            &from,
            &live,
            &plan,
            true,
        );
        let file = PlanFile::parse(&PlanFile::render(&head)).map_err(|e| Error::Plans(e.0))?;
        parent = Some(file.head.id.clone());
        written.push((
            project.plans.join(format!("{}.toml", file.head.id)),
            file,
            plan,
        ));
        from = live;
    }
    let renaming = super::renaming(dev, schema, &from, &desired).await?;
    let plan = crate::plan::plan_renaming(&from, renaming.as_ref(), &desired)?;
    if !plan.is_empty() {
        let message = if options.message.is_empty() {
            "schema change".to_owned()
        } else {
            options.message.clone()
        };
        let id = fresh_id(
            &|id| taken(id) || written.iter().any(|w| w.1.head.id == id),
            &message,
        );
        let head = head_for(project, id, parent, message, &from, &desired, &plan, false)
            .renaming(renaming.as_ref());
        let file = PlanFile::parse(&PlanFile::render(&head)).map_err(|e| Error::Plans(e.0))?;
        written.push((
            project.plans.join(format!("{}.toml", file.head.id)),
            file,
            plan,
        ));
    }
    if written.is_empty() {
        return Ok(None);
    }
    if !options.dry_run {
        std::fs::create_dir_all(&project.plans).map_err(|e| Error::io(&project.plans, e))?;
        for (path, file, _) in &written {
            std::fs::write(path, PlanFile::render(&file.head)).map_err(|e| Error::io(path, e))?;
        }
        let mut all = order.clone();
        all.extend(written.iter().map(|w| &w.1));
        chain.write_sum(&all)?;
    }
    Ok(Some(NewPlans { plans: written }))
}
