//! `strata plan`: the next plan file, from the head of the chain to `schema/`.

use std::path::PathBuf;

use super::{Project, desired_state, head_state, same_major, timestamp, verified_chain};
use crate::db::DbUrl;
use crate::db::shadow::{self, DevServer};
use crate::error::{Error, Refusal, Result};
use crate::model::Catalog;
use crate::plan::Plan;
use crate::planfile::{PlanFile, PlanHead, Superseded, load_dir_or_empty, plan_id};
use crate::source::Schema;

/// A plan written (or, with `dry_run`, only shown).
#[derive(Debug)]
pub struct NewPlans {
    /// The plans written, in order: a drift-adoption plan (or, after a PostgreSQL major
    /// upgrade, the new chain's root) first when `--from-database` found one needed, then
    /// the plan to `schema/`.
    pub plans: Vec<(PathBuf, PlanFile, Plan)>,
    /// Where the plans of the chain a major upgrade replaced were moved.
    pub moved: Option<PathBuf>,
    /// What the reviewer should know (how the upgraded database differs from the old
    /// chain's head, as each major prints it).
    pub notes: Vec<String>,
}

/// Options of `strata plan`.
#[derive(Debug, Default)]
pub struct PlanOptions {
    pub message: String,
    pub dry_run: bool,
    pub from_database: Option<DbUrl>,
    /// With `from_database` on a database upgraded to another major than the chain's: start
    /// the chain again from it (asked for explicitly: it moves the plans aside).
    pub start_again: bool,
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
    // On strata's own server, the plans are read while the desired state loads; a
    // `--dev-url` server is used only once they are checked.
    let read = {
        let dir = project.plans.clone();
        tokio::task::spawn_blocking(move || load_dir_or_empty(&dir))
    };
    let early = if dev.is_embedded() {
        Some(desired_state(dev, schema).await)
    } else {
        None
    };
    let chain = read
        .await
        .map_err(|e| Error::Plans(format!("reading {}: {e}", project.plans.display())))??;
    let order = verified_chain(&chain)?;
    let desired = match early {
        Some(desired) => desired?,
        None => desired_state(dev, schema).await?,
    };
    if let Some(url) = &options.from_database
        && let Some(old) = order.last().map(|p| p.head.postgres_major)
        && old != desired.major_version()
    {
        if !options.start_again {
            return Err(Error::Refused(
                Refusal::Major,
                format!(
                    "the plans were written on PostgreSQL {old} and the shadow server runs {}: \
                     after upgrading {url} to PostgreSQL {}, pass --start-again to start the \
                     chain again from it (the old plans move to {}/pg{old}/); otherwise plan on \
                     a shadow of PostgreSQL {old} (--dev-url). Nothing was written",
                    desired.major_version(),
                    desired.major_version(),
                    project.plans.display()
                ),
            ));
        }
        return upgrade(project, dev, schema, options, url, &chain, &order, &desired).await;
    }
    if options.start_again {
        return Err(Error::Refused(
            Refusal::User,
            "--start-again starts the chain again after a PostgreSQL major upgrade: it needs \
             --from-database and a database (and shadow) on another major than the plans'; \
             nothing was written"
                .to_owned(),
        ));
    }
    same_major(&order, desired.major_version())?;
    let (head, _) = head_state(dev, schema, &order).await?;

    let mut sources: Vec<(String, Catalog)> = Vec::new();
    if let Some(url) = &options.from_database {
        let client = url.connect().await?;
        at_head(url, &client, &order).await?;
        let live = crate::catalog::introspect(&client).await?;
        if live.major_version() != desired.major_version() {
            return Err(Error::Refused(
                Refusal::Major,
                format!(
                    "{url} runs PostgreSQL {} and the shadow server {}: pass --dev-url to a \
                     server of the database's major",
                    live.major_version(),
                    desired.major_version()
                ),
            ));
        }
        if live.model.fingerprint() != head.model.fingerprint() {
            sources.push(("adopt changes made outside strata".to_owned(), live));
        }
    }
    write_plans(
        project,
        dev,
        schema,
        options,
        &chain,
        &order,
        head,
        sources,
        &desired,
        None,
        Vec::new(),
    )
    .await
}

/// Refuses a database that is not exactly at the head of the chain (all plans applied, none
/// half done, none the directory lacks).
async fn at_head(url: &DbUrl, client: &tokio_postgres::Client, order: &[&PlanFile]) -> Result<()> {
    {
        let rows = crate::apply::ledger::read(client).await?;
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
        let at = crate::apply::position(order, &rows)?;
        if !at.orphans.is_empty() {
            return Err(Error::Refused(
                Refusal::Drift,
                crate::apply::orphans_message(&at.orphans),
            ));
        }
        if at.applied != order.len() || at.partial.is_some() || at.superseded > 0 {
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
    }
    Ok(())
}

/// Plans from `head` to `schema/` and writes the plans (after `first`, already made: the
/// root of a chain a major upgrade starts again), each adoption in `sources` first.
#[allow(clippy::too_many_arguments)]
async fn write_plans(
    project: &Project,
    dev: &DevServer,
    schema: &Schema,
    options: &PlanOptions,
    chain: &crate::planfile::Chain,
    order: &[&PlanFile],
    head: Catalog,
    sources: Vec<(String, Catalog)>,
    desired: &Catalog,
    first: Option<(PathBuf, PlanFile, Plan)>,
    notes: Vec<String>,
) -> Result<Option<NewPlans>> {
    let taken = |id: &str| {
        chain.plans.contains_key(id) || project.plans.join(format!("{id}.toml")).exists()
    };
    // After a major upgrade the chain starts again at `first`: the old plans move aside.
    let restart = first.is_some();
    let mut written: Vec<(PathBuf, PlanFile, Plan)> = first.into_iter().collect();
    let mut parent = match written.first() {
        Some(root) => Some(root.1.head.id.clone()),
        None => order.last().map(|p| p.head.id.clone()),
    };
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
    let renaming = super::renaming(dev, schema, &from, desired).await?;
    let plan = crate::plan::plan_renaming(&from, renaming.as_ref(), desired)?;
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
        let head = head_for(project, id, parent, message, &from, desired, &plan, false)
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
    let mut moved = None;
    let aside = order.last().filter(|_| restart).map(|last| {
        project
            .plans
            .join(format!("pg{}", last.head.postgres_major))
    });
    if let Some(aside) = &aside
        && aside.exists()
    {
        return Err(Error::Refused(
            Refusal::User,
            format!(
                "{} exists already: move it away to start the chain again (nothing was written)",
                aside.display()
            ),
        ));
    }
    if !options.dry_run {
        std::fs::create_dir_all(&project.plans).map_err(|e| Error::io(&project.plans, e))?;
        if let Some(aside) = aside {
            move_aside(chain, order, &aside)?;
            moved = Some(aside);
        }
        for (path, file, _) in &written {
            std::fs::write(path, PlanFile::render(&file.head)).map_err(|e| Error::io(path, e))?;
        }
        let mut all: Vec<&PlanFile> = if restart { Vec::new() } else { order.to_vec() };
        all.extend(written.iter().map(|w| &w.1));
        chain.write_sum(&all)?;
    }
    Ok(Some(NewPlans {
        plans: written,
        moved,
        notes,
    }))
}

/// Moves the plans of a replaced chain and their sum file into `aside` (a folder the
/// chain is not read from), keeping them for the record.
fn move_aside(
    chain: &crate::planfile::Chain,
    order: &[&PlanFile],
    aside: &std::path::Path,
) -> Result<()> {
    std::fs::create_dir_all(aside).map_err(|e| Error::io(aside, e))?;
    for plan in order {
        let Some((path, _)) = chain.plans.get(&plan.head.id) else {
            continue;
        };
        let to = aside.join(path.file_name().unwrap_or_default());
        std::fs::rename(path, &to).map_err(|e| Error::io(path, e))?;
    }
    let sum = chain.dir.join("strata.sum");
    if sum.exists() {
        std::fs::copy(&sum, aside.join("strata.sum")).map_err(|e| Error::io(&sum, e))?;
    }
    // The old chain's signature signs the old chain: it goes with it (CI signs the new one).
    let sig = chain.dir.join("strata.sig");
    if sig.exists() {
        std::fs::rename(&sig, aside.join("strata.sig")).map_err(|e| Error::io(&sig, e))?;
    }
    Ok(())
}

/// `plan --from-database` on a database upgraded to another PostgreSQL major than the
/// chain's: the chain starts again from the database as it is, with a root plan that
/// replaces the old chain (see [`crate::planfile::PlanHead::supersedes`]); the old plans move
/// to `plans/pg<old major>/`.
#[allow(clippy::too_many_arguments)]
async fn upgrade(
    project: &Project,
    dev: &DevServer,
    schema: &Schema,
    options: &PlanOptions,
    url: &DbUrl,
    chain: &crate::planfile::Chain,
    order: &[&PlanFile],
    desired: &Catalog,
) -> Result<Option<NewPlans>> {
    let client = url.connect().await?;
    at_head(url, &client, order).await?;
    let live = crate::catalog::introspect(&client).await?;
    let old = order.last().map_or(0, |p| p.head.postgres_major);
    if live.major_version() != desired.major_version() {
        return Err(Error::Refused(
            Refusal::Major,
            format!(
                "{url} runs PostgreSQL {} and the shadow server {}: to start the chain again \
                 after a major upgrade, plan on a shadow of the database's new major (pass \
                 --dev-url to a PostgreSQL {} server)",
                live.major_version(),
                desired.major_version(),
                live.major_version()
            ),
        ));
    }
    let mut notes = vec![format!(
        "{url} runs PostgreSQL {} and the plans were written on {old}: the chain starts again \
         from the database as it is; the {} old plan(s) move to plans/pg{old}/",
        live.major_version(),
        order.len()
    )];
    // What the reviewer should look at: how the database differs from the old head, as the
    // two majors print it (changes made outside strata show here too).
    if let Some(head) = order
        .last()
        .and_then(|p| p.head.target.as_ref())
        .and_then(|t| t.decode().ok())
    {
        let lines = crate::model::report::differences(&head.model, &live.model);
        if !lines.is_empty() {
            notes.push(format!(
                "the upgraded database differs from the old chain's head in {} place(s) (how \
                 PostgreSQL {} prints them, or changes made outside strata):",
                lines.len(),
                live.major_version()
            ));
            notes.extend(lines.into_iter().take(50).map(|l| format!("  - {l}")));
        }
    }
    let empty = shadow::empty_catalog(dev).await?;
    let plan = crate::plan::plan(&empty, &live)?;
    let message = format!("start again on PostgreSQL {}", live.major_version());
    let taken = |id: &str| {
        chain.plans.contains_key(id) || project.plans.join(format!("{id}.toml")).exists()
    };
    let mut head = PlanHead::planned(
        fresh_id(&taken, &message),
        None,
        message,
        &empty,
        &live,
        &plan,
        &project.timeouts,
        false,
    );
    head.baseline = true;
    head.revert = Vec::new();
    head.revert_roles = Vec::new();
    head.notes.clone_from(&notes);
    head.supersedes = order
        .iter()
        .map(|p| Superseded {
            id: p.head.id.clone(),
            checksum: p.checksum.clone(),
        })
        .collect();
    let file = PlanFile::parse(&PlanFile::render(&head)).map_err(|e| Error::Plans(e.0))?;
    let root = (
        project.plans.join(format!("{}.toml", file.head.id)),
        file,
        plan,
    );
    write_plans(
        project,
        dev,
        schema,
        options,
        chain,
        order,
        live,
        Vec::new(),
        desired,
        Some(root),
        notes,
    )
    .await
}
