//! `strata baseline`: adopts a database that predates strata. Writes a root plan whose
//! target is the database's current state (its steps recreate that state on shadows and
//! new databases) and records it as applied there, without running anything.

use std::path::PathBuf;

use super::{Project, timestamp};
use crate::apply::with_runner;
use crate::db::DbUrl;
use crate::db::shadow::{self, DevServer};
use crate::error::{Error, Refusal, Result};
use crate::planfile::{
    FORMAT, PlanFile, PlanHead, PlannedStep, load_dir, load_dir_or_empty, plan_id,
};

/// What `baseline` wrote.
#[derive(Debug)]
pub struct Baselined {
    /// The root plan.
    pub plan: PathBuf,
    /// The database's schema, written when `schema/` held no SQL (as `inspect` prints it),
    /// so that the next plan starts empty.
    pub schema: Option<PathBuf>,
}

/// Whether a directory holds any `*.sql` file (at any depth).
fn has_sql(dir: &std::path::Path) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    entries.filter_map(|e| e.ok()).any(|e| {
        let path = e.path();
        if path.is_dir() {
            has_sql(&path)
        } else {
            path.extension().is_some_and(|x| x == "sql")
        }
    })
}

pub async fn baseline(
    project: &Project,
    dev: &DevServer,
    url: &DbUrl,
    report: &(dyn Fn(&str) + Sync),
) -> Result<Baselined> {
    let chain = load_dir_or_empty(&project.plans)?;
    if !chain.plans.is_empty() {
        return Err(Error::Refused(
            Refusal::User,
            format!(
                "{} already has plans: a baseline must be the first plan of a chain",
                project.plans.display()
            ),
        ));
    }
    let live = crate::db::read_catalog(url).await?;
    let empty = shadow::empty_catalog(dev).await?;
    if empty.major_version() != live.major_version() {
        return Err(Error::Refused(
            Refusal::Major,
            format!(
                "the database runs PostgreSQL {} and the shadow server {}: pass --dev-url to a \
             server of the database's major",
                live.major_version(),
                empty.major_version()
            ),
        ));
    }
    let plan = crate::plan::plan(&empty, &live)?;
    let head = PlanHead {
        format: FORMAT,
        id: plan_id(&timestamp(), "baseline"),
        parent: None,
        message: format!("baseline of {url}"),
        postgres_major: live.major_version(),
        source_fingerprint: empty.model.fingerprint(),
        target_fingerprint: live.model.fingerprint(),
        baseline: true,
        adopts: false,
        steps: PlannedStep::ordered(&plan.steps, &plan.edges, &project.timeouts),
        revert: Vec::new(),
        roles: plan.roles.clone(),
        revert_roles: Vec::new(),
        planner: crate::planfile::verify::PLANNER,
        target: Some(crate::planfile::state::TargetState::encode(&live)),
        renames: Vec::new(),
        renamed: None,
        supersedes: Vec::new(),
        notes: Vec::new(),
    };
    let text = PlanFile::render(&head);
    let file = PlanFile::parse(&text).map_err(|e| Error::Plans(e.0))?;
    std::fs::create_dir_all(&project.plans).map_err(|e| Error::io(&project.plans, e))?;
    let path = project.plans.join(format!("{}.toml", head.id));
    with_runner(url, &project.apply, report, async |runner| {
        runner.record_baseline(&file).await
    })
    .await?;
    std::fs::write(&path, &text).map_err(|e| Error::io(&path, e))?;
    load_dir(&project.plans)?.write_sum(&[&file])?;
    let mut schema = None;
    if !has_sql(&project.schema) {
        std::fs::create_dir_all(&project.schema).map_err(|e| Error::io(&project.schema, e))?;
        let target = project.schema.join("baseline.sql");
        let sql = crate::inspect::to_sql(&live)?;
        std::fs::write(&target, sql).map_err(|e| Error::io(&target, e))?;
        schema = Some(target);
    }
    Ok(Baselined { plan: path, schema })
}
