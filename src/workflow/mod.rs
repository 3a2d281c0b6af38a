//! The plan lifecycle: what `plan`, `check`, `rebase`, `baseline`, `test` and `status` do,
//! over the plan chain, shadow databases and the runner.

pub mod baseline;
pub mod check;
pub mod discard;
pub mod plan;
pub mod rebase;
pub mod seal;
pub mod status;
pub mod test;

use std::path::{Path, PathBuf};

use crate::apply::Runner;
use crate::db::shadow::{self, DevServer, ShadowDb};
use crate::error::{Error, Refusal, Result};
use crate::model::Catalog;
use crate::plan::rename::Renaming;
use crate::planfile::{Chain, PlanFile, StepTimeouts};
use crate::settings::ApplySettings;
use crate::source::Schema;

/// Settings every lifecycle command works with.
#[derive(Clone, Debug)]
pub struct Project {
    pub schema: PathBuf,
    pub plans: PathBuf,
    pub timeouts: StepTimeouts,
    pub apply: ApplySettings,
    pub seed: Option<PathBuf>,
    pub queries: Option<PathBuf>,
    /// How shadow databases load the desired state.
    pub shadow: crate::db::shadow::ShadowOptions,
}

impl Project {
    pub fn new(schema: &Path, plans: &Path) -> Self {
        Self {
            schema: schema.to_path_buf(),
            plans: plans.to_path_buf(),
            timeouts: StepTimeouts::default(),
            apply: ApplySettings::default(),
            seed: None,
            queries: None,
            shadow: crate::db::shadow::ShadowOptions::default(),
        }
    }
}

/// The plans in chain order, refusing a divergence or a sum file that does not match.
pub fn verified_chain(chain: &Chain) -> Result<Vec<&PlanFile>> {
    let order = chain
        .linear()
        .map_err(|e| Error::Refused(Refusal::Divergence, e.to_string()))?;
    let problems = chain
        .sum_problems(&order)
        .map_err(|m| Error::Refused(Refusal::Tampering, m))?;
    if let Some(first) = problems.first() {
        let mut message = first.to_string();
        for more in &problems[1..] {
            message.push_str(&format!("\n{more}"));
        }
        return Err(Error::Refused(Refusal::Tampering, message));
    }
    if let Some(problem) = planner_problem(&order) {
        return Err(Error::Refused(Refusal::Tampering, problem));
    }
    Ok(order)
}

/// Refuses a chain whose `plans/strata.sig` does not verify with `public_key` (when one is
/// configured: the Job's `STRATA_VERIFY_KEY`).
pub fn verify_signature(
    chain: &Chain,
    order: &[&PlanFile],
    public_key: Option<&str>,
) -> Result<()> {
    let Some(key) = public_key.filter(|k| !k.trim().is_empty()) else {
        return Ok(());
    };
    let path = chain.dir.join(crate::planfile::signature::FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Error::Refused(
                Refusal::Tampering,
                format!(
                    "a verifying key is configured and {} does not exist: these plans were not \
                 signed (run `strata sign` in CI after `strata check`); nothing was changed",
                    path.display()
                ),
            ));
        }
        Err(e) => return Err(Error::io(&path, e)),
    };
    crate::planfile::signature::verify(order, &text, key)
        .map_err(|e| Error::Refused(Refusal::Tampering, format!("{e}; nothing was changed")))
}

/// Plans record the planner that wrote them; along the chain that version never goes
/// down (a new plan claiming an older planner, to be held to a looser standard, is
/// refused), and never exceeds this strata's.
pub fn planner_problem(order: &[&PlanFile]) -> Option<String> {
    use crate::planfile::verify::PLANNER;
    let mut previous: Option<&PlanFile> = None;
    for plan in order {
        if plan.head.planner > PLANNER {
            return Some(format!(
                "plan {} was planned by a newer strata (planner {}; this one is {PLANNER}): \
                 upgrade strata",
                plan.head.id, plan.head.planner
            ));
        }
        if let Some(prev) = previous
            && (plan.head.planner < prev.head.planner || plan.head.format < prev.head.format)
        {
            return Some(format!(
                "plan {} claims an older planner or format (planner {}, format {}) than the \
                 plan before it, {} (planner {}, format {}): plans are written by strata, \
                 and a plan file was edited",
                plan.head.id,
                plan.head.planner,
                plan.head.format,
                prev.head.id,
                prev.head.planner,
                prev.head.format
            ));
        }
        previous = Some(plan);
    }
    None
}

/// Refuses plans written on another PostgreSQL major than the shadow server runs.
pub fn same_major(order: &[&PlanFile], major: u32) -> Result<()> {
    if let Some(plan) = order.iter().find(|p| p.head.postgres_major != major) {
        return Err(Error::Refused(
            Refusal::Major,
            format!(
                "plan {} was written on PostgreSQL {}, and the shadow server runs {}: state \
             fingerprints differ across majors (pass --dev-url to a PostgreSQL {} server)",
                plan.head.id, plan.head.postgres_major, major, plan.head.postgres_major
            ),
        ));
    }
    Ok(())
}

/// Applies the chain to a fresh shadow database (verifying every plan's target state) and
/// returns the shadow with its catalog.
pub async fn replay(dev: &DevServer, order: &[&PlanFile]) -> Result<(ShadowDb, Catalog)> {
    let (db, catalog, _) = replay_noting(dev, order).await?;
    Ok((db, catalog))
}

/// [`replay`], with what the replay could not confirm (plans of an older planner that
/// differ from what this one plans).
pub async fn replay_noting(
    dev: &DevServer,
    order: &[&PlanFile],
) -> Result<(ShadowDb, Catalog, Vec<String>)> {
    let db = dev.create_database().await?;
    let result = async {
        let mut notes = Vec::new();
        if !order.is_empty() {
            let settings = ApplySettings::shadow();
            let quiet = |line: &str| tracing::debug!("replay: {line}");
            let runner = Runner::open(db.url(), &settings, &quiet).await?;
            let applied = runner.apply(order).await;
            runner.close().await?;
            notes = applied?.notes;
        }
        Ok((crate::db::read_catalog(db.url()).await?, notes))
    }
    .await;
    match result {
        Ok((catalog, notes)) => Ok((db, catalog, notes)),
        Err(e) => {
            db.drop_now().await?;
            Err(e)
        }
    }
}

/// The state at the head of the chain (an empty database for an empty chain), with what
/// the replay could not confirm ([`replay_noting`]). The roles `schema` names are made
/// first (the plans that lead to it grant to them). From the cache when the plans (their
/// checksums), strata and the PostgreSQL binaries are those of a stored entry
/// ([`DevServer::with_cache`]).
pub async fn head_state(
    dev: &DevServer,
    schema: &Schema,
    order: &[&PlanFile],
) -> Result<(Catalog, Vec<String>)> {
    let input: Vec<(&str, &[u8])> = order
        .iter()
        .map(|p| ("plan", p.checksum.as_bytes()))
        .collect();
    dev.cached("head", &input, async {
        // The roles the schema names and those the plans grant to (an older plan may name
        // one the schema no longer does).
        let mut roles = schema.roles();
        roles.extend(order.iter().flat_map(|p| p.head.roles.iter().cloned()));
        roles.sort();
        roles.dedup();
        dev.ensure_roles(&roles).await?;
        dev.lend_roles(&schema.owner_roles()).await?;
        let (db, catalog, notes) = replay_noting(dev, order).await?;
        dev.drop_later(db);
        Ok((catalog, notes))
    })
    .await
}

/// The desired state: `schema/` (already read and checked) loaded into a shadow.
pub async fn desired_state(dev: &DevServer, schema: &Schema) -> Result<Catalog> {
    shadow::desired_catalog(dev, schema).await
}

/// The renames the schema's `-- strata:renamed-from` directives ask of `from` on the way
/// to `desired`, with the state after them (`None` when none applies).
pub async fn renaming(
    dev: &DevServer,
    schema: &Schema,
    from: &Catalog,
    desired: &Catalog,
) -> Result<Option<Renaming>> {
    let directives = schema.renames().map_err(|p| Error::Schema(vec![p]))?;
    let renames = crate::plan::rename::resolve(&directives, &from.model, &desired.model)
        .map_err(|p| Error::Schema(vec![p]))?;
    if renames.is_empty() {
        return Ok(None);
    }
    // Cached by the state renamed and the renames (with strata's version and the
    // PostgreSQL binaries, as every cache entry): building that state again in a shadow is
    // what a plan that renames costs.
    // The whole stored state, not its fingerprint: what the fingerprint leaves out (the
    // columns' physical order, the inherited columns a table also declares) shapes the
    // renamed state too.
    let sql = crate::ddl::join(renames.iter().map(crate::plan::rename::Rename::sql));
    let stored = from.to_stored().to_string();
    let input: [(&str, &[u8]); 2] = [("from", stored.as_bytes()), ("renames", sql.as_bytes())];
    let (catalog, _) = dev
        .cached("renamed", &input, async {
            Ok((
                shadow::renamed_catalog(dev, from, &renames).await?,
                Vec::new(),
            ))
        })
        .await?;
    Ok(Some(Renaming { renames, catalog }))
}

/// The current UTC time as `YYYYMMDDHHMMSS`, for plan ids.
pub fn timestamp() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    timestamp_of(secs)
}

fn timestamp_of(secs: u64) -> String {
    let days = secs / 86_400;
    let rem = secs % 86_400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = i64::try_from(days).unwrap_or(0) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}{m:02}{d:02}{:02}{:02}{:02}",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn timestamps_are_utc_and_sortable() {
        assert_eq!(super::timestamp_of(0), "19700101000000");
        assert_eq!(super::timestamp_of(1_795_840_000), "20261128042640");
        assert_eq!(super::timestamp_of(951_782_400), "20000229000000");
    }
}
