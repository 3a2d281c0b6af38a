//! Where a database stands against the chain: the applied prefix, a half-applied plan,
//! plans the directory lacks, and an earlier chain a new root replaces.

use super::ledger;
use crate::error::{Error, Refusal, Result};
use crate::planfile::PlanFile;

/// Where the database stands against the chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Position {
    /// Plans fully applied (a prefix of the chain).
    pub applied: usize,
    /// Ledger rows of an earlier chain that the chain's root replaces (a PostgreSQL major
    /// upgrade): the database applied all of them and not the root yet.
    pub superseded: usize,
    /// The next plan, if a previous run left it half applied or half reverted.
    pub partial: Option<ledger::Row>,
    /// Plans the ledger records after that prefix that the plans directory does not have
    /// (a branch's plan replaced by `strata rebase`, a discarded plan, or a newer release
    /// of the plans), oldest first.
    pub orphans: Vec<ledger::Row>,
}

/// Checks that the ledger is a prefix of the chain with the same checksums, followed
/// perhaps by plans the chain does not have at all.
pub fn position(chain: &[&PlanFile], rows: &[ledger::Row]) -> Result<Position> {
    if let Some(root) = chain.first()
        && !root.head.supersedes.is_empty()
        && rows.first().is_some_and(|r| r.plan_id != root.head.id)
    {
        let old = &root.head.supersedes;
        // Only a root that starts a chain again on another major replaces plans: never a
        // plan with a parent or a way back, never plans of its own major.
        let shape = root.head.parent.is_none() && root.head.baseline && root.head.revert.is_empty();
        let other_major = rows.iter().all(|r| {
            r.plan_file()
                .is_some_and(|p| p.head.postgres_major != root.head.postgres_major)
        });
        if !shape || !other_major {
            return Err(Error::Refused(
                Refusal::Tampering,
                format!(
                    "plan {} says it replaces plans applied to this database, but it is not the \
                     root of a chain started again on another PostgreSQL major than theirs \
                     (strata writes such a plan only after a major upgrade); nothing was changed",
                    root.head.id
                ),
            ));
        }
        let same = rows.len() == old.len()
            && rows
                .iter()
                .zip(old)
                .all(|(r, s)| r.plan_id == s.id && r.checksum == s.checksum && r.is_applied());
        if !same {
            return Err(Error::Refused(
                Refusal::Drift,
                format!(
                    "plan {} starts the chain again after a PostgreSQL major upgrade, replacing \
                     {} plan(s) ({} to {}); this database's ledger holds {} row(s) that are not \
                     exactly those, all applied: bring it to the end of the old chain first (on \
                     the old major), or apply to a database that has the old chain; nothing was \
                     changed",
                    root.head.id,
                    old.len(),
                    old.first().map_or("", |s| s.id.as_str()),
                    old.last().map_or("", |s| s.id.as_str()),
                    rows.len()
                ),
            ));
        }
        return Ok(Position {
            applied: 0,
            superseded: rows.len(),
            partial: None,
            orphans: Vec::new(),
        });
    }
    let mut matched = 0;
    for (i, row) in rows.iter().enumerate() {
        match chain.get(i) {
            Some(plan) if plan.head.id == row.plan_id => {
                if plan.checksum != row.checksum {
                    return Err(Error::Refused(
                        Refusal::Tampering,
                        format!(
                            "plan {} was changed after it was applied to this database \
                         (checksum {} when applied, {} now)",
                            row.plan_id, row.checksum, plan.checksum
                        ),
                    ));
                }
                matched = i + 1;
            }
            _ => break,
        }
    }
    let orphans: Vec<ledger::Row> = rows[matched..].to_vec();
    for row in &orphans {
        if let Some(at) = chain.iter().position(|p| p.head.id == row.plan_id) {
            return Err(Error::Refused(
                Refusal::Tampering,
                format!(
                    "the ledger records plan {} at position {} but the plans directory has it at \
                 {}: the chain was reordered after it was applied (restore the plans as they \
                 were)",
                    row.plan_id,
                    row.position + 1,
                    at + 1
                ),
            ));
        }
    }
    for (i, row) in rows.iter().enumerate() {
        if !row.is_applied() && i + 1 != rows.len() {
            return Err(Error::Refused(
                Refusal::Drift,
                format!(
                    "the ledger is inconsistent: plan {} is {} but later plans are recorded",
                    row.plan_id, row.state
                ),
            ));
        }
    }
    let partial = if orphans.is_empty() {
        rows[..matched].last().filter(|r| !r.is_applied()).cloned()
    } else {
        None
    };
    let applied = matched - usize::from(partial.is_some());
    Ok(Position {
        applied,
        superseded: 0,
        partial,
        orphans,
    })
}

/// The message for plans the database has and the directory does not.
pub fn orphans_message(orphans: &[ledger::Row]) -> String {
    let ids: Vec<String> = orphans.iter().map(ledger::Row::label).collect();
    format!(
        "the database has {} applied that the plans directory does not have: {}. If {} \
         replaced (by `strata rebase` or `strata discard`), run `strata revert` to take {} \
         back (the ledger keeps {} revert steps), then `strata apply`; if these plans are an \
         older release, deploy the newer one",
        if ids.len() == 1 { "a plan" } else { "plans" },
        ids.join(", "),
        if ids.len() == 1 {
            "it was"
        } else {
            "they were"
        },
        if ids.len() == 1 { "it" } else { "them" },
        if ids.len() == 1 { "its" } else { "their" },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::planfile::PlanHead;

    fn plan(id: &str) -> PlanFile {
        PlanFile {
            head: PlanHead {
                id: id.into(),
                ..PlanHead::default()
            },
            review: Default::default(),
            checksum: format!("sum-{id}"),
        }
    }

    fn row(id: &str, position: i32, state: &str) -> ledger::Row {
        ledger::Row {
            plan_id: id.into(),
            position,
            checksum: format!("sum-{id}"),
            source_fingerprint: String::new(),
            target_fingerprint: String::new(),
            state: state.into(),
            steps_done: 0,
            target_model: None,
            finished_at: None,
            plan: None,
            source_catalog: None,
        }
    }

    #[test]
    fn plans_the_directory_lacks_are_orphans_not_errors() {
        let (a, b, c) = (plan("a"), plan("b"), plan("c"));
        let chain = [&a, &b, &c];
        let at = position(&chain, &[row("a", 0, "applied"), row("x", 1, "applied")]).unwrap();
        assert_eq!(at.applied, 1);
        assert_eq!(at.orphans.len(), 1);
        assert!(at.partial.is_none());
        let at = position(&chain, &[row("a", 0, "applied"), row("b", 1, "applying")]).unwrap();
        assert_eq!((at.applied, at.partial.is_some()), (1, true));
        // A plan of the chain recorded at another position: the chain was reordered.
        assert!(position(&chain, &[row("b", 0, "applied")]).is_err());
        // Checksums must match.
        let mut edited = row("a", 0, "applied");
        edited.checksum = "other".into();
        assert!(position(&chain, &[edited]).is_err());
        // More rows than plans: the extra ones are orphans.
        let at = position(
            &chain[..1],
            &[row("a", 0, "applied"), row("b", 1, "applied")],
        );
        assert_eq!(at.unwrap().orphans.len(), 1);
    }
}
