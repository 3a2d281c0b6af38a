//! `non-transactional`: the step cannot run in the plan's transaction (`CONCURRENTLY`, or an
//! enum value a later step uses, which must commit first). A validation also runs on its
//! own, but only to keep its lock short: it could run in a transaction, and rerunning it
//! does nothing.

use super::Rule;
use crate::plan::{Hazard, Step};

pub(super) const RULE: Rule = Rule {
    hazard: Hazard::NonTransactional,
    applies,
};

fn applies(step: &Step) -> bool {
    !step.transactional && !step.validates
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lone_steps_but_validations() {
        assert!(applies(
            &Step::new("create index concurrently", "x").alone()
        ));
        assert!(!applies(&Step::new("validate", "x").alone().validating()));
        assert!(!applies(&Step::new("add column", "x")));
    }
}
