//! `strata discard`: removes a plan that no database has applied (a head of the chain: a
//! branch's plan that will not be merged), with its line in `strata.sum`. It also mends
//! the sum file after a plan file was deleted by hand. Other plans' lines are kept as they
//! are, so discarding never blesses a plan that was edited.

use std::path::PathBuf;

use super::Project;
use crate::db::DbUrl;
use crate::error::{Error, Refusal, Result};
use crate::planfile::{SumFile, load_dir};

/// What `discard` did.
#[derive(Debug, Default)]
pub struct Discarded {
    /// The plan file removed (none when only its sum line was left).
    pub file: Option<PathBuf>,
    /// Whether `strata.sum` was rewritten.
    pub sum: bool,
    /// Whether a database was checked.
    pub checked: Option<String>,
}

pub async fn discard(project: &Project, id: &str, database: Option<&DbUrl>) -> Result<Discarded> {
    let chain = load_dir(&project.plans)?;
    let sum = match &chain.sum {
        Some(text) => {
            Some(SumFile::parse(text).map_err(|m| Error::Refused(Refusal::Tampering, m))?)
        }
        None => None,
    };
    let listed = sum
        .as_ref()
        .is_some_and(|s| s.entries.iter().any(|(i, _)| i == id));
    let file = chain.plans.get(id).map(|(path, _)| path.clone());
    if file.is_none() && !listed {
        return Err(Error::Refused(
            Refusal::User,
            format!(
                "no plan {id} in {} or its strata.sum",
                project.plans.display()
            ),
        ));
    }
    let children: Vec<&String> = chain
        .plans
        .iter()
        .filter(|(_, (_, p))| p.head.parent.as_deref() == Some(id))
        .map(|(child, _)| child)
        .collect();
    if !children.is_empty() {
        return Err(Error::Refused(
            Refusal::User,
            format!(
                "plan {id} has later plans ({}): discard those first, newest first",
                children
                    .iter()
                    .map(|c| c.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    let mut done = Discarded::default();
    if let Some(url) = database {
        let client = url.connect().await?;
        let rows = crate::apply::ledger::read(&client).await?;
        if let Some(row) = rows.iter().find(|r| r.plan_id == id) {
            return Err(Error::Refused(
                Refusal::User,
                format!(
                    "plan {id} is {} on {url}: run `strata revert` there first (nothing was removed)",
                    if row.is_applied() {
                        "applied".to_owned()
                    } else {
                        format!("recorded as {}", row.state)
                    }
                ),
            ));
        }
        done.checked = Some(url.to_string());
    }
    if let Some(path) = &file {
        std::fs::remove_file(path).map_err(|e| Error::io(path, e))?;
        done.file = Some(path.clone());
    }
    if let Some(sum) = sum {
        let kept: Vec<(String, String)> =
            sum.entries.into_iter().filter(|(i, _)| i != id).collect();
        let reloaded = load_dir(&project.plans)?;
        let path = project.plans.join("strata.sum");
        let text = match reloaded.linear() {
            // One chain again: its lines in chain order, each plan keeping the checksum the
            // sum file already had for it (a plan it did not list stays unlisted).
            Ok(order) => {
                let entries: Vec<(String, String)> = order
                    .iter()
                    .filter_map(|p| {
                        kept.iter()
                            .find(|(i, c)| *i == p.head.id && *c == p.checksum)
                            .or_else(|| kept.iter().find(|(i, _)| *i == p.head.id))
                            .cloned()
                    })
                    .collect();
                SumFile::render(&entries)
            }
            // Still divergent: only this plan's lines go.
            Err(_) => chain
                .sum
                .as_deref()
                .unwrap_or_default()
                .lines()
                .filter(|line| line.split_once(' ').is_none_or(|(i, _)| i != id))
                .map(|line| format!("{line}\n"))
                .collect(),
        };
        std::fs::write(&path, text).map_err(|e| Error::io(&path, e))?;
        done.sum = true;
    }
    Ok(done)
}
