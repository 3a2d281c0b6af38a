//! `strata status`: which plans a database has, which are pending, and whether it drifted;
//! also the states that need a person: a plan left half done, plans the directory does not
//! have, a database strata does not manage yet. Each comes with the command that resolves
//! it.

use serde::Serialize;

use super::verified_chain;
use crate::apply::{ledger, position};
use crate::db::DbUrl;
use crate::error::Result;
use crate::model::Model;
use crate::model::report::differences;
use crate::planfile::Chain;

#[derive(Clone, Debug, Serialize)]
pub struct Status {
    pub applied: Vec<String>,
    pub pending: Vec<String>,
    /// A plan a previous run left half done (`applying`, `reverting` or `undoing`).
    pub interrupted: Option<String>,
    /// Plans the database has applied that the plans directory does not have (their
    /// revert steps are in the ledger).
    pub not_in_directory: Vec<String>,
    /// The database has objects and no strata ledger.
    pub unmanaged: bool,
    pub drift: bool,
    /// What differs from the state the last applied plan left, when it drifted (or what an
    /// unmanaged database holds).
    pub differences: Vec<String>,
    /// The command that resolves the state, when something needs doing.
    pub next: Option<String>,
    /// The last run recorded in `strata.history`, when it failed (apply or revert).
    pub last_failure: Option<ledger::FailedRun>,
}

impl Status {
    pub fn at_head_without_drift(&self) -> bool {
        self.pending.is_empty()
            && self.interrupted.is_none()
            && self.not_in_directory.is_empty()
            && !self.unmanaged
            && !self.drift
    }
}

pub async fn status(chain: &Chain, url: &DbUrl) -> Result<Status> {
    let order = verified_chain(chain)?;
    let client = url.connect().await?;
    let rows = ledger::read(&client).await?;
    let at = position(&order, &rows)?;
    let live = crate::catalog::introspect(&client).await?;
    let mut status = Status {
        applied: order[..at.applied]
            .iter()
            .map(|p| p.head.id.clone())
            .collect(),
        pending: order[at.applied + usize::from(at.partial.is_some())..]
            .iter()
            .map(|p| p.head.id.clone())
            .collect(),
        interrupted: at
            .partial
            .as_ref()
            .map(|r| format!("{} ({})", r.plan_id, r.state)),
        not_in_directory: at
            .orphans
            .iter()
            .map(crate::apply::ledger::Row::label)
            .collect(),
        unmanaged: false,
        drift: false,
        differences: Vec::new(),
        next: None,
        last_failure: ledger::last_failure(&client).await?,
    };
    if rows.is_empty() {
        let empty = crate::inspect::baseline(&live.model);
        if live.model != empty {
            status.unmanaged = true;
            status.differences = differences(&empty, &live.model);
            status.next = Some(if order.is_empty() {
                "strata does not manage this database yet: `strata baseline` records it as it \
                 is (and writes its schema into an empty schema/), then plan from there"
                    .to_owned()
            } else {
                "strata does not manage this database yet, and the first plan expects an empty \
                 database: adopt it in a project of its own with `strata baseline`, or empty it"
                    .to_owned()
            });
            return Ok(status);
        }
    }
    if !at.orphans.is_empty() && order.is_empty() {
        status.next = Some(format!(
            "the plans directory holds no plans while the database has {} applied: is it the \
             right directory (or the plans volume mounted)?",
            at.orphans.len()
        ));
        return Ok(status);
    }
    if !at.orphans.is_empty() {
        status.next = Some(
            "`strata revert` takes back the plans the directory lacks (from the ledger's \
             copy), newest first; then `strata apply`"
                .to_owned(),
        );
        return Ok(status);
    }
    if let Some(row) = &at.partial {
        status.next = Some(match row.state.as_str() {
            "applying" => format!(
                "`strata apply` finishes {id}; `strata revert` takes back the steps that ran; \
                 after restoring its start state by hand, `strata apply --abandon {id}`",
                id = row.plan_id
            ),
            "undoing" => "`strata revert` finishes taking it back".to_owned(),
            _ => format!(
                "`strata revert` finishes reverting {id}; after restoring its applied state by \
                 hand, `strata apply --abandon {id}`",
                id = row.plan_id
            ),
        });
        return Ok(status);
    }
    if at.superseded > 0
        && let Some(root) = order.first()
    {
        if live.major_version() != root.head.postgres_major {
            status.next = Some(format!(
                "the plans start again on PostgreSQL {} (after a major upgrade) and this \
                 database runs {}: upgrade it first, then `strata apply`",
                root.head.postgres_major,
                live.major_version()
            ));
            return Ok(status);
        }
        status.drift = live.model.fingerprint() != root.head.target_fingerprint;
        if status.drift {
            status.differences = root.head.target_differences(&live.model);
        }
        status.next = Some(format!(
            "`strata apply` records {} without running it (it starts the chain again from the \
             database after its PostgreSQL major upgrade), then runs the plans after it",
            root.head.id
        ));
        return Ok(status);
    }
    if at.applied > 0 {
        let row = &rows[at.applied - 1];
        status.drift = live.model.fingerprint() != row.target_fingerprint;
        if status.drift {
            status.differences = row
                .target_model
                .as_ref()
                .and_then(|m| serde_json::from_value::<Model>(m.clone()).ok())
                .map(|m| differences(&m, &live.model))
                .unwrap_or_default();
            status.next = Some(
                "bring the database back in line with the plans, or record the change with \
                 `strata plan --from-database`"
                    .to_owned(),
            );
        }
    }
    if status.next.is_none() && !status.pending.is_empty() {
        status.next = Some("`strata apply` runs the pending plans".to_owned());
    }
    Ok(status)
}
