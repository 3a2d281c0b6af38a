//! `blocking-lock`: the step holds a lock that blocks writes (or reads) while work in
//! proportion to a table's size is done under it: a rewrite, a scan, or a copy of the rows
//! later in the same transaction. A scan under a weaker lock (`VALIDATE CONSTRAINT`, `CREATE
//! INDEX CONCURRENTLY`) blocks nobody's rows; a strong lock taken for a catalog change only
//! is held for an instant (its wait is bounded by the lock timeout).

use super::Rule;
use crate::plan::{Effect, Hazard, Step};

pub(super) const RULE: Rule = Rule {
    hazard: Hazard::BlockingLock,
    applies,
};

fn applies(step: &Step) -> bool {
    let long = step.effects.iter().any(|e| {
        matches!(
            e,
            Effect::RewritesTable | Effect::ScansTable | Effect::HoldsLockForCopy
        )
    });
    long && step.lock.is_some_and(|l| l.blocks_writes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Lock;

    #[test]
    fn long_work_under_a_lock_that_blocks_writes() {
        let build = |lock| {
            Step::new("create index", "CREATE INDEX ...")
                .effect(Effect::ScansTable)
                .locks(lock)
        };
        assert!(applies(&build(Some(Lock::Share))));
        assert!(applies(&build(Some(Lock::AccessExclusive))));
        // Concurrently: nobody's writes wait.
        assert!(!applies(&build(Some(Lock::ShareUpdateExclusive))));
        // A catalog change under ACCESS EXCLUSIVE is over at once.
        let add =
            Step::new("add column", "ALTER TABLE t ADD c int").locks(Some(Lock::AccessExclusive));
        assert!(!applies(&add));
        let rewrite = add.effect(Effect::RewritesTable);
        assert!(applies(&rewrite));
    }
}
