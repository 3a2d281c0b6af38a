//! `strata test`: the migration round trip on a shadow database. Apply the whole chain from
//! empty and compare with `schema/`; load seed data; run the queries; revert the head plan
//! (its parent's state must come back, and the rows of every table that survives); apply the
//! head again and compare once more.

use std::collections::BTreeMap;
use std::path::Path;

use super::check::Report;
use super::{Project, desired_state, same_major, verified_chain};
use crate::apply::with_runner;
use crate::db::DbUrl;
use crate::db::shadow::DevServer;
use crate::error::{Error, Refusal, Result, describe_pg_error};
use crate::planfile::load_dir;
use crate::source::{Schema, SourceFile};

async fn row_counts(url: &DbUrl) -> Result<BTreeMap<String, i64>> {
    let catalog = crate::db::read_catalog(url).await?;
    let client = url.connect().await?;
    let mut counts = BTreeMap::new();
    for name in catalog.model.tables.keys() {
        let row = client
            .query_one(&format!("SELECT count(*) FROM ONLY {name}"), &[])
            .await
            .map_err(|e| Error::database(format!("counting rows of {name}"), &e))?;
        counts.insert(name.to_string(), row.try_get(0).unwrap_or(0));
    }
    Ok(counts)
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| Error::io(path, e))
}

pub async fn test(project: &Project, dev: &DevServer, schema: &Schema) -> Result<Report> {
    let mut report = Report::default();
    let chain = load_dir(&project.plans)?;
    let order = verified_chain(&chain)?;
    if order.is_empty() {
        return Err(Error::Refused(
            Refusal::User,
            format!("{} has no plans to test", project.plans.display()),
        ));
    }
    let desired = desired_state(dev, schema).await?;
    same_major(&order, desired.major_version())?;
    // The roles the plans grant to (the desired state may have come from the cache, which
    // made none).
    dev.prepare_roles(schema).await?;
    let shadow = dev.create_database().await?;
    let url = shadow.url().clone();
    // The test queries may act as the roles the plans name (SET ROLE app): lent to the role
    // that owns the throwaway database, as for loading schema files.
    let mut roles: Vec<String> = order.iter().flat_map(|p| p.head.roles.clone()).collect();
    roles.extend(schema.roles());
    roles.sort();
    roles.dedup();
    dev.lend_roles(&roles).await?;
    // Rows are counted as the administrative role: row-level security (forced on the owner
    // too) would hide rows from the owner.
    let admin = shadow.admin_url().clone();
    // A throwaway database: its seed rows may go with the head plan's revert; pre-flight
    // checks still run against them.
    let settings = crate::settings::ApplySettings {
        require_review: false,
        accept_data_loss: true,
        ..project.apply.clone()
    };
    let quiet = |line: &str| tracing::debug!("test: {line}");
    let result = async {
        let matches_schema = async |report: &mut Report, when: &str| -> Result<bool> {
            let live = crate::db::read_catalog(&url).await?;
            let rest = crate::plan::plan(&live, &desired)?;
            if rest.is_empty() {
                report.ok(format!(
                    "{when}: the database is exactly {}",
                    project.schema.display()
                ));
                Ok(true)
            } else {
                report.fail(format!(
                    "{when}: the database differs from {}:\n{}",
                    project.schema.display(),
                    rest.to_sql().trim_end()
                ));
                Ok(false)
            }
        };
        let apply = with_runner(&url, &settings, &quiet, async |r| r.apply(&order).await).await;
        match apply {
            Ok(done) => report.ok(format!(
                "applied {} plan(s) from an empty database",
                done.plans.len()
            )),
            Err(e) => {
                report.fail(format!("applying the chain from empty failed: {e}"));
                return Ok(());
            }
        }
        if !matches_schema(&mut report, "after applying the chain").await? {
            return Ok(());
        }
        let client = url.connect().await?;
        if let Some(seed) = &project.seed {
            match client.batch_execute(&read(seed)?).await {
                Ok(()) => report.ok(format!("loaded seed data from {}", seed.display())),
                Err(e) => {
                    report.fail(format!(
                        "seed data {} failed: {}",
                        seed.display(),
                        describe_pg_error(&e)
                    ));
                    return Ok(());
                }
            }
        }
        if let Some(queries) = &project.queries {
            let file = SourceFile::new(queries.display().to_string(), read(queries)?);
            let statements =
                crate::source::split_statements(&file).map_err(|p| Error::Schema(vec![p]))?;
            let mut failed = false;
            for statement in &statements {
                if let Err(e) = client.batch_execute(&statement.text).await {
                    failed = true;
                    report.fail(format!(
                        "{}:{}: query failed: {} ({})",
                        file.name,
                        statement.line,
                        describe_pg_error(&e),
                        statement.headline()
                    ));
                }
            }
            if !failed {
                report.ok(format!(
                    "{} queries from {} succeeded",
                    statements.len(),
                    queries.display()
                ));
            }
        }
        let before = row_counts(&admin).await?;
        let head = &order[order.len() - 1].head;
        let reverted = with_runner(&url, &settings, &quiet, async |r| {
            r.revert(&order, None, true).await
        })
        .await;
        match reverted {
            Ok(_) => report.ok(format!(
                "reverted the head plan {}: the database is in its parent's state{}",
                head.id,
                if order[order.len() - 1].is_reversible() {
                    ""
                } else {
                    " (the plan destroys data: its tables and columns came back empty)"
                }
            )),
            Err(e) => {
                report.fail(format!("reverting the head plan {} failed: {e}", head.id));
                return Ok(());
            }
        }
        let after = row_counts(&admin).await?;
        let mut lost = Vec::new();
        for (table, n) in &after {
            if let Some(m) = before.get(table)
                && m != n
            {
                lost.push(format!("{table}: {m} rows before the revert, {n} after"));
            }
        }
        if lost.is_empty() {
            report.ok(format!(
                "the rows of all {} tables that survive the revert are still there",
                after.len()
            ));
        } else {
            report.fail(format!("rows changed in the revert: {}", lost.join("; ")));
        }
        match with_runner(&url, &settings, &quiet, async |r| r.apply(&order).await).await {
            Ok(_) => report.ok(format!("applied the head plan {} again", head.id)),
            Err(e) => {
                report.fail(format!("applying the head plan again failed: {e}"));
                return Ok(());
            }
        }
        matches_schema(&mut report, "after applying it again").await?;
        Ok(())
    }
    .await;
    shadow.drop_now().await?;
    result.map(|()| report)
}
