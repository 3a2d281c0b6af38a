//! `strata status`: which plans a database has, which are pending, and whether it drifted.

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
    /// A plan a previous run left half done (`applying` or `reverting`).
    pub interrupted: Option<String>,
    pub drift: bool,
    /// What differs from the state the last applied plan left, when it drifted.
    pub differences: Vec<String>,
}

impl Status {
    pub fn at_head_without_drift(&self) -> bool {
        self.pending.is_empty() && self.interrupted.is_none() && !self.drift
    }
}

pub async fn status(chain: &Chain, url: &DbUrl) -> Result<Status> {
    let order = verified_chain(chain)?;
    let client = url.connect().await?;
    let rows = ledger::read(&client).await?;
    let at = position(&order, &rows)?;
    let live = crate::catalog::introspect(&client).await?;
    let expected = if at.applied > 0 {
        Some(&rows[at.applied - 1])
    } else {
        None
    };
    let (drift, lines) = match expected {
        Some(row) if at.partial.is_none() => {
            let drift = live.model.fingerprint() != row.target_fingerprint;
            let lines = match (&row.target_model, drift) {
                (Some(model), true) => serde_json::from_value::<Model>(model.clone())
                    .map(|m| differences(&m, &live.model))
                    .unwrap_or_default(),
                _ => Vec::new(),
            };
            (drift, lines)
        }
        _ => (false, Vec::new()),
    };
    Ok(Status {
        applied: order[..at.applied]
            .iter()
            .map(|p| p.head.id.clone())
            .collect(),
        pending: order[at.applied..]
            .iter()
            .map(|p| p.head.id.clone())
            .collect(),
        interrupted: at.partial.map(|r| format!("{} ({})", r.plan_id, r.state)),
        drift,
        differences: lines,
    })
}
